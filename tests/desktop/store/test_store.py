"""The store keeps what a recording said and gives it back the same, on a real SQLite file."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import PurePosixPath

import numpy as np
import pytest

from desktop.sources.events import ChannelOpened, FeedbackEvent, Marker, SignalGap, SourceProblem, StreamEnded
from desktop.sources.heart_rate.base import HeartRateSample, SensorContact
from desktop.store import DB_NAME, SessionNotFound, Store, UnstorableEvent, VideoSegment

from tests.desktop.store.conftest import SESSION_START_MONO_S


def _sample(channel: str, t: float, hr: int, rr=(), **extra) -> HeartRateSample:
    return HeartRateSample(channel, SESSION_START_MONO_S + t, hr, tuple(rr), **extra)


def test_file_is_wal_with_foreign_keys_and_full_sync(store, data_dir):
    raw = sqlite3.connect(data_dir / DB_NAME)
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # WAL is a property of the file
    raw.close()
    assert store._conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert store._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_every_event_type_round_trips(store, session_id):
    events = [
        ChannelOpened("sim-1", "Ana", SESSION_START_MONO_S),
        _sample("sim-1", 1.0, 142, (0.41, 0.43), sensor_contact=SensorContact.DETECTED, energy_expended_kj=12,
                speed_mps=4.2, power_w=250.0, cadence_rpm=88.0),
        _sample("sim-1", 2.0, 145),
        SignalGap("sim-1", SESSION_START_MONO_S + 2.5, SESSION_START_MONO_S + 4.0, "watchdog"),
        SourceProblem("sim-1", SESSION_START_MONO_S + 3.0, "malformed_packet", "2 bytes", fatal=False),
        Marker(SESSION_START_MONO_S + 5.0, "lap", "lap 1"),
        Marker(SESSION_START_MONO_S + 6.0, "note", "knee", channel="sim-1"),
        FeedbackEvent("sim-1", SESSION_START_MONO_S + 7.0, "hr_lstm", "3", "hr_forecast",
                      {"plus_30_s_bpm": np.float32(150.5), "window": np.arange(3)}),
        StreamEnded("sim-1", SESSION_START_MONO_S + 8.0),
    ]
    store.write_events(session_id, events)

    assert store.hr_samples(session_id) == [events[1], events[2]]
    assert store.gaps(session_id) == [events[3]]
    assert store.problems(session_id) == [events[4], SourceProblem("sim-1", SESSION_START_MONO_S + 8.0,
                                                                   "end_of_stream", "stream ended")]
    assert store.markers(session_id) == [events[5], events[6]]
    assert store.markers(session_id, "sim-1") == [events[6]]
    [feedback] = store.feedback_events(session_id)
    assert feedback.payload == {"plus_30_s_bpm": 150.5, "window": [0, 1, 2]}
    assert store.session(session_id).channels[0].display_name == "Ana"


def test_samples_come_back_sorted_per_channel_with_their_rr(store, session_id):
    store.write_events(session_id, [_sample("b", 3.0, 120, (0.5,)), _sample("a", 2.0, 100, (0.6, 0.61)),
                                    _sample("a", 1.0, 99, (0.62,))])
    assert [s.t_mono_s - SESSION_START_MONO_S for s in store.hr_samples(session_id)] == [1.0, 2.0, 3.0]
    assert [s.rr_intervals_s for s in store.hr_samples(session_id, "a")] == [(0.62,), (0.6, 0.61)]


def test_a_batch_with_a_foreign_object_writes_nothing(store, session_id):
    with pytest.raises(TypeError, match="does not keep str"):
        store.write_events(session_id, [_sample("a", 1.0, 100), "not an event"])
    assert store.hr_samples(session_id) == []


def test_a_batch_with_an_unstorable_event_writes_nothing_and_names_the_field(store, session_id):
    with pytest.raises(UnstorableEvent, match="HeartRateSample cannot be stored: hr_bpm"):
        store.write_events(session_id, [_sample("a", 1.0, 100), _sample("a", 2.0, 400)])
    assert store.hr_samples(session_id) == []


def test_a_failing_batch_is_rolled_back_whole(store, session_id):
    bad_payload = FeedbackEvent("a", SESSION_START_MONO_S, "m", "1", "pose", {"x": 1})
    store.write_events(session_id, [bad_payload])
    store._conn.execute("DROP TABLE feedback_events")  # a broken table makes the second insert fail
    with pytest.raises(sqlite3.Error):
        store.write_events(session_id, [_sample("a", 1.0, 100), bad_payload])
    assert store.hr_samples(session_id) == []


def test_session_list_and_detail(store, session_id):
    store.write_events(session_id, [ChannelOpened("sim-1", "Ana", SESSION_START_MONO_S),
                                    _sample("sim-1", 1.0, 100), _sample("sim-1", 2.0, 101), _sample("x", 2.0, 90)])
    store.finish_session(session_id, ended_mono_s=SESSION_START_MONO_S + 60.0)
    [summary] = store.list_sessions()
    assert summary.id == session_id and summary.status == "completed"
    assert summary.duration_s == 60.0
    assert summary.started_wall_utc == datetime(2025, 5, 3, 9, 30, tzinfo=timezone.utc)
    assert {(c.channel, c.sample_count) for c in summary.channels} == {("sim-1", 2), ("x", 1)}
    detail = store.session(session_id[:6])
    assert detail.id == session_id and detail.hr_specs == ("sim:2",) and detail.ended_mono_s == 1060.0


def test_wall_clock_start_is_kept_in_utc(store):
    paris = timezone(timedelta(hours=2))
    sid = store.create_session(started_wall_utc=datetime(2025, 5, 3, 11, 30, tzinfo=paris), started_mono_s=0.0,
                               hr_specs=[], camera_spec="cv:0")
    assert store.session(sid).started_wall_utc == datetime(2025, 5, 3, 9, 30, tzinfo=timezone.utc)
    with pytest.raises(ValueError, match="time zone"):
        store.create_session(started_wall_utc=datetime(2025, 5, 3), started_mono_s=0.0, hr_specs=[],
                             camera_spec=None)


def test_unknown_or_ambiguous_session_ids_are_clear_errors(store, session_id):
    with pytest.raises(SessionNotFound, match="no session has an id starting with 'ffffffff'"):
        store.session("ffffffff")
    with pytest.raises(SessionNotFound, match="not a session id"):
        store.session("'; DROP TABLE sessions; --")
    with pytest.raises(KeyError):  # callers may catch it as a KeyError
        store.hr_samples("0000")


def test_a_prefix_shared_by_two_sessions_is_refused(store, monkeypatch):
    ids = iter([uuid.UUID("abcd0000-0000-4000-8000-000000000001"), uuid.UUID("abcd0000-0000-4000-8000-000000000002")])
    monkeypatch.setattr("desktop.store.store.uuid.uuid4", lambda: next(ids))  # fixed ids: a known shared prefix
    for _ in range(2):
        store.create_session(started_wall_utc=datetime.now(timezone.utc), started_mono_s=0.0, hr_specs=[],
                             camera_spec=None)
    with pytest.raises(SessionNotFound, match="more than one session has an id starting with 'abcd'"):
        store.session("abcd")
    assert store.session("ABCD0000-0000-4000-8000-000000000002").id.endswith("2")


def test_athletes_and_their_validation(store):
    ana = store.add_athlete("Ana", 195, 48, zones=[[0, 120], [120, 150], [150, 195]])
    assert store.athlete_by_name("Ana") == ana and ana.zones[1] == [120, 150] and ana.consent
    with pytest.raises(ValueError, match="already exists"):
        store.add_athlete("Ana", 190, 50)
    with pytest.raises(ValueError, match="resting HR"):
        store.add_athlete("Ben", 60, 70)
    store.add_athlete("Ben", 185, 55)
    assert [a.name for a in store.list_athletes()] == ["Ana", "Ben"]
    assert store.athlete_by_name("Nobody") is None


def _two_athlete_session(store, session_id):
    ana, ben = store.add_athlete("Ana", 195, 48), store.add_athlete("Ben", 185, 55)
    store.add_channel(session_id, "strap-a", "Ana", ana.id)
    store.add_channel(session_id, "strap-b", "Ben", ben.id)
    feedback = [FeedbackEvent(c, SESSION_START_MONO_S + 1, "hr", "1", "hr_forecast", {}) for c in ("strap-a", "strap-b")]
    store.write_events(session_id, [_sample("strap-a", 1.0, 150, (0.4, 0.41)), _sample("strap-b", 1.0, 130, (0.46,)),
                                    SignalGap("strap-a", SESSION_START_MONO_S + 2, SESSION_START_MONO_S + 3, "watchdog"),
                                    *feedback])
    return ana, ben


def test_deleting_an_athletes_data_erases_theirs_only_in_every_session(store, session_id):
    ana, ben = _two_athlete_session(store, session_id)
    second = store.create_session(started_wall_utc=datetime.now(timezone.utc), started_mono_s=0.0, hr_specs=[],
                                  camera_spec=None)
    store.add_channel(second, "strap-9", "Ana", ana.id)
    store.write_events(second, [_sample("strap-9", 5.0, 160, (0.38,))])

    erased = store.delete_athlete_data(ana.id)

    assert erased == (1 + 2 + 1 + 1) + (1 + 1)  # sample, 2 RR, gap, feedback; then a sample and its RR
    assert store.hr_samples(session_id, "strap-a") == [] and store.hr_samples(second) == []
    assert store.gaps(session_id) == [] and [f.channel for f in store.feedback_events(session_id)] == ["strap-b"]
    assert [s.rr_intervals_s for s in store.hr_samples(session_id)] == [(0.46,)]
    assert store._conn.execute("SELECT COUNT(*) FROM rr_intervals WHERE channel != 'strap-b'").fetchone()[0] == 0


def test_no_heart_rate_is_kept_for_an_athlete_without_consent(store, session_id):
    ana, _ = _two_athlete_session(store, session_id)
    store.set_consent(ana.id, False)
    store.write_events(session_id, [_sample("strap-a", 9.0, 170), _sample("strap-b", 9.0, 140)])
    assert [s.hr_bpm for s in store.hr_samples(session_id, "strap-a")] == [150]  # only what came before
    assert [s.hr_bpm for s in store.hr_samples(session_id, "strap-b")] == [130, 140]
    assert store.athlete_by_name("Ana").consent is False


def test_labels(store, session_id):
    label_id = store.add_label(session_id, start_mono_s=10.0, end_mono_s=12.5, label="sprint", channel="a")
    store.add_label(session_id, start_mono_s=1.0, end_mono_s=2.0, label="rest", labelled_by="model:movement")
    assert [(l.label, l.labelled_by) for l in store.labels(session_id)] == [("rest", "model:movement"),
                                                                           ("sprint", "coach")]
    assert store.labels(session_id, "a")[0].id == label_id
    with pytest.raises(ValueError, match="ends after it starts"):
        store.add_label(session_id, start_mono_s=5.0, end_mono_s=5.0, label="x")


def test_video_segment_paths_must_stay_in_the_data_directory(store, session_id):
    segment = VideoSegment(PurePosixPath("video/s/seg-000001.avi"), 1.0, 3.0, 60, 30.0, "MJPG", "ab" * 32)
    store.add_video_segment(session_id, segment)
    assert store.video_segments(session_id) == [segment]
    with pytest.raises(Exception, match="relative to the data directory"):
        store.add_video_segment(session_id, VideoSegment(PurePosixPath("../x.avi"), 1, 2, 1, 30.0, "MJPG", ""))


def test_interrupted_sessions_are_closed_at_their_last_event(store, session_id, data_dir):
    store.write_events(session_id, [_sample("a", 1.0, 100), _sample("a", 42.0, 120)])
    partial = store.video_dir / session_id / "seg-000003.partial.avi"
    partial.parent.mkdir(parents=True)
    partial.write_bytes(b"RIFF half a segment")
    done = store.create_session(started_wall_utc=datetime.now(timezone.utc), started_mono_s=0.0, hr_specs=[],
                                camera_spec=None)
    store.finish_session(done, ended_mono_s=5.0)

    assert store.recover_interrupted() == [session_id]

    detail = store.session(session_id)
    assert detail.status == "interrupted" and detail.ended_mono_s == SESSION_START_MONO_S + 42.0
    assert not partial.exists()
    assert store.session(done).status == "completed"
    assert store.recover_interrupted() == []


def test_reopening_keeps_everything(data_dir):
    with Store.open(data_dir) as store:
        sid = store.create_session(started_wall_utc=datetime.now(timezone.utc), started_mono_s=0.0,
                                   hr_specs=[], camera_spec=None)
        store.write_events(sid, [_sample("a", 1.0, 100)])
    with Store.open(data_dir) as store:
        assert [s.hr_bpm for s in store.hr_samples(sid)] == [100]
        assert store.integrity_problems() == []

