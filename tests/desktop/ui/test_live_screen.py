"""The live screen during a real session: four simulated athletes and the real clip at 30 fps."""

from __future__ import annotations

import gc

from desktop.live_board import STALE_AFTER_S
from desktop.sources.heart_rate.simulated import SAMPLE_PERIOD_S
from desktop.ui.theme import STALE_TEXT
from tests.desktop.ui.conftest import start_and_wait

# How long the event loop stalls is a figure of `make bench` (ui.max_stall_ms, under Xvfb), never a
# timed assertion here: on a shared 2-core machine a test's timing is the machine's, not the window's.


def test_four_athletes_and_the_camera_reach_the_screen(qtbot, open_window, clip_spec):
    window = open_window(["sim:3", "sim:1?first=4"], clip_spec)
    live = window.live
    start_and_wait(qtbot, window, athletes=4)
    live.stall_watch.reset()
    painted_before = live.video.frames_painted
    qtbot.waitUntil(lambda: live.session.poses.near(live.video.frame.t_mono_s) is not None, timeout=60_000)
    qtbot.waitUntil(lambda: live.video.frames_painted - painted_before >= 30, timeout=60_000)  # video moves
    qtbot.waitUntil(lambda: live.chart.points_of("sim-1") >= 5 and "fps" in window.status.text(), timeout=60_000)

    assert live.stall_watch.beats > 0, "the heartbeat did not run"
    assert sorted(live.tile_widgets) == ["sim-1", "sim-2", "sim-3", "sim-4"]
    tile = live.tile_widgets["sim-1"]
    assert tile.hr.text().isdigit() and tile.zone.text() in {"<Z1", "Z1", "Z2", "Z3", "Z4", "Z5"}
    assert "HRmax" in tile.details.text() and tile.state == "connected"
    assert live.chart.curve_count == 4 and live.chart.points_of("sim-1") >= 5
    assert "fps" in window.status.text() and "disk" in window.status.text()
    assert live.movement.text() != "movement: –" or live.angles.text() != "angles: –"


def test_a_strap_that_goes_silent_is_greyed_as_stale_never_shown_as_live(qtbot, open_window):
    window = open_window(["sim:3", "sim:1?first=4"], pausable=(1,))
    live = window.live
    start_and_wait(qtbot, window, athletes=4, video=False)
    live.session.pause_source(1)  # the fourth athlete's strap goes quiet; its link does not end
    real_clock = live.board.clock
    # the stale check's clock runs ahead, so the wait is short; the others' samples (one a
    # second) stay younger than the stale bound even so
    live.board.clock = lambda: real_clock() + STALE_AFTER_S - SAMPLE_PERIOD_S - 0.5
    qtbot.waitUntil(lambda: live.tile_widgets["sim-4"].state == "stale", timeout=5_000)
    stale = live.tile_widgets["sim-4"]
    assert stale.sensor.text().startswith("STALE")
    assert stale.hr.text() == f"{live.board.tiles['sim-4'].last_hr_bpm:.0f}"  # the last value is kept ...
    assert STALE_TEXT.lower() in stale.styleSheet().lower()  # ... and greyed
    assert live.tile_widgets["sim-1"].state == "connected"  # the others still stream
    live.board.clock = real_clock


def test_start_stop_lap_and_marker_are_kept_in_the_store(qtbot, open_window, data_dir):
    from desktop.store import Store

    window = open_window(["sim:2"])
    live = window.live
    start_and_wait(qtbot, window, athletes=2, video=False)
    assert gc.get_freeze_count() > 0  # while recording, long-lived objects stay out of full collections
    live.lap()
    live.marker()
    session_id = live.session.session_id
    qtbot.waitUntil(lambda: len(live.board.marks) == 2, timeout=10_000)
    live.toggle_recording()
    qtbot.waitUntil(lambda: live.last_summary is not None, timeout=60_000)
    assert gc.get_freeze_count() == 0  # stopped: the finished session can be collected again
    with Store.open(data_dir) as store:
        kinds = [m.kind for m in store.markers(session_id)]
        assert store.session(session_id).status == "completed"
    assert kinds == ["lap", "note"]
