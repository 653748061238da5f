"""The live video pipeline at full speed: `pipeline.fps` and `pipeline.p95_ms` lines.

The Sports2D demo clip, cut to 4:3 and scaled to 640x480 (what a laptop camera gives), is written
to a temporary video file, then played through the app's own parts at full speed: the `file:`
camera decodes on its thread while the live video feedback worker's pose-then-movement step runs
on each frame.

- pipeline.fps: frames that got pose and movement feedback, per second of wall time
- pipeline.p95_ms: frame in -> feedback out, 95th percentile
"""

from __future__ import annotations

import logging
import queue
import sys
import tempfile
import threading
import time
from pathlib import Path

import cv2
import numpy as np

from desktop.feedback.models import BUNDLED_MODELS_DIR
from desktop.feedback.video_worker import VideoFeedbackWorker
from desktop.sources.camera import Frame, open_camera
from edge_models.assets import asset_path
from edge_models.movement_live import LiveMovementClassifier

logger = logging.getLogger(__name__)

CLIP = "demo.mp4"  # Sports2D: people jumping and walking outdoors, 30 fps
FRAME_SIZE_PX = (640, 480)  # width, height of a common laptop camera
FRAMES_TO_PROCESS = 400  # frames that must get feedback before the run ends
RUN_LIMIT_S = 300.0  # a run that has not got there by then is reported as it stands


def camera_clip(folder: Path) -> Path:
    """The clip as a 640x480 camera would film it: the middle 4:3 of the frame, scaled."""
    source = cv2.VideoCapture(str(asset_path(CLIP)))
    fps = source.get(cv2.CAP_PROP_FPS) or 30.0
    path = folder / "camera_640x480.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, FRAME_SIZE_PX)
    while (grabbed := source.read())[0]:
        writer.write(cv2.resize(_middle_4_by_3(grabbed[1]), FRAME_SIZE_PX, interpolation=cv2.INTER_AREA))
    source.release()
    writer.release()
    return path


def _middle_4_by_3(image: np.ndarray) -> np.ndarray:
    height, width = image.shape[:2]
    keep = min(width, height * 4 // 3)
    left = (width - keep) // 2
    return image[:, left:left + keep]


def run(clip: Path) -> tuple[float, np.ndarray]:
    """(frames with feedback a second, per-frame latencies in ms).

    The `file:` camera decodes on its thread into a one-frame hand-over, and the worker's own
    `process` runs pose and movement on each frame here: decoding overlaps inference as in the app,
    and no frame is dropped, so the rate is what the pipeline can sustain. Latency runs from the
    moment the worker takes a frame to its feedback out (at a 30 fps camera no frame waits longer).
    """
    handover: queue.Queue = queue.Queue(maxsize=1)
    camera = open_camera(f"file:{clip}?loop=1", realtime=False)
    worker = VideoFeedbackWorker(lambda event: None,
                                 movement=LiveMovementClassifier.from_bundled(BUNDLED_MODELS_DIR / "movement"))
    latencies_ms = []
    camera.start(lambda event: handover.put(event) if isinstance(event, Frame) else None)
    start = time.perf_counter()
    for _ in range(FRAMES_TO_PROCESS):
        frame = handover.get(timeout=RUN_LIMIT_S)
        t_in = time.perf_counter()
        worker.process(frame)
        latencies_ms.append((time.perf_counter() - t_in) * 1000.0)
    elapsed_s = time.perf_counter() - start
    _drain_and_stop(camera, handover)
    worker.stop()
    return FRAMES_TO_PROCESS / elapsed_s, np.array(latencies_ms)


def _drain_and_stop(camera, handover: queue.Queue) -> None:
    """Stop the camera; keep the hand-over empty so its thread is never stuck on a full queue."""
    stopper = threading.Thread(target=camera.stop)
    stopper.start()
    while stopper.is_alive():
        try:
            handover.get(timeout=0.05)
        except queue.Empty:
            pass
    stopper.join()


def main() -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    with tempfile.TemporaryDirectory(prefix="trackside-bench-") as tmp:
        fps, latencies_ms = run(camera_clip(Path(tmp)))
    print(f"pipeline.fps={fps:.4g}")
    print(f"pipeline.p95_ms={np.percentile(latencies_ms, 95):.4g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
