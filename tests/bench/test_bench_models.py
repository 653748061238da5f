"""`make bench` recomputes the shipped models' accuracy and stops when the manifest says otherwise."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from bench.bench_models import (BUNDLED, MetricMismatch, interleaved_ms, mismatches, model_inputs,
                                movement_lines)
from edge_models.runtime import ModelRunner, RunnerOptions
from tests.support.assets import real_asset

DECLARED = {"int8": {"accuracy": 0.7409638554216867, "mae30_bpm": 5.5182390213012695},
            "float": {"accuracy": 0.7469879518072289}}


def test_figures_that_agree_to_rounding_pass_and_figures_that_differ_are_named():
    agree = {"int8": {"accuracy": 0.74096385, "mae30_bpm": 5.51824}, "float": {"accuracy": 0.746988}}
    assert mismatches(agree, DECLARED) == ([], 3)
    one_window_off = {"int8": {"accuracy": 0.7349397590361446}}  # one held-out window more wrong
    problems, compared = mismatches(one_window_off, DECLARED)
    assert compared == 1 and len(problems) == 1
    assert "int8 accuracy" in problems[0] and "0.73494" in problems[0] and "0.740964" in problems[0]


def test_figures_the_manifest_does_not_declare_are_not_compared():
    assert mismatches({"int8": {"seen_mae30_bpm": 5.2}, "ridge": {"accuracy": 0.1}}, DECLARED) == ([], 0)


@pytest.fixture
def movement_copy(tmp_path):
    real_asset("demo.mp4")  # the held-out clips come with the data step
    folder = tmp_path / "movement"
    shutil.copytree(BUNDLED / "movement", folder)
    return folder


def test_the_shipped_movement_model_scores_what_its_manifest_declares(movement_copy):
    declared = json.loads((movement_copy / "manifest.json").read_text())["metrics"]
    lines = movement_lines(movement_copy)
    assert lines["movement.acc_int8"] == pytest.approx(declared["int8"]["accuracy"], rel=1e-9)
    assert lines["movement.acc_float"] == pytest.approx(declared["float"]["accuracy"], rel=1e-9)


def test_a_manifest_that_flatters_its_model_stops_the_benchmark(movement_copy):
    path = movement_copy / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["metrics"]["int8"]["accuracy"] += 0.01  # one point better than the file really is
    path.write_text(json.dumps(manifest))
    with pytest.raises(MetricMismatch, match="movement: .*int8 accuracy: recomputed 0.7409"):
        movement_lines(movement_copy)


def test_int8_and_float_twins_are_timed_on_the_same_windows_each_in_its_own_input_type():
    folder = BUNDLED / "movement"
    windows = np.random.default_rng(0).normal(size=(3, 30, 99)).astype(np.float32)
    seen: dict[str, list] = {"int8": [], "float": []}
    with ModelRunner.create_from_options(RunnerOptions(folder / "model.tflite", num_threads=1)) as int8, \
            ModelRunner.create_from_options(RunnerOptions(folder / "model_float.tflite", num_threads=1)) as flt:
        inputs = {"int8": model_inputs(int8, windows), "float": model_inputs(flt, windows)}
        ms = interleaved_ms({name: seen[name].append for name in seen}, inputs, rounds=4)
    assert inputs["int8"].dtype == np.int8 and inputs["float"].dtype == np.float32
    assert [w.shape for w in seen["int8"]] == [(1, 30, 99)] * 4
    np.testing.assert_array_equal(np.concatenate(seen["float"]), windows[[0, 1, 2, 0]])
    assert set(ms) == {"int8", "float"}
