"""The 33 BlazePose body landmarks: their names, the indices we use and the lines of a skeleton."""

from __future__ import annotations

LANDMARK_NAMES: tuple[str, ...] = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
    "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_pinky", "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    "left_heel", "right_heel", "left_foot_index", "right_foot_index",
)
NUM_LANDMARKS = len(LANDMARK_NAMES)  # 33 body landmarks (the model gives 39: 6 more for tracking)
INDEX = {name: i for i, name in enumerate(LANDMARK_NAMES)}

# Columns of a landmark row: pixel x, pixel y, depth z (pixels, hips ~0, smaller is nearer the
# camera), visibility (0-1: in view and not hidden), presence (0-1: inside the frame).
X, Y, Z, VISIBILITY, PRESENCE = range(5)

# Lines the UI draws between landmarks (the body only; the face stays points).
SKELETON_EDGES: tuple[tuple[int, int], ...] = tuple((INDEX[a], INDEX[b]) for a, b in (
    ("left_shoulder", "right_shoulder"), ("left_hip", "right_hip"),
    ("left_shoulder", "left_hip"), ("right_shoulder", "right_hip"),
    ("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"),
    ("right_shoulder", "right_elbow"), ("right_elbow", "right_wrist"),
    ("left_hip", "left_knee"), ("left_knee", "left_ankle"), ("left_ankle", "left_heel"),
    ("left_heel", "left_foot_index"), ("left_ankle", "left_foot_index"),
    ("right_hip", "right_knee"), ("right_knee", "right_ankle"), ("right_ankle", "right_heel"),
    ("right_heel", "right_foot_index"), ("right_ankle", "right_foot_index"),
))
