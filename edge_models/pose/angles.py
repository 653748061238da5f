"""Joint angles a coach reads off a skeleton: knees, hips, elbows and trunk lean, in degrees."""

from __future__ import annotations

import math

import numpy as np

from edge_models.pose.skeleton import INDEX, VISIBILITY

MIN_VISIBILITY = 0.5  # a landmark less visible than this is a guess: its angles are NaN

# Each joint angle is the angle at the middle landmark between the other two (180 = straight).
_JOINTS: dict[str, tuple[str, str, str]] = {
    f"{side}_{joint}": (f"{side}_{a}", f"{side}_{b}", f"{side}_{c}")
    for side in ("left", "right")
    for joint, (a, b, c) in {
        "knee": ("hip", "knee", "ankle"),
        "hip": ("shoulder", "hip", "knee"),
        "elbow": ("shoulder", "elbow", "wrist"),
    }.items()
}
ANGLE_NAMES: tuple[str, ...] = (*_JOINTS, "trunk_lean")  # the keys `joint_angles` gives, in its order


def angle_at_deg(a: np.ndarray, vertex: np.ndarray, c: np.ndarray) -> float:
    """The angle a-vertex-c in degrees, 0-180 (NaN when a point sits on the vertex)."""
    u, v = np.asarray(a, float) - vertex, np.asarray(c, float) - vertex
    norms = np.linalg.norm(u) * np.linalg.norm(v)
    if norms == 0:
        return math.nan
    return math.degrees(math.atan2(abs(u[0] * v[1] - u[1] * v[0]), float(u @ v)))


def trunk_lean_deg(landmarks: np.ndarray, min_visibility: float = MIN_VISIBILITY) -> float:
    """How far the hips-to-shoulders line leans from vertical, 0-180 degrees (image y grows down)."""
    names = ("left_shoulder", "right_shoulder", "left_hip", "right_hip")
    if not _all_visible(landmarks, names, min_visibility):
        return math.nan
    shoulders = landmarks[[INDEX["left_shoulder"], INDEX["right_shoulder"]], :2].mean(axis=0)
    hips = landmarks[[INDEX["left_hip"], INDEX["right_hip"]], :2].mean(axis=0)
    return angle_at_deg(hips + np.array([0.0, -1.0]), hips, shoulders)


def joint_angles(landmarks: np.ndarray, min_visibility: float = MIN_VISIBILITY) -> dict[str, float]:
    """Left/right knee, hip and elbow angles and trunk lean, in degrees; NaN where not visible.

    `landmarks` is a (33, >=4) array as in `PoseResult.landmarks` (x, y, z, visibility, ...).
    Angles are measured in the image plane.
    """
    landmarks = np.asarray(landmarks, float)
    angles = {name: _joint_angle(landmarks, points, min_visibility) for name, points in _JOINTS.items()}
    angles["trunk_lean"] = trunk_lean_deg(landmarks, min_visibility)
    return angles


def _joint_angle(landmarks: np.ndarray, names: tuple[str, str, str], min_visibility: float) -> float:
    if not _all_visible(landmarks, names, min_visibility):
        return math.nan
    a, vertex, c = (landmarks[INDEX[n], :2] for n in names)
    return angle_at_deg(a, vertex, c)


def _all_visible(landmarks: np.ndarray, names: tuple[str, ...], min_visibility: float) -> bool:
    return all(landmarks[INDEX[n], VISIBILITY] >= min_visibility for n in names)
