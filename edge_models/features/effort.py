"""The athlete's effort, one rule for training and live: measured channels -> [0, 1] -> work/rest.

Training reads whole recordings and the laptop sees one strap notification at a time, so every
rule here is written as a step over samples in time order (`EffortScale`, `WorkRestTrack`). The
batch functions (`recording_effort`, `work_rest_state`) only run those steps over a recording, so
a training window and a live window built from the same samples hold the same numbers.

Effort from measured channels (`EffortScale.effort`):
- the channel is the first of power, speed, cadence that has shown a positive value so far in the
  session (a power meter that joins later takes over from speed from then on);
- a positive value is divided by the 95th percentile of that channel's positive values so far
  (the last SCALE_SAMPLES of them), clipped to [0, 1]; zero means stopped (effort 0) and is left
  out of the scale, so long stops do not inflate everybody's effort;
- a sample without the chosen channel says nothing about effort (None, NaN in a batch).

Work/rest state (`WorkRestTrack.step`), one step per second: effort averaged over the last
EFFORT_SMOOTH_S seconds (zeros before the session), work from WORK_ENTER, rest at REST_ENTER or
below (hysteresis, so no flicker at a threshold).
"""

from __future__ import annotations

from collections import deque

import numpy as np

EFFORT_SCALE_PERCENTILE = 95.0  # effort 1.0 = this percentile of the channel's positive values so far
SCALE_SAMPLES = 3600  # positive values kept per channel for the scale: the last hour at 1 Hz
CHANNELS = ("power", "speed", "cadence")  # preferred first: power says effort best
EFFORT_SMOOTH_S = 10  # effort averaged over 10 s before deciding work or rest
WORK_ENTER = 0.5  # smoothed effort at or above this starts a work bout
REST_ENTER = 0.25  # smoothed effort at or below this starts a rest


class EffortScale:
    """Measured power, speed or cadence -> effort in [0, 1], one sample at a time."""

    def __init__(self) -> None:
        self._positive = {name: deque(maxlen=SCALE_SAMPLES) for name in CHANNELS}
        self.channel: str | None = None  # the channel effort comes from, once one has shown

    def effort(self, power_w: float | None, speed_mps: float | None,
               cadence_rpm: float | None) -> float | None:
        """Effort of this sample, or None when the sample does not carry the chosen channel."""
        values = dict(zip(CHANNELS, (_finite(power_w), _finite(speed_mps), _finite(cadence_rpm))))
        for name in CHANNELS:
            if values[name] is not None and values[name] > 0:
                self._positive[name].append(values[name])
        self.channel = next((n for n in CHANNELS if self._positive[n]), None)
        value = values.get(self.channel)
        if value is None:
            return None
        if value <= 0:
            return 0.0
        scale = float(np.percentile(self._positive[self.channel], EFFORT_SCALE_PERCENTILE))
        return float(min(value / scale, 1.0))


def _finite(value: float | None) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)


def recording_effort(power_w: np.ndarray | None, speed_mps: np.ndarray | None,
                     cadence_rpm: np.ndarray | None) -> tuple[np.ndarray | None, str]:
    """Effort at each sample of a recording (NaN where a sample has none) and its channel.

    (None, "none") when no channel ever shows a positive value.
    """
    columns = [c for c in (power_w, speed_mps, cadence_rpm) if c is not None]
    if not columns:
        return None, "none"
    n = len(columns[0])
    scale, out = EffortScale(), np.full(n, np.nan)
    rows = [c if c is not None else np.full(n, np.nan) for c in (power_w, speed_mps, cadence_rpm)]
    for i, (p, s, c) in enumerate(zip(*rows)):
        value = scale.effort(p, s, c)
        out[i] = np.nan if value is None else value
    if scale.channel is None:
        return None, "none"
    return out, scale.channel


class WorkRestTrack:
    """The work/rest state one second at a time: 1 in a work bout, 0 at rest."""

    def __init__(self) -> None:
        self._recent = deque([0.0] * EFFORT_SMOOTH_S, maxlen=EFFORT_SMOOTH_S)
        self.working = False

    def step(self, effort: float) -> int:
        """The state at the next second, given that second's effort (NaN counts as 0)."""
        self._recent.append(0.0 if not np.isfinite(effort) else float(effort))
        level = sum(self._recent) / EFFORT_SMOOTH_S
        self.working = level >= WORK_ENTER if not self.working else level > REST_ENTER
        return int(self.working)


def work_rest_state(effort_1hz: np.ndarray) -> np.ndarray:
    """`WorkRestTrack` over a 1 Hz effort series from a session's start."""
    track = WorkRestTrack()
    return np.array([track.step(e) for e in np.asarray(effort_1hz, dtype=np.float64)],
                    dtype=np.int8)
