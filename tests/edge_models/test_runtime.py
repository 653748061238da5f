"""The LiteRT runner on real .tflite files: the BlazePose models and a tiny int8 model."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

from edge_models.runtime import ModelFileError, ModelRunner, RunnerOptions
from tests.support.assets import real_asset

# The tiny int8 model: relu(x @ diag(W) + B), built by TensorFlow in a child process so that this
# test session never imports TensorFlow (the laptop must not, and other tests check sys.modules).
TINY_W = [2.0, -1.0, 0.5, 3.0]
TINY_B = [1.0, 0.0, -0.5, 0.25]
INT8_ATOL = 0.08  # a few int8 steps of the input (~0.016) and output (~0.024) scales
_BUILD_TINY_INT8 = textwrap.dedent("""
    import sys, numpy as np, tensorflow as tf
    W, B = np.diag(np.array(%r, np.float32)), np.array(%r, np.float32)
    class Tiny(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="x")])
        def __call__(self, x):
            return tf.nn.relu(tf.matmul(x, W) + B)
    tiny = Tiny()
    conv = tf.lite.TFLiteConverter.from_concrete_functions([tiny.__call__.get_concrete_function()], tiny)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    rng = np.random.default_rng(0)
    conv.representative_dataset = lambda: ([rng.uniform(-2, 2, (1, 4)).astype(np.float32)] for _ in range(64))
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    open(sys.argv[1], "wb").write(conv.convert())
""") % (TINY_W, TINY_B)


def _tiny_float(x: np.ndarray) -> np.ndarray:
    return np.maximum(x * np.array(TINY_W, np.float32) + np.array(TINY_B, np.float32), 0.0)


@pytest.fixture(scope="module")
def tiny_int8_model(tmp_path_factory):
    if importlib.util.find_spec("tensorflow") is None:
        pytest.skip("TensorFlow (the training extra) is needed to build the tiny int8 model")
    path = tmp_path_factory.mktemp("tiny") / "tiny_int8.tflite"
    done = subprocess.run([sys.executable, "-c", _BUILD_TINY_INT8, str(path)],
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    return path


@pytest.fixture
def detector_path():
    return real_asset("pose_detection.tflite")


def test_int8_model_takes_float_and_gives_float(tiny_int8_model):
    with ModelRunner.create_from_options(RunnerOptions(model_path=tiny_int8_model)) as runner:
        assert runner.input_specs[0].dtype == np.int8 and runner.input_specs[0].is_quantized
        assert runner.output_specs[0].dtype == np.int8
        x = np.array([[1.0, -1.0, 0.5, -0.2]], np.float32)
        y = runner.run(x)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, _tiny_float(x), atol=INT8_ATOL)


def test_int8_model_tracks_many_inputs(tiny_int8_model):
    rng = np.random.default_rng(7)
    with ModelRunner.from_path(tiny_int8_model, warmup_runs=0) as runner:
        for _ in range(20):
            x = rng.uniform(-1.5, 1.5, (1, 4)).astype(np.float32)
            np.testing.assert_allclose(runner.run(x), _tiny_float(x), atol=INT8_ATOL)


def test_int8_input_out_of_range_is_clipped_not_wrapped(tiny_int8_model):
    with ModelRunner.from_path(tiny_int8_model) as runner:
        y = runner.run(np.array([[100.0, 0.0, 0.0, 0.0]], np.float32))
    # A wrapped int8 would turn +100 into a negative number and the relu output into 0.
    assert y[0, 0] > 3.0


def test_free_batch_dimension_takes_a_batch(tiny_int8_model):
    with ModelRunner.from_path(tiny_int8_model) as runner:
        assert runner.input_specs[0].shape_signature == (-1, 4)
        x = np.random.default_rng(3).uniform(-1.5, 1.5, (5, 4)).astype(np.float32)
        y = runner.run(x)
        assert y.shape == (5, 4)
        np.testing.assert_allclose(y, _tiny_float(x), atol=INT8_ATOL)
        with pytest.raises(ValueError, match=r"expected shape \[-1, 4\], got \[5, 3\]"):
            runner.run(np.zeros((5, 3), np.float32))


def test_already_quantized_input_passes_through(tiny_int8_model):
    with ModelRunner.from_path(tiny_int8_model) as runner:
        spec = runner.input_specs[0]
        x = np.array([[1.0, 0.5, 0.0, 0.2]], np.float32)
        q = np.round(x / spec.quantization[0] + spec.quantization[1]).astype(np.int8)
        np.testing.assert_allclose(runner.run(q), runner.run(x), atol=1e-6)


def test_blazepose_detector_specs_and_outputs(detector_path):
    with ModelRunner.from_path(detector_path) as runner:
        (spec,) = runner.input_specs
        assert spec.shape == (1, 224, 224, 3) and spec.dtype == np.float32
        outputs = runner.run(np.zeros(spec.shape, np.float32))
    shapes = sorted(v.shape for v in outputs.values())
    assert shapes == [(1, 2254, 1), (1, 2254, 12)]
    assert all(np.isfinite(v).all() for v in outputs.values())


def test_dict_inputs_by_name(detector_path):
    with ModelRunner.from_path(detector_path) as runner:
        name = runner.input_specs[0].name
        image = np.random.default_rng(1).uniform(-1, 1, (1, 224, 224, 3)).astype(np.float32)
        by_dict, by_array = runner.run({name: image}), runner.run(image)
    for key in by_array:
        np.testing.assert_array_equal(by_dict[key], by_array[key])


def test_wrong_shape_names_expected_and_got(detector_path):
    with ModelRunner.from_path(detector_path) as runner:
        with pytest.raises(ValueError, match=r"expected shape \[1, 224, 224, 3\], got \[1, 256, 256, 3\]"):
            runner.run(np.zeros((1, 256, 256, 3), np.float32))


def test_wrong_dtype_names_expected_and_got(detector_path):
    with ModelRunner.from_path(detector_path) as runner:
        with pytest.raises(ValueError, match="expected dtype float32, got float64"):
            runner.run(np.zeros((1, 224, 224, 3), np.float64))


def test_wrong_input_names_are_refused(detector_path):
    with ModelRunner.from_path(detector_path) as runner:
        with pytest.raises(ValueError, match="expected inputs"):
            runner.run({"not_an_input": np.zeros((1, 224, 224, 3), np.float32)})


def test_missing_file(tmp_path):
    with pytest.raises(ModelFileError, match="does not exist"):
        ModelRunner.from_path(tmp_path / "nope.tflite")


@pytest.mark.parametrize("payload", [b"", b"this is not a flatbuffer at all" * 20])
def test_garbage_file(tmp_path, payload):
    path = tmp_path / "garbage.tflite"
    path.write_bytes(payload)
    with pytest.raises(ModelFileError):
        ModelRunner.from_path(path)


def test_truncated_model_file(tmp_path, detector_path):
    path = tmp_path / "truncated.tflite"
    path.write_bytes(detector_path.read_bytes()[: detector_path.stat().st_size // 2])
    with pytest.raises(ModelFileError, match="not a .tflite model"):
        ModelRunner.from_path(path)


def test_closed_runner_refuses_to_run(detector_path):
    runner = ModelRunner.from_path(detector_path, warmup_runs=0)
    with runner:
        pass
    with pytest.raises(RuntimeError, match="closed"):
        runner.run(np.zeros((1, 224, 224, 3), np.float32))


def test_runs_from_several_threads_agree(detector_path):
    image = np.random.default_rng(2).uniform(-1, 1, (1, 224, 224, 3)).astype(np.float32)
    with ModelRunner.from_path(detector_path) as runner:
        reference = runner.run(image)
        results: list[dict] = []
        threads = [threading.Thread(target=lambda: results.append(runner.run(image))) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    assert len(results) == 3
    for result in results:
        for key in reference:
            np.testing.assert_allclose(result[key], reference[key], rtol=1e-5, atol=1e-5)


def test_bad_options_are_refused(detector_path):
    with pytest.raises(ValueError, match="num_threads"):
        ModelRunner.create_from_options(RunnerOptions(model_path=detector_path, num_threads=0))
