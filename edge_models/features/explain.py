"""Why a model said what it said: occlusion over input groups and time blocks, on the laptop.

Each explanation runs the same LiteRT model a few more times on the same window with one part of
the input taken away, and reports how much the output moved (a few extra runs of a model that
takes well under a millisecond):

- heart rate (`hr_explanation`): how much of the +30 s forecast came from the recent heart rate
  (its shape replaced by a flat line at the heart rate now), from the effort (the work/rest state
  replaced by rest) and from the plan (taken away), in bpm; and which seconds mattered most
  (HR_BLOCK_S-second blocks of heart rate and effort flattened in turn).
- movement (`movement_explanation`): which body parts (their landmarks hidden: visibility 0 and
  positions at the hips' centre) and which frames (FRAME_BLOCK frames held at the block before)
  lowered the winning class's probability most when taken away.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from edge_models.features import movement as mv
from edge_models.features.hr import (HORIZONS_S, HR_CHANNEL, HR_SCALE_BPM, STATE_CHANNEL,
                                     WINDOW_S, without_plan)

Run = Callable[[np.ndarray], np.ndarray]  # a batch-1 input -> the model's output row
HR_BLOCK_S = 10  # the forecast's "which seconds" are 10-s blocks of the two-minute window
H30 = HORIZONS_S.index(30)
FRAME_BLOCK = 5  # movement frames are taken away five at a time (1/6 s)
BODY_PARTS = {  # BlazePose landmark indices by the body part a coach names
    "head": tuple(range(0, 11)), "left_arm": (11, 13, 15, 17, 19, 21), "right_arm": (12, 14, 16, 18, 20, 22),
    "left_leg": (23, 25, 27, 29, 31), "right_leg": (24, 26, 28, 30, 32),
}


def _forecast30_bpm(run: Run, window: np.ndarray) -> float:
    return float(np.asarray(run(window[None].astype(np.float32))).reshape(-1)[H30] * HR_SCALE_BPM)


def hr_occlusions(window: np.ndarray) -> dict[str, np.ndarray]:
    """The heart-rate window (WINDOW_S, N_CHANNELS) with each input group taken away."""
    flat_hr, rest, no_plan = window.copy(), window.copy(), without_plan(window)
    flat_hr[:, HR_CHANNEL] = 0.0  # the heart rate held at now for two minutes
    rest[:, STATE_CHANNEL] = 0.0
    return {"recent_hr": flat_hr, "effort": rest, "plan": no_plan}


def hr_block_occlusion(window: np.ndarray, block: int) -> np.ndarray:
    """The window with heart rate and effort of one HR_BLOCK_S block flattened to the block's
    last second (as if nothing happened in those seconds)."""
    out = window.copy()
    start, end = block * HR_BLOCK_S, (block + 1) * HR_BLOCK_S
    out[start:end, HR_CHANNEL] = window[end - 1, HR_CHANNEL]
    out[start:end, STATE_CHANNEL] = window[end - 1, STATE_CHANNEL]
    return out


def hr_explanation(run: Run, window: np.ndarray) -> dict:
    """Where the +30 s forecast came from, for one (WINDOW_S, N_CHANNELS) window."""
    base = _forecast30_bpm(run, window)
    parts = {f"{name}_bpm": round(base - _forecast30_bpm(run, w), 1)
             for name, w in hr_occlusions(window).items()}
    blocks = [abs(base - _forecast30_bpm(run, hr_block_occlusion(window, b)))
              for b in range(WINDOW_S // HR_BLOCK_S)]
    top = int(np.argmax(blocks))
    ago = WINDOW_S - top * HR_BLOCK_S
    return {**parts, "seconds_ago": [ago, ago - HR_BLOCK_S], "block_bpm": round(blocks[top], 1)}


def _hide_part(window: np.ndarray, landmarks: tuple[int, ...]) -> np.ndarray:
    poses = mv.unflatten(window).copy()  # (frames, landmarks, x/y/visibility), hips at the origin
    poses[:, landmarks, :] = 0.0
    return mv.flatten(poses)


def _hold_frames(window: np.ndarray, block: int) -> np.ndarray:
    out, start = window.copy(), block * FRAME_BLOCK
    out[start:start + FRAME_BLOCK] = window[start - 1] if start > 0 else window[FRAME_BLOCK]
    return out


def movement_occlusions(window: np.ndarray) -> tuple[dict[str, np.ndarray], list[np.ndarray]]:
    """The movement window with each body part hidden, and with each frame block held."""
    parts = {name: _hide_part(window, idx) for name, idx in BODY_PARTS.items()}
    frames = [_hold_frames(window, b) for b in range(mv.WINDOW_FRAMES // FRAME_BLOCK)]
    return parts, frames


def movement_explanation(run: Run, window: np.ndarray, class_index: int) -> dict:
    """Which body parts and frames the winning class rests on (probability lost when hidden)."""
    def prob(w: np.ndarray) -> float:
        return float(np.asarray(run(w[None].astype(np.float32))).reshape(-1)[class_index])

    base = prob(window)
    parts, frames = movement_occlusions(window)
    by_part = {name: round(base - prob(w), 3) for name, w in parts.items()}
    by_block = [base - prob(w) for w in frames]
    top = int(np.argmax(by_block))
    return {"body_parts": dict(sorted(by_part.items(), key=lambda kv: -kv[1])[:3]),
            "frames": [top * FRAME_BLOCK, (top + 1) * FRAME_BLOCK], "frames_drop": round(by_block[top], 3)}
