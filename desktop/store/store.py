"""The local store: one SQLite file per data directory, written so that a crash loses nothing committed.

Durability choice: WAL journal with `synchronous=FULL`. WAL keeps readers (the UI, the CLI) from
blocking the one writer, and a killed process never corrupts the file in either NORMAL or FULL.
NORMAL may lose the last commits on a power cut (a laptop battery running flat at the trackside);
FULL makes every commit durable, and because the writer commits in batches (about two a second)
the extra fsync per commit costs nothing a coach would notice.

Privacy: the data directory and its video folder are created 0700 and the data file 0600 before
SQLite opens it; SQLite gives the -wal and -shm files it creates the data file's mode. A data
directory or file found open to other users (an older Trackside made them 0755 and 0644) is
tightened, with a log line naming the path.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

from desktop.sources.events import FeedbackEvent
from desktop.sources.heart_rate.base import HeartRateSample
from desktop.store import checks, rows
from desktop.store.models import SESSION_STATUSES, Athlete, AthleteNotFound, StoreError, VideoSegment
from desktop.store.outbox import SyncOutbox
from desktop.store.reads import SessionReads
from desktop.store.schema import migrate, refuse_newer, schema_version
from edge_models.durable import PRIVATE_FILE_MODE, make_private_dir, make_private_file, tighten

logger = logging.getLogger(__name__)

DB_NAME = "trackside.sqlite"
VIDEO_DIR_NAME = "video"
BUSY_TIMEOUT_S = 10.0  # how long a connection waits for another one's write lock before failing
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")  # what SQLite keeps beside the data file


def _connect(path: Path) -> sqlite3.Connection:
    """Open the data file in WAL mode with foreign keys on; a damaged or unreadable file is a StoreError."""
    try:
        conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_S)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open the data file {path}: {exc}") from exc
    try:
        _configure(conn, path)
    except BaseException as exc:
        conn.close()
        if isinstance(exc, sqlite3.Error):
            raise StoreError(f"the data file {path} cannot be used: {exc} (it was not changed)") from exc
        raise
    return conn


def _private_data_file(path: Path) -> Path:
    """The data file, created 0600 if new; it and SQLite's files beside it tightened if looser."""
    make_private_file(path)
    for suffix in SQLITE_SIDE_FILES:
        tighten(path.with_name(path.name + suffix), PRIVATE_FILE_MODE)
    return path


def _configure(conn: sqlite3.Connection, path: Path) -> None:
    conn.row_factory = sqlite3.Row
    refuse_newer(conn)  # before anything below writes to the file
    mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    if mode.lower() != "wal":
        raise StoreError(f"{path}: the file system does not support SQLite's WAL journal (got {mode!r})")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")


def is_disk_error(exc: BaseException) -> bool:
    """A fault of the disk or the data file (full, I/O error, locked, damaged), not of the events written.

    Writing the same events again later may succeed; a constraint or a value SQLite cannot bind
    (IntegrityError, InterfaceError, ValueError, ...) will fail the same way every time.
    """
    return isinstance(exc, (sqlite3.OperationalError, OSError)) or type(exc) is sqlite3.DatabaseError


@dataclass
class EachWritten:
    """What `Store.write_events_each` did: rows kept, and the events set aside with their errors."""

    rows_written: int = 0
    set_aside: list[tuple[object, Exception]] = field(default_factory=list)


