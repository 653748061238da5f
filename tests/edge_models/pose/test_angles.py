"""Joint angles on hand-made skeletons."""

from __future__ import annotations

import math

import numpy as np
import pytest

from edge_models.pose import INDEX, joint_angles

VISIBLE = 0.99


def standing_skeleton() -> np.ndarray:
    """A person standing straight, facing the camera (pixels, y down), everything visible."""
    landmarks = np.zeros((33, 5))
    landmarks[:, 3:] = VISIBLE
    for side, x in (("left", 120.0), ("right", 80.0)):
        landmarks[INDEX[f"{side}_shoulder"], :2] = (x, 100)
        landmarks[INDEX[f"{side}_elbow"], :2] = (x, 150)
        landmarks[INDEX[f"{side}_wrist"], :2] = (x, 200)
        landmarks[INDEX[f"{side}_hip"], :2] = (x, 200)
        landmarks[INDEX[f"{side}_knee"], :2] = (x, 280)
        landmarks[INDEX[f"{side}_ankle"], :2] = (x, 360)
    return landmarks


def test_standing_straight_is_180_and_upright():
    angles = joint_angles(standing_skeleton())
    for joint in ("left_knee", "right_knee", "left_hip", "right_hip", "left_elbow", "right_elbow"):
        assert angles[joint] == pytest.approx(180.0)
    assert angles["trunk_lean"] == pytest.approx(0.0)


def test_right_angle_knee_and_elbow():
    landmarks = standing_skeleton()
    landmarks[INDEX["left_ankle"], :2] = (200, 280)  # shin horizontal, thigh vertical
    landmarks[INDEX["right_wrist"], :2] = (30, 150)  # forearm horizontal, upper arm vertical
    angles = joint_angles(landmarks)
    assert angles["left_knee"] == pytest.approx(90.0)
    assert angles["right_elbow"] == pytest.approx(90.0)
    assert angles["right_knee"] == pytest.approx(180.0)


def test_trunk_leaning_forward_45_degrees():
    landmarks = standing_skeleton()
    for side, x in (("left", 120.0), ("right", 80.0)):
        landmarks[INDEX[f"{side}_shoulder"], :2] = (x + 100, 100)  # 100 across for 100 up
    angles = joint_angles(landmarks)
    assert angles["trunk_lean"] == pytest.approx(45.0)
    assert angles["left_hip"] == pytest.approx(135.0)


def test_hidden_landmark_gives_nan_only_for_its_joints():
    landmarks = standing_skeleton()
    landmarks[INDEX["left_ankle"], 3] = 0.1
    angles = joint_angles(landmarks)
    assert math.isnan(angles["left_knee"])
    assert angles["right_knee"] == pytest.approx(180.0)
    assert angles["left_hip"] == pytest.approx(180.0)
