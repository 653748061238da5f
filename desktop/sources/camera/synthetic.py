"""A made-up camera (`synthetic`, `synthetic:640x480@30`): a ball crossing a striped field."""

from __future__ import annotations

from typing import Callable

import cv2
import numpy as np

from desktop.sources.camera.grab import GrabbingCamera

BALL_RADIUS_FRACTION = 0.08  # the ball's radius as a share of the frame height
BALL_CROSSING_S = 2.0  # seconds (of video) the ball takes to cross the frame one way
STRIPE_PX = 40  # width of the field's stripes, so motion and compression have texture to work on


class SyntheticCamera(GrabbingCamera):
    """Generated frames with something moving, for tests and demos; endless until stopped."""

    def __init__(self, spec: str, *, width: int, height: int, fps: float, clock: Callable[[], float], paced: bool):
        super().__init__(spec, fps=fps, frame_size=(width, height), clock=clock, paced=paced)
        columns = np.arange(width)
        stripes = np.where((columns // STRIPE_PX) % 2 == 0, 70, 90).astype(np.uint8)
        self._field = np.repeat(np.broadcast_to(stripes[None, :, None], (height, width, 1)), 3, axis=2).copy()
        self._field[..., 1] += 40  # grass green

    def _grab(self) -> np.ndarray:
        width, height = self.frame_size
        image = self._field.copy()
        phase = (self.frames_grabbed / self.fps / BALL_CROSSING_S) % 2.0
        x = int((phase if phase <= 1.0 else 2.0 - phase) * (width - 1))
        radius = max(2, int(BALL_RADIUS_FRACTION * height))
        cv2.circle(image, (x, height // 2), radius, (255, 255, 255), thickness=-1)
        return image
