"""Movement model inputs: about one second of an athlete's pose, made camera-independent.

A window is `WINDOW_FRAMES` poses at `FRAME_RATE_HZ` (pose streams at other rates are resampled by
time), each pose 33 BlazePose landmarks x (x, y, visibility):
- x, y are centred on the hips' mean position over the window and divided by the window's median
  torso length (shoulder midpoint to hip midpoint). Centring on the window's mean, not on each
  frame's hips, keeps the body's own travel in the window: a jump's rise is the signal.
- visibility is the landmark model's 0-1 visibility; a frame with no pose has all zeros.
Image y grows downwards, so "up" is negative y.
"""

from __future__ import annotations

import numpy as np

from edge_models.features.hr import TIME_EPS_S, FeatureError

WINDOW_FRAMES = 30  # poses a window
FRAME_RATE_HZ = 30.0  # ~1 s of movement a window
FRAME_HOLD_S = 1.5 / FRAME_RATE_HZ  # a pose stands for the next 1.5 frame periods at most
MIN_PRESENT_FRACTION = 0.8  # a window needs a pose in 80 % of its frames
NUM_LANDMARKS = 33  # BlazePose body landmarks
FEATURES_PER_LANDMARK = 3  # x, y, visibility
MIN_TORSO_PX = 1e-3  # below this the torso has no length: no usable pose
LEFT_SHOULDER, RIGHT_SHOULDER, LEFT_HIP, RIGHT_HIP = 11, 12, 23, 24
# Landmark index pairs swapped by mirroring (left <-> right), BlazePose order.
MIRROR_PAIRS = ((1, 4), (2, 5), (3, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16), (17, 18),
                (19, 20), (21, 22), (23, 24), (25, 26), (27, 28), (29, 30), (31, 32))
X, Y, VISIBILITY = 0, 1, 2  # columns of a normalised landmark
SOURCE_VISIBILITY_COLUMN = 3  # in PoseResult.landmarks rows: x, y, z, visibility, presence


def resample_poses(t_s: np.ndarray, landmarks: np.ndarray, grid_s: np.ndarray) -> np.ndarray:
    """(len(grid), 33, 3) raw x, y, visibility at each grid time; NaN where no pose is fresh.

    `landmarks` is (n, 33, >=4) as PoseResult gives them (x, y, z, visibility, ...); a frame with
    no pose may be all NaN.
    """
    t_s = np.asarray(t_s, dtype=np.float64)
    landmarks = np.asarray(landmarks, dtype=np.float64)
    if landmarks.ndim != 3 or landmarks.shape[1:2] != (NUM_LANDMARKS,) or landmarks.shape[2] < 4:
        raise FeatureError(f"landmarks must be (frames, {NUM_LANDMARKS}, >=4), got {landmarks.shape}")
    if len(t_s) != len(landmarks):
        raise FeatureError("one time per pose is needed")
    if np.any(np.diff(t_s) < 0):
        raise FeatureError("pose times must not go backwards")
    present = np.all(np.isfinite(landmarks[:, :, :2]), axis=(1, 2))
    t, poses = t_s[present], landmarks[present][:, :, [0, 1, SOURCE_VISIBILITY_COLUMN]]
    out = np.full((len(grid_s), NUM_LANDMARKS, FEATURES_PER_LANDMARK), np.nan)
    if t.size == 0:
        return out
    idx = np.searchsorted(t, np.asarray(grid_s) + TIME_EPS_S, side="right") - 1
    fresh = (idx >= 0) & (np.asarray(grid_s) - t[np.maximum(idx, 0)] <= FRAME_HOLD_S)
    out[fresh] = poses[idx[fresh]]
    return out


def window_grid(end_s: float) -> np.ndarray:
    """The WINDOW_FRAMES times of a window ending at `end_s`."""
    return end_s - np.arange(WINDOW_FRAMES - 1, -1, -1) / FRAME_RATE_HZ


def normalise_window(raw: np.ndarray) -> np.ndarray | None:
    """(WINDOW_FRAMES, 33, 3) camera-independent pose window, or None when too few poses."""
    present = np.all(np.isfinite(raw[:, :, :2]), axis=(1, 2))
    if present.mean() < MIN_PRESENT_FRACTION:
        return None
    hips = (raw[present, LEFT_HIP, :2] + raw[present, RIGHT_HIP, :2]) / 2
    shoulders = (raw[present, LEFT_SHOULDER, :2] + raw[present, RIGHT_SHOULDER, :2]) / 2
    torso = float(np.median(np.linalg.norm(shoulders - hips, axis=1)))
    if torso < MIN_TORSO_PX:
        return None
    out = np.zeros(raw.shape, dtype=np.float32)
    out[present, :, :2] = (raw[present, :, :2] - hips.mean(axis=0)) / torso
    out[present, :, VISIBILITY] = np.clip(raw[present, :, VISIBILITY], 0.0, 1.0)
    return out


