"""The frame of a session's stored video at a moment, decoded from its closed segments (no Qt here).

Segments are Motion-JPEG, so any frame decodes alone: a seek is as cheap as the next frame. One
segment is kept open at a time; reading forwards frame by frame does not seek at all. An instance
is used by one thread at a time (the review view's decode worker).
"""

from __future__ import annotations

import bisect
import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from desktop.store import VideoSegment

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DecodedFrame:
    t_mono_s: float  # when the frame was taken (the segment's start plus its place in it)
    image: np.ndarray  # BGR uint8


class SegmentFrames:
    """Random access into a session's video by monotonic time."""

    def __init__(self, data_dir: Path, segments: list[VideoSegment]):
        self._data_dir = Path(data_dir)
        self._segments = sorted(segments, key=lambda s: s.start_mono_s)
        self._starts = [s.start_mono_s for s in self._segments]
        self._open: tuple[int, cv2.VideoCapture] | None = None
        self._next_index = -1  # the frame the open capture will read next

    @property
    def has_video(self) -> bool:
        return bool(self._segments)

    def frame_at(self, t_mono_s: float) -> DecodedFrame | None:
        """The frame shown at `t_mono_s`; None where the session has no video (before, after, a gap)."""
        number = bisect.bisect_right(self._starts, t_mono_s) - 1
        if number < 0 or t_mono_s >= self._segments[number].end_mono_s:
            return None
        segment = self._segments[number]
        index = min(segment.frame_count - 1, max(0, int((t_mono_s - segment.start_mono_s) * segment.fps)))
        image = self._read(number, index)
        if image is None:
            return None
        return DecodedFrame(segment.start_mono_s + index / segment.fps, image)

    def _read(self, number: int, index: int) -> np.ndarray | None:
        capture = self._capture(number)
        if index != self._next_index:
            capture.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, image = capture.read()
        self._next_index = index + 1 if ok else -1
        if not ok:
            logger.warning("frame %d of %s could not be decoded", index, self._segments[number].path)
            return None
        return image

    def _capture(self, number: int) -> cv2.VideoCapture:
        if self._open is not None and self._open[0] == number:
            return self._open[1]
        self.close()
        capture = cv2.VideoCapture(str(self._data_dir / Path(self._segments[number].path)))
        self._open, self._next_index = (number, capture), 0
        return capture

    def close(self) -> None:
        if self._open is not None:
            self._open[1].release()
            self._open = None
