"""The heart-rate window the laptop builds live, one strap notification at a time.

It keeps only the last few minutes of samples and builds the model input with the very same
functions that built the training windows (`sample_and_hold`, `work_rest_state`, `stack_window`),
the cold-start rule included: a forecast comes once COLD_START_MIN_S of heart rate without a hole
is in, and `history_s` says how much is (less than WINDOW_S: the forecast is still warming up).
Each sample passes the same artefact rule as a recording (`ArtefactFilter`): an artefact is kept
as a hole, exactly as `without_artefacts` leaves it in a training window.
"""

from __future__ import annotations

import logging
from collections import deque

import numpy as np

from edge_models.features.hr import (MAX_HOLD_S, MAX_PLAUSIBLE_BPM, MIN_PLAUSIBLE_BPM,
                                     STATE_WARMUP_S, STEP_S, WINDOW_S, ArtefactFilter,
                                     FeatureError, history_points, plausible_bpm,
                                     sample_and_hold, stack_window, work_rest_state)

logger = logging.getLogger(__name__)

KEEP_S = WINDOW_S + MAX_HOLD_S + 2.0  # history kept: one window plus the hold allowance


class LiveHrWindow:
    """Heart rate and effort of one athlete, ready as the model's input at any moment.

    Effort is a state (work = 1, rest = 0, or a value in between) that holds until it changes,
    as set from the coach's interval marks or the movement model's class.
    """

    def __init__(self, max_hold_s: float = MAX_HOLD_S) -> None:
        self._max_hold_s = max_hold_s
        self._hr: deque[tuple[float, float]] = deque()
        self._effort: deque[tuple[float, float]] = deque()
        self._artefacts = ArtefactFilter()
        self.artefact_count = 0  # samples rejected as strap artefacts (kept as holes)

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
        self._hr.append((float(t_s), float(hr_bpm) if accepted else np.nan))
        self._forget_before(t_s - KEEP_S)
        return accepted

    def set_effort(self, t_s: float, effort: float) -> None:
        """The athlete's effort from `t_s` on, in [0, 1] (work = 1, rest = 0)."""
        if not 0.0 <= effort <= 1.0:
            raise FeatureError("effort must be within [0, 1]")
        if self._effort and t_s < self._effort[-1][0]:
            raise FeatureError("effort changes must arrive in time order")
        self._effort.append((float(t_s), float(effort)))

    @property
    def hr_now_bpm(self) -> float | None:
        """The latest accepted heart rate (an artefact holds the one before it)."""
        return self._artefacts.last_hr_bpm

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
        """(1, WINDOW_S, 2) float32 ending at the latest sample; None while the history since the
        last hole is shorter than COLD_START_MIN_S."""
        if not self._hr:
            return None
        grid = self._grid()
        window = stack_window(self._hr_on(grid), self._state_on(grid))
        return None if window is None else window[None, ...]

    def _grid(self) -> np.ndarray:
        return self._hr[-1][0] - STEP_S * np.arange(WINDOW_S - 1, -1, -1)

    def _hr_on(self, grid: np.ndarray) -> np.ndarray:
        t, hr = np.array(self._hr).T
        return sample_and_hold(t, hr, grid, self._max_hold_s)

    def _state_on(self, grid: np.ndarray) -> np.ndarray:
        """Work/rest state at each grid second, settled over STATE_WARMUP_S of effort before it."""
        if not self._effort:
            return np.zeros(grid.size)
        warmup = grid[0] - STEP_S * np.arange(STATE_WARMUP_S, 0, -1)
        t, effort = np.array(self._effort).T
        held = sample_and_hold(t, effort, np.concatenate([warmup, grid]), max_hold_s=np.inf)
        return work_rest_state(held)[warmup.size:].astype(np.float64)

    def _forget_before(self, t_s: float) -> None:
        while self._hr and self._hr[0][0] < t_s:
            self._hr.popleft()
        while len(self._effort) > 1 and self._effort[1][0] <= t_s - STATE_WARMUP_S:
            self._effort.popleft()  # the latest change before t_s still sets the state
