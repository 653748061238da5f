"""Camera frames and the protocol every camera source follows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from desktop.sources.events import Sink

CAMERA_CHANNEL = "camera"


@dataclass(frozen=True, slots=True)
class Frame:
    """One video frame (BGR, uint8, HxWx3) stamped with the monotonic time it was grabbed."""

    index: int
    t_mono_s: float
    image: np.ndarray


class CameraSource(Protocol):
    """A producer of Frame events (and SourceProblem when the camera or file fails).

    `start` returns at once; frames are grabbed on the source's own thread and put on `sink`.
    `fps` and `frame_size` (width, height) are known once the source is opened.
    """

    spec: str
    fps: float
    frame_size: tuple[int, int]

    def start(self, sink: Sink) -> None: ...

    def stop(self) -> None: ...
