"""The sync worker: empties the outbox into the team's cloud, one item at a time, never twice.

A session is marked synced only when the cloud's answer names the hash of the bundle that was
sent. A failure leaves the item in the outbox with a time for the next try (see `backoff`), taken
from an injectable clock; past its cap of attempts it waits for the coach ('sync now'). With no
network, a pass ends at the first item that cannot reach the cloud: the others would not either.
"""

from __future__ import annotations

import hashlib
import logging
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from cloud_client.client import CloudClient, CloudError, SessionConflict, Timeouts
from cloud_client.protocol import DEFAULT_CHUNK_BYTES, canonical_json
from desktop.store import Store, StoreError
from desktop.store.outbox import OutboxItem
from desktop.sync import backoff
from desktop.sync.bundle import build_bundle, labels_for_cloud
from desktop.sync.credentials import TokenStore

logger = logging.getLogger(__name__)

PROGRESS_EVERY_BYTES = 32 * 1024**2  # how often an upload's progress is written to the outbox
DEFAULT_INTERVAL_S = 60.0  # the background sync looks at the outbox at least this often
MIN_WAIT_S = 0.5  # and never more often than this, whatever is due
_LOCAL_LABELS_KEY = "local_labels_sha256"  # kept with a done item: the labels content the cloud has


class NotEnrolledHere(Exception):
    """This laptop has no enrolment (or its token is gone): `trackside sync enrol URL CODE` first."""


@dataclass
class SyncReport:
    """What one pass did."""

    sent: list[int] = field(default_factory=list)  # outbox ids the cloud confirmed in this pass
    failed: list[tuple[int, str]] = field(default_factory=list)  # (outbox id, why), to be tried again
    stopped: str | None = None  # why the pass ended early (no network, not enrolled)


def labels_sha256(labels: list[dict]) -> str:
    return hashlib.sha256(canonical_json(labels)).hexdigest()


def enrol(data_dir: Path, url: str, code: str, *, allow_http: bool = False, device_name: str | None = None,
          ca_file: Path | None = None, token_store: TokenStore | None = None) -> dict:
    """Spend a one-time code at `url`; the token goes to keyring (or the user-only file), never the store."""
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    tokens = token_store or TokenStore(data_dir)
    with CloudClient(url, allow_http=allow_http, ca_file=ca_file) as client:
        answer = client.enrol(code, device_name or socket.gethostname())
    tokens.save(answer["device_id"], answer["token"])
    with Store.open(data_dir) as store:
        store.set_sync_server(client.base_url, answer["device_id"], answer["team"], allow_http)
        store.retry_failed()  # what waited for a new enrolment goes on the next pass
    return {"device_id": answer["device_id"], "team": answer["team"], "url": client.base_url,
            "token_kept_in": tokens.where}


