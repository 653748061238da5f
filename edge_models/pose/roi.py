"""The region of interest around the athlete: a rotated square that makes the body upright.

The square is centred on the hips and sized from the distance between the hips and a point the
model places above the head (by the detector's keypoints on a fresh start, by the landmark model's
two extra tracking landmarks afterwards). Its rotation turns that hips-to-head line straight up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

ROI_SCALE = 1.25  # margin around the body: BlazePose was trained on crops 1.25x the body circle
LANDMARK_INPUT_SIZE_PX = 256  # the landmark model's square input


@dataclass(frozen=True)
class Roi:
    """A square in image pixels: centre, side and rotation (radians, clockwise on screen)."""

    centre_x_px: float
    centre_y_px: float
    side_px: float
    rotation_rad: float

    @property
    def rotation_matrix(self) -> np.ndarray:
        """Turns crop directions into image directions."""
        c, s = math.cos(self.rotation_rad), math.sin(self.rotation_rad)
        return np.array([[c, -s], [s, c]])


def roi_from_points(hips_xy_px: np.ndarray, head_xy_px: np.ndarray, scale: float = ROI_SCALE) -> Roi:
    """The square around a body given its hips centre and the point above its head (pixels).

    The hips-to-head distance is the radius of a circle around the whole body; the square holds
    that circle with a margin, and turns so the hips-to-head line points up in the crop.
    """
    dx, dy = (np.asarray(head_xy_px, float) - np.asarray(hips_xy_px, float))
    radius_px = math.hypot(dx, dy)
    rotation = math.atan2(dx, -dy)  # 0 when the head is straight above the hips (y grows down)
    return Roi(float(hips_xy_px[0]), float(hips_xy_px[1]), 2.0 * radius_px * scale, rotation)


def crop_matrix(roi: Roi, size_px: int = LANDMARK_INPUT_SIZE_PX) -> np.ndarray:
    """The 2x3 affine map from image pixels to crop pixels."""
    linear = roi.rotation_matrix.T * (size_px / roi.side_px)
    centre = np.array([roi.centre_x_px, roi.centre_y_px])
    offset = np.full(2, size_px / 2.0) - linear @ centre
    return np.hstack([linear, offset[:, None]])


def crop(image_rgb: np.ndarray, roi: Roi, size_px: int = LANDMARK_INPUT_SIZE_PX) -> np.ndarray:
    """The rotated square cut out of the image and resized to `size_px` (black outside the frame)."""
    return cv2.warpAffine(image_rgb, crop_matrix(roi, size_px), (size_px, size_px),
                          flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def crop_to_image(points_px: np.ndarray, roi: Roi, size_px: int = LANDMARK_INPUT_SIZE_PX) -> np.ndarray:
    """(n, 2) crop pixels back to image pixels."""
    local = (np.asarray(points_px, float) - size_px / 2.0) * (roi.side_px / size_px)
    return local @ roi.rotation_matrix.T + np.array([roi.centre_x_px, roi.centre_y_px])
