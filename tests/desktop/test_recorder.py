"""A whole recording through the real sources, the real store and real video segments."""

from __future__ import annotations

import math

import pytest

from desktop.recorder import AthleteProfile, Recorder
from desktop.sources.camera import open_camera
from desktop.sources.heart_rate.base import HeartRateSample
from desktop.sources.heart_rate.simulated import SimulatedHeartRateSource
from desktop.store import Store
from desktop.store.video import is_playable
from tests.support.assets import real_asset
from tests.support.waiting import wait_until

WAIT_LIMIT_S = 60.0  # a recording that has not ended by then has hung


def record(data_dir, hr_sources, camera=None, **kw):
    recorder = Recorder(data_dir, hr_sources, camera, **kw)
    recorder.start()
    recorder.wait(WAIT_LIMIT_S)
    return recorder.stop()


def test_three_athletes_and_a_camera_are_stored_whole(data_dir):
    sim = SimulatedHeartRateSource(3, speed=math.inf, duration_s=64)
    camera = open_camera("synthetic:320x240@30", realtime=False)
    recorder = Recorder(data_dir, [sim], camera)
    recorder.start()
    recorder.wait(1.0)  # the simulated hour ends at once; let the camera grab for a second
    summary = recorder.stop()

    assert [c.samples for c in summary.channels] == [65, 65, 65]
    with Store.open(data_dir) as store:
        (session,) = store.list_sessions()
        assert session.status == "completed"
        assert {c.sample_count for c in session.channels if c.channel.startswith("sim")} == {65}
        samples = store.hr_samples(session.id, "sim-2")
        assert sum(len(s.rr_intervals_s) for s in samples) == summary.channels[1].rr_intervals > 40
        segments = store.video_segments(session.id)
        assert segments and sum(s.frame_count for s in segments) == summary.frames_recorded
        assert all(is_playable(store.segment_file(s), s.frame_count) for s in segments)
        assert [m.kind for m in store.markers(session.id)][:2] == ["work", "rest"]


