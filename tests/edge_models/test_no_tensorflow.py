"""The laptop runs every shipped model on LiteRT alone: checked in a fresh interpreter.

A check of `sys.modules` inside the test session depends on test order (a training test may have
imported TensorFlow already, or none may have yet), so each check here starts its own Python.
"""

from __future__ import annotations

import subprocess
import sys

from tests.support.assets import real_asset

FRESH_PYTHON_TIMEOUT_S = 120.0

RUN_EVERY_SHIPPED_MODEL = """
import sys
import cv2
import numpy as np
from desktop.feedback.models import BUNDLED_MODELS_DIR
from edge_models.movement_live import LiveMovementClassifier
from edge_models.pose.estimator import PoseEstimator
from edge_models.runtime import ModelRunner, RunnerOptions

clip = cv2.VideoCapture(sys.argv[1])
ok, image = clip.read()
assert ok, "the real clip gave no frame"
with PoseEstimator.create_from_options() as pose, LiveMovementClassifier.from_bundled(
        BUNDLED_MODELS_DIR / "movement") as movement:
    for k in range(40):
        movement.update(pose.process(image, k / 30.0), k / 30.0)
with ModelRunner.create_from_options(RunnerOptions(BUNDLED_MODELS_DIR / "heart_rate" / "model.tflite")) as runner:
    out = runner.run(np.zeros(runner.input_specs[0].shape, np.float32))
    assert np.all(np.isfinite(out))
loaded = sorted(m for m in ("tensorflow", "keras", "tf_keras") if m in sys.modules)
print("loaded:", loaded)
sys.exit(1 if loaded else 0)
"""


def test_pose_movement_and_heart_rate_models_run_without_tensorflow():
    done = subprocess.run([sys.executable, "-c", RUN_EVERY_SHIPPED_MODEL, str(real_asset("demo.mp4"))],
                          capture_output=True, text=True, timeout=FRESH_PYTHON_TIMEOUT_S)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "loaded: []" in done.stdout
