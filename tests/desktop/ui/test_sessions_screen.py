"""The sessions screen on real recordings: the list, review on one timeline, labels, exports."""

from __future__ import annotations

import csv

import fitdecode
import pytest

from desktop.sources.camera.base import CAMERA_CHANNEL
from desktop.sources.events import FeedbackEvent, Marker
from desktop.store import Store
from desktop.ui.qt import Qt
from desktop.ui.sessions_screen import SessionsScreen
from tests.desktop.ui.recorded_sessions import WAIT_S, record_with_video, record_without_video, show_active

WAIT_MS = int(WAIT_S * 1000)


@pytest.fixture
def store(data_dir):
    with Store.open(data_dir) as opened:
        yield opened


def open_review(qtbot, store, session_id, **kw) -> SessionsScreen:
    screen = SessionsScreen(store, **kw)
    show_active(qtbot, screen)
    with qtbot.waitSignal(screen.review_ready, timeout=WAIT_MS):
        screen.open_session(session_id)
    return screen


def wait_frame_settled(qtbot, screen) -> None:
    qtbot.waitUntil(lambda: not screen._decoder.busy, timeout=WAIT_MS)


def test_the_list_shows_date_athletes_duration_video_and_labels(qtbot, data_dir, store):
    with_video = record_with_video(data_dir)
    without_video = record_without_video(data_dir)
    detail = store.session(with_video)
    store.add_label(with_video, start_mono_s=detail.started_mono_s + 1, end_mono_s=detail.started_mono_s + 3,
                    label="walk")

    screen = SessionsScreen(store)
    show_active(qtbot, screen)
    qtbot.waitUntil(lambda: len(screen.session_ids()) == 2, timeout=WAIT_MS)

    rows = dict(zip(screen.session_ids(), screen.list_row_texts()))
    date, athletes, _duration, video, labelled, status = rows[with_video]
    assert athletes == "Ana, Ben" and video == "yes" and labelled == "yes (1)" and status == "completed"
    assert f"{detail.started_wall_utc.astimezone():%H:%M}" in date
    assert rows[without_video][3:5] == ("no", "no")

    screen.table.selectRow(screen.session_ids().index(without_video))
    with qtbot.waitSignal(screen.review_ready, timeout=WAIT_MS):
        qtbot.keyClick(screen.table, Qt.Key.Key_Return)  # Enter opens the chosen session
        assert screen.review_title.text() == "Reading the session…"  # read on a worker: the window goes on
    assert screen.review.detail.id == without_video
    assert screen.video.text() == "No video in this session"


def test_scrubbing_the_chart_moves_the_video_and_scrubbing_the_video_moves_the_chart(qtbot, data_dir, store):
    session_id = record_with_video(data_dir)
    screen = open_review(qtbot, store, session_id)
    review = screen.review
    assert [t.name for t in review.traces] == ["Ana", "Ben"] and all(len(t.hr_bpm) == 60 for t in review.traces)

    click_chart_at(qtbot, screen, 0.8)  # a click on the HR chart moves the playhead there
    wait_frame_settled(qtbot, screen)
    assert screen.playhead.position_s == pytest.approx(0.8, abs=0.15)
    assert screen.slider.value() == round(screen.playhead.position_s * 10)
    shown_s = screen.shown_frame.t_mono_s - review.detail.started_mono_s
    assert shown_s == pytest.approx(screen.playhead.position_s, abs=0.1)  # the frame of that moment

    screen.slider.setValue(300)  # dragging the video's slider to 30 s ...
    wait_frame_settled(qtbot, screen)
    assert screen.timeline.playhead_x() == pytest.approx(30.0)  # ... moves the chart's playhead
    assert screen.shown_frame is None and screen.video.text() == "No video at this moment"  # video ran 1.5 s

    screen.playhead.move_to(0.5)
    wait_frame_settled(qtbot, screen)
    before = screen.shown_frame.t_mono_s
    qtbot.keyClick(screen, Qt.Key.Key_Period)  # one frame forwards
    wait_frame_settled(qtbot, screen)
    assert screen.shown_frame.t_mono_s == pytest.approx(before + 1 / 30, abs=0.01)


