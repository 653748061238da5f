"""The heart-rate window the laptop builds live, one strap notification at a time.

It keeps only the last few minutes of samples and builds the model input with the very same
functions that built the training windows (`sample_and_hold`, `stack_window`), the cold-start rule
included: a forecast comes once COLD_START_MIN_S of heart rate without a hole is in, and
`history_s` says how much is (less than WINDOW_S: the forecast is still warming up).
Each sample passes the same artefact rule as a recording (`ArtefactFilter`): an artefact is kept
as a hole, exactly as `without_artefacts` leaves it in a training window.

Effort follows the training rule step by step (`edge_models.features.effort`): measured power,
speed or cadence through `EffortScale` (held MAX_HOLD_S, like a recording's samples), the coach's
marks or the movement class as set values (held until the next), and the work/rest state from
`WorkRestTrack`, advanced one second at a time from the session's first sample, exactly as
`work_rest_state` runs over a recording from its start.
"""

from __future__ import annotations

import logging
import math
from collections import deque

import numpy as np

from edge_models.features.effort import EffortScale, WorkRestTrack
from edge_models.features.plan import IntervalPlan, plan_channels
from edge_models.features.hr import (MAX_HOLD_S, MAX_PLAUSIBLE_BPM, MIN_PLAUSIBLE_BPM, STEP_S,
                                     TIME_EPS_S, WINDOW_S, ArtefactFilter, FeatureError,
                                     history_points, plausible_bpm, sample_and_hold, stack_window)

logger = logging.getLogger(__name__)

KEEP_S = WINDOW_S + MAX_HOLD_S + 2.0  # history kept: one window plus the hold allowance
STATES_KEPT = WINDOW_S + int(KEEP_S)  # seconds of work/rest state kept: more than one window


