"""The live video pipeline at full speed: `pipeline.fps` and `pipeline.p95_ms` lines.

The Sports2D demo clip, resized to 640x480 as a laptop camera gives it, goes through pose then
movement on one thread, as in the live feedback worker. Frames are decoded and resized first (the
camera thread's work in the app), so the numbers are the worker's: frame in -> movement feedback out.
"""

from __future__ import annotations

import logging
import sys
import time

import cv2
import numpy as np

from edge_models.assets import asset_path
from edge_models.movement_live import LiveMovementClassifier
from edge_models.pose import PoseEstimator, PoseEstimatorOptions

logger = logging.getLogger(__name__)

CLIP = "demo.mp4"  # Sports2D: people jumping and walking outdoors, 30 fps
FRAME_SIZE_PX = (640, 480)  # width, height of a common laptop camera
CLIP_FPS = 30.0  # the clip's frame rate: frame times step by 1/30 s
PASSES = 2  # the clip twice: the second pass is timed with warm caches as well


def camera_frames() -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(asset_path(CLIP)))
    frames = []
    while (grabbed := capture.read())[0]:
        frames.append(cv2.resize(grabbed[1], FRAME_SIZE_PX, interpolation=cv2.INTER_AREA))
    capture.release()
    return frames


def run(frames: list[np.ndarray]) -> tuple[float, np.ndarray]:
    """(frames a second, per-frame latencies in ms) of pose + movement on one thread."""
    latencies_ms = []
    with PoseEstimator.create_from_options(PoseEstimatorOptions()) as pose, \
            LiveMovementClassifier.from_bundled() as movement:
        start = time.perf_counter()
        for i, frame in enumerate(frames * PASSES):
            t_in = time.perf_counter()
            if i % len(frames) == 0:
                pose.reset()
                movement.reset()
            movement.update(pose.process(frame, i / CLIP_FPS), i / CLIP_FPS)
            latencies_ms.append((time.perf_counter() - t_in) * 1000.0)
        elapsed_s = time.perf_counter() - start
    return len(latencies_ms) / elapsed_s, np.array(latencies_ms)


def main() -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    fps, latencies_ms = run(camera_frames())
    print(f"pipeline.fps={fps:.4g}")
    print(f"pipeline.p95_ms={np.percentile(latencies_ms, 95):.4g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
