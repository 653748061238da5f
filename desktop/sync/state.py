"""What the coach sees of the sync, without Qt: a status object the Sync screen and `trackside sync status` show.

Errors are in a coach's words: what happened and what will happen next, not an HTTP status.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from desktop.store import DB_NAME, Store
from desktop.store.outbox import OutboxItem
from desktop.sync.credentials import TokenStore

_KIND_WORDS = {
    "network": "no connection to the team's cloud; it tries again by itself",
    "server": "the team's cloud had a problem; it tries again by itself",
    "refused": "the team's cloud asked to wait; it tries again by itself",
    "not_enrolled": "this laptop is no longer accepted by the team's cloud: enrol it again",
    "bad_bundle": "the team's cloud refused this session; ask your administrator (it stays on this laptop)",
}


@dataclass(frozen=True)
class OutboxLine:
    """One row of the Sync screen's outbox list."""

    item_id: int
    what: str  # "session 3f2a1c9e", "labels of session 3f2a1c9e (version 2)", "erase an athlete's data"
    state: str  # "waiting", "sending", "sent", "needs attention"
    progress: float | None  # 0..1 while a bundle is sent, else None
    problem: str | None  # in a coach's words
    next_try_utc: datetime | None


@dataclass(frozen=True)
class SyncStatus:
    enrolled: bool
    server_url: str | None
    team: str | None
    device_id: str | None
    waiting: int
    sent: int
    needs_attention: int
    last_sync_utc: datetime | None
    problem: str | None  # the newest problem, in words
    outbox: list[OutboxLine] = field(default_factory=list)

    @property
    def summary(self) -> str:
        if not self.enrolled:
            return "not connected to a team's cloud"
        if self.needs_attention:
            return f"{self.needs_attention} item(s) need attention; {self.waiting} waiting"
        if self.waiting:
            return f"{self.waiting} item(s) waiting to be sent"
        return "everything is in the team's cloud"


def read_status(data_dir: Path, *, progress: dict[int, tuple[int, int]] | None = None,
                token_store: TokenStore | None = None) -> SyncStatus:
    """The sync status of `data_dir`, read from the store alone (works with no network at all; writes nothing)."""
    if not (Path(data_dir) / DB_NAME).exists():
        return SyncStatus(False, None, None, None, 0, 0, 0, None, None)
    with Store.open(data_dir) as store:
        server = store.sync_server()
        items = store.outbox_items()
        not_queued_yet = store.unqueued_session_count()
    tokens = token_store or TokenStore(data_dir)
    enrolled = server is not None and tokens.load(server.device_id) is not None
    lines = [_line(item, (progress or {}).get(item.id)) for item in items]
    done = [i.done_utc for i in items if i.done_utc]
    problems = [line.problem for line in lines if line.problem]
    return SyncStatus(
        enrolled=enrolled, server_url=server and server.url, team=server and server.team,
        device_id=server and server.device_id, waiting=not_queued_yet + sum(i.state == "pending" for i in items),
        sent=sum(i.state == "done" for i in items), needs_attention=sum(i.state == "failed" for i in items),
        last_sync_utc=datetime.fromisoformat(max(done)) if done else None,
        problem=problems[-1] if problems else None, outbox=[line for line in lines if line.state != "sent"])


def coach_words(error: str | None) -> str | None:
    """An outbox error ('network: ...') as a sentence for the coach."""
    if not error:
        return None
    kind, _, _detail = error.partition(":")
    return _KIND_WORDS.get(kind, "the item could not be sent; it tries again by itself")


def _line(item: OutboxItem, sending: tuple[int, int] | None) -> OutboxLine:
    short = (item.session_id or "")[:8]
    what = {"session": f"session {short}", "labels": f"labels of session {short} (version {item.labels_version})",
            "deletion": "erase an athlete's data"}[item.kind]
    state = {"pending": "waiting", "done": "sent", "failed": "needs attention"}[item.state]
    progress = None
    if sending is not None and sending[1]:
        state, progress = "sending", sending[0] / sending[1]
    elif item.kind == "session" and item.size_bytes and item.state == "pending":
        progress = item.sent_bytes / item.size_bytes
    next_try = datetime.fromtimestamp(item.next_attempt_s, timezone.utc) if item.next_attempt_s else None
    return OutboxLine(item.id, what, state, progress, coach_words(item.last_error) if item.state != "done" else None,
                      next_try if item.state == "pending" else None)
