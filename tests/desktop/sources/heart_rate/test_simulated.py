"""Simulated athletes behave like athletes on an interval session."""

import math
import threading

import numpy as np
import pytest

from desktop.sources.events import ChannelOpened, StreamEnded
from desktop.sources.heart_rate import open_heart_rate_source
from desktop.sources.heart_rate.base import HeartRateSample
from desktop.sources.heart_rate.simulated import REST_S, WARMUP_S, WORK_S, SimulatedHeartRateSource
from desktop.sources.spec import SpecError


def run_fast(count: int, duration_s: float, seed: int = 0) -> list:
    events = []
    source = SimulatedHeartRateSource(count, speed=math.inf, duration_s=duration_s, seed=seed)
    source.start(events.append)
    source.stop()
    return events


def series(events, channel):
    samples = [e for e in events if isinstance(e, HeartRateSample) and e.channel == channel]
    return np.array([s.t_mono_s for s in samples]), np.array([s.hr_bpm for s in samples]), samples


def test_every_athlete_gets_one_sample_a_second_and_the_stream_ends():
    events = run_fast(3, duration_s=59)
    assert [e.channel for e in events if isinstance(e, ChannelOpened)] == ["sim-1", "sim-2", "sim-3"]
    for channel in ("sim-1", "sim-2", "sim-3"):
        t, _, _ = series(events, channel)
        assert len(t) == 60
        assert np.allclose(np.diff(t), 1.0)
    assert sum(isinstance(e, StreamEnded) for e in events) == 3


def test_heart_rate_rises_in_work_and_recovers_in_rest():
    events = run_fast(1, duration_s=WARMUP_S + 2 * (WORK_S + REST_S))
    t, hr, _ = series(events, "sim-1")
    elapsed = t - t[0]
    end_of_work = hr[np.searchsorted(elapsed, WARMUP_S + WORK_S) - 1]
    start_of_work = hr[np.searchsorted(elapsed, WARMUP_S)]
    end_of_rest = hr[np.searchsorted(elapsed, WARMUP_S + WORK_S + REST_S) - 1]
    assert end_of_work > start_of_work + 40
    assert end_of_rest < end_of_work - 30
    assert 40 < hr.min() and hr.max() < 205


def test_rr_intervals_agree_with_heart_rate():
    events = run_fast(1, duration_s=120)
    _, hr, samples = series(events, "sim-1")
    rr = np.concatenate([s.rr_intervals_s for s in samples])
    assert abs(len(rr) - hr.mean() * 120 / 60) < 0.05 * len(rr)
    assert np.all((rr > 0.27) & (rr < 2.0))
    assert np.allclose(rr * 1024, np.round(rr * 1024))  # the strap's resolution


def test_same_seed_same_session():
    a = [e.hr_bpm for e in run_fast(2, 30, seed=7) if isinstance(e, HeartRateSample)]
    b = [e.hr_bpm for e in run_fast(2, 30, seed=7) if isinstance(e, HeartRateSample)]
    assert a == b


def test_real_time_source_stops_promptly_when_asked():
    received = threading.Event()
    events = []

    def sink(event):
        events.append(event)
        if isinstance(event, HeartRateSample):
            received.set()

    source = SimulatedHeartRateSource(2)
    source.start(sink)
    assert received.wait(timeout=5.0)
    source.stop()
    assert not source._thread.is_alive()


@pytest.mark.parametrize("spec", ["sim:", "sim:x", "sim:0", "nope:1", "sim:2?speed=-1", "sim:2?speed=fast"])
def test_bad_specs_are_refused_with_a_clear_error(spec):
    with pytest.raises(SpecError if spec != "sim:0" else ValueError):
        open_heart_rate_source(spec)


def test_the_schedule_is_marked_as_the_coach_would():
    from desktop.sources.events import Marker

    events = run_fast(1, duration_s=WARMUP_S + WORK_S + REST_S + 1)
    marks = [(e.kind, e.t_mono_s - events[0].t_mono_s) for e in events if isinstance(e, Marker)]
    assert [kind for kind, _ in marks] == ["work", "rest", "work"]
    # Differences of monotonic stamps are rounded: compare to a microsecond, not bit for bit.
    assert [at_s for _, at_s in marks] == pytest.approx([WARMUP_S, WARMUP_S + WORK_S, WARMUP_S + WORK_S + REST_S],
                                                         abs=1e-6)
