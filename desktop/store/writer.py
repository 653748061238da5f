"""The one thread that writes a recording into the store, in batches no older than a second."""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from desktop.store import rows
from desktop.store.models import StoreError
from desktop.store.store import Store

logger = logging.getLogger(__name__)

MAX_BATCH_AGE_S = 1.0  # the most a committed event may have waited: a crash loses at most this much
MAX_BATCH_EVENTS = 2_000  # commit early past this many events: such a batch commits in ~0.1 s (measured)
WAKE_S = 0.05  # how often a waiting writer looks at its clock (real seconds) while a batch is open
_CLOSE = object()  # put on the queue by close(): flush what is left and end


@dataclass(frozen=True)
class WriterStats:
    """What the writer has done so far."""

    events_received: int = 0
    rows_written: int = 0
    batches: int = 0
    max_batch_age_s: float = 0.0  # by the injected clock, from put() to commit
    failed_commits: int = 0


class StoreWriter:
    """Takes events from any thread (`put` never waits for the disk) and commits them in batches.

    A batch is committed when its oldest event is `flush_interval_s` old (by `clock`), when it
    holds MAX_BATCH_EVENTS, or on `close`. A failed commit keeps the batch and tries again one
    interval later; `close` raises StoreError if anything is still unwritten then.
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
        self._counts = {"events_received": 0, "rows_written": 0, "batches": 0, "failed_commits": 0}
        self._max_batch_age_s = 0.0
        self._stats_lock = threading.Lock()
        self._ready = threading.Event()
        self._open_error: BaseException | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=f"store-writer-{session_id[:8]}", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._open_error is not None:
            self._thread.join()
            raise self._open_error

    @property
    def stats(self) -> WriterStats:
        with self._stats_lock:
            return WriterStats(max_batch_age_s=self._max_batch_age_s, **self._counts)

    def put(self, event: object) -> None:
        """Queue an event for the next batch; an event the store cannot keep raises TypeError now."""
        if self._closed:
            raise StoreError("this store writer is closed")
        if self._open_error is not None:
            raise StoreError(f"the store writer stopped: {self._open_error}") from self._open_error
        rows.check_storable(event)
        self._queue.put((self._clock(), event))

    def close(self) -> None:
        """Commit what is left and end the writer thread."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(_CLOSE)
        self._thread.join()
        if self._open_error is not None:
            raise StoreError(f"the store writer stopped: {self._open_error}") from self._open_error

    # -- the writer thread ------------------------------------------------------------------

    def _run(self) -> None:
        try:
            store = Store.open(self._data_dir)
            store.session(self._session_id)
        except (StoreError, sqlite3.Error, OSError) as exc:
            self._open_error = exc
            self._ready.set()
            return
        self._ready.set()
        with store:
            try:
                self._loop(store)
            except Exception as exc:  # a bug here must not leave put() feeding a dead thread unnoticed
                logger.exception("the store writer failed")
                self._open_error = exc

    def _loop(self, store: Store) -> None:
        batch: list[tuple[float, object]] = []
        due_s = 0.0  # by the injected clock, when the open batch must be committed
        while True:
            item = self._next(batch, due_s)
            if item is _CLOSE:
                self._final_flush(store, batch)
                return
            if item is not None:
                if not batch:
                    due_s = item[0] + self._flush_interval_s
                batch.append(item)
            if batch and (self._clock() >= due_s or len(batch) >= MAX_BATCH_EVENTS):
                batch, due_s = self._flush(store, batch, due_s)
            if item is not None:
                self._count(events_received=1)

    def _next(self, batch: list, due_s: float) -> object:
        if not batch:
            return self._queue.get()
        wait_s = min(WAKE_S, max(0.0, due_s - self._clock()))
        try:
            return self._queue.get(timeout=wait_s)
        except queue.Empty:
            return None

    def _flush(self, store: Store, batch: list, due_s: float) -> tuple[list, float]:
        """Commit the batch; on failure keep it and retry one interval later."""
        try:
            written = store.write_events(self._session_id, [event for _, event in batch])
        except (StoreError, sqlite3.Error, OSError) as exc:
            logger.error("committing %d events failed, will retry: %s", len(batch), exc)
            self._count(failed_commits=1)
            return batch, self._clock() + self._flush_interval_s
        age_s = self._clock() - batch[0][0]  # from put() to a durable commit: what a crash could have lost
        self._count(rows_written=written, batches=1)
        with self._stats_lock:
            self._max_batch_age_s = max(self._max_batch_age_s, age_s)
        return [], due_s

    def _final_flush(self, store: Store, batch: list) -> None:
        if not batch:
            return
        batch, _ = self._flush(store, batch, 0.0)
        if batch:
            self._open_error = StoreError(f"{len(batch)} events could not be written when the recording closed")

    def _count(self, **increments: int) -> None:
        with self._stats_lock:
            for name, step in increments.items():
                self._counts[name] += step
