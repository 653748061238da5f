"""The writer thread commits in batches no older than the flush interval, and loses nothing on close."""

from __future__ import annotations

import logging
import math
import sqlite3
import threading
import time
from pathlib import PurePosixPath

import numpy as np
import pytest

from desktop.sources.events import ChannelOpened, FeedbackEvent, Marker, SignalGap, SourceProblem, StreamEnded
from desktop.sources.heart_rate.base import HeartRateSample, SensorContact
from desktop.store import Store, StoreError, StoreWriter, UnstorableEvent, VideoSegment, checks, rows

WAIT_S = 5.0  # the most a test waits for the writer thread to get somewhere
POLL_S = 0.01  # how often a waiting test looks again


class FakeClock:
    """A monotonic clock the test moves by hand (the writer waits on real time only to look at it)."""

    def __init__(self, now_s: float = 100.0):
        self.now_s = now_s
        self.writer_reads = 0  # how often the writer thread has looked at this clock

    def __call__(self) -> float:
        if threading.current_thread().name.startswith("store-writer"):
            self.writer_reads += 1
        return self.now_s


def _wait_until(condition, timeout_s: float = WAIT_S) -> None:
    """Poll `condition` until it holds; fail the test past the deadline."""
    deadline_s = time.monotonic() + timeout_s
    pause = threading.Event()  # never set: its wait is a bounded pause between looks
    while not condition():
        assert time.monotonic() < deadline_s, "condition not met in time"
        pause.wait(POLL_S)


def _stored(data_dir, session_id) -> int:
    with Store.open(data_dir) as store:
        return len(store.hr_samples(session_id))


def _stored_hr_bpm(data_dir, session_id) -> list[int]:
    with Store.open(data_dir) as store:
        return [s.hr_bpm for s in store.hr_samples(session_id)]


def test_a_batch_is_committed_once_its_oldest_event_reaches_the_interval(data_dir, session_id):
    clock = FakeClock()
    writer = StoreWriter(data_dir, session_id, flush_interval_s=0.5, clock=clock)
    try:
        writer.put(HeartRateSample("a", clock.now_s, 120))
        clock.now_s += 0.3
        writer.put(HeartRateSample("a", clock.now_s, 121))
        _wait_until(lambda: writer.stats.events_received == 2)
        assert writer.stats.batches == 0 and _stored(data_dir, session_id) == 0  # 0.3 s old: still open

        clock.now_s += 0.25
        _wait_until(lambda: writer.stats.batches == 1)
        assert _stored(data_dir, session_id) == 2
        assert writer.stats.max_batch_age_s == pytest.approx(0.55)
    finally:
        writer.close()


def test_close_commits_the_rest_and_no_batch_is_older_than_a_second(data_dir, session_id):
    writer = StoreWriter(data_dir, session_id, flush_interval_s=0.2)
    putters = [threading.Thread(target=lambda c=c: [writer.put(HeartRateSample(c, float(i), 100 + i % 50))
                                                    for i in range(500)]) for c in ("a", "b", "c")]
    for t in putters:
        t.start()
    for t in putters:
        t.join()
    writer.put(Marker(1.0, "lap"))
    writer.close()
    assert _stored(data_dir, session_id) == 1500
    assert writer.stats.rows_written == 1501 and writer.stats.max_batch_age_s <= 1.0


def test_put_refuses_what_the_store_cannot_keep(data_dir, session_id):
    writer = StoreWriter(data_dir, session_id)
    with pytest.raises(UnstorableEvent, match="does not keep dict"):
        writer.put({"hr": 120})
    writer.close()
    with pytest.raises(StoreError, match="closed"):
        writer.put(Marker(1.0, "lap"))


def test_a_writer_for_an_unknown_session_fails_at_once(data_dir, store):
    with pytest.raises(KeyError, match="no session"):
        StoreWriter(data_dir, "deadbeef")


def test_flush_interval_above_a_second_is_refused(data_dir, session_id):
    with pytest.raises(ValueError, match="flush_interval_s"):
        StoreWriter(data_dir, session_id, flush_interval_s=2.0)


# -- a bad event costs only itself ---------------------------------------------------------------

