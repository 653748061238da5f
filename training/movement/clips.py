"""Pose landmarks of the real clips, computed once and kept under `data/cache/`.

Running BlazePose over a clip takes seconds; training runs many times. The cache file is keyed by
the clip's sha256 and the pose models' sha256, so a new clip or a new pose model never reuses
stale landmarks. Nothing here imports TensorFlow: the live tests read the same cache.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edge_models.assets import asset_path, data_dir, sha256_of
from edge_models.durable import write_file_atomically
from edge_models.pose import PoseEstimator, PoseEstimatorOptions
from edge_models.pose.estimator import DETECTOR_FILE, LANDMARK_FILE

logger = logging.getLogger(__name__)

CACHE_FOLDER = "cache/movement_landmarks"  # under the data directory
LANDMARK_COLUMNS = 5  # x_px, y_px, z_px, visibility, presence, as PoseResult gives them
DIGEST_CHARS = 16  # hex characters of each sha256 in a cache file name: plenty to tell files apart


class ClipError(ValueError):
    """A clip cannot be read as video (missing, empty or not a video OpenCV can decode)."""


@dataclass(frozen=True)
class ClipPoses:
    """The followed athlete's pose in every frame of one clip, on the clip's own time axis."""

    t_s: np.ndarray  # (frames,) seconds from the clip's first frame
    landmarks: np.ndarray  # (frames, 33, 5); NaN rows where nobody was found
    fps: float

    @property
    def duration_s(self) -> float:
        return float(len(self.t_s) / self.fps)

    def between(self, start_s: float, end_s: float) -> ClipPoses:
        keep = (self.t_s >= start_s) & (self.t_s < end_s)
        return ClipPoses(self.t_s[keep], self.landmarks[keep], self.fps)


def pose_models_digest() -> str:
    """sha256 prefixes of the two BlazePose files: which pose model made the landmarks."""
    return "-".join(sha256_of(asset_path(f))[:DIGEST_CHARS] for f in (DETECTOR_FILE, LANDMARK_FILE))


Region = tuple[float, float, float, float]  # x0, y0, x1, y1 as fractions of the frame
WHOLE_FRAME: Region = (0.0, 0.0, 1.0, 1.0)


def parse_region(text: str) -> Region:
    """'0 0.45 1 1' -> (0.0, 0.45, 1.0, 1.0); '' -> the whole frame. Raises ClipError."""
    if not text.strip():
        return WHOLE_FRAME
    try:
        x0, y0, x1, y1 = (float(v) for v in text.split())
    except ValueError as exc:
        raise ClipError(f"a region is four fractions 'x0 y0 x1 y1', got {text!r}") from exc
    if not (0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1):
        raise ClipError(f"region {text!r} is not inside the frame")
    return (x0, y0, x1, y1)


def cache_path(clip: Path, region: Region = WHOLE_FRAME) -> Path:
    where = "" if region == WHOLE_FRAME else "_" + "-".join(f"{v:.3f}" for v in region)
    name = f"{sha256_of(clip)[:DIGEST_CHARS]}_{pose_models_digest()}{where}.npz"
    return data_dir() / CACHE_FOLDER / name


def clip_poses(clip_name: str, region: Region = WHOLE_FRAME) -> ClipPoses:
    """The poses of the fetched clip whose asset path ends with `clip_name` (cached).

    `region` restricts the pose model to part of the frame (to follow one of several people);
    landmarks stay in the full frame's pixels.
    """
    clip = asset_path(clip_name)
    cached = cache_path(clip, region)
    if cached.is_file():
        with np.load(cached) as data:
            return ClipPoses(data["t_s"], data["landmarks"], float(data["fps"]))
    poses = run_pose(clip, region)
    _save(cached, poses)
    logger.info("cached %d poses of %s", len(poses.t_s), clip_name)
    return poses


def run_pose(clip: Path, region: Region = WHOLE_FRAME) -> ClipPoses:
    """BlazePose (with tracking, as live) over every frame of `clip`, inside `region`."""
    capture = cv2.VideoCapture(str(clip))
    fps = float(capture.get(cv2.CAP_PROP_FPS))
    if not capture.isOpened() or fps <= 0:
        raise ClipError(f"{clip} is not a video OpenCV can read")
    rows: list[np.ndarray] = []
    with PoseEstimator.create_from_options(PoseEstimatorOptions()) as estimator:
        while (frame := capture.read())[0]:
            image, offset_px = _cropped(frame[1], region)
            rows.append(_row(estimator.process(image, len(rows) / fps), offset_px))
    capture.release()
    if not rows:
        raise ClipError(f"{clip} has no frames")
    return ClipPoses(np.arange(len(rows)) / fps, np.stack(rows), fps)


def _cropped(image: np.ndarray, region: Region) -> tuple[np.ndarray, np.ndarray]:
    height, width = image.shape[:2]
    x0, y0 = int(region[0] * width), int(region[1] * height)
    x1, y1 = int(region[2] * width), int(region[3] * height)
    return np.ascontiguousarray(image[y0:y1, x0:x1]), np.array([x0, y0], dtype=np.float64)


def _row(result, offset_px: np.ndarray) -> np.ndarray:
    if result is None:
        return np.full((33, LANDMARK_COLUMNS), np.nan)
    row = np.asarray(result.landmarks, dtype=np.float64)[:, :LANDMARK_COLUMNS].copy()
    row[:, :2] += offset_px
    return row


def _save(path: Path, poses: ClipPoses) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, t_s=poses.t_s, landmarks=poses.landmarks, fps=poses.fps)
    write_file_atomically(path, tmp.read_bytes())
    tmp.unlink()
