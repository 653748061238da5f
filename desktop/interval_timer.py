"""The coach's interval timer (e.g. 6 x 60 s work / 90 s rest), without Qt.

The plan is pure: where a session stands at a moment follows from when the timer started. The
timer remembers which changes it has already announced, so each work or rest start is reported
once (for the sound and for the work/rest marks the heart-rate model reads as effort).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

PhaseKind = Literal["work", "rest", "done"]
MAX_REPS = 100
MAX_PHASE_S = 3600.0
_PLAN_TEXT = re.compile(r"\s*(\d+)\s*[x×]\s*(\d+(?:\.\d+)?)\s*s?\s*/\s*(\d+(?:\.\d+)?)\s*s?\s*")


@dataclass(frozen=True)
class IntervalPlan:
    """`reps` times `work_s` of work, each followed by `rest_s` of rest (the last rest included)."""

    reps: int
    work_s: float
    rest_s: float

    def __post_init__(self):
        if not 1 <= self.reps <= MAX_REPS:
            raise ValueError(f"reps must be 1 to {MAX_REPS}, got {self.reps}")
        if not 0 < self.work_s <= MAX_PHASE_S or not 0 <= self.rest_s <= MAX_PHASE_S:
            raise ValueError(f"work must be 0-{MAX_PHASE_S:.0f} s and rest 0-{MAX_PHASE_S:.0f} s, "
                             f"got {self.work_s} s / {self.rest_s} s")

    @classmethod
    def parse(cls, text: str) -> IntervalPlan:
        """'6x60/90' (reps x work seconds / rest seconds)."""
        match = _PLAN_TEXT.fullmatch(text)
        if not match:
            raise ValueError(f"{text!r}: expected REPSxWORK/REST in seconds, e.g. 6x60/90")
        return cls(int(match[1]), float(match[2]), float(match[3]))

    @property
    def total_s(self) -> float:
        return self.reps * (self.work_s + self.rest_s)

    def __str__(self) -> str:
        return f"{self.reps} x {self.work_s:g} s work / {self.rest_s:g} s rest"


@dataclass(frozen=True)
class IntervalPhase:
    """One stretch of the plan: work or rest of rep `rep` (1-based), or done after the last."""

    kind: PhaseKind
    rep: int
    start_s: float  # seconds since the timer started
    end_s: float | None  # None once done

    def index(self) -> int:
        return 2 * (self.rep - 1) + (self.kind != "work")


def phase_at(plan: IntervalPlan, elapsed_s: float) -> IntervalPhase:
    """Where the plan stands `elapsed_s` after its start."""
    period_s = plan.work_s + plan.rest_s
    if elapsed_s >= plan.total_s:
        return IntervalPhase("done", plan.reps, plan.total_s, None)
    rep_index = int(max(0.0, elapsed_s) // period_s)
    rep_start_s = rep_index * period_s
    if elapsed_s - rep_start_s < plan.work_s:
        return IntervalPhase("work", rep_index + 1, rep_start_s, rep_start_s + plan.work_s)
    return IntervalPhase("rest", rep_index + 1, rep_start_s + plan.work_s, rep_start_s + period_s)


def phases(plan: IntervalPlan) -> list[IntervalPhase]:
    """Every phase of the plan in order, 'done' last; a rest of 0 s is no phase."""
    found = []
    for rep in range(1, plan.reps + 1):
        start_s = (rep - 1) * (plan.work_s + plan.rest_s)
        found.append(IntervalPhase("work", rep, start_s, start_s + plan.work_s))
        if plan.rest_s > 0:
            found.append(IntervalPhase("rest", rep, start_s + plan.work_s, start_s + plan.work_s + plan.rest_s))
    found.append(IntervalPhase("done", plan.reps, plan.total_s, None))
    return found


def planned_marks(plan: IntervalPlan, started_mono_s: float) -> list[tuple[float, str]]:
    """Every work or rest start the plan will mark, as (monotonic time, "work"|"rest"); the end
    of the last rep is a rest (the athletes stop working)."""
    return [(started_mono_s + p.start_s, "work" if p.kind == "work" else "rest") for p in phases(plan)]


class IntervalTimer:
    """A plan running from a start time on the recorder's monotonic clock."""

    def __init__(self, plan: IntervalPlan, started_mono_s: float):
        self.plan = plan
        self.started_mono_s = started_mono_s
        self._pending = phases(plan)

    def phase(self, now_mono_s: float) -> IntervalPhase:
        return phase_at(self.plan, now_mono_s - self.started_mono_s)

    def remaining_s(self, now_mono_s: float) -> float:
        """Seconds left in the current phase (0 once done)."""
        current = self.phase(now_mono_s)
        return 0.0 if current.end_s is None else max(0.0, current.end_s - (now_mono_s - self.started_mono_s))

    def changes(self, now_mono_s: float) -> list[IntervalPhase]:
        """Phases that have begun since the last call, each reported once, oldest first."""
        elapsed_s = now_mono_s - self.started_mono_s
        begun = [p for p in self._pending if p.start_s <= elapsed_s]
        self._pending = self._pending[len(begun):]
        return begun

    def change_mono_s(self, phase: IntervalPhase) -> float:
        """When a phase began on the monotonic clock (the time its mark carries)."""
        return self.started_mono_s + phase.start_s

    @property
    def finished(self) -> bool:
        return not self._pending
