"""The interval plan as a model input: one function for the coach's timer and for training."""

from __future__ import annotations

import numpy as np
import pytest

from edge_models.features.hr import PLAN_CHANNEL, PLAN_GIVEN_CHANNEL, WINDOW_S, recording_windows, without_plan
from edge_models.features.hr_live import LiveHrWindow
from edge_models.features.plan import (PLAN_AHEAD_S, TRANSITION_S, IntervalPlan, in_transition,
                                       plan_channels, segments_plan)


def _timer_plan() -> IntervalPlan:
    # what an interval timer stores: 2 min warm-up rest, then 4 x (60 s work / 60 s rest)
    marks = [(0.0, "rest")] + [(120.0 + 120 * i + d, k) for i in range(4)
                               for d, k in ((0, "work"), (60, "rest"))] + [(300.0, "note")]
    return IntervalPlan.from_marks(marks)


def test_the_plan_input_says_what_is_planned_a_minute_ahead():
    plan = _timer_plan()
    grid = np.arange(0.0, 120.0)
    channels = plan_channels(plan, grid)
    assert channels.shape == (120, 2) and channels[-1, 1] == 1.0 and not channels[:-1, 1].any()
    assert channels[59, 0] == 0.0 and channels[60, 0] == 1.0  # work starts at 120 s = 60 + 60
    assert np.all(plan_channels(None, grid) == 0.0)  # no plan: flagged absent


def test_transitions_are_the_minute_after_each_planned_change():
    plan = _timer_plan()
    t = np.array([119.0, 120.0, 120.0 + TRANSITION_S - 1, 120.0 + TRANSITION_S, 181.0])
    assert list(in_transition(plan, t)) == [False, True, True, True, True]
    assert not in_transition(None, t).any()
    with pytest.raises(ValueError, match="order"):
        IntervalPlan((10.0, 5.0), (True, False))


def test_a_live_window_with_the_coachs_plan_is_the_training_window_with_that_plan():
    time_s = np.arange(0.0, 500.0)
    hr = 100 + 30 * _timer_plan().state_at(time_s - 20)  # heart rate follows the work bouts
    plan = _timer_plan()
    training = recording_windows(time_s, hr, plan.state_at(time_s), plan=plan)
    live = LiveHrWindow()
    live.set_plan(plan)
    for t, value in zip(time_s[:301], hr[:301]):
        if t in plan.starts_s:
            live.set_effort(t, float(plan.state_at(t)))
        live.add_hr(t, value)
    at_300 = int(np.flatnonzero(training.end_s == 300)[0])
    np.testing.assert_array_equal(live.model_input()[0], training.inputs[at_300])
    window = training.inputs[at_300]
    assert window[-1, PLAN_CHANNEL] == plan.state_at(300 + PLAN_AHEAD_S)
    assert np.all(without_plan(training.inputs)[..., [PLAN_CHANNEL, PLAN_GIVEN_CHANNEL]] == 0)
    assert window.shape[0] == WINDOW_S


def test_segments_found_in_effort_are_the_sessions_own_plan():
    effort = np.r_[np.zeros(100), np.ones(200), np.zeros(5), np.ones(100), np.zeros(200)]
    plan = segments_plan(effort)
    assert plan.work == (False, True, False)  # the 5 s dip is no rest
    assert abs(plan.starts_s[1] - 100) <= 5 and abs(plan.starts_s[2] - 405) <= 5
