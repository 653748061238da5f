"""Benchmarks of the shipped models: `name=value` lines.

Speed: one window at a time on LiteRT (int8) against calling the same Keras architecture on one
sample, in the same run. Accuracy: the held-out figures the training run measured and stored in
each shipped manifest (leave one recording out for heart rate, held-out clips for movement; the
tests in tests/edge_models/test_bundled_models.py re-score the shipped files against them), with
the heart-rate baselines recomputed here on the very same folds: persistence and the ridge
autoregressive model (`ar`). This may import TensorFlow: it is not part of the laptop.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import numpy as np

from edge_models.model_store import BUNDLED_MODELS_DIR
from edge_models.runtime import ModelRunner, RunnerOptions

logger = logging.getLogger(__name__)

BUNDLED = BUNDLED_MODELS_DIR
TIMED_RUNS = 200  # single-window runs timed for each engine
WARMUP_RUNS = 10  # runs before timing (first calls allocate and trace)


def _ms_per_call(call, sample: np.ndarray) -> float:
    for _ in range(WARMUP_RUNS):
        call(sample)
    start = time.perf_counter()
    for _ in range(TIMED_RUNS):
        call(sample)
    return (time.perf_counter() - start) * 1000.0 / TIMED_RUNS


def litert_ms(model_path: Path, sample: np.ndarray) -> float:
    with ModelRunner.create_from_options(RunnerOptions(model_path, num_threads=1)) as runner:
        return _ms_per_call(runner.run, sample)


def keras_ms(model, sample: np.ndarray) -> float:
    return _ms_per_call(lambda x: model(x, training=False), sample)


def hr_lines() -> dict[str, float]:
    """Speed of the shipped heart-rate model, and its leave-one-recording-out figures.

    The shipped model trained on every recording, so its held-out figures are the pooled folds'
    stored in its manifest; persistence and ridge are recomputed here on the same folds.
    """
    from edge_models.manifest import load_manifest
    from edge_models.recordings import distinct_real_recordings
    from training.hr import model as hr_model
    from training.hr.baselines import Ridge, headline, persistence
    from training.hr.dataset import concat, distinct_recordings, leave_out, recording_folds

    folder = BUNDLED / "heart_rate"
    metrics = load_manifest(folder / "manifest.json").metrics
    recordings = distinct_recordings(distinct_real_recordings())
    splits = [leave_out(recordings, name) for name in recording_folds(recordings)]
    test = concat([s.test for s in splits])
    scores = {"int8": metrics["int8"], "float": metrics["float"],
              "persistence": headline(persistence(test), test),
              "ar": headline(np.concatenate([Ridge.fit(s.train).predict(s.test) for s in splits]), test)}
    sample = test.inputs[:1]
    int8_ms = litert_ms(folder / "model.tflite", sample)
    lines = {"edge.hr_int8_ms": int8_ms,
             "edge.hr_int8_vs_keras": keras_ms(hr_model.build_trainable(), sample) / int8_ms}
    for name, s in scores.items():
        lines[f"hr.mae30_{name}"] = s["mae30_bpm"]
        lines[f"hr.rec_mae30_{name}"] = s["rec_mae30_bpm"]
    return lines


def movement_lines() -> dict[str, float]:
    folder = BUNDLED / "movement"
    if not (folder / "model.tflite").is_file():
        logger.warning("no shipped movement model: movement lines left out")
        return {}
    from edge_models.manifest import load_manifest
    from training.movement import model as movement_model

    manifest = load_manifest(folder / "manifest.json")
    sample = np.zeros((1, *manifest.input.shape[1:]), dtype=np.float32)
    int8_ms = litert_ms(folder / "model.tflite", sample)
    return {"edge.movement_int8_ms": int8_ms,
            "edge.movement_int8_vs_keras": keras_ms(movement_model.build_trainable(), sample) / int8_ms,
            "movement.acc_int8": manifest.metrics["int8"]["accuracy"],
            "movement.acc_float": manifest.metrics["float"]["accuracy"]}


def size_ratio() -> float:
    """Bytes of all shipped int8 models over bytes of their float twins."""
    folders = [f for f in BUNDLED.iterdir() if (f / "model.tflite").is_file()]
    int8 = sum((f / "model.tflite").stat().st_size for f in folders)
    return int8 / sum((f / "model_float.tflite").stat().st_size for f in folders)


def main() -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from training.tf_setup import tensorflow_ready

    tensorflow_ready()
    lines = {**hr_lines(), **movement_lines(), "edge.int8_size_ratio": size_ratio()}
    for name, value in lines.items():
        print(f"{name}={value:.4g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
