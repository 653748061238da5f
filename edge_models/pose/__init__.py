"""Pose: BlazePose (detector + landmark model from the mediapipe 0.10.21 wheel) run by our code on LiteRT."""

from edge_models.pose.angles import joint_angles
from edge_models.pose.estimator import PoseEstimator, PoseEstimatorOptions, PoseResult, PoseStats
from edge_models.pose.skeleton import INDEX, LANDMARK_NAMES, NUM_LANDMARKS, SKELETON_EDGES

__all__ = [
    "INDEX", "LANDMARK_NAMES", "NUM_LANDMARKS", "SKELETON_EDGES", "PoseEstimator",
    "PoseEstimatorOptions", "PoseResult", "PoseStats", "joint_angles",
]
