"""The writer thread commits in batches no older than the flush interval, and loses nothing on close."""

from __future__ import annotations

import threading
import time

import pytest

from desktop.sources.events import Marker
from desktop.sources.heart_rate.base import HeartRateSample
from desktop.store import Store, StoreError, StoreWriter

WAIT_S = 5.0  # the most a test waits for the writer thread to get somewhere
POLL_S = 0.01  # how often a waiting test looks again


class FakeClock:
    """A monotonic clock the test moves by hand (the writer waits on real time only to look at it)."""

    def __init__(self, now_s: float = 100.0):
        self.now_s = now_s

    def __call__(self) -> float:
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
    with pytest.raises(TypeError, match="does not keep dict"):
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
