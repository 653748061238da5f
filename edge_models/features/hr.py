"""Heart-rate model inputs: the last two minutes of an athlete's heart rate and effort.

One code path builds the windows the model is trained on (from whole recordings) and the window
the laptop feeds the model live (`LiveHrWindow`), so the two cannot drift apart.

A window is 120 points at 1 Hz, each point four channels:
- heart rate relative to the window's last point, (hr_bpm - hr_now_bpm) / 20: the shape of the
  last two minutes, not the athlete's level. Absolute heart rate says more about who the athlete
  is than about what comes next: a model fed it learned "165 bpm comes down" from athletes who
  live at 130 and, left out on the rider who holds 165, did 2.5 times worse than persistence.
- the work/rest state (work = 1, rest = 0), from effort in [0, 1] smoothed with hysteresis.
  Effort and state follow one rule in training and live (`edge_models.features.effort`): measured
  power (else speed, else cadence) over the session's own 95th percentile so far, or at the
  trackside the coach's interval marks or the movement model's class (already 0 or 1).
- the interval plan (`edge_models.features.plan.plan_channels`): the work/rest state planned one
  minute after each point, and whether a plan is given at all (0 and 0 without one).

Strap artefacts are holes, not heart rate (`ArtefactFilter`, `without_artefacts`): a sample is
an artefact when it lies outside MIN_PLAUSIBLE_BPM-MAX_PLAUSIBLE_BPM, or when it is further from
the last accepted sample than the heart can move in the time between them (MAX_STEP_BPM within a
second, MAX_RATE_BPM_PER_S for each second beyond). After NEW_LEVEL_SAMPLES artefacts in a row the
next sample is accepted whatever it is: the strap has settled on a new level (a real change after
a dropout). One step function serves the recording (batch) and the live window (one sample at a
time), so training and the laptop reject the same samples.

Resampling holds the last sample for at most `MAX_HOLD_S`; a longer gap leaves a hole. A window's
history is the heart rate without a hole at its end. Cold start (a session's first two minutes, or
after a strap drop): a window with at least `COLD_START_MIN_S` of history and nothing usable before
is completed by holding the earliest known point (heart rate and work/rest state) back to the
window's start (`hold_earliest`); a shorter history gives no window. Training builds such windows
from whole recordings with the same function, so the model has seen them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edge_models.features.effort import work_rest_state
from edge_models.features.plan import IntervalPlan, in_transition, plan_channels

WINDOW_S = 120  # seconds of history the model sees
STEP_S = 1.0  # one point a second (straps notify about once a second)
MAX_HOLD_S = 3.0  # a sample stands for the next 3 s at most; a longer gap is a hole
HORIZONS_S = (10, 30, 60)  # forecast horizons, seconds ahead
HR_SCALE_BPM = 100.0  # divides heart rate and its changes: the span rest to max is ~100 bpm
RELATIVE_HR_BPM = 20.0  # divides the window's heart rate relative to now: the input's unit. Not
# HR_SCALE_BPM: int8 keeps one weight scale per output, and at 100 bpm the heart-rate weights
# dwarfed the 0/1 channels' (their rounding shifted every forecast by ~1.4 bpm)
MAX_RELATIVE_HR = 3.0  # a window's heart rate is at most 60 bpm from now: beyond is a new level
N_CHANNELS = 4  # heart rate relative to now, work/rest state, planned state +60 s, plan given
HR_CHANNEL = 0
STATE_CHANNEL = 1
PLAN_CHANNEL = 2
PLAN_GIVEN_CHANNEL = 3
RECOVERY_S = 60  # a recovery window ends within 60 s after a work-to-rest drop
# history a forecast needs: two effort-smoothing spans (the work/rest state has settled) and the
# issue's check (20 s of a ride); LOO MAE by history length is in the bundle's report.md
COLD_START_MIN_S = 20
MIN_PLAUSIBLE_BPM = 20.0  # below this a strap value is a fault, not a heart rate
MAX_PLAUSIBLE_BPM = 250.0  # above this likewise (no human heart beats faster for long)
# the largest change one second can show: the heart speeds up ~5-10 bpm/s at most at a sprint's
# onset (vagal withdrawal) and slows ~1-2 bpm/s at best after it; straps average over several
# beats and watches store a new value only every 2-4 s, so a real rise shows as one step of up to
# ~15 bpm. 150 -> 58 bpm in a second is contact loss, not a heart (RECOVERY_NOTES.md)
MAX_STEP_BPM = 15.0
MAX_RATE_BPM_PER_S = 5.0  # each further second since the last accepted sample allows this much more
NEW_LEVEL_SAMPLES = 5  # artefacts in a row after which the next sample starts a new level: longer
# than the bursts in the real run (a watch that stores every 3-4 s repeats one bad value 3-4 times)
TIME_EPS_S = 1e-6  # a sample this close after a grid time counts as at it (float rounding)


class FeatureError(ValueError):
    """Input that cannot make a heart-rate window (unsorted times, mismatched lengths)."""


def sample_and_hold(time_s: np.ndarray, values: np.ndarray, grid_s: np.ndarray,
                    max_hold_s: float = MAX_HOLD_S) -> np.ndarray:
    """Value of the latest sample at or before each grid time; NaN where that sample is too old.

    NaN samples count as absent. `time_s` must be non-decreasing.
    """
    time_s = np.asarray(time_s, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    if time_s.shape != values.shape or time_s.ndim != 1:
        raise FeatureError(f"times {time_s.shape} and values {values.shape} must be matching 1-D")
    present = np.isfinite(values) & np.isfinite(time_s)
    t, v = time_s[present], values[present]
    if t.size > 1 and np.any(np.diff(t) < 0):
        raise FeatureError("sample times must not go backwards")
    idx = np.searchsorted(t, np.asarray(grid_s) + TIME_EPS_S, side="right") - 1
    out = np.full(np.shape(grid_s), np.nan)
    has = idx >= 0
    age_s = np.asarray(grid_s)[has] - t[idx[has]]
    fresh = age_s <= max_hold_s
    out[np.flatnonzero(has)[fresh]] = v[idx[has]][fresh]
    return out


@dataclass
class ArtefactFilter:
    """The artefact rule one sample at a time: is this strap value a heart rate?

    Out-of-range values do not count as a new level: they leave the filter as it was.
    """

    last_t_s: float | None = None  # time of the last accepted sample
    last_hr_bpm: float | None = None  # its heart rate
    rejected_in_row: int = 0  # in-range artefacts since then

    def accept(self, t_s: float, hr_bpm: float) -> bool:
        """True when (t_s, hr_bpm) is heart rate; False when it is an artefact (a hole)."""
        if not plausible_bpm(hr_bpm):
            return False
        if self.last_t_s is not None and t_s < self.last_t_s:
            raise FeatureError("sample times must not go backwards")
        if self._follows(t_s, hr_bpm) or self.rejected_in_row >= NEW_LEVEL_SAMPLES:
            self.last_t_s, self.last_hr_bpm, self.rejected_in_row = t_s, hr_bpm, 0
            return True
        self.rejected_in_row += 1
        return False

    def _follows(self, t_s: float, hr_bpm: float) -> bool:
        if self.last_t_s is None:
            return True
        return abs(hr_bpm - self.last_hr_bpm) <= max_change_bpm(t_s - self.last_t_s)


def plausible_bpm(hr_bpm: float) -> bool:
    """A value a human heart can have (False for NaN)."""
    return bool(MIN_PLAUSIBLE_BPM <= hr_bpm <= MAX_PLAUSIBLE_BPM)


def max_change_bpm(dt_s: float) -> float:
    """The largest heart-rate change a real heart shows over `dt_s` seconds."""
    return MAX_STEP_BPM + MAX_RATE_BPM_PER_S * max(dt_s - STEP_S, 0.0)


def artefact_mask(time_s: np.ndarray, hr_bpm: np.ndarray) -> np.ndarray:
    """True at each sample of a recording the artefact rule rejects (missing samples: False)."""
    time_s = np.asarray(time_s, dtype=np.float64)
    hr_bpm = np.asarray(hr_bpm, dtype=np.float64)
    if time_s.shape != hr_bpm.shape or time_s.ndim != 1:
        raise FeatureError(f"times {time_s.shape} and values {hr_bpm.shape} must be matching 1-D")
    rule, mask = ArtefactFilter(), np.zeros(hr_bpm.size, dtype=bool)
    for i in np.flatnonzero(np.isfinite(hr_bpm) & np.isfinite(time_s)):
        mask[i] = not rule.accept(float(time_s[i]), float(hr_bpm[i]))
    return mask


def without_artefacts(time_s: np.ndarray, hr_bpm: np.ndarray) -> np.ndarray:
    """Heart rate with every artefact replaced by NaN (a hole)."""
    return np.where(artefact_mask(time_s, hr_bpm), np.nan, np.asarray(hr_bpm, dtype=np.float64))


def relative_hr(hr_bpm: np.ndarray) -> np.ndarray:
    """Heart rate of each row relative to the row's last point, in RELATIVE_HR_BPM, clipped to
    +-MAX_RELATIVE_HR (keeps the int8 input scale fine for the usual range)."""
    hr_bpm = np.asarray(hr_bpm, dtype=np.float64)
    return np.clip((hr_bpm - hr_bpm[..., -1:]) / RELATIVE_HR_BPM, -MAX_RELATIVE_HR, MAX_RELATIVE_HR)


def history_points(hr_1hz_bpm: np.ndarray) -> int:
    """Points of heart rate without a hole at the end of a 1 Hz series (the latest run)."""
    missing = np.flatnonzero(~np.isfinite(np.asarray(hr_1hz_bpm, dtype=np.float64)))
    return int(np.size(hr_1hz_bpm) - (missing[-1] + 1 if missing.size else 0))


def hold_earliest(rows: np.ndarray, history_s: np.ndarray) -> np.ndarray:
    """Each row's points before its last `history_s` replaced by its earliest known point.

    `rows` is (n, WINDOW_S) or (n, WINDOW_S, channels); `history_s` is (n,) whole seconds, at most
    WINDOW_S. The cold-start rule: heart rate and work/rest state are held back unchanged.
    """
    history_s = np.asarray(history_s, dtype=np.int64).reshape(-1)
    if np.any(history_s < 1) or np.any(history_s > WINDOW_S):
        raise FeatureError(f"history must be 1-{WINDOW_S} s")
    first = WINDOW_S - history_s  # column of each row's earliest known point
    columns = np.maximum(np.arange(WINDOW_S)[None, :], first[:, None])
    return np.take_along_axis(rows, columns.reshape(columns.shape + (1,) * (rows.ndim - 2)), axis=1)


def stack_window(hr_1hz_bpm: np.ndarray, state_1hz: np.ndarray,
                 plan: np.ndarray | None = None) -> np.ndarray | None:
    """The model input (WINDOW_S, N_CHANNELS) float32 from 1 Hz series.

    `state_1hz` is the work/rest state (`work_rest_state`) at the same seconds, `plan` the
    (WINDOW_S, 2) `plan_channels` (None: no plan). A hole is allowed only before the last
    COLD_START_MIN_S or more points: what precedes them is replaced by the earliest point after
    the hole (`hold_earliest`; the plan is known throughout). None when the history is shorter.
    """
    if hr_1hz_bpm.shape != (WINDOW_S,) or state_1hz.shape != (WINDOW_S,):
        raise FeatureError(f"a window needs {WINDOW_S} points a channel")
    history = history_points(hr_1hz_bpm)
    if history < COLD_START_MIN_S:
        return None
    both = hold_earliest(np.stack([hr_1hz_bpm, state_1hz], axis=-1)[None], np.array([history]))[0]
    plan = np.zeros((WINDOW_S, 2)) if plan is None else plan
    return _channels(both[None], plan[None])[0]


def _channels(hr_state: np.ndarray, plan: np.ndarray) -> np.ndarray:
    """(n, WINDOW_S, N_CHANNELS) float32 from held heart rate and state, and the plan channels."""
    return np.concatenate([relative_hr(hr_state[..., 0])[..., None], hr_state[..., 1:2], plan],
                          axis=-1).astype(np.float32)


def without_plan(inputs: np.ndarray) -> np.ndarray:
    """The same windows as if no plan were given (the plan channels zeroed)."""
    out = np.array(inputs, dtype=np.float32, copy=True)
    out[..., PLAN_CHANNEL] = 0.0
    out[..., PLAN_GIVEN_CHANNEL] = 0.0
    return out


def decode_forecast(model_output: np.ndarray, hr_now_bpm: float) -> np.ndarray:
    """Forecast heart rate (bpm) at each of HORIZONS_S from the model's scaled changes."""
    return hr_now_bpm + np.asarray(model_output, dtype=np.float64).reshape(-1) * HR_SCALE_BPM


