"""Pose on the laptop: per-frame time with tracking on the real Sports2D clip at 640x480.

Prints `name=value` lines:
    edge.pose_ms            mean time of one PoseEstimator.process call (tracking on)
    edge.pose_p95_ms        its 95th percentile
    edge.pose_detector_ms   mean time of one detector run
    edge.pose_landmark_ms   mean time of one landmark-model run
    edge.pose_detector_runs how many frames needed the detector
    edge.pose_found_ratio   share of frames with a pose

Frames are decoded, cut to 4:3 and scaled to 640x480 before timing: decoding is not pose time.
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np

from edge_models.assets import asset_path
from edge_models.pose import PoseEstimator, PoseEstimatorOptions, PoseStats

FRAME_SIZE_PX = (640, 480)  # width, height: a common webcam mode
DEFAULT_FRAMES = 200  # ~7 s of the 30 fps clip
WARMUP_FRAMES = 5  # not timed: first calls pay for allocation


def camera_frames(clip: str, count: int) -> list[np.ndarray]:
    """The clip's first `count` frames, centre-cut to 4:3 and scaled like a 640x480 camera."""
    capture = cv2.VideoCapture(str(asset_path(clip)))
    frames = []
    try:
        while len(frames) < count:
            ok, frame = capture.read()
            if not ok:
                break
            frames.append(cv2.resize(_cut_to_4_3(frame), FRAME_SIZE_PX, interpolation=cv2.INTER_AREA))
    finally:
        capture.release()
    return frames


def _cut_to_4_3(frame: np.ndarray) -> np.ndarray:
    """The centre of the frame with a 4:3 (width:height) aspect, whatever the source's."""
    height, width = frame.shape[:2]
    keep_w, keep_h = min(width, height * 4 // 3), min(height, width * 3 // 4)
    left, top = (width - keep_w) // 2, (height - keep_h) // 2
    return frame[top:top + keep_h, left:left + keep_w]


def measure(frames: list[np.ndarray], threads: int) -> dict[str, float]:
    options = PoseEstimatorOptions(num_threads=threads, clock=time.perf_counter)
    with PoseEstimator.create_from_options(options) as estimator:
        for frame in frames[:WARMUP_FRAMES]:
            estimator.process(frame, 0.0)
        estimator.reset()
        estimator.stats = PoseStats()
        per_frame_s, found = [], 0
        for i, frame in enumerate(frames):
            start = time.perf_counter()
            found += estimator.process(frame, i / 30.0) is not None
            per_frame_s.append(time.perf_counter() - start)
        stats = estimator.stats
    return {
        "edge.pose_ms": 1000 * float(np.mean(per_frame_s)),
        "edge.pose_p95_ms": 1000 * float(np.percentile(per_frame_s, 95)),
        "edge.pose_detector_ms": 1000 * stats.detector_s / max(1, stats.detector_runs),
        "edge.pose_landmark_ms": 1000 * stats.landmark_s / max(1, stats.landmark_runs),
        "edge.pose_detector_runs": stats.detector_runs,
        "edge.pose_found_ratio": found / len(frames),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", default="demo.mp4")
    parser.add_argument("--frames", type=int, default=DEFAULT_FRAMES)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    frames = camera_frames(args.clip, args.frames)
    for name, value in measure(frames, args.threads).items():
        print(f"{name}={value:.3f}" if isinstance(value, float) else f"{name}={value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
