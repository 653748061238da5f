"""The issue's end-to-end run in the real window: three simulated athletes and the real clip, two
intervals of the timer marked for every athlete, the last 10 s replayed at 0.25x, stop, review,
label a range, export FIT and read it back with an independent decoder. Driven by the keys a
coach presses."""

from __future__ import annotations

import fitdecode
import pytest

from desktop.store import Store
from desktop.ui.qt import Qt
from tests.desktop.ui.conftest import start_and_wait

TIMER_TIMEOUT_MS = 30_000


def press(qtbot, window, key) -> None:
    qtbot.keyClick(window, key)


def test_two_intervals_are_marked_for_every_athlete_and_replay_shows_earlier_frames(
        qtbot, open_window, clip_spec, data_dir, tmp_path):
    window = open_window(["sim:3"], clip_spec)
    live = window.live
    changes, sounds = [], []
    live.timer_panel.sound = lambda: sounds.append(1)  # the speaker: offscreen there is none to hear
    live.phase_marked.connect(lambda phase, t: changes.append((phase.kind, phase.rep, t)))
    start_and_wait(qtbot, window, athletes=3)
    session_id = live.session.session_id

    live.timer_panel.plan_edit.setText("2x2/1")
    press(qtbot, window, Qt.Key_T)
    assert live.timer_panel.running, "T starts the interval timer"
    assert live.timer_panel.phase_label.text() == "WORK 1/2"
    qtbot.waitUntil(lambda: not live.timer_panel.running, timeout=TIMER_TIMEOUT_MS)
    assert [(k, r) for k, r, _ in changes] == [("work", 1), ("rest", 1), ("work", 2), ("rest", 2)]
    assert len(sounds) == 5  # every change, the end included
    assert [round(t - changes[0][2], 3) for *_, t in changes] == [0.0, 2.0, 3.0, 5.0]

    newest_live = live.video.frame.t_mono_s
    press(qtbot, window, Qt.Key_R)
    press(qtbot, window, Qt.Key_3)
    assert live.replaying and live.replay.speed == 0.25
    qtbot.waitUntil(lambda: live.video.frame is not None and live.video.frame.t_mono_s < newest_live - 5,
                    timeout=10_000)
    first_shown = live.video.frame.t_mono_s
    qtbot.waitUntil(lambda: live.video.frame.t_mono_s > first_shown, timeout=10_000)
    assert "REPLAY" in live.video.banner and "0.25x" in live.video.banner
    press(qtbot, window, Qt.Key_Left)  # frame by frame: pauses and steps back
    paused_at = live.video.frame.t_mono_s
    press(qtbot, window, Qt.Key_Right)
    press(qtbot, window, Qt.Key_Right)
    assert not live.replay.playing and live.video.frame.t_mono_s > paused_at
    stepped_to = live.replay.t_mono_s
    qtbot.keyClick(window, Qt.Key_Right, Qt.ShiftModifier)  # any moment of the session: 5 s at a time
    assert live.replay.t_mono_s == pytest.approx(stepped_to + 5.0)
    qtbot.keyClick(window, Qt.Key_Left, Qt.ShiftModifier)
    assert live.replay.t_mono_s == pytest.approx(stepped_to)
    qtbot.waitUntil(lambda: abs(live.video.frame.t_mono_s - stepped_to) < 0.1, timeout=10_000)
    press(qtbot, window, Qt.Key_Escape)
    assert not live.replaying and live.recording  # back to live; the recording never stopped

    press(qtbot, window, Qt.Key_L)
    qtbot.waitUntil(lambda: live.chart.marks_drawn >= 5, timeout=5_000)  # 4 interval changes and the lap
    qtbot.keyClick(window, Qt.Key_R, Qt.ControlModifier)
    qtbot.waitUntil(lambda: live.last_summary is not None, timeout=60_000)
    with Store.open(data_dir) as store:
        detail = store.session(session_id)
        marks = [m for m in store.markers(session_id) if m.text.startswith("interval")]
        laps = [m for m in store.markers(session_id) if m.kind == "lap"]
    assert detail.status == "completed" and detail.video_segment_count > 0
    for channel in ("sim-1", "sim-2", "sim-3"):
        mine = [(m.kind, m.text) for m in marks if m.channel == channel]
        assert mine == [("work", "interval 1/2"), ("rest", "interval 1/2"), ("work", "interval 2/2"),
                        ("rest", "interval 2/2")]
    assert len(laps) == 1

    review_label_and_export_fit(qtbot, window, session_id, tmp_path / "exports")


def review_label_and_export_fit(qtbot, window, session_id, export_dir) -> None:
    """The session just recorded: open it in Sessions, label a stretch as walk, export FIT, read back."""
    qtbot.keyClick(window, Qt.Key_2, Qt.ControlModifier)
    sessions = window.widgets["Sessions"]
    assert window.stack.currentWidget() is sessions
    qtbot.waitUntil(lambda: session_id in sessions.session_ids(), timeout=TIMER_TIMEOUT_MS)
    sessions.export_dir = export_dir
    with qtbot.waitSignal(sessions.review_ready, timeout=TIMER_TIMEOUT_MS):
        sessions.open_session(session_id)
    start_s = sessions.review.detail.started_mono_s
    sessions.playhead.move_to(1.0)
    qtbot.keyClick(sessions, Qt.Key_BracketLeft)
    sessions.playhead.move_to(3.0)
    qtbot.keyClick(sessions, Qt.Key_BracketRight)
    qtbot.keyClick(sessions, Qt.Key_2)  # class 2 of the movement model: walk, for the whole squad
    sessions.exported = []
    qtbot.keyClick(sessions, Qt.Key_F, Qt.AltModifier)
    qtbot.waitUntil(lambda: bool(sessions.exported), timeout=TIMER_TIMEOUT_MS)

    with Store.open(window.context.data_dir) as store:
        (label,) = store.labels(session_id)
        stored = {c: [s.hr_bpm for s in store.hr_samples(session_id, c)] for c in ("sim-1", "sim-2", "sim-3")}
    assert (label.label, label.channel) == ("walk", None)
    assert (label.start_mono_s - start_s, label.end_mono_s - start_s) == pytest.approx((1.0, 3.0), abs=0.05)
    for channel, hr_bpm in stored.items():
        path = export_dir / f"{session_id}-{channel}.fit"
        with fitdecode.FitReader(path, check_crc=fitdecode.CrcCheck.RAISE) as fit:
            records = [m for m in fit if isinstance(m, fitdecode.FitDataMessage) and m.name == "record"]
        assert hr_bpm and [m.get_value("heart_rate") for m in records] == hr_bpm
