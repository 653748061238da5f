"""The interval timer the coach sets up: where a plan stands, and each change reported once."""

from __future__ import annotations

import pytest

from desktop.interval_timer import IntervalPlan, IntervalTimer, phase_at


def test_a_typed_plan_reads_as_the_coach_wrote_it():
    plan = IntervalPlan.parse("6x60/90")
    assert (plan.reps, plan.work_s, plan.rest_s) == (6, 60.0, 90.0)
    assert plan.total_s == 6 * 150
    assert IntervalPlan.parse(" 2 x 2s / 1s ") == IntervalPlan(2, 2.0, 1.0)


@pytest.mark.parametrize("text", ["", "6x60", "0x60/90", "6x0/90", "ax60/90", "6x60/-1"])
def test_a_plan_that_makes_no_sense_is_refused_with_the_expected_form(text):
    with pytest.raises(ValueError, match="REPSxWORK/REST|reps must|work must"):
        IntervalPlan.parse(text)


def test_the_plan_says_work_or_rest_and_which_rep_at_any_moment():
    plan = IntervalPlan(6, 60, 90)
    assert (phase_at(plan, 0).kind, phase_at(plan, 0).rep) == ("work", 1)
    assert (phase_at(plan, 59.9).kind, phase_at(plan, 60).kind) == ("work", "rest")
    assert (phase_at(plan, 150).kind, phase_at(plan, 150).rep) == ("work", 2)
    assert phase_at(plan, 5 * 150 + 61).rep == 6
    assert phase_at(plan, 900).kind == "done"


def test_each_change_is_reported_once_with_the_time_it_happened():
    timer = IntervalTimer(IntervalPlan(2, 2, 1), started_mono_s=100.0)
    assert [(p.kind, p.rep) for p in timer.changes(100.0)] == [("work", 1)]
    assert timer.changes(101.0) == []
    late = timer.changes(104.5)  # a slow tick: every change in between, in order
    assert [(p.kind, p.rep) for p in late] == [("rest", 1), ("work", 2)]
    assert [timer.change_mono_s(p) for p in late] == [102.0, 103.0]
    assert timer.remaining_s(104.5) == pytest.approx(0.5)
    assert [p.kind for p in timer.changes(106.0)] == ["rest", "done"]
    assert timer.finished and timer.changes(200.0) == []


def test_the_planned_marks_are_every_work_and_rest_start_and_a_rest_at_the_end():
    from desktop.interval_timer import planned_marks

    assert planned_marks(IntervalPlan.parse("2x60/90"), 100.0) == [
        (100.0, "work"), (160.0, "rest"), (250.0, "work"), (310.0, "rest"), (400.0, "rest")]
