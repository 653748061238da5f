"""The pose estimator on frames of the real clips (Sports2D demo, Pose2Sim camera 1)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from edge_models.pose import INDEX, PoseEstimator, PoseEstimatorOptions, joint_angles
from tests.support.assets import real_asset

TRACKED_FRAMES = 30  # about a second of the 30 fps clip, half a second of the 60 fps one
MAX_DETECTOR_RUNS = 3  # tracking must keep the detector idle once it has found the athlete


def read_frames(clip: str, count: int, start: int = 0) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(real_asset(clip)))
    try:
        capture.set(cv2.CAP_PROP_POS_FRAMES, start)
        frames = [capture.read()[1] for _ in range(count)]
    finally:
        capture.release()
    assert all(f is not None for f in frames), f"{clip} has fewer than {start + count} frames"
    return frames


@pytest.fixture
def estimator():
    with PoseEstimator.create_from_options(PoseEstimatorOptions()) as est:
        yield est


def assert_plausible_body(result, frame: np.ndarray) -> None:
    height, width = frame.shape[:2]
    y = {name: result.landmarks[INDEX[name], 1] for name in INDEX}
    body = result.landmarks[11:29]  # shoulders to ankles
    assert (body[:, 0] >= 0).all() and (body[:, 0] < width).all()
    assert (body[:, 1] >= 0).all() and (body[:, 1] < height).all()
    for side in ("left", "right"):
        assert y[f"{side}_shoulder"] < y[f"{side}_hip"] < y[f"{side}_ankle"]
        assert y["nose"] < y[f"{side}_hip"]
    angles = joint_angles(result.landmarks)
    for knee in ("left_knee", "right_knee"):
        assert 0.0 <= angles[knee] <= 180.0


@pytest.mark.parametrize("clip, frame_index", [("cam01.mp4", 0), ("demo.mp4", 115)])
def test_finds_the_athlete(estimator, clip, frame_index):
    (frame,) = read_frames(clip, 1, start=frame_index)
    result = estimator.process(frame, t_mono_s=12.5)
    assert result is not None
    assert result.t_mono_s == 12.5 and result.from_detector
    assert result.image_size_px == (frame.shape[1], frame.shape[0])
    assert result.pose_score > 0.5
    assert_plausible_body(result, frame)


def test_tracking_follows_the_athlete_with_few_detector_runs(estimator):
    frames = read_frames("cam01.mp4", TRACKED_FRAMES)
    results = [estimator.process(f, i / 60.0) for i, f in enumerate(frames)]
    assert all(r is not None for r in results)
    assert estimator.stats.detector_runs <= MAX_DETECTOR_RUNS
    assert sum(not r.from_detector for r in results) >= TRACKED_FRAMES - MAX_DETECTOR_RUNS
    for result, frame in zip(results, frames):
        assert_plausible_body(result, frame)
    hips = np.array([r.landmarks[INDEX["left_hip"], :2] for r in results])
    assert np.abs(np.diff(hips, axis=0)).max() < 60  # no jumps: the same person, frame to frame


def test_without_tracking_the_detector_runs_every_frame():
    frames = read_frames("cam01.mp4", 3)
    with PoseEstimator.create_from_options(PoseEstimatorOptions(tracking=False)) as est:
        results = [est.process(f, float(i)) for i, f in enumerate(frames)]
    assert all(r is not None and r.from_detector for r in results)
    assert est.stats.detector_runs == 3


def test_blank_frame_finds_nobody_and_lets_the_detector_look_again(estimator):
    (frame,) = read_frames("cam01.mp4", 1)
    assert estimator.process(frame, 0.0) is not None
    assert estimator.process(np.zeros_like(frame), 1.0) is None  # tracking lost, detector finds none
    runs = estimator.stats.detector_runs
    assert estimator.process(frame, 2.0).from_detector
    assert estimator.stats.detector_runs == runs + 1


def test_time_spent_is_measured_with_the_injected_clock():
    ticks = iter(range(1000))
    options = PoseEstimatorOptions(clock=lambda: float(next(ticks)))
    (frame,) = read_frames("cam01.mp4", 1)
    with PoseEstimator.create_from_options(options) as est:
        est.process(frame, 0.0)
    assert est.stats.detector_s == 1.0 and est.stats.landmark_s == 1.0


@pytest.mark.parametrize("bad", [np.zeros((10, 10), np.uint8), np.zeros((10, 10, 3), np.float32)])
def test_bad_frames_are_refused(estimator, bad):
    with pytest.raises(ValueError, match="frame"):
        estimator.process(bad, 0.0)