class SyncEngine:
    """One pass over the outbox of `data_dir` with `run_once`; `BackgroundSync` runs passes on a thread."""

    def __init__(self, data_dir: Path, *, clock: Callable[[], float] = time.time, token_store: TokenStore | None = None,
                 timeouts: Timeouts = Timeouts(), ca_file: Path | None = None, chunk_bytes: int = DEFAULT_CHUNK_BYTES):
        self.data_dir = Path(data_dir)
        self._clock = clock
        self._tokens = token_store or TokenStore(self.data_dir)
        self._timeouts = timeouts
        self._ca_file = ca_file
        self._chunk_bytes = chunk_bytes
        self.progress: dict[int, tuple[int, int]] = {}  # outbox id -> (bytes sent, bytes in all), while sending

    def run_once(self) -> SyncReport:
        """Fill the outbox with what is new, then send what is due; never raises for a network fault."""
        report = SyncReport()
        with Store.open(self.data_dir) as store:
            store.enqueue_finished_sessions()
            self._enqueue_label_changes(store)
            try:
                client = self._client(store)
            except NotEnrolledHere as exc:
                report.stopped = str(exc)
                return report
            with client:
                due = store.outbox_due(self._clock())
                for position, item in enumerate(due):
                    if not self._attempt(store, client, item, report):
                        self._postpone_the_rest(store, item, due[position + 1:])
                        break
        return report

    def _postpone_the_rest(self, store: Store, failed: OutboxItem, untried: list[OutboxItem]) -> None:
        """No network (or no valid token): the items not tried wait as long as the one that failed."""
        until_s = store.outbox_item(failed.id).next_attempt_s
        store.postpone([item.id for item in untried], until_s)

    def seconds_until_due(self) -> float | None:
        """How long until the next outbox item is due by the engine's clock (None: nothing waits)."""
        with Store.open(self.data_dir) as store:
            pending = store.outbox_items(states=("pending",))
        if not pending:
            return None
        return max(0.0, min(item.next_attempt_s for item in pending) - self._clock())

    def _client(self, store: Store) -> CloudClient:
        server = store.sync_server()
        token = None if server is None else self._tokens.load(server.device_id)
        if server is None or token is None:
            raise NotEnrolledHere("this laptop is not enrolled with a team's cloud: run `trackside sync enrol URL CODE`")
        return CloudClient(server.url, token, allow_http=server.allow_http, timeouts=self._timeouts,
                           ca_file=self._ca_file)

    def _attempt(self, store: Store, client: CloudClient, item: OutboxItem, report: SyncReport) -> bool:
        """Send one item; False when the pass should stop (no network, token refused)."""
        try:
            answer = self._send(store, client, item)
        except (CloudError, StoreError, OSError) as exc:
            kind = backoff.failure_kind(exc)
            self._note_failure(store, item, kind, exc, report)
            return kind not in (backoff.FailureKind.NETWORK, backoff.FailureKind.NOT_ENROLLED)
        finally:
            self.progress.pop(item.id, None)
        store.mark_done(item.id, answer)
        report.sent.append(item.id)
        logger.info("outbox item %d (%s) is in the cloud", item.id, item.kind)
        return True

    def _note_failure(self, store: Store, item: OutboxItem, kind: backoff.FailureKind, exc: BaseException,
                      report: SyncReport) -> None:
        attempts = item.attempts + 1
        give_up = backoff.gives_up(kind, attempts)
        store.mark_retry(item.id, attempts=attempts, next_attempt_s=self._clock() + backoff.delay_s(kind, attempts),
                         error=f"{kind.value}: {exc}", give_up=give_up)
        report.failed.append((item.id, str(exc)))
        if kind in (backoff.FailureKind.NETWORK, backoff.FailureKind.NOT_ENROLLED):
            report.stopped = str(exc)
        logger.warning("outbox item %d (%s) not sent (%s, attempt %d%s)", item.id, item.kind, kind.value, attempts,
                       ", giving up until 'sync now'" if give_up else "")

    def _send(self, store: Store, client: CloudClient, item: OutboxItem) -> dict:
        if item.kind == "session":
            return self._send_session(store, client, item)
        if item.kind == "labels":
            return self._send_labels(store, client, item)
        answer = client.request_deletion(item.request_id, item.athlete_ref)
        if answer.get("request_id") != item.request_id:
            raise CloudError("the cloud confirmed another deletion than the one asked for")
        return answer

    # -- sessions ---------------------------------------------------------------------------------

    def _send_session(self, store: Store, client: CloudClient, item: OutboxItem) -> dict:
        item = self._with_bundle(store, item)
        labels_sha = labels_sha256(labels_for_cloud(store, item.session_id))
        progress = _ProgressNote(store, item.id, self.progress)
        try:
            answer = client.upload_bundle(item.session_id, self.data_dir / item.bundle_path, item.sha256,
                                          chunk_bytes=self._chunk_bytes, progress=progress)
        except SessionConflict:
            answer = self._earlier_content(client, item)
        return {**answer, _LOCAL_LABELS_KEY: labels_sha}

    def _with_bundle(self, store: Store, item: OutboxItem) -> OutboxItem:
        """The item with a bundle file on disk: the one built before, or a new one."""
        if item.sha256 is not None and (self.data_dir / item.bundle_path).exists():
            return item
        built = build_bundle(store, item.session_id)
        lost = item.sha256 if item.sha256 not in (None, built.sha256) else None  # the cloud may hold the lost one
        store.set_bundle(item.id, built.path.relative_to(self.data_dir).as_posix(), built.sha256, built.size_bytes,
                         superseded_sha256=lost)
        return store.outbox_item(item.id)

    def _earlier_content(self, client: CloudClient, item: OutboxItem) -> dict:
        """The cloud holds this session with other content: fine only if it is a bundle this laptop sent."""
        held = client.session(item.session_id)
        if item.superseded_sha256 is None or held.get("sha256") != item.superseded_sha256:
            raise SessionConflict(f"the cloud holds session {item.session_id[:8]} with content this laptop did not "
                                  "send", 422, "session_conflict")
        logger.info("session %s: the cloud has the bundle sent before a deletion; the deletion follows",
                    item.session_id)
        return held

    # -- labels after a sync ------------------------------------------------------------------------

    def _enqueue_label_changes(self, store: Store) -> None:
        for item in store.outbox_items(states=("done",)):
            if item.kind != "session":
                continue
            last = store.last_labels_sent(item.session_id)
            if last is not None and last.state != "done":
                continue  # a record is waiting: it sends the labels as they are then
            sent_sha = (last or item).answer.get(_LOCAL_LABELS_KEY) if (last or item).answer else None
            if labels_sha256(labels_for_cloud(store, item.session_id)) != sent_sha:
                store.enqueue_labels(item.session_id, (last.labels_version if last else 0) + 1)

    def _send_labels(self, store: Store, client: CloudClient, item: OutboxItem) -> dict:
        labels = labels_for_cloud(store, item.session_id)
        answer = client.put_labels(item.session_id, item.labels_version, labels)
        if answer.get("version") != item.labels_version:
            raise CloudError("the cloud confirmed another version of the labels")
        return {**answer, _LOCAL_LABELS_KEY: labels_sha256(labels)}