T = 1000.0  # a monotonic time inside the session
# Heart rates of the good samples: odd values, so a test can tell none of them reached the log.
GOOD_HR_BPM = (141, 143, 147, 149, 151, 153)


def _good(i: int) -> HeartRateSample:
    return HeartRateSample("a", T + i, GOOD_HR_BPM[i], (0.41 + i / 100,), SensorContact.DETECTED)


def test_a_problem_without_a_channel_is_refused_at_put_and_the_events_around_it_are_kept(data_dir, session_id):
    writer = StoreWriter(data_dir, session_id)
    try:
        for i in range(3):
            writer.put(_good(i))
        with pytest.raises(UnstorableEvent, match=r"SourceProblem cannot be stored: channel must be a non-empty "
                                                  r"string \(given None\)"):
            writer.put(SourceProblem(None, T + 3, "camera_lost", "the camera went away"))
        for i in range(3, 6):
            writer.put(_good(i))
        writer.put(SourceProblem("a", T + 7, "malformed_packet", "2 bytes"))
    finally:
        writer.close()  # raises if anything was left unwritten
    assert _stored_hr_bpm(data_dir, session_id) == list(GOOD_HR_BPM)
    with Store.open(data_dir) as store:
        assert [p.kind for p in store.problems(session_id)] == ["malformed_packet"]
    assert writer.stats.events_set_aside == 0 and writer.stats.failed_commits == 0


def test_a_nan_rr_interval_is_refused_at_put_without_quoting_a_reading(data_dir, session_id):
    writer = StoreWriter(data_dir, session_id)
    try:
        writer.put(_good(0))
        with pytest.raises(UnstorableEvent, match="rr_intervals_s must be a tuple of finite RR intervals") as refused:
            writer.put(HeartRateSample("a", T + 1, 187, (0.45, math.nan, 0.47)))
        writer.put(_good(1))
    finally:
        writer.close()
    assert "187" not in str(refused.value) and "0.45" not in str(refused.value)
    assert _stored_hr_bpm(data_dir, session_id) == list(GOOD_HR_BPM[:2])


BAD_EVENTS = [
    (HeartRateSample("a", T, 300), "hr_bpm"),  # above what a strap can send
    (HeartRateSample("a", T, -1), "hr_bpm"),
    (HeartRateSample("a", T, math.nan), "hr_bpm"),
    (HeartRateSample("a", T, 120.5), "hr_bpm"),
    (HeartRateSample("a", T, True), "hr_bpm"),
    (HeartRateSample("", T, 120), "channel"),
    (HeartRateSample("a", math.inf, 120), "t_mono_s"),
    (HeartRateSample("a", T, 120, (0.0,)), "rr_intervals_s"),
    (HeartRateSample("a", T, 120, (-0.4,)), "rr_intervals_s"),
    (HeartRateSample("a", T, 120, (math.inf,)), "rr_intervals_s"),
    (HeartRateSample("a", T, 120, sensor_contact=1), "sensor_contact"),
    (HeartRateSample("a", T, 120, energy_expended_kj=-5), "energy_expended_kj"),
    (HeartRateSample("a", T, 120, speed_mps=math.nan), "speed_mps"),
    (SignalGap("a", T + 5, T, "watchdog"), "end_mono_s must not be before start_mono_s"),
    (SignalGap("a", T, T + 1, None), "reason"),
    (StreamEnded(None, T), "channel"),
    (Marker(T, ""), "kind"),
    (Marker(math.nan, "lap"), "t_mono_s"),
    (Marker(T, "lap", channel=""), "channel"),
    (FeedbackEvent("a", T, "hr_lstm", "3", "hr_forecast", {"bpm": math.nan}), "payload"),
    (FeedbackEvent("a", T, None, "3", "hr_forecast", {}), "model_name"),
    (ChannelOpened("a", None, T), "display_name"),
    (VideoSegment(PurePosixPath("video/s/x.avi"), T, T + 1, 30, 0.0, "MJPG", ""), "fps"),
    (VideoSegment(PurePosixPath("../x.avi"), T, T + 1, 30, 30.0, "MJPG", ""), "path"),
]


