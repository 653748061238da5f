"""Session video as short segments, each closed and made durable before the store indexes it.

Codec: Motion-JPEG (FourCC MJPG) in an AVI container. Every frame is a self-contained JPEG written
in sequence, so a file cut short by a kill still decodes up to its last whole frame, and nothing
needed to play earlier frames is written only at the end (an .mp4 keeps its index, the 'moov'
atom, for release time: a killed .mp4 does not open at all). The OpenCV wheels write MJPG on every
platform (they carry no H.264 encoder). The price is size: several times an H.264 file.

Order for each segment: write under a temporary name, release, fsync, rename to the final name,
fsync the folder, and only then call `on_segment_closed` (which indexes it). A crash therefore
leaves at most one partial file (the temporary name, never indexed) and never an indexed file that
does not play.

Privacy: the session's video folder is 0700 and each segment file 0600 from its creation (the
file is made empty with that mode before the encoder opens it; the encoder truncates it and
keeps the mode), whatever the umask.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable

import cv2
import numpy as np

from desktop.sources.camera.base import Frame
from desktop.store.models import VideoSegment
from edge_models.durable import fsync_dir, make_private_dir, make_private_file

logger = logging.getLogger(__name__)

CODEC = "MJPG"
SEGMENT_SUFFIX = ".avi"
PARTIAL_SUFFIX = ".partial.avi"  # a segment still being written; never indexed
DEFAULT_SEGMENT_S = 2.0  # video a crash may lose at most; short enough, and few enough files (30/min)
_HASH_BLOCK_BYTES = 1 << 20  # read size while hashing a closed segment


class VideoWriteError(OSError):
    """A video segment could not be written (no encoder, disk full, folder not writable)."""


@dataclass
class _OpenSegment:
    partial: Path
    final: Path
    writer: cv2.VideoWriter
    start_mono_s: float
    last_mono_s: float
    frames: int = 0


class SegmentedVideoWriter:
    """Writes a session's frames into `video_dir/<session_id>/seg-NNNNNN.avi`, segment by segment.

    The recorded size is `frame_size` (width, height) rounded down to even numbers (the MJPG
    encoder's 4:2:0 chroma needs them; it would crop the odd pixel anyway); frames of another size
    are scaled to it. A segment holds
    `segment_s` of video at `fps` (round(segment_s * fps) frames), so a crash loses at most that
    many frames, whether the frames came live or from a file played flat out.
    """

    def __init__(self, video_dir: Path, session_id: str, *, fps: float, frame_size: tuple[int, int],
                 segment_s: float = DEFAULT_SEGMENT_S, on_segment_closed: Callable[[VideoSegment], None]):
        if not fps > 0 or not segment_s > 0:
            raise ValueError(f"fps and segment_s must be positive (got fps={fps}, segment_s={segment_s})")
        if len(frame_size) != 2 or min(frame_size) <= 0:
            raise ValueError(f"frame_size is (width, height) in pixels, got {frame_size}")
        self._folder = make_private_dir(Path(video_dir) / session_id)
        self._relative_to = Path(video_dir).parent  # the data directory, which the index paths start from
        self.fps = float(fps)
        self.frame_size = (_even(frame_size[0]), _even(frame_size[1]))
        self._frames_per_segment = max(1, round(segment_s * fps))
        self._on_segment_closed = on_segment_closed
        self._next_number = self._first_free_number()
        self._open: _OpenSegment | None = None
        self.segments_closed = 0

    def _first_free_number(self) -> int:
        numbers = [int(p.name[4:10]) for p in self._folder.glob("seg-??????*") if p.name[4:10].isdigit()]
        return max(numbers, default=0) + 1

    def write(self, frame: Frame) -> None:
        """Add one frame; closes (and indexes) the segment when it is full."""
        image = self._fit(frame.image)
        if self._open is None:
            self._open = self._start(frame.t_mono_s)
        self._open.writer.write(image)
        self._open.frames += 1
        self._open.last_mono_s = frame.t_mono_s
        if self._open.frames >= self._frames_per_segment:
            self._close_segment()

    def close(self) -> None:
        """Close the segment being written, if any (it is indexed like any other)."""
        if self._open is not None:
            self._close_segment()

    def _fit(self, image: np.ndarray) -> np.ndarray:
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"a frame is a BGR uint8 HxWx3 image, got {image.dtype} {image.shape}")
        width, height = self.frame_size
        extra_rows, extra_columns = image.shape[0] - height, image.shape[1] - width
        if extra_rows in (0, 1) and extra_columns in (0, 1):  # the same, or the odd pixel the encoder drops
            return image[:height, :width]
        return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)

    def _start(self, t_mono_s: float) -> _OpenSegment:
        stem = f"seg-{self._next_number:06d}"
        self._next_number += 1
        partial, final = self._folder / (stem + PARTIAL_SUFFIX), self._folder / (stem + SEGMENT_SUFFIX)
        make_private_file(partial)  # the encoder truncates it and keeps its mode
        writer = cv2.VideoWriter(str(partial), cv2.VideoWriter_fourcc(*CODEC), self.fps, self.frame_size)
        if not writer.isOpened():
            partial.unlink(missing_ok=True)
            raise VideoWriteError(f"cannot write {CODEC} video to {partial}")
        return _OpenSegment(partial, final, writer, t_mono_s, t_mono_s)

    def _close_segment(self) -> None:
        seg, self._open = self._open, None
        seg.writer.release()
        if not seg.partial.is_file() or seg.partial.stat().st_size == 0:
            raise VideoWriteError(f"video segment {seg.partial} is missing or empty after closing it")
        digest = _fsync_and_hash(seg.partial)
        os.replace(seg.partial, seg.final)
        fsync_dir(self._folder)
        self.segments_closed += 1
        self._on_segment_closed(VideoSegment(
            path=PurePosixPath(seg.final.relative_to(self._relative_to).as_posix()),
            start_mono_s=seg.start_mono_s, end_mono_s=seg.last_mono_s + 1.0 / self.fps,
            frame_count=seg.frames, fps=self.fps, codec=CODEC, sha256=digest))


def _even(pixels: int) -> int:
    return int(pixels) - int(pixels) % 2


def _fsync_and_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "r+b") as f:  # opened for writing: Windows fsyncs only such a handle
        for block in iter(lambda: f.read(_HASH_BLOCK_BYTES), b""):
            digest.update(block)
        os.fsync(f.fileno())
    return digest.hexdigest()


def is_playable(path: Path, expected_frames: int | None = None) -> bool:
    """True when OpenCV opens the file and decodes every frame (exactly `expected_frames`, if given)."""
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            return False
        decoded = 0
        while True:
            ok, _ = capture.read()
            if not ok:
                break
            decoded += 1
    finally:
        capture.release()
    return decoded > 0 and (expected_frames is None or decoded == expected_frames)