def click_chart_at(qtbot, screen, t_s: float) -> None:
    timeline = screen.timeline
    plot = timeline.hr_plot
    y_mid = sum(plot.viewRange()[1]) / 2
    scene_point = plot.vb.mapViewToScene(pg_point(t_s, y_mid))
    qtbot.mouseClick(timeline.viewport(), Qt.MouseButton.LeftButton, pos=timeline.mapFromScene(scene_point))


def pg_point(x: float, y: float):
    from desktop.ui.qt import QPointF

    return QPointF(x, y)


def test_a_range_is_labelled_with_a_class_and_with_work_from_the_keyboard(qtbot, data_dir, store):
    session_id = record_with_video(data_dir)
    screen = open_review(qtbot, store, session_id)
    start = screen.review.detail.started_mono_s
    assert screen.label_classes == ("jumping_jack", "walk", "jump", "lunge")  # the bundled model's classes

    screen.playhead.move_to(2.0)
    qtbot.keyClick(screen, Qt.Key.Key_BracketLeft)
    screen.playhead.move_to(5.0)
    qtbot.keyClick(screen, Qt.Key.Key_BracketRight)
    qtbot.keyClick(screen, Qt.Key.Key_2)  # class 2: walk, for the whole squad
    qtbot.keyClick(screen, Qt.Key.Key_A)  # the next target after the whole squad: Ana
    qtbot.keyClick(screen, Qt.Key.Key_W)  # the same stretch, as work, for Ana only

    labels = [(l.start_mono_s - start, l.end_mono_s - start, l.label, l.channel) for l in store.labels(session_id)]
    assert labels == [pytest.approx((2.0, 5.0, "walk", None)), pytest.approx((2.0, 5.0, "work", "sim-1"))]
    assert screen.label_list.count() == 2 and "walk · whole squad" in screen.label_list.item(0).text()
    assert "work · Ana" in screen.label_list.item(1).text()

    screen.label_list.setCurrentRow(0)
    qtbot.keyClick(screen, Qt.Key.Key_Delete)
    assert [l.label for l in store.labels(session_id)] == ["work"]

    qtbot.keyClick(screen, Qt.Key.Key_Escape)  # back to the list, which now says the session is labelled
    qtbot.waitUntil(lambda: screen.list_row_texts() and screen.list_row_texts()[0][4] == "yes (1)", timeout=WAIT_MS)


def test_space_plays_the_video_and_the_chart_follows_then_space_pauses(qtbot, data_dir, store):
    session_id = record_with_video(data_dir)
    screen = open_review(qtbot, store, session_id)
    qtbot.keyClick(screen, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: screen.playhead.position_s >= 0.5 and screen.shown_frame is not None, timeout=WAIT_MS)
    qtbot.keyClick(screen, Qt.Key.Key_Space)
    paused_at = screen.playhead.position_s
    wait_frame_settled(qtbot, screen)
    assert screen.play_button.text() == "Play (Space)" and screen.playhead.position_s == paused_at
    assert screen.timeline.playhead_x() == pytest.approx(paused_at)
    assert screen.shown_frame.t_mono_s - screen.review.detail.started_mono_s == pytest.approx(paused_at, abs=0.1)


def test_labelling_without_a_chosen_stretch_says_what_to_do_and_stores_nothing(qtbot, data_dir, store):
    session_id = record_with_video(data_dir)
    screen = open_review(qtbot, store, session_id)
    qtbot.keyClick(screen, Qt.Key.Key_1)
    assert store.labels(session_id) == []
    assert "Choose a stretch first" in screen.review_status.text()