@pytest.mark.parametrize(("event", "field"), BAD_EVENTS, ids=[f"{type(e).__name__}-{f[:20]}" for e, f in BAD_EVENTS])
def test_every_field_the_store_cannot_hold_is_named_when_put_refuses_it(data_dir, session_id, event, field):
    writer = StoreWriter(data_dir, session_id)
    try:
        with pytest.raises(UnstorableEvent, match=f"a {type(event).__name__} cannot be stored: {field}"):
            writer.put(event)
    finally:
        writer.close()
    assert writer.stats.events_received == 0


def test_numpy_numbers_from_a_model_or_a_file_are_accepted_and_stored_as_numbers(data_dir, session_id):
    sample = HeartRateSample("a", np.float64(T), np.int64(150), (np.float32(0.4),), energy_expended_kj=np.int32(12),
                             speed_mps=np.float32(4.5))
    writer = StoreWriter(data_dir, session_id)
    writer.put(sample)
    writer.close()
    with Store.open(data_dir) as store:
        [back] = store.hr_samples(session_id)
    assert (back.hr_bpm, back.energy_expended_kj, back.speed_mps) == (150, 12, 4.5)
    assert back.rr_intervals_s == pytest.approx((0.4,))


def _segment(name: str) -> VideoSegment:
    return VideoSegment(PurePosixPath(f"video/s/{name}.avi"), T, T + 2, 60, 30.0, "MJPG", "ab" * 32)


def test_a_batch_refused_on_a_constraint_is_written_event_by_event_and_only_the_culprit_is_set_aside(
        data_dir, session_id, caplog):
    # A segment reported twice passes every field check but breaks video_segments.path UNIQUE: a real
    # constraint, no mock. It shares a batch with good events.
    clock = FakeClock()
    writer = StoreWriter(data_dir, session_id, flush_interval_s=0.5, clock=clock)
    caplog.set_level(logging.INFO, logger="desktop.store")
    try:
        writer.put(_segment("seg-000001"))
        clock.now_s += 0.5
        _wait_until(lambda: writer.stats.batches == 1)
        for event in (_good(0), _good(1), _segment("seg-000001"), _good(2), _segment("seg-000002"), _good(3)):
            writer.put(event)
        _wait_until(lambda: writer.stats.events_received == 7)  # all six in one open batch first
        clock.now_s += 0.5
        _wait_until(lambda: writer.stats.batches == 2)
        writer.put(_good(4))  # the writer goes on with the next batch
    finally:
        writer.close()
    assert _stored_hr_bpm(data_dir, session_id) == list(GOOD_HR_BPM[:5])
    with Store.open(data_dir) as store:
        assert [s.path.name for s in store.video_segments(session_id)] == ["seg-000001.avi", "seg-000002.avi"]
    assert writer.stats.events_set_aside == 1 and writer.stats.unexpected_errors == 0
    assert "set aside a VideoSegment" in caplog.text and "UNIQUE constraint failed" in caplog.text
    assert not any(str(hr) in caplog.text for hr in GOOD_HR_BPM)


def test_the_writer_survives_a_bug_in_an_insert_and_keeps_the_rest(data_dir, session_id, monkeypatch, caplog):
    # Fault injection: the marker inserter gets a bug that raises on one marker. Nothing real in
    # this store raises RuntimeError, and the point is the writer's reaction to one that does.
    real_insert = rows.INSERTERS[Marker]

    def buggy_insert(conn, session, marker):
        if marker.text == "boom":
            raise RuntimeError("a bug that quotes 187 bpm")
        return real_insert(conn, session, marker)

    monkeypatch.setitem(rows.INSERTERS, Marker, buggy_insert)
    writer = StoreWriter(data_dir, session_id)
    try:
        for event in (_good(0), Marker(T + 1, "lap", "lap 1"), Marker(T + 2, "note", "boom"), _good(1)):
            writer.put(event)
    finally:
        writer.close()
    assert _stored_hr_bpm(data_dir, session_id) == list(GOOD_HR_BPM[:2])
    with Store.open(data_dir) as store:
        assert [m.text for m in store.markers(session_id)] == ["lap 1"]
    assert writer.stats.events_set_aside == 1 and writer.stats.unexpected_errors == 1
    assert "RuntimeError" in caplog.text and "187" not in caplog.text


