"""The rowing interval corpus: rowingdata's real sessions read once each, at 1 Hz."""

from __future__ import annotations

import numpy as np
import pytest

from edge_models.assets import AssetMissing, source_folder
from edge_models.recordings import RecordingError
from training.rowing import MAX_GAP_S, distinct_sessions, read_rowing_file

CORPUS_MIN_SESSIONS = 20  # the floor for a leave-one-session-out score


def _write_strokes(path, times_s, hr_bpm, power_w, delimiter=","):
    lines = ["Workout data for: somebody", delimiter.join(["Time (sec)", "Heart Rate", "Power (W)",
                                                            "Workout State"])]
    for t, hr, p in zip(times_s, hr_bpm, power_w):
        lines.append(delimiter.join([f"{t:.1f}", f"{hr:.0f}", f"{p:.0f}",
                                     "Rest" if p == 0 else "Work"]))
    path.write_text("\n".join(lines))


def test_a_stroke_log_becomes_one_hertz_with_its_rest_marks(tmp_path):
    times = np.arange(0.0, 600.0, 2.5)  # a stroke every 2.5 s
    hr = 120 + 20 * np.sin(times / 60)
    power = np.where((times // 120) % 2 == 0, 200.0, 0.0)
    _write_strokes(tmp_path / "log.csv", times, hr, power, delimiter=";")
    session = read_rowing_file(tmp_path / "log.csv")
    rec = session.recording
    assert rec.time_s[1] - rec.time_s[0] == 1.0 and rec.duration_s == pytest.approx(597, abs=1)
    np.testing.assert_allclose(rec.hr_bpm[::5][:50], (120 + 20 * np.sin(rec.time_s[::5] / 60))[:50],
                               atol=0.6)  # the log keeps whole bpm
    assert session.rest_1hz is not None and session.rest_1hz[130] == 1.0 and session.rest_1hz[10] == 0.0


def test_a_pause_longer_than_the_gap_stays_a_hole_and_a_clock_reset_continues(tmp_path):
    first = np.arange(0.0, 300.0, 2.0)
    second = np.arange(0.0, 300.0, 2.0)  # the ergometer's clock restarts for the second piece
    times = np.r_[first, second]
    hr, power = np.full(times.size, 140.0), np.full(times.size, 180.0)
    _write_strokes(tmp_path / "pieces.csv", times, hr, power)
    rec = read_rowing_file(tmp_path / "pieces.csv").recording
    assert rec.duration_s == pytest.approx(596, abs=2)  # one piece after the other
    assert np.isfinite(rec.hr_bpm).all()  # the restart is no gap longer than MAX_GAP_S
    assert MAX_GAP_S < 30


def test_a_file_without_heart_rate_is_refused(tmp_path):
    (tmp_path / "nohr.csv").write_text("Time (sec),Power (W)\n1,100\n2,120\n")
    with pytest.raises(RecordingError, match="heart rate"):
        read_rowing_file(tmp_path / "nohr.csv")


def test_the_corpus_has_enough_distinct_real_sessions_and_no_export_twice():
    try:
        folder = source_folder("rowingdata")
    except AssetMissing as exc:
        pytest.skip(str(exc))
    sessions = distinct_sessions(folder)
    files = {s.file for s in sessions}
    assert len(sessions) >= CORPUS_MIN_SESSIONS
    assert not ({"bc1.csv", "EUBoatCoach.csv"} <= files)  # one row exported twice counts once
    assert "ergstick.csv_o.CSV" not in files  # rowingdata's own export of a file already read
    assert all(np.nanmax(s.recording.hr_bpm) < 230 for s in sessions)
