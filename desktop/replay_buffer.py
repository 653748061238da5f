"""Instant replay without Qt: recent frames in memory, older moments from the closed segments.

Like Kinovea's delay, replay is a window onto what is already kept, never a second recorder:
- `FrameRing` holds the newest frames (scaled for display, kept as JPEG like the stored MJPG
  segments) within a byte budget; the camera thread appends, the window reads;
- `PoseHistory` keeps every pose the feedback worker found this session, so replayed frames,
  old or new, get their skeleton;
- `SegmentLibrary` reads older frames from the session's closed video segments on its own thread
  (disk I/O never runs on the window's thread);
- `ReplayCursor` is where replay stands: a moment, a speed, playing or paused.
"""

from __future__ import annotations

import bisect
import logging
import threading
from array import array
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import cv2
import numpy as np

from desktop.feedback.latest import LatestSlot

logger = logging.getLogger(__name__)

DISPLAY_WIDTH_PX = 640  # frames kept for the view and replay are scaled to this width
# Recent frames in memory as JPEG: a 640x360 frame of the Sports2D clip is ~78 kB instead of 0.9 MB
# as BGRA, so this holds its last ~10 s (replay's "last 10 s" never waits for the disk) in a quarter
# of the memory that 3.5 s of raw frames took. About 1 ms to encode on the camera thread, under
# 1 ms to decode the one frame replay shows. Older moments come from the closed segments.
RING_BYTES = 24 * 1024 * 1024
RING_JPEG_QUALITY = 90
POSE_HISTORY_MAX = 200_000  # poses kept for replay (over an hour at the feedback rate)
POSE_MATCH_S = 0.2  # a pose this close in time to a frame is drawn on it
SEGMENTS_CACHED = 1  # decoded segments kept (~2 s of display-size frames, ~55 MB)
LOADER_POLL_S = 0.1  # how often an idle loader looks at its stop flag
SPEEDS = (1.0, 0.5, 0.25)


@dataclass(frozen=True, slots=True)
class StillFrame:
    """One frame ready for display: BGRA uint8 (Qt's RGB32 in memory), scaled to the display width."""

    t_mono_s: float
    image: np.ndarray
    exact: bool = True  # False: its time is estimated (a segment with dropped frames): draw no pose on it


