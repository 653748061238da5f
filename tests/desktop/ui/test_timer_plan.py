"""The interval timer tells the heart-rate model the plan: what the coach set up for the next minutes."""

from __future__ import annotations

from desktop.feedback.hr_worker import HeartRateFeedbackWorker
from desktop.interval_timer import planned_marks
from desktop.ui.qt import Qt
from edge_models.features.plan import IntervalPlan
from tests.desktop.ui.conftest import start_and_wait

WAIT_MS = 10_000


def test_starting_the_timer_gives_the_forecasts_its_plan_and_stopping_takes_it_away(qtbot, open_window):
    window = open_window(["sim:2"])
    start_and_wait(qtbot, window, athletes=2, video=False)
    live = window.live
    (worker,) = [w for w in live.session.recorder.workers if isinstance(w, HeartRateFeedbackWorker)]
    assert worker.squad_plan is None  # no timer: forecasts without a plan

    live.timer_panel.plan_edit.setText("3x60/30")
    qtbot.keyClick(window, Qt.Key_T)
    timer = live.timer_panel.timer
    expected = IntervalPlan.from_marks(planned_marks(timer.plan, timer.started_mono_s))
    qtbot.waitUntil(lambda: worker.squad_plan == expected, timeout=WAIT_MS)
    assert expected.starts_s[0] == timer.started_mono_s and len(expected.starts_s) == 7

    qtbot.keyClick(window, Qt.Key_T)  # the coach stops the timer early
    qtbot.waitUntil(lambda: worker.squad_plan is None, timeout=WAIT_MS)