def test_heart_rate_keeps_recording_when_the_camera_is_lost(data_dir, tmp_path):
    clip = tmp_path / "cut.mp4"
    original = real_asset("demo.mp4").read_bytes()
    clip.write_bytes(original[: len(original) // 3])  # the file ends mid-stream, as a pulled cable would
    camera = open_camera(f"file:{clip}", realtime=False)
    sim = SimulatedHeartRateSource(2, speed=20.0)
    seen: list[object] = []  # every event the recorder handled, in order (list.append is thread-safe)
    recorder = Recorder(data_dir, [sim], camera, listeners=[seen.append])
    recorder.start()
    try:  # however loaded the machine, wait for the loss and then for heart rate after it
        wait_until(lambda: any(getattr(e, "kind", None) == "camera_lost" for e in seen), WAIT_LIMIT_S,
                   "the cut file to end the camera")
        lost_at = len(seen)
        wait_until(lambda: sum(isinstance(e, HeartRateSample) for e in seen[lost_at:]) >= 30, WAIT_LIMIT_S,
                   "heart rate after the camera went")
    finally:
        summary = recorder.stop()

    with Store.open(data_dir) as store:
        (session,) = store.list_sessions()
        lost = [p for p in store.problems(session.id) if p.kind == "camera_lost"]
        assert len(lost) == 1 and lost[0].fatal
        after = [s for s in store.hr_samples(session.id) if s.t_mono_s > lost[0].t_mono_s]
        assert len(after) >= 20  # both athletes, seconds of heart rate after the camera went
    assert summary.channels[0].samples > 0 and summary.frames_recorded > 0


def test_no_heart_rate_is_stored_for_an_athlete_without_consent(data_dir):
    with Store.open(data_dir) as store:
        alice = store.add_athlete("Alice", 195, 50)
        bob = store.add_athlete("Bob", 190, 55, consent=False)
    athletes = {"sim-1": AthleteProfile(alice.id, "Alice", 195, 50, True),
                "sim-2": AthleteProfile(bob.id, "Bob", 190, 55, False)}
    summary = record(data_dir, [SimulatedHeartRateSource(2, speed=math.inf, duration_s=29)], athletes=athletes)

    assert [(c.display_name, c.samples) for c in summary.channels] == [("Alice", 30), ("Bob", 30)]
    with Store.open(data_dir) as store:
        (session,) = store.list_sessions()
        assert len(store.hr_samples(session.id, "sim-1")) == 30
        assert store.hr_samples(session.id, "sim-2") == []
        names = {c.channel: c.display_name for c in session.channels}
        assert names == {"sim-1": "Alice", "sim-2": "Bob"}


def test_live_analytics_follow_the_session(data_dir):
    profile = AthleteProfile(None, "Carla", hr_max_bpm=195, hr_rest_bpm=50)
    recorder = Recorder(data_dir, [SimulatedHeartRateSource(1, speed=math.inf, duration_s=299)],
                        athletes={"sim-1": profile})
    recorder.start()
    recorder.wait(WAIT_LIMIT_S)
    summary = recorder.stop()
    live = recorder.live_state("sim-1")
    assert live.max_hr_bpm == summary.channels[0].max_hr_bpm > 140  # the work intervals show
    zones_s = live.time_in_zones_s
    assert zones_s.sum() == pytest.approx(299, abs=2)  # every second lands in one zone (or below)
    assert zones_s[3:].sum() > 30  # the work intervals reach zone 3 and above
    assert summary.channels[0].trimp_edwards > 5


def test_a_failing_listener_never_stops_the_storing(data_dir):
    def broken_terminal(event):
        raise BrokenPipeError("the coach piped the output into `head`")

    summary = record(data_dir, [SimulatedHeartRateSource(2, speed=math.inf, duration_s=199)],
                     listeners=[broken_terminal])
    with Store.open(data_dir) as store:
        (session,) = store.list_sessions()
        assert len(store.hr_samples(session.id)) == 2 * 200
    assert summary.listener_errors > 400  # every event still reached it, and each failure was counted


def test_the_recording_ends_when_every_channel_of_every_source_has_ended(data_dir):
    quick = SimulatedHeartRateSource(3, speed=math.inf, duration_s=5)  # its three channels end at once
    slower = SimulatedHeartRateSource(1, speed=50.0, duration_s=60, first_number=4)  # ~1.2 s of wall time
    recorder = Recorder(data_dir, [quick, slower])
    recorder.start()
    recorder.wait(WAIT_LIMIT_S)
    summary = recorder.stop()
    samples = {c.channel: c.samples for c in summary.channels}
    assert samples == {"sim-1": 6, "sim-2": 6, "sim-3": 6, "sim-4": 61}  # the slow one ran to its end


def test_two_sources_with_the_same_channel_are_refused_before_recording(data_dir):
    with pytest.raises(ValueError, match="sim-1"):
        Recorder(data_dir, [SimulatedHeartRateSource(3), SimulatedHeartRateSource(1)])


class _WorkerThatCannotStart:
    def start(self):
        raise RuntimeError("model file unreadable")

    def stop(self):
        pass


def test_a_part_that_fails_to_start_leaves_a_closed_session_and_no_thread(data_dir):
    recorder = Recorder(data_dir, [SimulatedHeartRateSource(1, speed=2.0)])
    recorder.add_worker(_WorkerThatCannotStart())
    with pytest.raises(RuntimeError, match="unreadable"):
        recorder.start()
    with Store.open(data_dir) as store:
        (session,) = store.list_sessions()
        assert session.status == "interrupted"


def test_the_end_of_a_video_file_and_a_replay_end_the_recording(data_dir):
    clip = real_asset("demo.mp4")
    camera = open_camera(f"file:{clip}", realtime=False)
    recorder = Recorder(data_dir, [SimulatedHeartRateSource(2, speed=math.inf, duration_s=30)], camera)
    recorder.start()
    assert recorder.ended.wait(WAIT_LIMIT_S), "both sources ended, so must the recording"
    summary = recorder.stop()
    assert summary.frames_recorded + summary.frames_dropped == 230


class _ScriptedSource:
    """Plays a fixed list of events, as a faulty strap or a buggy source might send them."""

    spec = "scripted:1"

    def __init__(self, events):
        self.events = events

    def start(self, sink):
        for event in self.events:
            sink(event)

    def stop(self):
        pass


def test_malformed_events_are_refused_and_everything_around_them_is_stored(data_dir):
    from desktop.sources.events import ChannelOpened, SourceProblem, StreamEnded
    from desktop.sources.heart_rate.base import HeartRateSample

    good = [HeartRateSample("strap", 100.0 + i, 120 + i, (0.5,)) for i in range(4)]
    bad = [HeartRateSample("strap", 102.5, 121, None),  # RR missing altogether
           HeartRateSample("strap", 102.6, float("nan")),  # no heart rate at all
           SourceProblem(None, 102.7, "malformed_packet", "who sent this?")]
    events = [ChannelOpened("strap", "Strap", 99.0), *good[:2], *bad, *good[2:], StreamEnded("strap", 104.0)]
    recorder = Recorder(data_dir, [_ScriptedSource(events)])
    recorder.start()
    assert recorder.ended.wait(WAIT_LIMIT_S)
    summary = recorder.stop()

    assert summary.events_refused == 3 and summary.listener_errors == 0
    assert summary.channels[0].samples == 4 and summary.channels[0].mean_hr_bpm == pytest.approx(121.5)
    with Store.open(data_dir) as store:
        (session,) = store.list_sessions()
        assert [s.hr_bpm for s in store.hr_samples(session.id)] == [120, 121, 122, 123]
        assert session.status == "completed"


def test_rr_intervals_a_source_dropped_are_counted_in_the_summary(data_dir):
    from desktop.sources.events import ChannelOpened, StreamEnded
    from desktop.sources.heart_rate.base import HeartRateSample

    samples = [HeartRateSample("strap", 100.0, 72, (1.0,), rr_dropped=1),
               HeartRateSample("strap", 101.0, 75, (), rr_dropped=2),
               HeartRateSample("strap", 102.0, 74, (0.8,))]
    events = [ChannelOpened("strap", "Strap", 99.0), *samples, StreamEnded("strap", 103.0)]
    recorder = Recorder(data_dir, [_ScriptedSource(events)])
    recorder.start()
    assert recorder.ended.wait(WAIT_LIMIT_S)
    summary = recorder.stop()

    (channel,) = summary.channels
    assert (channel.samples, channel.rr_intervals, channel.rr_dropped) == (3, 2, 3)
    assert summary.events_refused == 0


class _GreyCamera:
    """A camera whose frames the video writer cannot take (one channel, not three)."""

    spec = "grey:0"
    fps = 30.0
    frame_size = (64, 48)

    def start(self, sink):
        import numpy as np

        from desktop.sources.camera.base import Frame

        for i in range(10):
            sink(Frame(i, float(i) / 30, np.zeros((48, 64), dtype=np.uint8)))

    def stop(self):
        pass


def test_video_that_cannot_be_written_is_reported_and_heart_rate_goes_on(data_dir):
    recorder = Recorder(data_dir, [SimulatedHeartRateSource(1, speed=math.inf, duration_s=9)], _GreyCamera())
    recorder.start()
    recorder.wait(2.0)
    summary = recorder.stop()  # returns: the video thread kept draining after its failure
    assert any("video is no longer recorded" in p for p in summary.problems)
    assert summary.channels[0].samples == 10