class _ProgressNote:
    """Upload progress: kept in memory for the status, written to the outbox every few megabytes."""

    def __init__(self, store: Store, item_id: int, progress: dict[int, tuple[int, int]]):
        self._store, self._item_id, self._progress = store, item_id, progress
        self._written = 0

    def __call__(self, sent_bytes: int, total_bytes: int) -> None:
        self._progress[self._item_id] = (sent_bytes, total_bytes)
        if sent_bytes - self._written >= PROGRESS_EVERY_BYTES or sent_bytes == total_bytes:
            self._store.note_sent(self._item_id, sent_bytes)
            self._written = sent_bytes


class BackgroundSync:
    """Runs `engine.run_once` on its own thread when an item is due (at least every `interval_s`), and at
    once on `sync_now()`."""

    def __init__(self, engine: SyncEngine, *, interval_s: float = DEFAULT_INTERVAL_S):
        self.engine = engine
        self._interval_s = interval_s
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._idle = threading.Event()
        self.last_report: SyncReport | None = None
        self.passes = 0
        self._thread = threading.Thread(target=self._run, name="cloud-sync", daemon=True)

    def start(self) -> "BackgroundSync":
        self._thread.start()
        return self

    def sync_now(self) -> None:
        self._idle.clear()
        self._wake.set()

    def wait_idle(self, timeout_s: float) -> bool:
        """Wait until the pass asked for by `sync_now` (or the current one) is over."""
        return self._idle.wait(timeout_s)

    def stop(self, timeout_s: float = 30.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                self.last_report = self.engine.run_once()
            except Exception:  # a bug or a broken store: logged, and the next pass tries again
                logger.exception("a sync pass failed")
            self.passes += 1
            if not self._wake.is_set():
                self._idle.set()
            self._wake.wait(self._next_wait_s())

    def _next_wait_s(self) -> float:
        """Until the next item is due (a retry after 2 s happens after 2 s), at most `interval_s`."""
        report = self.last_report
        if report is not None and report.stopped and not report.failed:
            return self._interval_s  # not enrolled: nothing is sent until `sync_now` after an enrolment
        try:
            due_s = self.engine.seconds_until_due()
        except Exception:  # the store cannot be read now: look again after the usual interval
            logger.exception("could not read the outbox")
            return self._interval_s
        return self._interval_s if due_s is None else min(self._interval_s, max(MIN_WAIT_S, due_s))
