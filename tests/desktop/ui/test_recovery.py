"""Crash recovery: a recording killed with SIGKILL is offered at the next start and opens for review."""

from __future__ import annotations

import signal

import pytest

from desktop.store import Store
from desktop.ui.qt import QApplication, QTimer
from desktop.ui.recovery import RecoveryDialog, offer_recovery
from desktop.ui.screens_demo import record_then_kill
from desktop.ui.sessions_screen import SessionsScreen
from tests.desktop.ui.recorded_sessions import WAIT_S, show_active

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL")

WAIT_MS = int(WAIT_S * 1000)
SAMPLES_BEFORE_KILL = 6  # heart-rate samples stored (two athletes, three seconds) before the kill


def stored_samples(data_dir) -> int:
    with Store.open(data_dir) as store:
        return sum(c.sample_count for s in store.list_sessions() for c in s.channels)


@pytest.fixture
def crashed(data_dir):
    """A data directory whose last recording (two athletes and a camera) was killed mid-way."""
    with Store.open(data_dir) as store:
        store.add_athlete("Ana", 195, 48)
        store.add_athlete("Ben", 188, 55)
    record_then_kill(data_dir, "--hr", "sim:2", "--camera", "synthetic:320x240@30", "--athlete", "sim-1=Ana",
                     "--athlete", "sim-2=Ben", until=lambda: stored_samples(data_dir) >= SAMPLES_BEFORE_KILL)
    with Store.open(data_dir) as store:
        (session,) = store.list_sessions()
        assert session.status == "recording"  # what the killed process left behind
    return data_dir


def answer_dialog(qtbot, choose_open: bool) -> list:
    """Once the recovery dialog is up (offer_recovery runs it modally), press Enter or Esc on it."""
    seen = []

    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, RecoveryDialog):
            QTimer.singleShot(10, answer)
            return
        seen.append(dialog.session_list.item(0).text())
        (dialog.open_button if choose_open else dialog.later_button).click()

    QTimer.singleShot(0, answer)
    return seen


def test_the_interrupted_session_is_offered_and_opens_for_review(qtbot, crashed):
    with Store.open(crashed) as store:
        seen = answer_dialog(qtbot, choose_open=True)
        chosen = offer_recovery(store)

        (session,) = store.list_sessions()
        assert chosen == session.id and session.status == "interrupted"
        assert "Ana" in seen[0] and "Ben" in seen[0] and "HR samples" in seen[0] and "s of video" in seen[0]

        screen = SessionsScreen(store)
        show_active(qtbot, screen)
        with qtbot.waitSignal(screen.review_ready, timeout=WAIT_MS):
            screen.open_session(chosen)
        assert "interrupted" in screen.review_title.text()
        assert all(len(trace.hr_bpm) >= SAMPLES_BEFORE_KILL // 2 for trace in screen.review.traces)
        assert screen.review.segments  # the closed video segments were kept


def test_later_leaves_the_session_in_the_list_and_the_next_start_asks_nothing(qtbot, crashed):
    with Store.open(crashed) as store:
        answer_dialog(qtbot, choose_open=False)
        assert offer_recovery(store) is None
        assert [s.status for s in store.list_sessions()] == ["interrupted"]
        assert offer_recovery(store) is None  # nothing left open: no dialog at all (exec would block here)
