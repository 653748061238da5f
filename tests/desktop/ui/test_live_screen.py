"""The live screen during a real session: four simulated athletes and the real clip at 30 fps."""

from __future__ import annotations

import subprocess
import sys

from desktop.live_board import STALE_AFTER_S
from desktop.sources.heart_rate.simulated import SAMPLE_PERIOD_S
from desktop.ui.theme import STALE_TEXT
from tests.desktop.ui.conftest import start_and_wait

MAX_STALL_MS = 100.0  # the bound for the event loop during a live session
MEASURE_MS = 6_000  # how long the event loop is watched once the session runs
# A bare process beside the window, sleeping 5 ms at a time: how late the machine itself wakes
# a process up. On a quiet machine this is ~1 ms; on a shared one it can pass 100 ms, and a
# stall of that much is the machine's, not the window's.
_SCHEDULER_PROBE = """
import time
worst, last = 0.0, time.perf_counter()
end = last + {seconds}
while last < end:
    time.sleep(0.005)
    now = time.perf_counter()
    worst, last = max(worst, now - last - 0.005), now
print(worst * 1000)
"""


def machine_lateness_ms_during(qtbot, wait_ms: int) -> float:
    """Run the event loop for `wait_ms` while a separate process measures the machine's own lateness."""
    probe = subprocess.Popen([sys.executable, "-c", _SCHEDULER_PROBE.format(seconds=wait_ms / 1000)],
                             stdout=subprocess.PIPE, text=True)
    qtbot.wait(wait_ms)  # the event loop runs (it is what is measured), nothing sleeps
    out, _ = probe.communicate(timeout=60)
    return float(out)


def test_four_athletes_and_the_camera_reach_the_screen_without_stalling_the_window(qtbot, open_window, clip_spec):
    window = open_window(["sim:3", "sim:1?first=4"], clip_spec)
    live = window.live
    start_and_wait(qtbot, window, athletes=4)
    live.stall_watch.reset()
    painted_before = live.video.frames_painted
    qtbot.waitUntil(lambda: live.session.poses.near(live.video.frame.t_mono_s) is not None, timeout=60_000)
    machine_ms = machine_lateness_ms_during(qtbot, MEASURE_MS)

    assert live.stall_watch.beats > MEASURE_MS / 20, "the heartbeat did not run"
    stall_ms = live.stall_watch.max_stall_ms
    assert stall_ms <= MAX_STALL_MS + machine_ms, (
        f"event loop stalled {stall_ms:.0f} ms; a bare process on this machine was {machine_ms:.0f} ms late")
    assert live.video.frames_painted - painted_before > MEASURE_MS / 1000 * 5, "video hardly moved"
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
    live.lap()
    live.marker()
    session_id = live.session.session_id
    qtbot.waitUntil(lambda: len(live.board.marks) == 2, timeout=10_000)
    live.toggle_recording()
    qtbot.waitUntil(lambda: live.last_summary is not None, timeout=60_000)
    with Store.open(data_dir) as store:
        kinds = [m.kind for m in store.markers(session_id)]
        assert store.session(session_id).status == "completed"
    assert kinds == ["lap", "note"]
