"""Exports read back by independent decoders: fitdecode (FIT), tcxreader (TCX), csv (CSV)."""

from __future__ import annotations

import csv
import math
from datetime import datetime, timedelta, timezone

import fitdecode
import pytest
from tcxreader.tcxreader import TCXReader

from desktop.export import ExportAthlete, ExportError, ExportSession, export_csv, export_fit, export_tcx
from desktop.sources.heart_rate.base import HeartRateSample
from desktop.sources.heart_rate.replay import ReplayHeartRateSource
from edge_models.recordings import read_recording
from tests.support.assets import real_asset

STARTED_WALL_UTC = datetime(2024, 5, 1, 10, 0, 0, tzinfo=timezone.utc)
STARTED_MONO_S = 1000.0
RIDE_OFFSET_S = 0.25  # the ride's samples arrive a quarter second after whole seconds


def _optional(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def ride_athlete() -> ExportAthlete:
    """Real HR, power and cadence of a Wattbike file (with two holes), laps at 60 s and 200 s."""
    ride = read_recording(real_asset("6449921903_ACTIVITY.fit"))
    samples = [
        HeartRateSample("ride", STARTED_MONO_S + RIDE_OFFSET_S + t, int(hr), power_w=_optional(p),
                        cadence_rpm=_optional(c))
        for t, hr, p, c in zip(ride.time_s, ride.hr_bpm, ride.power_w, ride.cadence_rpm)
    ]
    laps = [STARTED_MONO_S + RIDE_OFFSET_S + 60, STARTED_MONO_S + RIDE_OFFSET_S + 200]
    return ExportAthlete("ride", "Ana Ride", samples, laps, STARTED_MONO_S)


def rr_athlete() -> ExportAthlete:
    """Real RR intervals (pyhrv series) as a strap would notify them, replayed with our source."""
    events: list = []
    source = ReplayHeartRateSource(real_asset("SampleNNISeriesShort.npy"), speed=math.inf,
                                   clock=lambda: STARTED_MONO_S, channel="rr")
    source.start(events.append)
    source.stop()
    samples = [e for e in events if isinstance(e, HeartRateSample)]
    return ExportAthlete("rr", "Bo Beats", samples, [STARTED_MONO_S + 120.5], STARTED_MONO_S)


@pytest.fixture(scope="module")
def session() -> ExportSession:
    return ExportSession("session-7", STARTED_WALL_UTC, [ride_athlete(), rr_athlete()])


def wall(athlete: ExportAthlete, sample: HeartRateSample) -> datetime:
    return STARTED_WALL_UTC + timedelta(seconds=sample.t_mono_s - athlete.started_mono_s)


def to_second(moment: datetime) -> datetime:
    return (moment + timedelta(milliseconds=500)).replace(microsecond=0)


def read_fit(path) -> dict[str, list]:
    messages: dict[str, list] = {}
    with fitdecode.FitReader(path, check_crc=fitdecode.CrcCheck.RAISE) as reader:
        for frame in reader:
            if isinstance(frame, fitdecode.FitDataMessage):
                values = {f.name: f.value for f in frame.fields}
                messages.setdefault(frame.name, []).append(values)
    return messages


def _values(field_value) -> tuple:
    return field_value if isinstance(field_value, tuple) else (field_value,)


def test_fit_export_reads_back_with_fitdecode_and_its_crc(session, tmp_path):
    athlete = session.athletes[0]
    messages = read_fit(export_fit(session, tmp_path / "ride.fit", "ride"))
    records = messages["record"]
    assert len(records) == len(athlete.samples) == 199
    assert [r["timestamp"] for r in records] == [to_second(wall(athlete, s)) for s in athlete.samples]
    assert [r["heart_rate"] for r in records] == [s.hr_bpm for s in athlete.samples]
    # a field with no value is left out of its record (FIT's "not measured")
    assert [r.get("power") for r in records] == [None if s.power_w is None else round(s.power_w)
                                                 for s in athlete.samples]
    assert [r.get("speed") for r in records] == [None] * 199
    assert "hrv" not in messages
    assert [lap["start_time"] for lap in messages["lap"]] == [
        to_second(STARTED_WALL_UTC + timedelta(seconds=offset_s)) for offset_s in (0.25, 60.25, 200.25)]
    assert messages["session"][0]["num_laps"] == 3
    assert messages["file_id"][0]["type"] == "activity"


def test_fit_export_carries_every_rr_interval_in_hrv_messages(session, tmp_path):
    athlete = session.athletes[1]
    messages = read_fit(export_fit(session, tmp_path / "rr.fit", "rr"))
    # an hrv message carrying one beat holds a one-value array, which fitdecode gives as a number
    rr_back = [rr for hrv in messages["hrv"] for rr in _values(hrv["time"]) if rr is not None]
    rr_sent = [rr for s in athlete.samples for rr in s.rr_intervals_s]
    assert len(rr_back) == len(rr_sent) == 337
    assert rr_back == [round(rr * 1000) / 1000 for rr in rr_sent]
    assert [r["heart_rate"] for r in messages["record"]] == [s.hr_bpm for s in athlete.samples]
    assert len(messages["lap"]) == 2


def test_our_own_reader_finds_the_rr_intervals_too(session, tmp_path):
    path = export_fit(session, tmp_path / "rr.fit", "rr")
    recording = read_recording(path)
    assert len(recording.rr_s) == 337 and len(recording.time_s) == len(session.athletes[1].samples)


def test_a_corrupted_fit_export_fails_the_crc_check(session, tmp_path):
    path = export_fit(session, tmp_path / "ride.fit", "ride")
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x01  # a value byte of the last message (the activity): still parses, the CRC must catch it
    path.write_bytes(bytes(data))
    with pytest.raises(fitdecode.FitCRCError):
        read_fit(path)


def test_tcx_export_reads_back_with_tcxreader(session, tmp_path):
    exercise = TCXReader().read(str(export_tcx(session, tmp_path / "session.tcx")), only_gps=False)
    sent = [(a, s) for a in session.athletes for s in sorted(a.samples, key=lambda s: s.t_mono_s)]
    points = exercise.trackpoints
    assert len(points) == len(sent) == 199 + 300
    assert [p.time for p in points] == [wall(a, s).replace(tzinfo=None) for a, s in sent]  # to the millisecond
    assert [p.hr_value for p in points] == [s.hr_bpm for _, s in sent]
    assert [p.tpx_ext.get("Watts") for p in points[:199]] == [
        None if s.power_w is None else round(s.power_w) for _, s in sent[:199]]
    assert len(exercise.laps) == 3 + 2  # one Activity per athlete, laps split at the coach's marks


def test_csv_export_reads_back_with_the_csv_module(session, tmp_path):
    with open(export_csv(session, tmp_path / "session.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 199 + 300
    by_channel = {"ride": [r for r in rows if r["channel"] == "ride"], "rr": [r for r in rows if r["channel"] == "rr"]}
    for athlete in session.athletes:
        got = by_channel[athlete.channel]
        assert [int(r["hr_bpm"]) for r in got] == [s.hr_bpm for s in athlete.samples]
        assert [datetime.fromisoformat(r["wall_time_utc"]) for r in got] == [wall(athlete, s) for s in athlete.samples]
        assert [tuple(float(x) for x in r["rr_s"].split()) for r in got] == [s.rr_intervals_s for s in athlete.samples]
        assert {r["athlete"] for r in got} == {athlete.name}
    times = [float(r["t_s"]) for r in rows]
    assert times == sorted(times)  # all athletes interleaved in time order
    assert rows[0]["power_w"] == "123.0" and rows[0]["speed_mps"] == ""


def test_export_replaces_a_file_whole_and_leaves_no_temp_files(session, tmp_path):
    target = tmp_path / "out.fit"
    target.write_bytes(b"an older export")
    export_fit(session, target, "ride")
    assert len(read_fit(target)["record"]) == 199
    assert [p.name for p in tmp_path.iterdir()] == ["out.fit"]


def test_bad_requests_are_refused_and_touch_nothing(session, tmp_path):
    target = tmp_path / "out.fit"
    target.write_bytes(b"keep me")
    with pytest.raises(ExportError, match="no channel 'nobody'"):
        export_fit(session, target, "nobody")
    empty = ExportSession("s", STARTED_WALL_UTC, [ExportAthlete("a", "A", [], [], 0.0)])
    with pytest.raises(ExportError, match="no heart-rate samples"):
        export_fit(empty, target, "a")
    naive = ExportSession("s", datetime(2024, 5, 1, 10), session.athletes)
    with pytest.raises(ExportError, match="timezone"):
        export_csv(naive, tmp_path / "x.csv")
    assert target.read_bytes() == b"keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.fit"]