def test_work_rest_marks_laps_and_the_models_feedback_are_on_the_timeline(qtbot, data_dir, store):
    session_id = record_with_video(data_dir)
    start = store.session(session_id).started_mono_s
    # What the movement and heart-rate models said, kept in the store as the workers keep it
    # (the camera here shows no person, so the real pose model would find nothing to classify).
    store.write_events(session_id, [
        FeedbackEvent(CAMERA_CHANNEL, start + 0.2, "movement", "1.0.0", "movement", {"label": "walk", "probability": 0.9}),
        FeedbackEvent(CAMERA_CHANNEL, start + 0.6, "movement", "1.0.0", "movement", {"label": "walk", "probability": 0.8}),
        FeedbackEvent(CAMERA_CHANNEL, start + 1.0, "movement", "1.0.0", "movement", {"label": "jump", "probability": 0.7}),
        FeedbackEvent("sim-2", start + 30.0, "heart_rate", "2.2.0", "unusual_response",
                      {"horizon_s": 30, "observed_bpm": 171, "forecast_bpm": 150.0}),
        Marker(start + 40.0, "lap", "coach's lap"),
    ])
    screen = open_review(qtbot, store, session_id)
    review = screen.review

    assert [(m.text, round(m.start_s, 1)) for m in review.movement] == [("walk", 0.2), ("jump", 1.0)]
    runs = [item.toolTip() for item in screen.timeline.movement_plot.items if type(item).__name__ == "LinearRegionItem"]
    assert [tip.split(":")[0] for tip in runs] == ["walk", "jump"]  # every run is drawn, its class in its tooltip
    texts = [item.toPlainText() for item in screen.timeline.movement_plot.items if hasattr(item, "toPlainText")]
    assert texts == ["jump"]  # a run too short for its name on the strip (0.8 s of 59 s) is not written over
    marks = [m for m in store.markers(session_id) if m.kind in ("work", "rest")]
    assert [(p.text, p.start_s) for p in review.phases] == [(m.kind, m.t_mono_s - start) for m in marks]
    assert marks and marks[0].kind == "work"  # the simulated squad starts work after its warm-up
    assert review.phases[-1].end_s == pytest.approx(review.duration_s)  # the last phase runs to the end
    shaded = [i for i in screen.timeline.hr_plot.items if type(i).__name__ == "LinearRegionItem" and not i.movable]
    assert len(shaded) == len(review.phases)
    unusual = [m for m in review.moments if m.kind == "unusual_response"]
    assert len(unusual) == 1 and "HR 171 vs forecast 150.0" in unusual[0].text
    laps = [i.value() for i in screen.timeline.hr_plot.items
            if getattr(getattr(i, "label", None), "format", None) == "lap"]
    assert laps == [pytest.approx(40.0)]
    tips = [item.toolTip() for item in screen.timeline.hr_plot.items if hasattr(item, "toolTip")]
    assert any("Ben: unusual response" in tip for tip in tips)


def test_export_writes_csv_tcx_and_fit_that_other_tools_read(qtbot, data_dir, store, tmp_path):
    session_id = record_with_video(data_dir)
    screen = open_review(qtbot, store, session_id, export_dir=tmp_path / "out")

    for key in (Qt.Key.Key_C, Qt.Key.Key_T, Qt.Key.Key_F):
        screen.exported = []
        qtbot.keyClick(screen, key, Qt.KeyboardModifier.AltModifier)
        qtbot.waitUntil(lambda: bool(screen.exported), timeout=WAIT_MS)

    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == sorted([f"{session_id}.csv", f"{session_id}.tcx", f"{session_id}-sim-1.fit",
                              f"{session_id}-sim-2.fit"])
    with open(tmp_path / "out" / f"{session_id}.csv", newline="") as f:
        assert len(list(csv.DictReader(f))) == 2 * 60
    with fitdecode.FitReader(tmp_path / "out" / f"{session_id}-sim-1.fit", check_crc=fitdecode.CrcCheck.RAISE) as fit:
        records = [m for m in fit if isinstance(m, fitdecode.FitDataMessage) and m.name == "record"]
    ana = store.hr_samples(session_id, "sim-1")
    assert [m.get_value("heart_rate") for m in records] == [s.hr_bpm for s in ana]
    assert "Exported" in screen.review_status.text()
