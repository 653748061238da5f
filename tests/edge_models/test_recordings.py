"""The recordings reader on the real FIT/TCX activities and pyhrv RR series."""

from __future__ import annotations

import numpy as np
import pytest

from edge_models.recordings import (
    RecordingError,
    distinct_real_recordings,
    read_recording,
    read_rr_series,
    real_recordings,
)
from tests.support.assets import real_asset


def test_the_same_ride_reads_the_same_from_fit_and_from_tcx():
    fit = read_recording(real_asset("/4801048867.fit"))
    tcx = read_recording(real_asset("activity_4801048867.tcx"))
    assert fit.start_utc == tcx.start_utc
    np.testing.assert_array_equal(fit.time_s, tcx.time_s)
    np.testing.assert_array_equal(fit.hr_bpm, tcx.hr_bpm)
    np.testing.assert_allclose(fit.speed_mps, tcx.speed_mps, atol=0.01)
    np.testing.assert_array_equal(fit.lap_starts_s, tcx.lap_starts_s)


@pytest.fixture(scope="module")
def long_ride():
    return read_recording(real_asset("/4078723797.fit"))


def test_a_long_ride_has_every_channel_at_one_hertz(long_ride):
    ride = long_ride
    assert ride.name == "4078723797"
    assert 139 * 60 < ride.duration_s < 140 * 60
    assert np.all(np.diff(ride.time_s) > 0)
    assert np.all((ride.hr_bpm > 30) & (ride.hr_bpm < 220))
    for column in (ride.speed_mps, ride.power_w, ride.cadence_rpm):
        assert column is not None and column.shape == ride.time_s.shape
    assert ride.rr_s is None  # the sweat files carry no hrv messages


def test_a_run_without_speed_or_power_says_none_for_them():
    run = read_recording(real_asset("3173437224.tcx"))
    assert run.speed_mps is None and run.power_w is None
    assert run.cadence_rpm is not None
    assert run.time_s[0] == 0.0 and 65 * 60 < run.duration_s < 66 * 60


def test_a_multisport_file_keeps_its_missing_speed_as_nan():
    multi = read_recording(real_asset("6471559601_ACTIVITY.fit"))
    assert multi.speed_mps is not None
    assert np.isnan(multi.speed_mps).any() and np.isfinite(multi.speed_mps).any()
    np.testing.assert_array_equal(multi.lap_starts_s, [0.0, 24.0, 36.0])


def test_real_recordings_are_all_with_heart_rate_and_longest_first(long_ride):
    paths = real_recordings()
    assert len(paths) == 9  # every sweat activity carries heart rate
    assert paths[0].stem == long_ride.name  # the 139-minute ride
    shortest = read_recording(paths[-1])
    assert 0 < shortest.duration_s < long_ride.duration_s
    assert all(shortest.duration_s <= read_recording(p).duration_s for p in paths if p.suffix == ".tcx")


def test_distinct_recordings_keep_each_activity_once_preferring_fit():
    distinct = distinct_real_recordings()
    starts = [read_recording(p).start_utc for p in distinct if p.suffix == ".tcx"]
    assert len(distinct) == 6 and len(set(starts)) == len(starts)
    names = {p.name for p in distinct}
    assert "4801048867.fit" in names and "activity_4801048867.tcx" not in names
    assert set(distinct) <= set(real_recordings())


def test_a_tcx_without_heart_rate_is_refused(tmp_path):
    path = tmp_path / "nohr.tcx"
    path.write_text(
        '<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2">'
        "<Activities><Activity Sport=\"Running\"><Lap StartTime=\"2024-05-01T10:00:00Z\"><Track>"
        "<Trackpoint><Time>2024-05-01T10:00:00Z</Time></Trackpoint>"
        "<Trackpoint><Time>2024-05-01T10:00:01Z</Time></Trackpoint>"
        "</Track></Lap></Activity></Activities></TrainingCenterDatabase>"
    )
    with pytest.raises(RecordingError, match="no heart rate"):
        read_recording(path)


def test_a_tcx_with_unprefixed_namespaces_and_unordered_points_is_read(tmp_path):
    path = tmp_path / "shuffled.tcx"
    point = "<Trackpoint><Time>{t}</Time><HeartRateBpm><Value>{hr}</Value></HeartRateBpm></Trackpoint>"
    points = "".join(point.format(t=t, hr=hr) for t, hr in [
        ("2024-05-01T10:00:02Z", 122), ("2024-05-01T10:00:00Z", 120), ("2024-05-01T10:00:00Z", 999),
        ("2024-05-01T12:00:05+02:00", 125)])
    path.write_text(
        '<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2">'
        f"<Activities><Activity><Lap StartTime=\"2024-05-01T10:00:00Z\"><Track>{points}"
        "</Track></Lap></Activity></Activities></TrainingCenterDatabase>")
    recording = read_recording(path)
    np.testing.assert_array_equal(recording.time_s, [0.0, 2.0, 5.0])
    np.testing.assert_array_equal(recording.hr_bpm, [120.0, 122.0, 125.0])
    assert recording.speed_mps is None


def test_garbage_is_refused_with_the_file_name(tmp_path):
    for name, content in [("junk.fit", b"not a fit file at all"), ("junk.tcx", b"<oops")]:
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(RecordingError, match=name):
            read_recording(path)
    with pytest.raises(RecordingError, match="not a FIT or TCX"):
        read_recording(tmp_path / "notes.txt")


def test_pyhrv_nn_series_is_read_in_seconds():
    raw_ms = np.load(real_asset("SampleNNISeriesShort.npy"))
    rr_s = read_rr_series(real_asset("SampleNNISeriesShort.npy"))
    assert rr_s.dtype == np.float64 and len(rr_s) == len(raw_ms)
    assert rr_s[0] == raw_ms[0] / 1000
    assert 295 < rr_s.sum() < 305  # "short" is five minutes of beats


def test_a_bad_rr_series_is_refused(tmp_path):
    path = tmp_path / "bad.npy"
    np.save(path, np.array([[800, 810], [820, 830]]))
    with pytest.raises(RecordingError, match="1-D"):
        read_rr_series(path)
    np.save(path, np.array([800.0, -1.0]))
    with pytest.raises(RecordingError, match="positive"):
        read_rr_series(path)