def test_events_that_slip_past_the_checks_cost_only_themselves(data_dir, session_id, monkeypatch, caplog):
    # Fault injection: the checks are switched off, as if a new field had no rule yet, so the
    # reviewer's two reproductions reach SQLite: a NULL channel (NOT NULL) and NaNs (int(NaN) raises).
    monkeypatch.setattr(checks, "check_storable", lambda event: None)
    writer = StoreWriter(data_dir, session_id)
    try:
        for event in (_good(0), SourceProblem(None, T, "camera_lost", "gone"), _good(1),
                      HeartRateSample("a", T + 2, 187, (0.45, math.nan)), HeartRateSample("a", T + 3, math.nan),
                      _good(2)):
            writer.put(event)
    finally:
        writer.close()  # nothing left unwritten: the bad ones were set aside, not retried
    assert _stored_hr_bpm(data_dir, session_id) == list(GOOD_HR_BPM[:3])
    assert writer.stats.events_set_aside == 3 and writer.stats.unexpected_errors == 0
    assert "NOT NULL constraint failed: source_problems.channel" in caplog.text and "187" not in caplog.text


class ClockFailingOnce(FakeClock):
    """A clock with a bug that strikes once, on the writer's thread (an injected clock, not a mock)."""

    def __init__(self):
        super().__init__()
        self.failed = False

    def __call__(self) -> float:
        if not self.failed and threading.current_thread().name.startswith("store-writer"):
            self.failed = True
            raise RuntimeError("clock bug")
        return super().__call__()


def test_the_writer_thread_survives_an_unexpected_exception_and_loses_nothing(data_dir, session_id):
    clock = ClockFailingOnce()
    writer = StoreWriter(data_dir, session_id, flush_interval_s=0.5, clock=clock)
    try:
        writer.put(_good(0))  # the writer meets the bug while it handles this event
        _wait_until(lambda: writer.stats.unexpected_errors == 1)
        writer.put(_good(1))
        clock.now_s += 0.5
        _wait_until(lambda: writer.stats.batches == 1)
        assert _stored_hr_bpm(data_dir, session_id) == list(GOOD_HR_BPM[:2])
    finally:
        writer.close()


# -- a failing disk keeps the batch ---------------------------------------------------------------

def _disk_failing(monkeypatch, failures: int | None):
    """Store.write_events fails like a full or broken disk `failures` times (None: for ever).

    A mock at a boundary: a real disk-full or I/O error cannot be produced on this machine's disk.
    """
    real_write = Store.write_events
    calls = {"n": 0}

    def write_events(store, session_id, events):
        calls["n"] += 1
        if failures is None or calls["n"] <= failures:
            raise sqlite3.OperationalError("disk I/O error")
        return real_write(store, session_id, events)

    monkeypatch.setattr(Store, "write_events", write_events)
    return calls


def test_a_disk_error_keeps_the_batch_and_retries_with_a_growing_wait(data_dir, session_id, monkeypatch):
    calls = _disk_failing(monkeypatch, failures=2)
    clock = FakeClock()
    writer = StoreWriter(data_dir, session_id, flush_interval_s=0.5, clock=clock)
    try:
        writer.put(_good(0))
        clock.now_s += 0.5
        _wait_until(lambda: writer.stats.failed_commits == 1)
        writer.put(_good(1))  # joins the kept batch
        clock.now_s += 0.5  # the first retry is one interval later
        _wait_until(lambda: writer.stats.failed_commits == 2)
        seen = clock.writer_reads
        clock.now_s += 0.5  # the second waits twice as long: not yet
        _wait_until(lambda: clock.writer_reads >= seen + 3)  # it has looked at the clock since, and waited
        assert calls["n"] == 2
        clock.now_s += 0.5
        _wait_until(lambda: writer.stats.batches == 1)
    finally:
        writer.close()
    assert _stored_hr_bpm(data_dir, session_id) == list(GOOD_HR_BPM[:2])
    assert writer.stats.events_set_aside == 0 and writer.stats.unexpected_errors == 0


def test_close_reports_what_a_failing_disk_left_unwritten(data_dir, session_id, monkeypatch):
    _disk_failing(monkeypatch, failures=None)
    writer = StoreWriter(data_dir, session_id)
    for i in range(3):
        writer.put(_good(i))
    with pytest.raises(StoreError, match="3 events could not be written .*disk I/O error"):
        writer.close()
