"""The pose estimator: one frame in, the athlete's 33 landmarks out, tracking between frames.

On a fresh start (or when tracking is lost) the detector finds the person and its keypoints give
the region to crop; after that, each frame is cropped where the previous frame's landmarks say
the body is, and the detector rests. When the landmark model's pose flag drops below a threshold
the person was lost: the detector looks again in the same frame.

    with PoseEstimator.create_from_options(PoseEstimatorOptions()) as estimator:
        result = estimator.process(frame_bgr, t_mono_s)   # None when nobody is in view
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from edge_models.assets import asset_path
from edge_models.pose.detector import MIN_DETECTION_SCORE, NMS_IOU, PersonDetection, PoseDetector
from edge_models.pose.landmarks import LandmarkModel, LandmarkOutput
from edge_models.pose.roi import Roi, roi_from_points
from edge_models.runtime import ModelRunner, RunnerOptions

logger = logging.getLogger(__name__)

DETECTOR_FILE = "pose_detection.tflite"  # from the mediapipe 0.10.21 wheel
LANDMARK_FILE = "pose_landmark_full.tflite"  # from the mediapipe 0.10.21 wheel
MIN_POSE_FLAG = 0.5  # below this the landmark model says nobody fills the crop: tracking lost


@dataclass(frozen=True)
class PoseEstimatorOptions:
    """How to find and follow one athlete."""

    detector_model_path: Path | None = None  # None: the fetched BlazePose detector
    landmark_model_path: Path | None = None  # None: the fetched BlazePose full landmark model
    num_threads: int = 2  # per model; the laptop shares its cores with capture and the UI
    min_detection_score: float = MIN_DETECTION_SCORE
    min_pose_flag: float = MIN_POSE_FLAG
    nms_iou: float = NMS_IOU
    weighted_nms: bool = True
    tracking: bool = True  # False: run the detector on every frame
    clock: Callable[[], float] = field(default=time.monotonic, compare=False)


@dataclass(frozen=True)
class PoseResult:
    """The athlete's pose in one frame."""

    t_mono_s: float  # when the frame was grabbed
    landmarks: np.ndarray  # (33, 5): x_px, y_px, z_px, visibility, presence (see skeleton.py)
    pose_score: float  # 0-1, the landmark model's pose flag
    roi: Roi  # the region the landmarks were found in
    image_size_px: tuple[int, int]  # (width, height) of the frame
    from_detector: bool  # True when the detector placed the region (not tracking)


@dataclass
class PoseStats:
    """How much work the estimator did: counts and time spent per model."""

    frames: int = 0
    detector_runs: int = 0
    landmark_runs: int = 0
    detector_s: float = 0.0
    landmark_s: float = 0.0


class PoseEstimator:
    """Finds and follows one athlete's body landmarks, frame by frame."""

    def __init__(self, detector: PoseDetector, landmarks: LandmarkModel, runners: list[ModelRunner],
                 options: PoseEstimatorOptions) -> None:
        self._detector = detector
        self._landmarks = landmarks
        self._runners = runners
        self._options = options
        self._tracked: Roi | None = None
        self.stats = PoseStats()

    @classmethod
    def create_from_options(cls, options: PoseEstimatorOptions | None = None) -> PoseEstimator:
        """Load both models. Raises `ModelFileError` or `AssetMissing` when a file is not there."""
        options = options or PoseEstimatorOptions()
        detector_path = options.detector_model_path or asset_path(DETECTOR_FILE)
        landmark_path = options.landmark_model_path or asset_path(LANDMARK_FILE)
        runners = [ModelRunner.create_from_options(RunnerOptions(p, num_threads=options.num_threads))
                   for p in (detector_path, landmark_path)]
        detector = PoseDetector(runners[0], options.min_detection_score, options.nms_iou, options.weighted_nms)
        return cls(detector, LandmarkModel(runners[1]), runners, options)

    def process(self, image_bgr: np.ndarray, t_mono_s: float) -> PoseResult | None:
        """The pose in this frame, or None when nobody is found. Frames must come in time order."""
        rgb = cv2.cvtColor(_checked_frame(image_bgr), cv2.COLOR_BGR2RGB)
        self.stats.frames += 1
        if self._tracked is not None and self._options.tracking:
            found = self._landmarks_in(rgb, self._tracked)
            if found is not None:
                return self._result(found, self._tracked, t_mono_s, rgb, from_detector=False)
        return self._detect_and_track(rgb, t_mono_s)

    def reset(self) -> None:
        """Forget the tracked person (a new clip, a cut): the next frame runs the detector."""
        self._tracked = None

    def close(self) -> None:
        for runner in self._runners:
            runner.close()

    def __enter__(self) -> PoseEstimator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _detect_and_track(self, rgb: np.ndarray, t_mono_s: float) -> PoseResult | None:
        self._tracked = None
        person = self._detect(rgb)
        if person is None:
            return None
        roi = roi_from_points(person.hips_px, person.above_head_px)
        found = self._landmarks_in(rgb, roi)
        return None if found is None else self._result(found, roi, t_mono_s, rgb, from_detector=True)

    def _detect(self, rgb: np.ndarray) -> PersonDetection | None:
        start = self._options.clock()
        people = self._detector.detect(rgb)
        self.stats.detector_s += self._options.clock() - start
        self.stats.detector_runs += 1
        return people[0] if people else None

    def _landmarks_in(self, rgb: np.ndarray, roi: Roi) -> LandmarkOutput | None:
        start = self._options.clock()
        output = self._landmarks.run(rgb, roi)
        self.stats.landmark_s += self._options.clock() - start
        self.stats.landmark_runs += 1
        return output if output.pose_flag >= self._options.min_pose_flag else None

    def _result(self, found: LandmarkOutput, roi: Roi, t_mono_s: float, rgb: np.ndarray,
                from_detector: bool) -> PoseResult:
        self._tracked = roi_from_points(found.tracking_hips_px, found.tracking_above_head_px)
        height, width = rgb.shape[:2]
        return PoseResult(t_mono_s, found.landmarks, found.pose_flag, roi, (width, height), from_detector)


def _checked_frame(image_bgr: np.ndarray) -> np.ndarray:
    if not isinstance(image_bgr, np.ndarray) or image_bgr.dtype != np.uint8:
        raise ValueError(f"a frame must be a uint8 numpy array, got {getattr(image_bgr, 'dtype', type(image_bgr))}")
    if image_bgr.ndim != 3 or image_bgr.shape[2] != 3 or min(image_bgr.shape[:2]) < 2:
        raise ValueError(f"a frame must be height x width x 3 (BGR), got shape {image_bgr.shape}")
    return image_bgr