def recovery_mask(effort_1hz: np.ndarray) -> np.ndarray:
    """True at each second within RECOVERY_S after a work-to-rest drop."""
    state = work_rest_state(effort_1hz)
    drops = np.flatnonzero((state[:-1] == 1) & (state[1:] == 0)) + 1
    mask = np.zeros(state.size, dtype=bool)
    for start in drops:
        mask[start:start + RECOVERY_S] = True
    return mask


@dataclass(frozen=True)
class HrWindows:
    """Every valid training window of one recording, with what happened next."""

    inputs: np.ndarray  # (n, WINDOW_S, N_CHANNELS) float32
    targets: np.ndarray  # (n, len(HORIZONS_S)) float32: HR change / HR_SCALE_BPM
    hr_now_bpm: np.ndarray  # (n,) heart rate at each window's last point
    end_s: np.ndarray  # (n,) each window's last point, seconds from the recording's start
    in_recovery: np.ndarray  # (n,) bool: within RECOVERY_S after a work-to-rest drop
    history_s: np.ndarray  # (n,) seconds of real heart rate; WINDOW_S = a full window
    in_transition: np.ndarray  # (n,) bool: within TRANSITION_S after a planned work/rest change

    @property
    def cold_start(self) -> np.ndarray:
        """True for windows completed by the cold-start rule (history shorter than the window)."""
        return self.history_s < WINDOW_S

    def __len__(self) -> int:
        return int(self.inputs.shape[0])


