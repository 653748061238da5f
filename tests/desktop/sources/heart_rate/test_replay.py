"""The replay source plays real recordings as a strap would deliver them."""

from __future__ import annotations

import math
import queue
import time

import pytest

from desktop.sources.events import FILE_DAMAGED, ChannelOpened, Marker, SignalGap, SourceProblem, StreamEnded
from desktop.sources.heart_rate.base import HeartRateSample
from desktop.sources.heart_rate.replay import ReplayHeartRateSource, open_replay_source
from desktop.sources.spec import SpecError
from edge_models.recordings import RecordingError, read_recording, read_rr_series
from tests.support.assets import real_asset

EVENT_TIMEOUT_S = 10.0  # generous bound for a replay thread to deliver its next event


def replay_all(source) -> list:
    """Start a source, collect every event up to StreamEnded, stop it."""
    events: queue.Queue = queue.Queue()
    source.start(events.put)
    collected = []
    try:
        while not collected or not isinstance(collected[-1], StreamEnded):
            collected.append(events.get(timeout=EVENT_TIMEOUT_S))
    finally:
        source.stop()
    return collected


def of_type(events, kind):
    return [e for e in events if isinstance(e, kind)]


def test_fast_replay_delivers_every_recorded_heart_rate_at_recorded_times():
    path = real_asset("6449921903_ACTIVITY.fit")
    recording = read_recording(path)
    events = replay_all(ReplayHeartRateSource(path, speed=math.inf, clock=lambda: 1000.0))
    samples = of_type(events, HeartRateSample)
    assert isinstance(events[0], ChannelOpened) and events[0].channel == "6449921903_ACTIVITY"
    assert [s.hr_bpm for s in samples] == [int(h) for h in recording.hr_bpm]
    assert [s.t_mono_s - 1000.0 for s in samples] == list(recording.time_s)
    assert samples[5].power_w == recording.power_w[5] and samples[5].speed_mps is None
    assert events[-1] == StreamEnded("6449921903_ACTIVITY", samples[-1].t_mono_s)


def test_holes_in_the_recording_become_gaps_never_filled():
    path = real_asset("6449921903_ACTIVITY.fit")
    time_s = read_recording(path).time_s
    holes = [(a, b) for a, b in zip(time_s[:-1], time_s[1:]) if b - a > 3.0]
    events = replay_all(ReplayHeartRateSource(path, speed=math.inf, clock=lambda: 0.0))
    gaps = of_type(events, SignalGap)
    assert [(g.start_mono_s, g.end_mono_s) for g in gaps] == holes
    assert all(g.reason == "recorded" for g in gaps) and len(gaps) == 2


def test_recorded_laps_arrive_as_lap_markers():
    path = real_asset("6471559601_ACTIVITY.fit")
    events = replay_all(ReplayHeartRateSource(path, speed=math.inf, clock=lambda: 50.0))
    laps = of_type(events, Marker)
    assert [(m.t_mono_s, m.kind) for m in laps] == [(74.0, "lap"), (86.0, "lap")]


def test_start_offset_skips_the_beginning():
    path = real_asset("6471559601_ACTIVITY.fit")
    events = replay_all(ReplayHeartRateSource(path, speed=math.inf, clock=lambda: 0.0, start_offset_s=30.0))
    samples = of_type(events, HeartRateSample)
    assert len(samples) == 30 and samples[0].t_mono_s == 0.0


def test_speed_k_paces_samples_k_times_faster_in_real_time():
    path = real_asset("6471559601_ACTIVITY.fit")  # 60 s recorded
    started = time.monotonic()
    events = replay_all(ReplayHeartRateSource(path, speed=200.0))
    elapsed_s = time.monotonic() - started
    samples = of_type(events, HeartRateSample)
    assert elapsed_s >= 59.0 / 200.0
    span_s = samples[-1].t_mono_s - samples[0].t_mono_s
    assert 59.0 / 200.0 <= span_s < 59.0 / 200.0 + 1.0


def test_stop_during_a_real_time_replay_returns_promptly():
    source = ReplayHeartRateSource(real_asset("3173437224.tcx"))  # 65 minutes at speed 1
    events: queue.Queue = queue.Queue()
    source.start(events.put)
    assert isinstance(events.get(timeout=EVENT_TIMEOUT_S), ChannelOpened)
    assert isinstance(events.get(timeout=EVENT_TIMEOUT_S), HeartRateSample)
    started = time.monotonic()
    source.stop()
    assert time.monotonic() - started < 0.9  # the next sample was a second away
    assert events.empty()


def test_rr_series_replays_beats_as_one_notification_a_second():
    path = real_asset("SampleNNISeriesShort.npy")
    rr_s = read_rr_series(path)
    events = replay_all(ReplayHeartRateSource(path, speed=math.inf, clock=lambda: 0.0))
    samples = of_type(events, HeartRateSample)
    delivered = [rr for s in samples for rr in s.rr_intervals_s]
    assert delivered == list(rr_s)  # every beat once, in order
    assert [s.t_mono_s for s in samples] == [float(n) for n in range(1, len(samples) + 1)]
    first = samples[0]  # the first second holds the first beat only (859 ms)
    assert first.rr_intervals_s == (0.859,) and first.hr_bpm == round(60 / 0.859)


def test_unreadable_file_is_refused_at_construction(tmp_path):
    broken = tmp_path / "broken.fit"
    broken.write_bytes(b"\x0e\x10garbage")
    with pytest.raises(RecordingError, match="broken.fit"):
        ReplayHeartRateSource(broken)
    with pytest.raises(RecordingError):
        ReplayHeartRateSource(tmp_path / "absent.tcx")


def test_spec_sets_file_and_speed():
    path = real_asset("6471559601_ACTIVITY.fit")
    source = open_replay_source(f"{path}?speed=max", clock=lambda: 0.0)
    assert source.channel == "6471559601_ACTIVITY" and source.sample_count == 60
    assert len(of_type(replay_all(source), HeartRateSample)) == 60
    with pytest.raises(SpecError, match="speed"):
        open_replay_source(f"{path}?speed=-2")
    with pytest.raises(SpecError, match="unknown"):
        open_replay_source(f"{path}?sped=2")


def test_a_cut_file_replays_what_was_kept_and_says_what_was_lost_first(tmp_path):
    source = real_asset("6449921903_ACTIVITY.fit")
    cut = tmp_path / "ride.fit"
    cut.write_bytes(source.read_bytes()[:7000])  # a battery that died mid-ride
    kept = read_recording(cut)
    events = replay_all(ReplayHeartRateSource(cut, speed=math.inf, clock=lambda: 0.0))
    assert isinstance(events[0], ChannelOpened)
    problem = events[1]
    assert isinstance(problem, SourceProblem) and problem.kind == FILE_DAMAGED and not problem.fatal
    assert problem.message.startswith("ride.fit cut short after ") and problem.message == kept.damage
    samples = of_type(events, HeartRateSample)
    assert [s.hr_bpm for s in samples] == [int(h) for h in kept.hr_bpm]
    assert 0 < len(samples) < len(read_recording(source).hr_bpm)
    assert len(of_type(events, SourceProblem)) == 1


def test_a_whole_file_replays_without_a_damage_note():
    events = replay_all(ReplayHeartRateSource(real_asset("6471559601_ACTIVITY.fit"), speed=math.inf,
                                              clock=lambda: 0.0))
    assert of_type(events, SourceProblem) == []
