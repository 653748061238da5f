"""The one thread that writes a recording into the store, in batches no older than a second.

What goes wrong is told apart by whose fault it is. An event the store would not keep is refused
at `put`, on the caller's thread, and never joins a batch. A batch the database still refuses (a
constraint, a value it cannot bind: a bug, not the disk) is written again one event at a time, and
only the events that fail are set aside, counted and logged by type. A fault of the disk (full,
I/O, locked) keeps the whole batch and tries again after a bounded backoff; `close` reports what
is still unwritten then. Nothing ends the thread but `close`: an unexpected exception is logged,
counted, and the writer goes on.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from desktop.store import checks
from desktop.store.models import StoreError, UnstorableEvent
from desktop.store.store import Store, is_disk_error

logger = logging.getLogger(__name__)

MAX_BATCH_AGE_S = 1.0  # the most a committed event may have waited: a crash loses at most this much
MAX_BATCH_EVENTS = 2_000  # commit early past this many events: such a batch commits in ~0.1 s (measured)
WAKE_S = 0.05  # how often a waiting writer looks at its clock (real seconds) while a batch is open
RETRY_MAX_S = 8.0  # the longest wait between two tries at a failing disk: a freed disk is used within it
UNEXPECTED_PAUSE_S = 0.05  # real seconds the writer pauses after a bug, so a repeating one cannot spin a core
_CLOSE = object()  # put on the queue by close(): flush what is left and end


@dataclass(frozen=True)
class WriterStats:
    """What the writer has done so far."""

    events_received: int = 0
    rows_written: int = 0
    batches: int = 0
    max_batch_age_s: float = 0.0  # by the injected clock, from put() to commit
    failed_commits: int = 0  # commits the disk refused; their batch was kept and tried again
    events_set_aside: int = 0  # events the database refused one by one: logged by type, not stored
    unexpected_errors: int = 0  # bugs the writer met, logged, and went on past


class StoreWriter:
    """Takes events from any thread (`put` never waits for the disk) and commits them in batches.

    A batch is committed when its oldest event is `flush_interval_s` old (by `clock`), when it
    holds MAX_BATCH_EVENTS, or on `close`. A commit the disk refuses keeps the batch and tries
    again after a backoff that doubles up to RETRY_MAX_S; `close` raises StoreError if anything is
    still unwritten then.
    """

    def __init__(self, data_dir: Path, session_id: str, *, flush_interval_s: float = 0.5,
                 clock: Callable[[], float] = time.monotonic):
        if not 0 < flush_interval_s <= MAX_BATCH_AGE_S:
            raise ValueError(f"flush_interval_s must be in (0, {MAX_BATCH_AGE_S}] s, got {flush_interval_s}")
        self._data_dir = Path(data_dir)
        self._session_id = session_id
        self._flush_interval_s = flush_interval_s
        self._clock = clock
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._counts = {name: 0 for name in ("events_received", "rows_written", "batches", "failed_commits",
                                             "events_set_aside", "unexpected_errors")}
        self._max_batch_age_s = 0.0
        self._stats_lock = threading.Lock()
        self._batch: list[tuple[float, object]] = []  # (put time by the clock, event), oldest first
        self._due_s = 0.0  # by the injected clock, when the open batch must be committed (or retried)
        self._retries = 0  # failed commits in a row of the batch now open
        self._last_disk_error: BaseException | None = None
        self._pause = threading.Event()  # never set: its wait is the bounded pause after a bug
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._closing = False  # set on the writer thread once it has taken the close request
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=f"store-writer-{session_id[:8]}", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._failure is not None:
            self._thread.join()
            raise self._failure

    @property
    def stats(self) -> WriterStats:
        with self._stats_lock:
            return WriterStats(max_batch_age_s=self._max_batch_age_s, **self._counts)

    def put(self, event: object) -> None:
        """Queue an event for the next batch.

        An event the store would not keep (a kind it does not store, a missing channel, a heart
        rate out of range, a NaN RR interval, ...) raises UnstorableEvent here, on the caller's
        thread, and is not queued; it is a ValueError and a TypeError too. A closed writer raises
        StoreError.
        """
        if self._closed:
            raise StoreError("this store writer is closed")
        if self._failure is not None:
            raise StoreError(f"the store writer stopped: {self._failure}") from self._failure
        checks.check_storable(event)
        self._queue.put((self._clock(), event))

    def close(self) -> None:
        """Commit what is left and end the writer thread; StoreError if events were left unwritten."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(_CLOSE)
        self._thread.join()
        if self._failure is not None:
            raise StoreError(f"the store writer stopped: {self._failure}") from self._failure

    # -- the writer thread ------------------------------------------------------------------

    def _run(self) -> None:
        try:
            store = Store.open(self._data_dir)
            store.session(self._session_id)
        except BaseException as exc:  # whatever it is, the waiting constructor must hear of it
            self._failure = exc
            return
        finally:
            self._ready.set()
        with store:
            while not self._closing:
                self._guarded_step(store)
        if self._batch:
            self._failure = StoreError(f"{len(self._batch)} events could not be written when the recording "
                                       f"closed: {_describe(self._last_disk_error)}")

    def _guarded_step(self, store: Store) -> None:
        try:
            self._step(store)
        except Exception as exc:  # a bug: the recording goes on, the batch stays for the next try
            self._note_unexpected(exc, "the store writer")
            self._pause.wait(UNEXPECTED_PAUSE_S)

    def _step(self, store: Store) -> None:
        """Take the next event (or a timeout) and commit the batch if it is due."""
        item = self._next()
        if item is _CLOSE:
            self._closing = True  # first: whatever happens below, the thread ends
            if self._batch:
                self._flush(store)
            return
        if item is not None:
            self._add(item)
        if self._batch and self._flush_due():
            self._flush(store)

    def _next(self) -> object:
        if not self._batch:
            return self._queue.get()
        wait_s = min(WAKE_S, max(0.0, self._due_s - self._clock()))
        try:
            return self._queue.get(timeout=wait_s)
        except queue.Empty:
            return None

    def _add(self, item: tuple[float, object]) -> None:
        if not self._batch:
            self._due_s = item[0] + self._flush_interval_s
        self._batch.append(item)
        self._count(events_received=1)

    def _flush_due(self) -> bool:
        """Due by age, or by size unless the disk is failing (then only the backoff says when)."""
        full = len(self._batch) >= MAX_BATCH_EVENTS and self._retries == 0
        return full or self._clock() >= self._due_s

    def _flush(self, store: Store) -> None:
        """Commit the batch; a disk fault keeps it for a later try."""
        try:
            written = self._commit(store, [event for _, event in self._batch])
        except Exception as exc:  # the disk, or a bug outside any one event: keep the batch
            self._retry_later(exc)
            return
        self._committed(written)

    def _commit(self, store: Store, events: list[object]) -> int:
        """Write the events in one go; if the database refuses them, write them one at a time."""
        try:
            return store.write_events(self._session_id, events)
        except Exception as exc:
            if _keeps_the_batch(exc):
                raise
            self._note_refused_batch(exc, len(events))
        result = store.write_events_each(self._session_id, events)
        for event, exc in result.set_aside:
            self._set_aside(event, exc)
        return result.rows_written

    def _note_refused_batch(self, exc: Exception, size: int) -> None:
        if not isinstance(exc, _EVENT_ERRORS):
            self._note_unexpected(exc, f"a batch of {size} events")
        logger.warning("a batch of %d events was refused (%s); writing it one event at a time", size,
                       _describe(exc))

    def _set_aside(self, event: object, exc: Exception) -> None:
        self._count(events_set_aside=1)
        logger.error("set aside a %s the store could not write: %s", type(event).__name__, _describe(exc))

    def _retry_later(self, exc: Exception) -> None:
        if not _keeps_the_batch(exc):
            self._note_unexpected(exc, "committing a batch")
        self._last_disk_error = exc
        delay_s = min(self._flush_interval_s * 2 ** self._retries, RETRY_MAX_S)
        self._retries += 1
        self._due_s = self._clock() + delay_s
        self._count(failed_commits=1)
        logger.error("committing %d events failed, will retry in %.1f s: %s", len(self._batch), delay_s,
                     _describe(exc))

    def _committed(self, written: int) -> None:
        age_s = self._clock() - self._batch[0][0]  # from put() to a durable commit: what a crash could have lost
        self._batch, self._retries = [], 0
        self._count(rows_written=written, batches=1)
        with self._stats_lock:
            self._max_batch_age_s = max(self._max_batch_age_s, age_s)

    def _note_unexpected(self, exc: BaseException, where: str) -> None:
        self._count(unexpected_errors=1)
        logger.error("unexpected %s in %s (a bug); the writer goes on. Raised at %s", _describe(exc), where,
                     _raised_at(exc))

    def _count(self, **increments: int) -> None:
        with self._stats_lock:
            for name, step in increments.items():
                self._counts[name] += step


_EVENT_ERRORS = (sqlite3.IntegrityError, sqlite3.InterfaceError, sqlite3.DataError, ValueError, TypeError,
                 OverflowError)
"""What a bad event raises in an insert (a constraint, a value SQLite cannot bind): expected, not a bug."""


def _keeps_the_batch(exc: BaseException) -> bool:
    """Whether writing the same batch later may succeed: the disk failed, or the session is unreachable."""
    return is_disk_error(exc) or (isinstance(exc, StoreError) and not isinstance(exc, UnstorableEvent))


def _describe(exc: BaseException | None) -> str:
    """An error for the log: its type, and its message only where that cannot quote a reading.

    SQLite's and the store's own messages name tables, columns and fields; a message from
    elsewhere (int(), float(), a bug) might quote the heart rate it choked on, so it is left out.
    """
    if exc is None:
        return "no error recorded"
    if isinstance(exc, (sqlite3.Error, StoreError)):
        return f"{type(exc).__name__}: {exc}"
    return f"{type(exc).__name__} (message not logged: it may quote a reading)"


def _raised_at(exc: BaseException) -> str:
    """The frames an exception came through, as file:line function: no source text, so no value."""
    frames = traceback.extract_tb(exc.__traceback__)
    return " <- ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(frames))
