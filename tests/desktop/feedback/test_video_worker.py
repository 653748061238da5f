"""Pose and movement on real video frames, off the camera thread, dropping rather than queueing."""

from __future__ import annotations

import threading

import cv2
import pytest

from desktop.feedback.models import BUNDLED_MODELS_DIR
from desktop.feedback.video_worker import POSE_MODEL_NAME, VideoFeedbackWorker
from desktop.sources.camera.base import Frame
from desktop.sources.events import FeedbackEvent
from edge_models.movement_live import LiveMovementClassifier
from tests.support.assets import real_asset
from tests.support.waiting import wait_until

WAIT_S = 60.0  # generous: the machine is shared


def clip_frames(count: int) -> list[Frame]:
    capture = cv2.VideoCapture(str(real_asset("demo.mp4")))
    frames = []
    while len(frames) < count:
        ok, image = capture.read()
        if not ok:
            break
        frames.append(Frame(len(frames), len(frames) / 30.0, image))
    capture.release()
    return frames


class Collector:
    def __init__(self):
        self.events: list[FeedbackEvent] = []
        self.changed = threading.Condition()

    def __call__(self, event):
        with self.changed:
            self.events.append(event)
            self.changed.notify_all()

    def wait_for(self, predicate, what: str):
        with self.changed:
            assert self.changed.wait_for(lambda: predicate(self.events), timeout=WAIT_S), what

    def of(self, kind):
        return [e for e in self.events if e.kind == kind]


@pytest.fixture(scope="module")
def frames():
    return clip_frames(90)


def test_pose_and_movement_come_from_the_real_clip_with_their_model_versions(frames):
    sink = Collector()
    movement = LiveMovementClassifier.from_bundled(BUNDLED_MODELS_DIR / "movement")
    worker = VideoFeedbackWorker(sink, movement=movement, clock=lambda: frames[-1].t_mono_s)
    worker.start()
    try:
        for frame in frames:  # one at a time, as a camera at the worker's own pace would
            done = worker.frames_processed + worker.failures
            worker.offer(frame)
            wait_until(lambda: worker.frames_processed + worker.failures > done, WAIT_S, "the frame to be processed")
    finally:
        worker.stop()
    poses = sink.of("pose")
    assert worker.failures == 0 and worker.frames_dropped == 0
    assert poses and all(e.model_name == POSE_MODEL_NAME for e in poses)
    found = [e for e in poses if e.payload["found"]]
    assert len(found) >= 0.8 * len(poses)
    knees = [e.payload["right_knee"] for e in found if "right_knee" in e.payload]
    assert len(knees) >= 0.5 * len(found)  # the walker's knee is in view most of the clip
    assert all(0 <= k <= 180 for k in knees)
    assert max(knees) - min(knees) >= 10  # a walking knee bends: the angle follows the leg
    moves = sink.of("movement")
    assert moves and {e.model_version for e in moves} == {movement.model_version}
    assert moves[0].payload["label"] in movement.labels


def test_frames_offered_faster_than_pose_runs_are_dropped_not_queued(frames):
    sink = Collector()
    worker = VideoFeedbackWorker(sink)
    worker.start()
    try:
        for frame in frames:  # a burst: far faster than 90 pose runs can finish
            worker.offer(frame)
    finally:
        worker.stop()
    assert worker.frames_dropped > 0
    assert worker.frames_processed + worker.frames_dropped == len(frames)
    assert worker.frames_processed >= 1


POSE_DELAY_S = 0.025  # what the test's clock says pose took on each frame


def test_each_stored_pose_event_says_how_late_it_came_and_how_many_frames_got_pose(frames):
    sink = Collector()
    now = {"t": 0.0}
    worker = VideoFeedbackWorker(sink, clock=lambda: now["t"])
    try:
        for frame in frames[:30]:  # one second of the clip, on this thread
            now["t"] = frame.t_mono_s + POSE_DELAY_S
            worker.process(frame)
    finally:
        worker.stop()
    poses = sink.of("pose")
    assert len(poses) == 5  # one every 0.2 s of a 30 fps second
    assert {e.payload["latency_ms"] for e in poses} == {1000 * POSE_DELAY_S}
    # the event of frame i (grabbed at i / 30 s) counts frames 0..i
    assert all(e.payload["frames_with_pose"] == round(e.t_mono_s * 30) + 1 for e in poses)
