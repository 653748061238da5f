"""The sync outbox in the local store: what waits to go to the team's cloud, and what went.

One row per finished session (kept 'done' with the hash the cloud confirmed), one per labels
record sent after a sync, one per athlete's deletion (kept until the cloud confirms it). Rows are
never removed by the sync: a row 'done' is the laptop's record that the cloud has it.
The token is not here (keyring keeps it); the server's address and this laptop's device id are.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

OUTBOX_KINDS = ("session", "labels", "deletion")
OUTBOX_STATES = ("pending", "done", "failed")


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: int
    kind: str
    session_id: str | None
    athlete_ref: str | None
    request_id: str | None
    bundle_path: str | None
    sha256: str | None
    superseded_sha256: str | None
    size_bytes: int | None
    sent_bytes: int
    labels_version: int | None
    state: str
    attempts: int
    next_attempt_s: float
    last_error: str | None
    created_utc: str
    done_utc: str | None
    answer: dict | None


@dataclass(frozen=True, slots=True)
class SyncServer:
    """The service this laptop is enrolled with (the token itself is in keyring, not here)."""

    url: str
    device_id: str
    team: str
    allow_http: bool
    enrolled_utc: str


def _utc_now() -> str:
    return datetime.now(timezone.utc).isoformat()


def _item(row: sqlite3.Row) -> OutboxItem:
    values = {key: row[key] for key in row.keys() if key != "answer_json"}
    return OutboxItem(**values, answer=None if row["answer_json"] is None else json.loads(row["answer_json"]))


class SyncOutbox:
    """The outbox side of `Store`; it needs `self._conn` and `self._transaction()`."""

    _conn: sqlite3.Connection
    data_dir: Path

    # -- the athletes' cloud names ------------------------------------------------------------

    def athlete_ref(self, athlete_id: int, *, create: bool = False) -> str | None:
        """The random id the cloud knows this athlete by (made on first use when `create`)."""
        row = self._conn.execute("SELECT ref FROM sync_athlete_refs WHERE athlete_id = ?", (athlete_id,)).fetchone()
        if row is not None or not create:
            return None if row is None else row["ref"]
        ref = str(uuid.uuid4())
        with self._transaction():
            self._conn.execute("INSERT OR IGNORE INTO sync_athlete_refs (athlete_id, ref) VALUES (?, ?)",
                               (athlete_id, ref))
        return self.athlete_ref(athlete_id)

    # -- filling the outbox ----------------------------------------------------------------------

    def enqueue_finished_sessions(self) -> int:
        """Put every finished session that is not in the outbox yet into it; how many were added."""
        with self._transaction():
            return self._conn.execute(
                """INSERT OR IGNORE INTO sync_outbox (kind, session_id, created_utc)
                   SELECT 'session', id, ? FROM sessions WHERE status != 'recording'
                   AND id NOT IN (SELECT session_id FROM sync_outbox WHERE kind = 'session')
                   ORDER BY started_wall_utc""", (_utc_now(),)).rowcount

    def unqueued_session_count(self) -> int:
        """Finished sessions the next sync pass will put into the outbox (a read; nothing is written)."""
        return self._conn.execute(
            """SELECT COUNT(*) FROM sessions WHERE status != 'recording'
               AND id NOT IN (SELECT session_id FROM sync_outbox WHERE kind = 'session')""").fetchone()[0]

    def enqueue_labels(self, session_id: str, version: int) -> None:
        """Labels of a synced session changed: send them as `version` (a pending record is bumped)."""
        with self._transaction():
            bumped = self._conn.execute(
                "UPDATE sync_outbox SET labels_version = ? WHERE kind = 'labels' AND session_id = ? "
                "AND state != 'done'", (version, session_id)).rowcount
            if not bumped:
                self._conn.execute("INSERT INTO sync_outbox (kind, session_id, labels_version, created_utc) "
                                   "VALUES ('labels', ?, ?, ?)", (session_id, version, _utc_now()))

    def _enqueue_deletion(self, athlete_id: int) -> None:
        """Inside a store transaction: erase this athlete in the cloud too, if anything of theirs was sent.

        Bundles not yet confirmed are dropped and built again, so they no longer carry the athlete;
        the hash they had is kept, in case the cloud already holds that content.
        """
        row = self._conn.execute("SELECT ref FROM sync_athlete_refs WHERE athlete_id = ?", (athlete_id,)).fetchone()
        if row is None:
            return
        self._conn.execute("INSERT INTO sync_outbox (kind, athlete_ref, request_id, created_utc) "
                           "VALUES ('deletion', ?, ?, ?)", (row["ref"], str(uuid.uuid4()), _utc_now()))
        for stale in self._conn.execute("SELECT id, bundle_path FROM sync_outbox WHERE kind = 'session' "
                                        "AND state != 'done' AND sha256 IS NOT NULL").fetchall():
            self._conn.execute("UPDATE sync_outbox SET superseded_sha256 = sha256, sha256 = NULL, bundle_path = NULL,"
                               " size_bytes = NULL, sent_bytes = 0 WHERE id = ?", (stale["id"],))
            self._drop_bundle_file(stale["bundle_path"])

    def _drop_bundle_file(self, bundle_path: str | None) -> None:
        if bundle_path:
            (self.data_dir / bundle_path).unlink(missing_ok=True)

    # -- reading it ----------------------------------------------------------------------------------

    def outbox_items(self, *, states: tuple[str, ...] = OUTBOX_STATES) -> list[OutboxItem]:
        marks = ",".join("?" * len(states))
        found = self._conn.execute(f"SELECT * FROM sync_outbox WHERE state IN ({marks}) ORDER BY id", states)
        return [_item(r) for r in found]

    def outbox_item(self, item_id: int) -> OutboxItem:
        return _item(self._conn.execute("SELECT * FROM sync_outbox WHERE id = ?", (item_id,)).fetchone())

    def outbox_due(self, now_s: float) -> list[OutboxItem]:
        found = self._conn.execute("SELECT * FROM sync_outbox WHERE state = 'pending' AND next_attempt_s <= ? "
                                   "ORDER BY id", (now_s,))
        return [_item(r) for r in found]

    def synced_session(self, session_id: str) -> OutboxItem | None:
        row = self._conn.execute("SELECT * FROM sync_outbox WHERE kind = 'session' AND session_id = ? "
                                 "AND state = 'done'", (session_id,)).fetchone()
        return None if row is None else _item(row)

    def last_labels_sent(self, session_id: str) -> OutboxItem | None:
        row = self._conn.execute("SELECT * FROM sync_outbox WHERE kind = 'labels' AND session_id = ? "
                                 "ORDER BY labels_version DESC, id DESC LIMIT 1", (session_id,)).fetchone()
        return None if row is None else _item(row)

    # -- the sync's progress -------------------------------------------------------------------------

    def set_bundle(self, item_id: int, bundle_path: str, sha256: str, size_bytes: int, *,
                   superseded_sha256: str | None = None) -> None:
        """Record the bundle built for an item (and the hash of the one it replaces, if any)."""
        values = {"superseded_sha256": superseded_sha256} if superseded_sha256 else {}
        self._update(item_id, bundle_path=bundle_path, sha256=sha256, size_bytes=size_bytes, sent_bytes=0, **values)

    def note_sent(self, item_id: int, sent_bytes: int) -> None:
        self._update(item_id, sent_bytes=sent_bytes)

    def mark_done(self, item_id: int, answer: dict) -> None:
        """The cloud confirmed the item; its bundle file is no longer needed."""
        item = self.outbox_item(item_id)
        self._update(item_id, state="done", done_utc=_utc_now(), answer_json=json.dumps(answer), last_error=None,
                     bundle_path=None)
        self._drop_bundle_file(item.bundle_path)

    def mark_retry(self, item_id: int, *, attempts: int, next_attempt_s: float, error: str, give_up: bool) -> None:
        self._update(item_id, attempts=attempts, next_attempt_s=next_attempt_s, last_error=error,
                     state="failed" if give_up else "pending")

    def postpone(self, item_ids: list[int], until_s: float) -> None:
        """Make items due no earlier than `until_s` (by the sync clock), without counting an attempt."""
        with self._transaction():
            self._conn.executemany("UPDATE sync_outbox SET next_attempt_s = MAX(next_attempt_s, ?) WHERE id = ?",
                                   [(until_s, item_id) for item_id in item_ids])

    def retry_failed(self) -> int:
        """Make every failed item due again (the coach pressed 'sync now'); how many."""
        with self._transaction():
            return self._conn.execute("UPDATE sync_outbox SET state = 'pending', attempts = 0, next_attempt_s = 0 "
                                      "WHERE state = 'failed'").rowcount

    def _update(self, item_id: int, **values: object) -> None:
        assignments = ", ".join(f"{name} = ?" for name in values)
        with self._transaction():
            self._conn.execute(f"UPDATE sync_outbox SET {assignments} WHERE id = ?", (*values.values(), item_id))

    # -- the enrolled server ------------------------------------------------------------------------

    def sync_server(self) -> SyncServer | None:
        row = self._conn.execute("SELECT * FROM sync_server WHERE id = 1").fetchone()
        if row is None:
            return None
        return SyncServer(row["url"], row["device_id"], row["team"], bool(row["allow_http"]), row["enrolled_utc"])

    def set_sync_server(self, url: str, device_id: str, team: str, allow_http: bool) -> SyncServer:
        with self._transaction():
            self._conn.execute("INSERT OR REPLACE INTO sync_server (id, url, device_id, team, allow_http, enrolled_utc)"
                               " VALUES (1, ?, ?, ?, ?, ?)", (url, device_id, team, int(allow_http), _utc_now()))
        return self.sync_server()