def display_image(image: np.ndarray, width_px: int = DISPLAY_WIDTH_PX) -> np.ndarray:
    """A BGR `image` scaled down to `width_px` (never up) as BGRA: painted without conversion.

    Done once per frame on the camera's (or the loader's) thread, never on the window's."""
    height, width = image.shape[:2]
    if width > width_px:
        image = cv2.resize(image, (width_px, round(height * width_px / width)), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(image, cv2.COLOR_BGR2BGRA)


@dataclass(frozen=True, slots=True)
class PackedFrame:
    """A frame of the ring: its time and its JPEG bytes; `unpack()` gives the StillFrame back."""

    t_mono_s: float
    jpeg: np.ndarray  # uint8, as cv2.imencode gives it
    exact: bool = True

    @property
    def nbytes(self) -> int:
        return self.jpeg.nbytes

    @classmethod
    def pack(cls, frame: StillFrame, quality: int = RING_JPEG_QUALITY) -> "PackedFrame":
        ok, jpeg = cv2.imencode(".jpg", frame.image, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if not ok:
            raise ValueError(f"a frame of shape {frame.image.shape} could not be encoded")
        return cls(frame.t_mono_s, jpeg, frame.exact)

    def unpack(self) -> StillFrame:
        image = cv2.imdecode(self.jpeg, cv2.IMREAD_COLOR)
        return StillFrame(self.t_mono_s, cv2.cvtColor(image, cv2.COLOR_BGR2BGRA), self.exact)


class FrameRing:
    """The newest frames, packed, within `max_bytes`; the oldest go first. Thread-safe."""

    def __init__(self, max_bytes: int = RING_BYTES):
        self._max_bytes = max_bytes
        self._frames: deque[PackedFrame] = deque()
        self._bytes = 0
        self._lock = threading.Lock()

    def append(self, frame: StillFrame) -> None:
        packed = PackedFrame.pack(frame)  # outside the lock: readers never wait for an encoder
        with self._lock:
            self._frames.append(packed)
            self._bytes += packed.nbytes
            while self._bytes > self._max_bytes and len(self._frames) > 1:
                self._bytes -= self._frames.popleft().nbytes

    def snapshot(self) -> list[PackedFrame]:
        with self._lock:
            return list(self._frames)

    @property
    def span_s(self) -> float:
        with self._lock:
            return self._frames[-1].t_mono_s - self._frames[0].t_mono_s if self._frames else 0.0


class PoseHistory:
    """Landmarks (x, y in source pixels, visibility) by time, scaled when drawn. Thread-safe."""

    def __init__(self, max_poses: int = POSE_HISTORY_MAX):
        self._times: deque[float] = deque(maxlen=max_poses)
        self._poses: deque[tuple[np.ndarray, tuple[int, int]]] = deque(maxlen=max_poses)
        self._lock = threading.Lock()

    def add(self, t_mono_s: float, landmarks: np.ndarray | None, image_size_px: tuple[int, int]) -> None:
        """Keep a pose (None: nobody found) found on the frame grabbed at `t_mono_s`."""
        kept = None if landmarks is None else np.asarray(landmarks[:, [0, 1, 3]], dtype=np.float32)
        with self._lock:
            if self._times and t_mono_s <= self._times[-1]:
                return
            self._times.append(t_mono_s)
            self._poses.append((kept, image_size_px))

    def near(self, t_mono_s: float, within_s: float = POSE_MATCH_S) -> tuple[np.ndarray, tuple[int, int]] | None:
        """The pose found closest to `t_mono_s` (at most `within_s` away), or None."""
        with self._lock:
            i = bisect.bisect_left(self._times, t_mono_s)
            best = min((j for j in (i - 1, i) if 0 <= j < len(self._times)),
                       key=lambda j: abs(self._times[j] - t_mono_s), default=None)
            if best is None or abs(self._times[best] - t_mono_s) > within_s or self._poses[best][0] is None:
                return None
            return self._poses[best]


@dataclass(frozen=True)
class SegmentSpan:
    """A closed segment as replay needs it: where it is and when its frames were grabbed."""

    path: Path
    start_mono_s: float
    end_mono_s: float
    frame_count: int

    def frame_times(self, grabbed: GrabTimes | None = None) -> tuple[list[float], bool]:
        """When each frame was grabbed, and whether that is exact.

        Exact when the session's grab times between the segment's first and last frame are as
        many as its frames (none was dropped on the way to the disk); else spread evenly over
        its span, an estimate."""
        if grabbed is not None and self.frame_count:
            times = grabbed.between(self.start_mono_s, self.end_mono_s)
            if len(times) == self.frame_count:
                return times, True
        step_s = (self.end_mono_s - self.start_mono_s) / max(1, self.frame_count)
        return [self.start_mono_s + i * step_s for i in range(self.frame_count)], False


class GrabTimes:
    """Every camera frame's grab time this session (8 bytes a frame), appended on the camera thread."""

    def __init__(self) -> None:
        self._times = array("d")
        self._lock = threading.Lock()

    def add(self, t_mono_s: float) -> None:
        with self._lock:
            self._times.append(t_mono_s)

    def between(self, start_s: float, end_s: float) -> list[float]:
        """Grab times in [start_s, end_s)."""
        with self._lock:
            return list(self._times[bisect.bisect_left(self._times, start_s):bisect.bisect_left(self._times, end_s)])


class SegmentLibrary:
    """Decodes older frames from closed segments on its own thread.

    `list_segments` (called on the loader thread) returns the session's closed segments; the
    window asks for a moment with `request`, and finds the frame with `frame_at` once loaded.
    """

    def __init__(self, list_segments: Callable[[], Sequence[SegmentSpan]], width_px: int = DISPLAY_WIDTH_PX,
                 grabbed: GrabTimes | None = None):
        self._list_segments = list_segments
        self.grabbed = grabbed
        self._width_px = width_px
        self._requests: LatestSlot[float] = LatestSlot()
        self._lock = threading.Lock()
        self._segments: list[SegmentSpan] = []
        self._decoded: dict[Path, list[StillFrame]] = {}
        self._thread: threading.Thread | None = None
        self.loads = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="replay-segments", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._requests.close()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def request(self, t_mono_s: float) -> None:
        """Ask for the frames around `t_mono_s`; never waits."""
        self._requests.offer(t_mono_s)

    def segments(self) -> list[SegmentSpan]:
        with self._lock:
            return list(self._segments)

    def frame_at(self, t_mono_s: float) -> StillFrame | None:
        """The decoded frame grabbed at or just before `t_mono_s`, if its segment is loaded."""
        with self._lock:
            for frames in self._decoded.values():
                if frames and frames[0].t_mono_s <= t_mono_s <= frames[-1].t_mono_s + 1.0:
                    i = bisect.bisect_right([f.t_mono_s for f in frames], t_mono_s) - 1
                    return frames[max(i, 0)]
        return None

    def _run(self) -> None:
        while (t := self._requests.take(LOADER_POLL_S)) is not None or not self._requests.closed:
            if t is None:
                continue
            try:
                self._load_around(t)
            except Exception:  # a damaged segment must not end replay of the others
                logger.exception("replay could not read the video around %.1f s", t)

    def _load_around(self, t_mono_s: float) -> None:
        segments = sorted(self._list_segments(), key=lambda s: s.start_mono_s)
        with self._lock:
            self._segments = segments
        starts = [s.start_mono_s for s in segments]
        i = bisect.bisect_right(starts, t_mono_s) - 1
        if i < 0:
            return
        segment = segments[i]
        with self._lock:
            if segment.path in self._decoded:
                return
        frames = self._decode(segment)
        self.loads += 1
        with self._lock:
            while len(self._decoded) >= SEGMENTS_CACHED:
                self._decoded.pop(next(iter(self._decoded)))
            self._decoded[segment.path] = frames

    def _decode(self, segment: SegmentSpan) -> list[StillFrame]:
        capture = cv2.VideoCapture(str(segment.path))
        frames = []
        try:
            times, exact = segment.frame_times(self.grabbed)
            for t in times:
                ok, image = capture.read()
                if not ok:
                    break
                frames.append(StillFrame(t, display_image(image, self._width_px), exact))
        finally:
            capture.release()
        return frames


class ReplayCursor:
    """Where replay stands: a moment of the session, a speed, playing or paused.

    The moment moves with the wall clock times the speed while playing, never past `newest_s`
    (replay catches up with live but does not pass it).
    """

    def __init__(self, t_mono_s: float, speed: float = 1.0):
        self.t_mono_s = t_mono_s
        self.speed = speed
        self.playing = True

    def advance(self, elapsed_wall_s: float, newest_s: float) -> None:
        if self.playing:
            self.t_mono_s = min(newest_s, self.t_mono_s + elapsed_wall_s * self.speed)

    def step(self, frame_times: Sequence[float], frames: int) -> None:
        """Pause and move `frames` frames forwards (positive) or back (negative)."""
        self.playing = False
        if not frame_times:
            return
        i = bisect.bisect_right(frame_times, self.t_mono_s + 1e-6) - 1
        i = min(max(i + frames, 0), len(frame_times) - 1)
        self.t_mono_s = frame_times[i]


class ReplaySource:
    """Frames of this session by time: the ring first, the segments for anything older."""

    def __init__(self, ring: FrameRing, segments: SegmentLibrary):
        self.ring = ring
        self.segments = segments

    def frame_times(self) -> list[float]:
        """Every frame's time that replay can step to, oldest first."""
        recent = [f.t_mono_s for f in self.ring.snapshot()]
        oldest_recent = recent[0] if recent else float("inf")
        older = [t for s in self.segments.segments() for t in s.frame_times(self.segments.grabbed)[0]
                 if t < oldest_recent]
        return older + recent

    def newest_s(self) -> float | None:
        recent = self.ring.snapshot()
        return recent[-1].t_mono_s if recent else None

    def frame_at(self, t_mono_s: float) -> StillFrame | None:
        """The frame grabbed at or just before `t_mono_s`; None while an older one is loading."""
        recent = self.ring.snapshot()
        if recent and t_mono_s >= recent[0].t_mono_s:
            i = bisect.bisect_right([f.t_mono_s for f in recent], t_mono_s) - 1
            return recent[max(i, 0)].unpack()
        found = self.segments.frame_at(t_mono_s)
        if found is None:
            self.segments.request(t_mono_s)
        return found
