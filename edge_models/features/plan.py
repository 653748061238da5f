"""The coach's interval plan as a model input: the effort planned for the next PLAN_AHEAD_S.

A plan is the coach's work/rest marks on a timeline (`IntervalPlan`): each mark holds until the
next, before the first it is rest. Live, the interval timer stores its marks as markers ("work",
"rest"); future marks of a programmed timer are known in advance. In training, a session's own
structure is its plan: the device's interval columns where it has them, else the work/rest
segments found in its power or stroke rate (`segments_plan`).

The model sees the plan as two channels of its window (`plan_channels`), for each second of the
window:
- the work/rest state planned PLAN_AHEAD_S after that second (so the window's last 60 rows are
  the next minute, second by second, and the first 60 rows the plan as it stood);
- 1 at the window's last second when a plan is given, else 0 (one position, not every row: a
  constant in every row gave the network twelve copies of one tiny weight, and int8 rounding of
  each shifted the forecast). Without a plan both channels are 0: the model must still forecast
  from heart rate and effort alone (training drops the plan from every other window).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from edge_models.features.effort import EFFORT_SMOOTH_S, work_rest_state

PLAN_AHEAD_S = 60  # the plan looks one minute ahead
TRANSITION_S = 60  # a transition window ends within this after a planned work/rest change
MIN_SEGMENT_S = 15  # a found work or rest segment shorter than this joins its neighbours
PLAN_KINDS = {"work": True, "rest": False}  # marker kinds that make a plan


@dataclass(frozen=True)
class IntervalPlan:
    """Planned work/rest: each mark (start time, work?) holds until the next one."""

    starts_s: tuple[float, ...]
    work: tuple[bool, ...]

    def __post_init__(self) -> None:
        if len(self.starts_s) != len(self.work):
            raise ValueError("a plan needs one work/rest flag per mark")
        if any(b < a for a, b in zip(self.starts_s, self.starts_s[1:])):
            raise ValueError("plan marks must be in time order")

    @classmethod
    def from_marks(cls, marks: Iterable[tuple[float, str]]) -> IntervalPlan:
        """From (time, kind) marks such as the interval timer stores; other kinds are ignored."""
        kept = sorted((float(t), PLAN_KINDS[k]) for t, k in marks if k in PLAN_KINDS)
        return cls(tuple(t for t, _ in kept), tuple(w for _, w in kept))

    @classmethod
    def from_1hz(cls, work_1hz: np.ndarray, t0_s: float = 0.0) -> IntervalPlan:
        """From a 1 Hz planned state (1 work, 0 rest) starting at `t0_s`: one mark per change."""
        work = np.asarray(work_1hz, dtype=np.float64) >= 0.5
        if work.size == 0:
            return cls((), ())
        changes = np.r_[0, np.flatnonzero(work[1:] != work[:-1]) + 1]
        return cls(tuple(float(t0_s + c) for c in changes), tuple(bool(work[c]) for c in changes))

    def state_at(self, t_s: np.ndarray) -> np.ndarray:
        """Planned state (1.0 work, 0.0 rest) at each time."""
        t_s = np.asarray(t_s, dtype=np.float64)
        if not self.starts_s:
            return np.zeros(t_s.shape)
        idx = np.searchsorted(np.asarray(self.starts_s), t_s, side="right") - 1
        work = np.asarray(self.work, dtype=np.float64)
        return np.where(idx >= 0, work[np.maximum(idx, 0)], 0.0)

    def since_change_s(self, t_s: np.ndarray) -> np.ndarray:
        """Seconds since the latest planned change of state at or before each time (inf if none)."""
        starts, work = np.asarray(self.starts_s), np.asarray(self.work)
        changes = starts[np.r_[False, work[1:] != work[:-1]]] if starts.size else starts
        t_s = np.asarray(t_s, dtype=np.float64)
        if changes.size == 0:
            return np.full(t_s.shape, np.inf)
        idx = np.searchsorted(changes, t_s, side="right") - 1
        return np.where(idx >= 0, t_s - changes[np.maximum(idx, 0)], np.inf)


def plan_channels(plan: IntervalPlan | None, grid_s: np.ndarray) -> np.ndarray:
    """The plan's two input channels, shape grid_s.shape + (2,) (the last axis of grid_s runs over
    a window's seconds): planned state PLAN_AHEAD_S after each grid time, and whether a plan is
    given (at the last second). The one function for training and live."""
    grid_s = np.asarray(grid_s, dtype=np.float64)
    if plan is None:
        return np.zeros(grid_s.shape + (2,))
    given = np.zeros(grid_s.shape)
    given[..., -1] = 1.0
    return np.stack([plan.state_at(grid_s + PLAN_AHEAD_S), given], axis=-1)


def in_transition(plan: IntervalPlan | None, t_s: np.ndarray) -> np.ndarray:
    """True at each time within TRANSITION_S after a planned work/rest change."""
    if plan is None:
        return np.zeros(np.shape(t_s), dtype=bool)
    return plan.since_change_s(t_s) < TRANSITION_S


def segments_plan(effort_1hz: np.ndarray) -> IntervalPlan:
    """A session's own work/rest structure from its effort (1 Hz from second 0): the work/rest
    state without its smoothing delay, segments shorter than MIN_SEGMENT_S merged away."""
    state = work_rest_state(effort_1hz).astype(np.float64)
    lead = EFFORT_SMOOTH_S // 2  # the causal 10-s mean lags the effort by about 5 s
    state = np.r_[state[lead:], np.repeat(state[-1:], lead)] if state.size > lead else state
    return IntervalPlan.from_1hz(_without_short_segments(state))


def _without_short_segments(state: np.ndarray) -> np.ndarray:
    out = state.copy()
    changes = np.r_[0, np.flatnonzero(out[1:] != out[:-1]) + 1, out.size]
    for start, end in zip(changes[1:-2], changes[2:-1]):
        if end - start < MIN_SEGMENT_S:
            out[start:end] = out[start - 1]
    return out
