"""Athletes' heart rate and video are for the laptop's user alone, whatever the umask.

Every folder the store and the recorder make is 0700 and every file 0600; a data folder that an
older Trackside left open to other users is closed, and the log says so (paths and modes only).
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest

from desktop.store import DB_NAME, Store
from tests.support.trackside import trackside_command, trackside_env
from tests.support.waiting import wait_until

RECORDING_TIMEOUT_S = 120  # a 3 s recording that has not ended by then has hung
WAL_WAIT_S = 60  # the recording's store writer opens the data file within seconds of launch

pytestmark = pytest.mark.skipif(os.name == "nt", reason="Windows grants access by ACLs, not file modes")


@contextlib.contextmanager
def loosest_umask():
    """Umask 000: anything not made private by the code itself would be open to everyone."""
    before = os.umask(0)
    try:
        yield
    finally:
        os.umask(before)


def modes_under(root: Path) -> dict[str, int]:
    """Every folder and file under `root` (and `root` itself, as '.'), with its permission bits."""
    paths = [root, *root.rglob("*")]
    return {str(p.relative_to(root)): stat.S_IMODE(p.lstat().st_mode) for p in paths}


def not_private(root: Path, modes: dict[str, int]) -> dict[str, str]:
    """The paths whose mode is not 0700 (a folder) or 0600 (a file)."""
    return {p: oct(m) for p, m in modes.items() if m != (0o700 if (root / p).is_dir() else 0o600)}


def test_the_data_file_and_the_files_sqlite_keeps_beside_it_are_private(tmp_path):
    data_dir = tmp_path / "coach" / "Trackside"
    with loosest_umask(), Store.open(data_dir) as store:
        store.create_session(started_wall_utc=datetime.now(timezone.utc), started_mono_s=1.0, hr_specs=["sim:1"],
                             camera_spec=None)
        modes = modes_under(data_dir)  # while the store is open: the WAL and shared-memory files exist
    assert {DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm", "video"} <= set(modes)
    assert not_private(data_dir, modes) == {}


def test_a_data_folder_an_older_trackside_left_open_is_made_private(data_dir, caplog):
    with Store.open(data_dir):
        pass
    older_trackside = sqlite_left_open(data_dir)  # its WAL and shared-memory files take the data file's 0644
    try:
        with caplog.at_level(logging.WARNING), Store.open(data_dir):
            modes = modes_under(data_dir)
    finally:
        older_trackside.close()
    assert not_private(data_dir, modes) == {}
    for path, mode in [(data_dir, "0755"), (data_dir / "video", "0755"), (data_dir / DB_NAME, "0644"),
                       (data_dir / f"{DB_NAME}-wal", "0644")]:
        assert f"{path} was open to other users of this computer (mode {mode})" in caplog.text


def sqlite_left_open(data_dir: Path):
    """What an older Trackside left: folders 0755, the data file 0644, and a connection still open."""
    import sqlite3

    for folder in (data_dir, data_dir / "video"):
        folder.chmod(0o755)
    (data_dir / DB_NAME).chmod(0o644)
    conn = sqlite3.connect(data_dir / DB_NAME, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("UPDATE athletes SET consent = consent")  # a write: the WAL file exists
    assert (data_dir / f"{DB_NAME}-wal").exists()
    return conn


def test_every_file_a_real_recording_makes_is_for_its_owner_only(tmp_path):
    """`trackside record --headless --hr sim:1 --camera synthetic` under umask 000, feedback on."""
    data_dir = tmp_path / "data"
    command = ["sh", "-c", 'umask 000 && exec "$@"', "sh", *trackside_command("entry_point"), "record",
               "--headless", "--hr", "sim:1", "--camera", "synthetic", "--duration", "3", "--data-dir", str(data_dir)]
    recording = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 env=trackside_env())
    side_files: dict[str, int] = {}
    try:
        wait_until(lambda: _side_files_seen(data_dir, side_files) or recording.poll() is not None, WAL_WAIT_S,
                   "the recording's WAL and SHM files")
    finally:
        _, stderr = recording.communicate(timeout=RECORDING_TIMEOUT_S)
    assert recording.returncode == 0, stderr
    assert {name: oct(mode) for name, mode in side_files.items()} == {f"{DB_NAME}-wal": "0o600",
                                                                      f"{DB_NAME}-shm": "0o600"}

    modes = modes_under(data_dir)
    assert DB_NAME in modes and "models" in modes
    assert len([p for p in modes if p.endswith(".avi")]) >= 2
    assert not_private(data_dir, modes) == {}


def _side_files_seen(data_dir: Path, seen: dict[str, int]) -> bool:
    """Note the modes of SQLite's -wal and -shm files once both exist (they go when the store closes)."""
    for suffix in ("-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            seen[DB_NAME + suffix] = stat.S_IMODE((data_dir / (DB_NAME + suffix)).stat().st_mode)
    return len(seen) == 2
