"""Cameras and video files read through OpenCV (`cv:INDEX`, `file:PATH`)."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from desktop.sources.camera.grab import CameraLost, CameraUnavailable, GrabbingCamera

logger = logging.getLogger(__name__)

DEFAULT_FPS = 30.0  # what we assume when a device or file does not say its frame rate
MAX_FAILED_READS = 5  # consecutive failed reads after which a live camera counts as gone
FRAME_COUNT_SLACK = 1  # frames a container's own frame count may overstate without the file being cut short


def _fps_of(capture: cv2.VideoCapture) -> float:
    fps = capture.get(cv2.CAP_PROP_FPS)
    return fps if math.isfinite(fps) and fps > 0 else DEFAULT_FPS


def _first_frame(capture: cv2.VideoCapture, what: str) -> np.ndarray:
    ok, image = capture.read()
    if not ok or image is None:
        capture.release()
        raise CameraUnavailable(f"{what} opened but gave no frame: it is not a readable video")
    return image


class _CaptureCamera(GrabbingCamera):
    """An OpenCV capture whose first frame was read at open (to prove it works and learn its size)."""

    def __init__(self, spec: str, capture: cv2.VideoCapture, first: np.ndarray, *, clock: Callable[[], float],
                 paced: bool):
        height, width = first.shape[:2]
        super().__init__(spec, fps=_fps_of(capture), frame_size=(width, height), clock=clock, paced=paced)
        self._capture = capture
        self._pending: np.ndarray | None = first

    def _release(self) -> None:
        self._capture.release()

    def _take_pending(self) -> np.ndarray | None:
        image, self._pending = self._pending, None
        return image


class DeviceCamera(_CaptureCamera):
    """A camera attached to this computer, by OpenCV's device index (`cv:0`); it paces itself."""

    @classmethod
    def open(cls, spec: str, index: int, *, clock: Callable[[], float]) -> "DeviceCamera":
        capture = cv2.VideoCapture(index)
        if not capture.isOpened():
            capture.release()
            raise CameraUnavailable(f"no camera at index {index} ({spec}): check that it is plugged in and "
                                    "that no other program is using it")
        return cls(spec, capture, _first_frame(capture, f"camera {index} ({spec})"), clock=clock, paced=False)

    def _grab(self) -> np.ndarray | None:
        if (image := self._take_pending()) is not None:
            return image
        for _ in range(MAX_FAILED_READS):
            ok, image = self._capture.read()
            if ok and image is not None:
                return image
        raise CameraLost(f"camera {self.spec} stopped delivering frames after {self.frames_grabbed} "
                         f"({MAX_FAILED_READS} reads failed in a row): was it unplugged?")


class VideoFileCamera(_CaptureCamera):
    """A recorded video played as a camera (`file:clip.mp4`), at its own frame rate or flat out."""

    loop = False  # start again from the first frame at the end (a demo that keeps going)
    _pass_start = 0  # frames grabbed before the current pass through the file

    @classmethod
    def open(cls, spec: str, path: Path, *, clock: Callable[[], float], realtime: bool,
             loop: bool = False) -> "VideoFileCamera":
        if not path.is_file():
            raise CameraUnavailable(f"no video file at {path} ({spec})")
        capture = cv2.VideoCapture(str(path))
        if not capture.isOpened():
            capture.release()
            raise CameraUnavailable(f"{path} ({spec}) is not a video file OpenCV can read (corrupt or unknown)")
        camera = cls(spec, capture, _first_frame(capture, f"video file {path}"), clock=clock, paced=realtime)
        camera.loop = loop
        return camera

    @property
    def frames_in_file(self) -> int:
        """How many frames the container says it holds; 0 when it does not know."""
        return max(0, int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT)))

    def _grab(self) -> np.ndarray | None:
        if (image := self._take_pending()) is not None:
            return image
        ok, image = self._capture.read()
        if ok and image is not None:
            return image
        in_this_pass = self.frames_grabbed - self._pass_start
        if in_this_pass + FRAME_COUNT_SLACK < self.frames_in_file:
            raise CameraLost(f"{self.spec} stopped decoding at frame {in_this_pass} of "
                             f"{self.frames_in_file}: the file is damaged or cut short")
        if self.loop and in_this_pass > 0 and self._capture.set(cv2.CAP_PROP_POS_FRAMES, 0):
            self._pass_start = self.frames_grabbed
            return self._grab()
        return None