def movement_input(t_s: np.ndarray, landmarks: np.ndarray, end_s: float) -> np.ndarray | None:
    """The model input (WINDOW_FRAMES, 99) float32 for the window ending at `end_s`, or None."""
    window = normalise_window(resample_poses(t_s, landmarks, window_grid(end_s)))
    return None if window is None else flatten(window)


def flatten(window: np.ndarray) -> np.ndarray:
    return window.reshape(window.shape[0], NUM_LANDMARKS * FEATURES_PER_LANDMARK).astype(np.float32)


def unflatten(flat: np.ndarray) -> np.ndarray:
    return flat.reshape(flat.shape[0], NUM_LANDMARKS, FEATURES_PER_LANDMARK)


# ---------------------------------------------------------------------------- augmentation

def mirror(window: np.ndarray) -> np.ndarray:
    """The same movement seen in a mirror: x negated, left and right landmarks swapped."""
    out = window.copy()
    out[:, :, X] = -out[:, :, X]
    for left, right in MIRROR_PAIRS:
        out[:, [left, right]] = out[:, [right, left]]
    return out


def scale(window: np.ndarray, factor: float) -> np.ndarray:
    """Body size off by `factor` (a torso length mis-measured)."""
    out = window.copy()
    out[:, :, :2] *= factor
    return out


def jitter(window: np.ndarray, rng: np.random.Generator, sigma: float) -> np.ndarray:
    """Landmark noise of `sigma` torso lengths, only where a landmark is present."""
    out = window.copy()
    present = out[:, :, VISIBILITY:VISIBILITY + 1] > 0
    out[:, :, :2] += rng.normal(0.0, sigma, out[:, :, :2].shape) * present
    return out


def time_warp(window: np.ndarray, speed: float) -> np.ndarray:
    """The same movement `speed` times faster (>1) or slower (<1), ending at the same moment."""
    frames = window.shape[0]
    source = (frames - 1) - (np.arange(frames - 1, -1, -1) * speed)
    source = np.clip(source, 0, frames - 1)
    low = np.floor(source).astype(int)
    high = np.minimum(low + 1, frames - 1)
    weight = (source - low)[:, None, None]
    return (window[low] * (1 - weight) + window[high] * weight).astype(window.dtype)


# ---------------------------------------------------------------------------- phase and tracks

# The phase of a movement, as the hips see it: is the body going up, coming down, or neither?
# A rep of any up-down exercise (a hop, a squat, a lunge) is one "rising" stretch followed by one
# "falling" stretch, so counting rising -> falling transitions counts reps.
PHASES = ("still", "rising", "falling")
PHASE_FRAMES = 4  # the hips' vertical speed is measured over the window's last 4 frames (~0.13 s)
PHASE_SPEED_TORSO_PER_S = 0.8  # hips moving faster than 0.8 torso lengths a second are rising/falling
MAX_TRACK_JUMP_TORSO = 1.5  # hips moving 1.5 torso lengths between frames: a different person


def hip_vertical_speed(window: np.ndarray) -> float:
    """Upward speed of the hips at the window's end, in torso lengths a second (up is positive)."""
    hips_y = (window[:, LEFT_HIP, Y] + window[:, RIGHT_HIP, Y]) / 2
    present = window[:, LEFT_HIP, VISIBILITY] > 0
    recent = np.flatnonzero(present)[-PHASE_FRAMES:]
    if recent.size < 2:
        return 0.0
    slope_per_frame = np.polyfit(recent.astype(float), hips_y[recent], 1)[0]
    return float(-slope_per_frame * FRAME_RATE_HZ)  # image y grows downwards


def phase_index(window: np.ndarray) -> int:
    """Index into PHASES of a normalised (WINDOW_FRAMES, 33, 3) window: the phase label."""
    speed = hip_vertical_speed(window)
    if speed > PHASE_SPEED_TORSO_PER_S:
        return PHASES.index("rising")
    if speed < -PHASE_SPEED_TORSO_PER_S:
        return PHASES.index("falling")
    return PHASES.index("still")


def track_starts(landmarks: np.ndarray) -> np.ndarray:
    """Frame indices where a new track begins: the first pose, and wherever the followed person
    changes (the hips jump by more than MAX_TRACK_JUMP_TORSO torso lengths in one frame).

    `landmarks` is (frames, 33, >=2) in pixels, NaN where no pose; a window must not mix tracks.
    """
    hips = (landmarks[:, LEFT_HIP, :2] + landmarks[:, RIGHT_HIP, :2]) / 2
    shoulders = (landmarks[:, LEFT_SHOULDER, :2] + landmarks[:, RIGHT_SHOULDER, :2]) / 2
    torso = np.linalg.norm(shoulders - hips, axis=1)
    present = np.flatnonzero(np.all(np.isfinite(hips), axis=1) & (torso > MIN_TORSO_PX))
    if present.size == 0:
        return present
    step = np.linalg.norm(np.diff(hips[present], axis=0), axis=1)
    jumped = step > MAX_TRACK_JUMP_TORSO * torso[present[1:]]
    return np.concatenate([present[:1], present[1:][jumped]])

