"""The BlazePose landmark model: an upright 256x256 crop of one person in, 39 landmarks out.

Outputs (pose_landmark_full from mediapipe 0.10.21): 39 x (x, y, z, visibility, presence) in crop
pixels with visibility and presence as logits; a pose flag 0-1 (is a person in the crop); a
segmentation mask, a heatmap and world landmarks that we do not use. Landmarks 0-32 are the body;
33 (hips centre) and 34 (above-head point) give the next frame's region of interest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edge_models.pose.detector import sigmoid
from edge_models.pose.roi import LANDMARK_INPUT_SIZE_PX, Roi, crop, crop_to_image
from edge_models.pose.skeleton import NUM_LANDMARKS, PRESENCE, VISIBILITY, X, Y, Z

MODEL_LANDMARKS = 39  # 33 body landmarks + 2 tracking points + 4 hand-box points
VALUES_PER_LANDMARK = 5  # x, y, z, visibility logit, presence logit
TRACKING_HIPS, TRACKING_ABOVE_HEAD = 33, 34


@dataclass(frozen=True)
class LandmarkOutput:
    """What the landmark model saw in one crop, already projected back to image pixels."""

    landmarks: np.ndarray  # (33, 5): x_px, y_px, z_px, visibility, presence
    pose_flag: float  # 0-1: how sure the model is that a person fills the crop
    tracking_hips_px: np.ndarray  # (2,) the next region's centre
    tracking_above_head_px: np.ndarray  # (2,) the next region's size and rotation


class LandmarkModel:
    """Runs the landmark model on a region of interest of a frame."""

    def __init__(self, runner) -> None:
        self._runner = runner
        self._landmarks_name = self._output_named(MODEL_LANDMARKS * VALUES_PER_LANDMARK)
        self._flag_name = self._output_named(1)

    def _output_named(self, size: int) -> str:
        for spec in self._runner.output_specs:
            if spec.shape == (1, size):
                return spec.name
        shapes = [spec.shape for spec in self._runner.output_specs]
        raise ValueError(f"the landmark model should have an output of shape (1, {size}); it has {shapes}")

    def run(self, image_rgb: np.ndarray, roi: Roi) -> LandmarkOutput:
        tensor = crop(image_rgb, roi).astype(np.float32) * (1.0 / 255.0)
        outputs = self._runner.run(tensor[None])
        raw = outputs[self._landmarks_name].reshape(MODEL_LANDMARKS, VALUES_PER_LANDMARK)
        return self._project(raw, float(outputs[self._flag_name].ravel()[0]), roi)

    @staticmethod
    def _project(raw: np.ndarray, pose_flag: float, roi: Roi) -> LandmarkOutput:
        points = crop_to_image(raw[:, :2], roi)
        landmarks = np.empty((NUM_LANDMARKS, 5), np.float32)
        landmarks[:, [X, Y]] = points[:NUM_LANDMARKS]
        landmarks[:, Z] = raw[:NUM_LANDMARKS, 2] * (roi.side_px / LANDMARK_INPUT_SIZE_PX)
        landmarks[:, VISIBILITY] = sigmoid(raw[:NUM_LANDMARKS, 3])
        landmarks[:, PRESENCE] = sigmoid(raw[:NUM_LANDMARKS, 4])
        return LandmarkOutput(landmarks, pose_flag, points[TRACKING_HIPS], points[TRACKING_ABOVE_HEAD])