def one_hz_grid(time_s: np.ndarray) -> np.ndarray:
    """Whole seconds from the first to the last sample."""
    finite = np.asarray(time_s, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return np.zeros(0)
    return np.arange(np.ceil(finite.min()), np.floor(finite.max()) + 1, STEP_S)


def recording_windows(time_s: np.ndarray, hr_bpm: np.ndarray, effort: np.ndarray | None,
                      stride_s: int = 1, history_s: int = WINDOW_S,
                      plan: IntervalPlan | None = None) -> HrWindows:
    """All windows of one recording with `history_s` seconds of heart rate and no hole in it or
    in the futures (artefacts are holes: `without_artefacts`); with `history_s` < WINDOW_S the rest is completed by `hold_earliest`."""
    if not COLD_START_MIN_S <= history_s <= WINDOW_S:
        raise FeatureError(f"history must be {COLD_START_MIN_S}-{WINDOW_S} s")
    grid = one_hz_grid(time_s)
    hr = sample_and_hold(time_s, without_artefacts(time_s, hr_bpm), grid)
    eff = np.zeros(grid.size) if effort is None else sample_and_hold(time_s, effort, grid)
    eff = np.nan_to_num(eff, nan=0.0)
    ends = _valid_ends(hr, stride_s, history_s)
    return _gather(grid, hr, eff, ends, history_s, plan)


def _valid_ends(hr_1hz: np.ndarray, stride_s: int, history_s: int) -> np.ndarray:
    horizon = max(HORIZONS_S)
    last = hr_1hz.size - 1 - horizon
    if last < history_s - 1:
        return np.zeros(0, dtype=np.int64)
    ends = np.arange(history_s - 1, last + 1, stride_s)
    holes = np.concatenate([[0], np.cumsum(~np.isfinite(hr_1hz))])
    history_ok = holes[ends + 1] - holes[ends + 1 - history_s] == 0
    future_ok = np.all([np.isfinite(hr_1hz[ends + h]) for h in HORIZONS_S], axis=0)
    return ends[history_ok & future_ok]


def _gather(grid: np.ndarray, hr: np.ndarray, eff: np.ndarray, ends: np.ndarray,
            history_s: int, plan: IntervalPlan | None) -> HrWindows:
    offsets = np.arange(-WINDOW_S + 1, 1)
    idx = np.maximum(ends[:, None] + offsets[None, :], 0)  # before the recording: padded below
    state = work_rest_state(eff)
    history = np.full(len(ends), history_s, dtype=np.int64)
    both = hold_earliest(np.stack([hr[idx], state[idx]], axis=-1), history)
    window_s = grid[ends][:, None] + offsets[None, :] * STEP_S if len(ends) else np.zeros((0, WINDOW_S))
    inputs = _channels(both.reshape(len(ends), WINDOW_S, 2), plan_channels(plan, window_s))
    changes = np.stack([hr[ends + h] - hr[ends] for h in HORIZONS_S], axis=-1)
    inputs = inputs.reshape(len(ends), WINDOW_S, N_CHANNELS)
    targets = (changes / HR_SCALE_BPM).reshape(len(ends), len(HORIZONS_S))
    return HrWindows(inputs=inputs, targets=targets.astype(np.float32),
                     hr_now_bpm=hr[ends], end_s=grid[ends] - (grid[0] if grid.size else 0.0),
                     in_recovery=recovery_mask(eff)[ends], history_s=history,
                     in_transition=in_transition(plan, grid[ends]))