class LiveHrWindow:
    """Heart rate and effort of one athlete, ready as the model's input at any moment."""

    def __init__(self, max_hold_s: float = MAX_HOLD_S) -> None:
        self._max_hold_s = max_hold_s
        self._hr: deque[tuple[float, float]] = deque()
        self._artefacts = ArtefactFilter()
        self.artefact_count = 0  # samples rejected as strap artefacts (kept as holes)
        self._scale = EffortScale()
        self._pending: deque[tuple[float, float, float]] = deque()  # (t, effort, hold) not yet used
        self._effort: tuple[float, float, float] | None = None  # the latest one in use
        self._track = WorkRestTrack()
        self._states: deque[int] = deque(maxlen=STATES_KEPT)
        self._t0_s: float | None = None  # the session's first sample: second 0 of the state track
        self._next_second = 0  # the next track second to settle
        self.plan: IntervalPlan | None = None  # the coach's interval plan, on the same clock

    def set_plan(self, plan: IntervalPlan | None) -> None:
        """The interval plan from now on (None: no plan; the model then forecasts without)."""
        self.plan = plan

    def add_hr(self, t_s: float, hr_bpm: float) -> bool:
        """One heart-rate sample at monotonic time `t_s`: True when it is heart rate, False when
        it is an artefact (kept as a hole). Raises FeatureError on bad input, keeping nothing."""
        if not np.isfinite(t_s):
            raise FeatureError("a heart-rate sample needs a finite time")
        if self._hr and t_s < self._hr[-1][0]:
            raise FeatureError("heart-rate samples must arrive in time order")
        if not plausible_bpm(hr_bpm):  # the rule leaves these out without a trace too
            raise FeatureError(f"heart rate outside {MIN_PLAUSIBLE_BPM:.0f}-"
                               f"{MAX_PLAUSIBLE_BPM:.0f} bpm")
        accepted = self._artefacts.accept(float(t_s), float(hr_bpm))
        self.artefact_count += not accepted
        self._start_at(t_s)
        self._hr.append((float(t_s), float(hr_bpm) if accepted else np.nan))
        self._forget_before(t_s - KEEP_S)
        self._settle_until(t_s - STEP_S)  # later events may still change this second
        return accepted

    def add_sample(self, t_s: float, hr_bpm: float, power_w: float | None = None,
                   speed_mps: float | None = None, cadence_rpm: float | None = None) -> bool:
        """One sample as a strap or trainer sends it: its effort channels, then its heart rate
        (`add_hr`: True when heart rate, False for an artefact; FeatureError when unusable, with
        the effort already taken)."""
        self.add_measured_effort(t_s, power_w, speed_mps, cadence_rpm)
        return self.add_hr(t_s, hr_bpm)

    def add_measured_effort(self, t_s: float, power_w: float | None, speed_mps: float | None,
                            cadence_rpm: float | None) -> float | None:
        """Effort from a sample's power, speed or cadence (the training rule); None when the
        sample carries none of the chosen channel. It holds MAX_HOLD_S, as in a recording."""
        effort = self._scale.effort(power_w, speed_mps, cadence_rpm)
        if effort is not None:
            self._add_effort(t_s, effort, MAX_HOLD_S)
        return effort

    @property
    def measured_channel(self) -> str | None:
        """"power", "speed" or "cadence" once a sample has carried one, else None."""
        return self._scale.channel

    def set_effort(self, t_s: float, effort: float) -> None:
        """The athlete's effort from `t_s` on, in [0, 1] (work = 1, rest = 0), until the next."""
        if not 0.0 <= effort <= 1.0:
            raise FeatureError("effort must be within [0, 1]")
        self._add_effort(t_s, effort, math.inf)

    def _add_effort(self, t_s: float, effort: float, hold_s: float) -> None:
        latest = self._pending[-1] if self._pending else self._effort
        if not np.isfinite(t_s) or (latest is not None and t_s < latest[0]):
            raise FeatureError("effort changes must arrive in time order")
        self._start_at(t_s)
        self._pending.append((float(t_s), float(effort), hold_s))

    @property
    def hr_now_bpm(self) -> float | None:
        """The latest accepted heart rate (an artefact holds the one before it)."""
        return self._artefacts.last_hr_bpm

    @property
    def work_state(self) -> float | None:
        """The work/rest state at the latest settled second (None before any)."""
        return float(self._states[-1]) if self._states else None

    @property
    def t_last_s(self) -> float | None:
        return self._hr[-1][0] if self._hr else None

    @property
    def history_s(self) -> float:
        """Seconds of heart rate without a hole behind the latest sample, at most WINDOW_S.

        Below WINDOW_S a forecast is a cold start ("warming up"); it restarts at 0 after a hole.
        """
        if not self._hr:
            return 0.0
        return history_points(self._hr_on(self._grid())) * STEP_S

    def model_input(self) -> np.ndarray | None:
        """(1, WINDOW_S, N_CHANNELS) float32 ending at the latest sample; None while the history since the
        last hole is shorter than COLD_START_MIN_S."""
        if not self._hr:
            return None
        grid = self._grid()
        self._settle_until(grid[-1])
        window = stack_window(self._hr_on(grid), self._state_on(grid), plan_channels(self.plan, grid))
        return None if window is None else window[None, ...]

    def _grid(self) -> np.ndarray:
        return self._hr[-1][0] - STEP_S * np.arange(WINDOW_S - 1, -1, -1)

    def _hr_on(self, grid: np.ndarray) -> np.ndarray:
        t, hr = np.array(self._hr).T
        return sample_and_hold(t, hr, grid, self._max_hold_s)

    def _start_at(self, t_s: float) -> None:
        if self._t0_s is None:
            self._t0_s = float(t_s)

    def _settle_until(self, t_s: float) -> None:
        """Work/rest state of every track second up to `t_s`, from the effort known at each."""
        while self._t0_s is not None and self._t0_s + self._next_second <= t_s + TIME_EPS_S:
            second_s = self._t0_s + self._next_second
            while self._pending and self._pending[0][0] <= second_s + TIME_EPS_S:
                self._effort = self._pending.popleft()
            self._states.append(self._track.step(self._effort_at(second_s)))
            self._next_second += 1

    def _effort_at(self, second_s: float) -> float:
        if self._effort is None or second_s - self._effort[0] > self._effort[2]:
            return 0.0  # nothing known, or the last measured value is too old: a hole counts as 0
        return self._effort[1]

    def _state_on(self, grid: np.ndarray) -> np.ndarray:
        """Work/rest state at each grid time: the track second at or before it."""
        first = self._next_second - len(self._states)
        second = np.floor(grid - self._t0_s + TIME_EPS_S).astype(np.int64)
        index = np.clip(second - first, 0, len(self._states) - 1)
        return np.asarray(self._states, dtype=np.float64)[index]

    def _forget_before(self, t_s: float) -> None:
        while self._hr and self._hr[0][0] < t_s:
            self._hr.popleft()
