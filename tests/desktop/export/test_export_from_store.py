"""`trackside sessions export`: a session written to a real SQLite store, exported, read back."""

from __future__ import annotations

import csv
from datetime import datetime, timezone

import fitdecode
import pytest

from desktop.export import ExportError, export_session
from desktop.sources.events import Marker
from desktop.sources.heart_rate.base import HeartRateSample
from desktop.store import Store
from edge_models.recordings import read_recording
from tests.support.assets import real_asset

START_MONO_S = 500.0
STRAP = "C4:7C:8D:6A:11:02"  # a BLE address: not a safe file name as it is


@pytest.fixture
def stored(data_dir):
    """A session with two athletes' real heart rate and one squad-wide lap mark at 30 s."""
    ride = read_recording(real_asset("6471559601_ACTIVITY.fit"))
    with Store.open(data_dir) as store:
        session_id = store.create_session(started_wall_utc=datetime(2025, 5, 3, 9, 30, tzinfo=timezone.utc),
                                          started_mono_s=START_MONO_S, hr_specs=["replay:x"], camera_spec=None)
        events: list = [Marker(START_MONO_S + 30.0, "lap")]
        for channel, name, shift_s in ((STRAP, "Ana", 0.0), ("sim-2", "Bo", 0.5)):
            store.add_channel(session_id, channel, name)
            events += [HeartRateSample(channel, START_MONO_S + shift_s + t, int(hr))
                       for t, hr in zip(ride.time_s, ride.hr_bpm)]
        store.write_events(session_id, events)
        yield store, session_id, [int(h) for h in ride.hr_bpm]


def test_fit_export_gives_one_file_per_athlete_with_their_laps(stored, tmp_path):
    store, session_id, hr = stored
    paths = export_session(store, session_id, "fit", tmp_path)
    assert sorted(p.name for p in paths) == sorted([f"{session_id}-C4_7C_8D_6A_11_02.fit", f"{session_id}-sim-2.fit"])
    for path in paths:
        with fitdecode.FitReader(path, check_crc=fitdecode.CrcCheck.RAISE) as reader:
            messages = [f for f in reader if isinstance(f, fitdecode.FitDataMessage)]
        assert [m.get_value("heart_rate") for m in messages if m.name == "record"] == hr
        assert len([m for m in messages if m.name == "lap"]) == 2


def test_csv_and_tcx_exports_hold_the_whole_squad(stored, tmp_path):
    store, session_id, hr = stored
    [csv_path] = export_session(store, session_id[:8], "csv", tmp_path)  # a unique id prefix will do
    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 * len(hr) and {r["athlete"] for r in rows} == {"Ana", "Bo"}
    assert rows[0]["wall_time_utc"] == "2025-05-03T09:30:00.000+00:00"
    [tcx_path] = export_session(store, session_id, "tcx", tmp_path)
    assert tcx_path.read_text().count("<Activity ") == 2


def test_unknown_format_is_refused(stored, tmp_path):
    store, session_id, _ = stored
    with pytest.raises(ExportError, match="gpx"):
        export_session(store, session_id, "gpx", tmp_path / "exports")
    assert not (tmp_path / "exports").exists()


def test_a_fit_export_of_a_session_without_heart_rate_is_a_clear_export_error(data_dir, tmp_path):
    with Store.open(data_dir) as store:
        session_id = store.create_session(started_wall_utc=datetime(2025, 5, 3, 9, 30, tzinfo=timezone.utc),
                                          started_mono_s=START_MONO_S, hr_specs=["ble:any"], camera_spec=None)
        store.add_channel(session_id, STRAP, "Ana")  # a strap that connected and sent nothing stored
        with pytest.raises(ExportError, match=f"session {session_id} has no heart rate to export as FIT"):
            export_session(store, session_id, "fit", tmp_path / "exports")
    assert not (tmp_path / "exports").exists()


def test_an_out_path_that_names_a_file_is_a_clear_export_error(stored, tmp_path):
    store, session_id, _ = stored
    taken = tmp_path / "notes.txt"
    taken.write_text("the coach's notes")
    for fmt in ("csv", "fit"):
        with pytest.raises(ExportError, match="notes.txt is a file: name a folder"):
            export_session(store, session_id, fmt, taken)
        with pytest.raises(ExportError, match="cannot write the export into"):
            export_session(store, session_id, fmt, taken / "inside")
    assert taken.read_text() == "the coach's notes"
