"""Run a converted model on LiteRT over many windows, one at a time, as the laptop will."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edge_models.runtime import ModelRunner, RunnerOptions

EVAL_THREADS = 1  # one window at a time on one thread: what a laptop core gives each athlete


def predict_tflite(model_path: Path, inputs: np.ndarray) -> np.ndarray:
    """Outputs (n, ...) float32 for inputs (n, ...), each run at batch size 1."""
    options = RunnerOptions(model_path=model_path, num_threads=EVAL_THREADS)
    with ModelRunner.create_from_options(options) as runner:
        rows = [np.asarray(runner.run(x[None, ...].astype(np.float32)))[0] for x in inputs]
    return np.stack(rows) if rows else np.zeros((0,), dtype=np.float32)