def _utc_text(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("started_wall_utc must carry a time zone (e.g. datetime.now(timezone.utc))")
    return moment.astimezone(timezone.utc).isoformat()


class Store(SessionReads, SyncOutbox):
    """The coach's sessions, athletes, labels and video index in `data_dir/trackside.sqlite`."""

    def __init__(self, data_dir: Path, conn: sqlite3.Connection):
        self.data_dir = data_dir
        self.video_dir = data_dir / VIDEO_DIR_NAME
        self._conn = conn
        self.schema_version = schema_version(conn)

    @classmethod
    def open(cls, data_dir: Path) -> "Store":
        """Open (creating or migrating) the store of a data directory."""
        data_dir = Path(data_dir)
        make_private_dir(data_dir)
        make_private_dir(data_dir / VIDEO_DIR_NAME)
        conn = _connect(_private_data_file(data_dir / DB_NAME))
        try:
            migrate(conn)
        except BaseException:
            conn.close()
            raise
        return cls(data_dir, conn)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _transaction(self) -> "_Transaction":
        return _Transaction(self._conn)

    # -- athletes ---------------------------------------------------------------------------

    def add_athlete(self, name: str, hr_max_bpm: int, hr_rest_bpm: int, *, consent: bool = True,
                    zones: list | None = None, consent_cloud: bool = False,
                    consent_training: bool = False) -> Athlete:
        """Add a squad member; a duplicate name or impossible heart-rate limits raise ValueError.

        `consent` is consent to record heart rate; sending to the cloud and training use are
        separate choices, NO unless given.
        """
        name = _checked_profile(name, hr_max_bpm, hr_rest_bpm)
        zones_json = None if zones is None else json.dumps(zones)
        with self._transaction():
            if self.athlete_by_name(name) is not None:
                raise ValueError(f"an athlete called {name!r} already exists")
            cursor = self._conn.execute(
                """INSERT INTO athletes (name, hr_max_bpm, hr_rest_bpm, zones_json, consent, consent_cloud,
                   consent_training, consent_changed_utc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                (name, int(hr_max_bpm), int(hr_rest_bpm), zones_json, int(consent), int(consent_cloud),
                 int(consent_training), _now_utc_text()))
        return self._athlete(cursor.lastrowid)

    def update_athlete(self, athlete_id: int, *, name: str, hr_max_bpm: int, hr_rest_bpm: int,
                       zones: list | None = None) -> Athlete:
        """Change an athlete's name, heart-rate limits and zones (None: zones from HRmax)."""
        name = _checked_profile(name, hr_max_bpm, hr_rest_bpm)
        with self._transaction():
            other = self.athlete_by_name(name)
            if other is not None and other.id != athlete_id:
                raise ValueError(f"an athlete called {name!r} already exists")
            cursor = self._conn.execute(
                "UPDATE athletes SET name = ?, hr_max_bpm = ?, hr_rest_bpm = ?, zones_json = ? WHERE id = ?",
                (name, int(hr_max_bpm), int(hr_rest_bpm), None if zones is None else json.dumps(zones), athlete_id))
            if cursor.rowcount == 0:
                raise AthleteNotFound(f"no athlete with id {athlete_id}")
        return self._athlete(athlete_id)

    def list_athletes(self) -> list[Athlete]:
        return [_athlete_from_row(r) for r in self._conn.execute("SELECT * FROM athletes ORDER BY name")]

    def athlete_by_name(self, name: str) -> Athlete | None:
        row = self._conn.execute("SELECT * FROM athletes WHERE name = ?", (name.strip(),)).fetchone()
        return None if row is None else _athlete_from_row(row)

    def athlete(self, athlete_id: int) -> Athlete:
        """One athlete by id; AthleteNotFound when there is none."""
        return self._athlete(athlete_id)

    def _athlete(self, athlete_id: int) -> Athlete:
        row = self._conn.execute("SELECT * FROM athletes WHERE id = ?", (athlete_id,)).fetchone()
        if row is None:
            raise AthleteNotFound(f"no athlete with id {athlete_id}")
        return _athlete_from_row(row)

    def set_consent(self, athlete_id: int, record: bool | None = None, *, cloud: bool | None = None,
                    training: bool | None = None) -> Athlete:
        """Record an athlete's answer to any of the three consent questions (None: unchanged).

        `record`: keep their heart rate at all; `cloud`: send it to the team's cloud; `training`:
        use it to train the team's models.
        """
        changes = {"consent": record, "consent_cloud": cloud, "consent_training": training}
        changes = {column: int(bool(value)) for column, value in changes.items() if value is not None}
        if not changes:
            raise ValueError("say which consent changes: record, cloud or training")
        assignments = ", ".join(f"{column} = ?" for column in changes)
        with self._transaction():
            cursor = self._conn.execute(
                f"UPDATE athletes SET {assignments}, consent_changed_utc = ? WHERE id = ?",
                (*changes.values(), _now_utc_text(), athlete_id))
            if cursor.rowcount == 0:
                raise AthleteNotFound(f"no athlete with id {athlete_id}")
            if cloud is False:
                self._enqueue_deletion(athlete_id)  # withdrawing cloud consent erases what the cloud holds
        return self._athlete(athlete_id)

    def pair_strap(self, athlete_id: int, address: str, strap_name: str | None = None) -> Athlete:
        """Pair a heart-rate strap to an athlete; a strap paired to someone else moves to this one."""
        address = address.strip().upper()
        if not address:
            raise ValueError("a strap needs its Bluetooth address")
        self._athlete(athlete_id)
        with self._transaction():
            self._conn.execute("UPDATE athletes SET strap_address = NULL, strap_name = NULL "
                               "WHERE strap_address = ? AND id != ?", (address, athlete_id))
            self._conn.execute("UPDATE athletes SET strap_address = ?, strap_name = ? WHERE id = ?",
                               (address, strap_name, athlete_id))
        return self._athlete(athlete_id)

    def unpair_strap(self, athlete_id: int) -> Athlete:
        self._athlete(athlete_id)
        with self._transaction():
            self._conn.execute("UPDATE athletes SET strap_address = NULL, strap_name = NULL WHERE id = ?",
                               (athlete_id,))
        return self._athlete(athlete_id)

    def athlete_by_strap(self, address: str) -> Athlete | None:
        row = self._conn.execute("SELECT * FROM athletes WHERE strap_address = ?",
                                 (address.strip().upper(),)).fetchone()
        return None if row is None else _athlete_from_row(row)

    def delete_athlete_data(self, athlete_id: int) -> int:
        """Erase an athlete's heart rate, RR, gaps and model feedback from every session.

        The athlete, the sessions and the channel rows stay (the session list still shows that
        someone was there); returns how many rows were erased.
        """
        self._athlete(athlete_id)
        channels = "SELECT session_id, channel FROM session_channels WHERE athlete_id = ?"
        erased = 0
        with self._transaction():
            for table in ("rr_intervals", "hr_samples", "gaps", "feedback_events"):
                erased += self._conn.execute(
                    f"DELETE FROM {table} WHERE (session_id, channel) IN ({channels})", (athlete_id,)).rowcount
            self._enqueue_deletion(athlete_id)  # and in the team's cloud, once it confirms
        logger.info("erased %d rows of athlete %d", erased, athlete_id)
        return erased

    # -- sessions ---------------------------------------------------------------------------

    def create_session(self, *, started_wall_utc: datetime, started_mono_s: float, hr_specs: list[str],
                       camera_spec: str | None, note: str = "") -> str:
        """Start a session in status 'recording'; the wall-clock start is stored here, once."""
        session_id = str(uuid.uuid4())
        with self._transaction():
            self._conn.execute(
                """INSERT INTO sessions (id, started_wall_utc, started_mono_s, status, hr_specs_json, camera_spec,
                   note) VALUES (?, ?, ?, 'recording', ?, ?, ?)""",
                (session_id, _utc_text(started_wall_utc), float(started_mono_s), json.dumps(list(hr_specs)),
                 camera_spec, note))
        return session_id

    def finish_session(self, session_id: str, *, ended_mono_s: float, status: str = "completed") -> None:
        if status not in SESSION_STATUSES or status == "recording":
            raise ValueError(f"a finished session is 'completed' or 'interrupted', not {status!r}")
        session_id = self.session(session_id).id
        with self._transaction():
            self._conn.execute("UPDATE sessions SET ended_mono_s = ?, status = ? WHERE id = ?",
                               (float(ended_mono_s), status, session_id))

    def add_channel(self, session_id: str, channel: str, display_name: str, athlete_id: int | None = None) -> None:
        """Say who wears `channel` in this session (their name, and their athlete record if known)."""
        if athlete_id is not None:
            self._athlete(athlete_id)
        with self._transaction():
            rows.upsert_channel(self._conn, session_id, channel, display_name, athlete_id)

    def write_events(self, session_id: str, events: Sequence[object]) -> int:
        """Store a batch of source events in ONE transaction: all of them, or (on error) none.

        Every event is checked first: one the store would not keep raises UnstorableEvent and
        nothing is written. Heart rate and feedback of an athlete who withdrew consent are not
        kept. Returns the rows written.
        """
        for event in events:
            checks.check_storable(event)
        session_id = self._session_row(session_id)["id"]
        written = 0
        with self._transaction():
            refused = self._channels_without_consent(session_id)
            for event in events:
                written += self._insert(session_id, event, refused)
        return written

    def write_events_each(self, session_id: str, events: Sequence[object]) -> EachWritten:
        """Store a batch one event at a time, in one transaction: an event that fails is set aside.

        Each event gets its own savepoint, so one the database refuses (a constraint, a value it
        cannot bind) is rolled back alone and the others are kept. A fault of the disk or of the
        file (see `is_disk_error`) rolls back the whole batch and is raised.
        """
        session_id = self._session_row(session_id)["id"]
        result = EachWritten()
        with self._transaction():
            refused = self._channels_without_consent(session_id)
            for event in events:
                self._insert_alone(session_id, event, refused, result)
        return result

    def _insert_alone(self, session_id: str, event: object, refused: set[str], result: "EachWritten") -> None:
        self._conn.execute("SAVEPOINT one_event")
        try:
            checks.check_storable(event)
            written = self._insert(session_id, event, refused)
        except Exception as exc:
            self._conn.execute("ROLLBACK TO one_event")
            self._conn.execute("RELEASE one_event")
            if is_disk_error(exc):
                raise
            result.set_aside.append((event, exc))
            return
        self._conn.execute("RELEASE one_event")
        result.rows_written += written

    def _insert(self, session_id: str, event: object, refused: set[str]) -> int:
        if isinstance(event, (HeartRateSample, FeedbackEvent)) and event.channel in refused:
            return 0
        return rows.INSERTERS[type(event)](self._conn, session_id, event)

    def _channels_without_consent(self, session_id: str) -> set[str]:
        found = self._conn.execute(
            """SELECT c.channel FROM session_channels c JOIN athletes a ON a.id = c.athlete_id
               WHERE c.session_id = ? AND a.consent = 0""", (session_id,))
        return {r["channel"] for r in found}

    def add_video_segment(self, session_id: str, segment: VideoSegment) -> None:
        checks.check_storable(segment)
        session_id = self._session_row(session_id)["id"]
        with self._transaction():
            rows.insert_segment(self._conn, session_id, segment)

    def add_label(self, session_id: str, *, start_mono_s: float, end_mono_s: float, label: str,
                  channel: str | None = None, labelled_by: str = "coach") -> int:
        """Name what happened between two instants (for one athlete's channel, or everyone)."""
        if not end_mono_s > start_mono_s:
            raise ValueError(f"a label ends after it starts (got {start_mono_s} to {end_mono_s})")
        if not label.strip():
            raise ValueError("a label needs a class name")
        session_id = self.session(session_id).id
        with self._transaction():
            cursor = self._conn.execute(
                """INSERT INTO labels (session_id, start_mono_s, end_mono_s, label, channel, labelled_by)
                   VALUES (?, ?, ?, ?, ?, ?)""",
                (session_id, float(start_mono_s), float(end_mono_s), label.strip(), channel, labelled_by))
        return cursor.lastrowid

    def delete_label(self, label_id: int) -> None:
        """Remove a label given by mistake (a wrong label would teach the models the wrong thing)."""
        with self._transaction():
            if self._conn.execute("DELETE FROM labels WHERE id = ?", (label_id,)).rowcount == 0:
                raise StoreError(f"no label with id {label_id}")

    # -- after a crash ----------------------------------------------------------------------

    def recover_interrupted(self) -> list[str]:
        """Close sessions a killed process left 'recording': 'interrupted', ended at their last event.

        Call it when the app starts, before any recording. Partial video segments (never indexed)
        of those sessions are removed. Returns the ids of the sessions recovered.
        """
        found = [r["id"] for r in self._conn.execute("SELECT id FROM sessions WHERE status = 'recording'")]
        for session_id in found:
            ended = self._last_event_mono_s(session_id)
            with self._transaction():
                self._conn.execute("UPDATE sessions SET status = 'interrupted', ended_mono_s = ? WHERE id = ?",
                                   (ended, session_id))
            removed = self._remove_partial_video(session_id)
            logger.warning("session %s was interrupted; closed at its last event, %d partial video file(s) "
                           "removed", session_id, removed)
        return found

    def _last_event_mono_s(self, session_id: str) -> float:
        row = self._conn.execute(
            """SELECT MAX(t) FROM (
                 SELECT started_mono_s AS t FROM sessions WHERE id = :s
                 UNION ALL SELECT MAX(t_mono_s) FROM hr_samples WHERE session_id = :s
                 UNION ALL SELECT MAX(end_mono_s) FROM gaps WHERE session_id = :s
                 UNION ALL SELECT MAX(t_mono_s) FROM markers WHERE session_id = :s
                 UNION ALL SELECT MAX(t_mono_s) FROM source_problems WHERE session_id = :s
                 UNION ALL SELECT MAX(t_mono_s) FROM feedback_events WHERE session_id = :s
                 UNION ALL SELECT MAX(end_mono_s) FROM video_segments WHERE session_id = :s)""",
            {"s": session_id}).fetchone()
        return row[0]

    def _remove_partial_video(self, session_id: str) -> int:
        from desktop.store.video import PARTIAL_SUFFIX  # video imports OpenCV: only when needed

        folder = self.video_dir / session_id
        partial = list(folder.glob(f"*{PARTIAL_SUFFIX}")) if folder.is_dir() else []
        for path in partial:
            path.unlink()
        return len(partial)

    def integrity_problems(self) -> list[str]:
        """What SQLite's integrity and foreign-key checks find wrong; empty when the file is sound."""
        found = [r[0] for r in self._conn.execute("PRAGMA integrity_check") if r[0] != "ok"]
        found += [f"foreign key: {tuple(r)}" for r in self._conn.execute("PRAGMA foreign_key_check")]
        return found


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, rolled back when the block raises."""

    def __init__(self, conn: sqlite3.Connection):
        self._conn = conn

    def __enter__(self) -> None:
        self._conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._conn.execute("ROLLBACK" if exc_type is not None else "COMMIT")


def _now_utc_text() -> str:
    return datetime.now(timezone.utc).isoformat()


def _checked_profile(name: str, hr_max_bpm: int, hr_rest_bpm: int) -> str:
    """The athlete's name, stripped; ValueError for no name or impossible heart-rate limits."""
    name = name.strip()
    if not name:
        raise ValueError("an athlete needs a name")
    if not 0 < hr_rest_bpm < hr_max_bpm:
        raise ValueError(f"{name}: resting HR must be above 0 and below max HR")
    return name


def _athlete_from_row(row: sqlite3.Row) -> Athlete:
    changed = row["consent_changed_utc"]
    return Athlete(
        id=row["id"], name=row["name"], hr_max_bpm=row["hr_max_bpm"], hr_rest_bpm=row["hr_rest_bpm"],
        zones=None if row["zones_json"] is None else json.loads(row["zones_json"]), consent=bool(row["consent"]),
        consent_changed_utc=None if changed is None else datetime.fromisoformat(changed),
        consent_cloud=bool(row["consent_cloud"]), consent_training=bool(row["consent_training"]),
        strap_address=row["strap_address"], strap_name=row["strap_name"])
