"""Live video feedback: pose on the newest frame, then the movement model on the pose history.

Runs on its own thread. The camera thread only offers frames into a one-item slot, so when
inference is slower than the camera, frames are dropped, never queued. Results become
FeedbackEvents (with model name and version) on the recorder's event sink.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from typing import Callable, Protocol

from desktop.feedback.latest import LatestSlot
from desktop.sources.camera.base import CAMERA_CHANNEL, Frame
from desktop.sources.events import FeedbackEvent, Sink
from edge_models.pose import PoseEstimator, PoseEstimatorOptions, PoseResult, joint_angles

logger = logging.getLogger(__name__)

POSE_MODEL_NAME = "blazepose-full"
POSE_MODEL_VERSION = "mediapipe-0.10.21"
POSE_EVENT_PERIOD_S = 0.2  # pose events stored at 5 Hz: enough for review, light on the store
TAKE_TIMEOUT_S = 0.1  # how often an idle worker looks at its stop flag

PoseListener = Callable[[Frame, "PoseResult | None", float], None]
"""Told of every pose found (frame, pose or None, processing seconds), on the worker's thread:
the window draws the skeleton from it. It must only hand the pose on."""


class MovementTracker(Protocol):
    """Turns a stream of poses into movement feedback (class, phase, reps)."""

    model_name: str
    model_version: str

    def update(self, pose: PoseResult | None, t_mono_s: float) -> dict | None: ...

    def close(self) -> None: ...


class VideoFeedbackWorker:
    """Pose (and movement when a tracker is given) on the newest camera frame."""

    def __init__(self, sink: Sink, *, movement: MovementTracker | None = None,
                 pose_options: PoseEstimatorOptions | None = None, clock: Callable[[], float] = time.monotonic,
                 on_pose: PoseListener | None = None):
        self._sink = sink
        self._on_pose = on_pose
        self._movement = movement
        self._estimator = PoseEstimator.create_from_options(pose_options)  # missing models fail here
        self._clock = clock
        self._slot: LatestSlot[Frame] = LatestSlot()
        self._thread: threading.Thread | None = None
        self._last_pose_event_s = -math.inf
        self.latencies_s: list[float] = []  # frame grabbed → feedback out, one per processed frame
        self.frames_processed = 0
        self.frames_with_pose = 0  # frames the pose model ran on (found a person or not)
        self.failures = 0

    @property
    def frames_dropped(self) -> int:
        return self._slot.dropped

    def offer(self, frame: Frame) -> None:
        """Called on the camera thread: hand over the frame, never wait."""
        self._slot.offer(frame)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="video-feedback", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._slot.close()
        if self._thread is not None:
            self._thread.join()
        else:
            self._close_models()  # never started: the thread did not get to close them

    def _run(self) -> None:
        while (frame := self._slot.take(TAKE_TIMEOUT_S)) is not None or not self._slot.closed:
            if frame is None:
                continue
            try:
                self.process(frame)
            except Exception:  # one bad frame or model hiccup must not end feedback for the session
                self.failures += 1
                if self.failures == 1:  # the first with its traceback; the count is in the summary
                    logger.exception("video feedback failed on frame %d", frame.index)
        self._close_models()

    def _close_models(self) -> None:
        self._estimator.close()
        if self._movement is not None:
            self._movement.close()

    def process(self, frame: Frame) -> None:
        """Pose, then movement, on one frame, on the calling thread (the worker thread, or a bench)."""
        began_s = time.perf_counter()
        pose = self._estimator.process(frame.image, frame.t_mono_s)
        self.frames_with_pose += 1
        if self._on_pose is not None:
            self._on_pose(frame, pose, time.perf_counter() - began_s)
        self._emit_pose(pose, frame.t_mono_s)
        if self._movement is not None:
            movement = self._movement.update(pose, frame.t_mono_s)
            if movement is not None:
                self._emit(frame.t_mono_s, self._movement.model_name, self._movement.model_version,
                           "movement", movement)
        self.frames_processed += 1
        self.latencies_s.append(self._clock() - frame.t_mono_s)

    def _emit_pose(self, pose: PoseResult | None, t_mono_s: float) -> None:
        if t_mono_s - self._last_pose_event_s < POSE_EVENT_PERIOD_S:
            return
        self._last_pose_event_s = t_mono_s
        # Stored with the event (whose time is the frame's grab): latency_ms from grab to this
        # event, and frames_with_pose so far, so a review or the benchmark can read both back.
        payload = {"found": pose is not None,
                   "latency_ms": round(1000.0 * (self._clock() - t_mono_s), 1),
                   "frames_with_pose": self.frames_with_pose}
        if pose is not None:
            payload["score"] = round(float(pose.pose_score), 3)
            payload.update({k: round(float(v), 1) for k, v in joint_angles(pose.landmarks).items()
                            if math.isfinite(v)})
        self._emit(t_mono_s, POSE_MODEL_NAME, POSE_MODEL_VERSION, "pose", payload)

    def _emit(self, t_mono_s: float, model: str, version: str, kind: str, payload: dict) -> None:
        self._sink(FeedbackEvent(CAMERA_CHANNEL, t_mono_s, model, version, kind, payload))
