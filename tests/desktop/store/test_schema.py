"""An older data file is brought up to date without losing a sample; a newer one is left alone."""

from __future__ import annotations

import sqlite3

import pytest

from desktop.store import DB_NAME, SchemaTooNew, Store, StoreError
from desktop.store.schema import LATEST_VERSION, migrate


def _version_1_file(data_dir) -> None:
    """A data file as the first Trackside wrote it, with one session and one sample in it."""
    conn = sqlite3.connect(data_dir / DB_NAME, isolation_level=None)
    migrate(conn, target=1)
    conn.execute("INSERT INTO sessions (id, started_wall_utc, started_mono_s, status, hr_specs_json) "
                 "VALUES ('11111111-0000-4000-8000-000000000000', '2025-05-03T09:30:00+00:00', 5.0, 'completed', '[]')")
    conn.execute("INSERT INTO session_channels VALUES ('11111111-0000-4000-8000-000000000000', 'a', 'Ana', NULL)")
    conn.execute("INSERT INTO hr_samples (session_id, channel, t_mono_s, hr_bpm, sensor_contact) "
                 "VALUES ('11111111-0000-4000-8000-000000000000', 'a', 6.0, 133, 0)")
    conn.close()


def test_a_version_1_file_is_migrated_to_the_latest_and_keeps_its_data(data_dir):
    _version_1_file(data_dir)
    with Store.open(data_dir) as store:
        assert store.schema_version == LATEST_VERSION > 1
        assert [s.hr_bpm for s in store.hr_samples("11111111")] == [133]
        store.add_label("11111111", start_mono_s=5.0, end_mono_s=6.0, label="warm-up")  # a version-2 table
        assert [l.label for l in store.labels("11111111")] == ["warm-up"]
        assert store.integrity_problems() == []


def test_a_file_from_a_newer_trackside_is_refused_untouched(data_dir):
    conn = sqlite3.connect(data_dir / DB_NAME)
    conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    conn.close()
    before = (data_dir / DB_NAME).read_bytes()
    with pytest.raises(SchemaTooNew, match=f"schema version {LATEST_VERSION + 1}.*update Trackside"):
        Store.open(data_dir)
    assert (data_dir / DB_NAME).read_bytes() == before


def test_a_failed_migration_step_leaves_the_file_at_its_old_version(data_dir, monkeypatch):
    _version_1_file(data_dir)
    from desktop.store import schema

    broken = [*schema.MIGRATIONS[:1], [*schema.MIGRATIONS[1], "CREATE TABLE labels (x)"]]  # fails at its end
    monkeypatch.setattr(schema, "MIGRATIONS", broken)
    with pytest.raises(Exception, match="schema version 2 failed"):
        Store.open(data_dir)
    conn = sqlite3.connect(data_dir / DB_NAME)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    assert conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'feedback_events'").fetchone()[0] == 0
    conn.close()


def test_a_damaged_data_file_is_a_clear_error_and_is_left_as_it_was(data_dir):
    damaged = data_dir / DB_NAME
    damaged.write_bytes(b"not a database " * 400)
    with pytest.raises(StoreError, match=f"{DB_NAME} cannot be used: file is not a database"):
        Store.open(data_dir)
    assert damaged.read_bytes() == b"not a database " * 400
