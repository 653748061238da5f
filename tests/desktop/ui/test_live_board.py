"""The live board, Qt-free: what each athlete's tile says, fed by a real simulated squad.

The board's clock is injected, so "stale" (three seconds without heart rate) is checked
without waiting.
"""

from __future__ import annotations

import threading

from desktop.live_board import STALE_AFTER_S, LiveBoard
from desktop.sources.events import RECONNECTING, FeedbackEvent, Marker, SourceProblem, StreamEnded
from desktop.sources.heart_rate import open_heart_rate_source
from tests.support.waiting import wait_until


def squad_events(spec: str, duration_s: float) -> list[object]:
    """Every event a simulated squad gives over `duration_s` of its time (played flat out)."""
    events, done = [], threading.Event()

    def sink(event):
        events.append(event)
        if isinstance(event, StreamEnded):
            done.set()
    source = open_heart_rate_source(spec, duration_s=duration_s)
    source.start(sink)
    wait_until(done.is_set, 30, "the simulated squad to end")
    source.stop()
    return events


class Clock:
    def __init__(self, now_s: float = 0.0):
        self.now_s = now_s

    def __call__(self) -> float:
        return self.now_s


def test_tiles_show_heart_rate_zone_and_hrv_of_each_athlete():
    board = LiveBoard(profiles={"sim-1": ("Alice", 190.0, 50.0)})
    for event in squad_events("sim:3?speed=inf", 60):
        if not isinstance(event, StreamEnded):
            board.take(event)
    assert [t.channel for t in board.tiles_in_order()] == ["sim-1", "sim-2", "sim-3"]
    alice = board.tiles["sim-1"]
    assert alice.name == "Alice" and alice.last_hr_bpm is not None
    assert alice.zone is not None and alice.percent_hr_max == 100 * alice.last_hr_bpm / 190.0
    assert alice.rmssd_ms is not None and alice.rmssd_ms > 0
    assert alice.history.size >= 55
    assert board.tiles["sim-2"].zone is None  # no HRmax known: no zone, never a guessed one


def test_a_strap_silent_for_three_seconds_is_stale_and_comes_back_when_data_does():
    clock = Clock()
    board = LiveBoard(clock=clock)
    events = [e for e in squad_events("sim:1?speed=inf", 10) if not isinstance(e, StreamEnded)]
    for event in events:
        board.take(event)
    tile = board.tiles["sim-1"]
    last_s = tile.last_sample_mono_s
    assert tile.sensor_state(last_s + 1.0) == "connected"
    assert tile.sensor_state(last_s + STALE_AFTER_S + 0.1) == "stale"
    assert tile.last_hr_bpm is not None  # the last value is kept, to be shown greyed
    board.take(SourceProblem("sim-1", last_s + 4, RECONNECTING, "strap link lost (disconnected); reconnecting"))
    assert tile.sensor_state(last_s + 5) == "reconnecting"
    board.take(SourceProblem("sim-1", last_s + 30, "device_absent", "gone", fatal=True))
    assert tile.sensor_state(last_s + 31) == "lost"


def test_camera_feedback_and_marks_are_kept_for_the_screen():
    board = LiveBoard()
    board.take(FeedbackEvent("camera", 1.0, "movement", "1", "movement",
                             {"label": "squat", "probability": 0.9, "phase": "down", "reps": 3}))
    board.take(FeedbackEvent("sim-1", 1.0, "hr", "2", "hr_forecast", {"hr_30s_bpm": 150.0, "recover_in_s": 40.0}))
    board.take(Marker(2.0, "work", "interval 1/2", "sim-1"))
    board.take(Marker(2.0, "work", "interval 1/2", "sim-2"))  # the same change for each athlete
    board.take(Marker(3.0, "lap", "lap"))
    assert board.camera.movement["reps"] == 3
    assert board.tiles["sim-1"].forecast["hr_30s_bpm"] == 150.0
    assert [(m.t_mono_s, m.kind) for m in board.marks] == [(2.0, "work"), (3.0, "lap")]
