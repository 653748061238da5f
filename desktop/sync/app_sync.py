"""The window's sync: the team's cloud (when this laptop is enrolled) or `make run`'s embedded one.

Qt-free. `AppSync.start` returns at once; the embedded service, when asked for, starts on a thread
of its own (it takes seconds), so the window never waits for it. A stopped session is sent at
once (`session_finished`); with no network, what waits stays in the outbox for the next pass.
Once enrolled, and holding the team's update root, it also checks for model updates
(desktop/sync/model_updates.py) every few hours and at once; `stop` ends those checks too.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from desktop.sync.embedded import LAST_SYNC_TIMEOUT_S, LocalCloudSync
from desktop.sync.engine import BackgroundSync, SyncEngine
from desktop.sync.model_updates import start_update_checks
from desktop.sync.state import SyncStatus, read_status

logger = logging.getLogger(__name__)

STOP_TIMEOUT_S = 30.0


class AppSync:
    """One background sync for the window's lifetime."""

    def __init__(self, data_dir: Path, *, embedded: bool = False, interval_s: float = 60.0):
        self.data_dir = Path(data_dir)
        self.embedded = embedded
        self._interval_s = interval_s
        self._lock = threading.Lock()
        self._local: LocalCloudSync | None = None
        self._background: BackgroundSync | None = None
        self._checks = None  # cloud_client.updates.PeriodicChecks once enrolled with a root of trust
        self._stopped = False
        self.problem: str | None = None  # why the embedded cloud is not there, in words
        self._starting = threading.Thread(target=self._start, name="cloud-sync-start", daemon=True)

    def start(self) -> "AppSync":
        self._starting.start()
        return self

    def _start(self) -> None:
        try:
            if self.embedded:
                local = LocalCloudSync.start(self.data_dir, interval_s=self._interval_s)
                with self._lock:
                    self._local, self._background = local, local.background
                self._start_update_checks()
            elif read_status(self.data_dir).enrolled:  # not enrolled: nothing runs until `enrolled()`
                self.enrolled()
        except Exception as exc:  # the embedded service's packages missing, its port taken: the app goes on
            logger.warning("the embedded cloud did not start: %s", exc)
            self.problem = f"the embedded cloud did not start: {exc}"

    def enrolled(self) -> None:
        """This laptop has its key: send in the background from now on (when a network is there)."""
        with self._lock:
            if self._background is None:
                self._background = BackgroundSync(SyncEngine(self.data_dir), interval_s=self._interval_s).start()
        self._start_update_checks()

    def _start_update_checks(self) -> None:
        """Model update checks now and every few hours, once (nothing without a root of trust)."""
        with self._lock:
            if self._checks is None and not self._stopped:
                self._checks = start_update_checks(self.data_dir)

    def check_updates_now(self) -> bool:
        """Look for model updates now (in the background); False when updates are off."""
        with self._lock:
            checks = self._checks
        if checks is not None:
            checks.check_now()
        return checks is not None

    @property
    def ready(self) -> bool:
        with self._lock:
            return self._background is not None

    def session_finished(self) -> None:
        """A session stopped: send it now (in the background)."""
        self.sync_now()

    def sync_now(self) -> None:
        with self._lock:
            background = self._background
        if background is not None:
            background.sync_now()

    def status(self) -> SyncStatus:
        """What the Sync screen shows; reads the store (call it off the Qt thread)."""
        with self._lock:
            progress = dict(self._background.engine.progress) if self._background is not None else None
        return read_status(self.data_dir, progress=progress)

    def stop(self) -> None:
        """A last pass for the embedded cloud (bounded), then the sync thread and any service stop."""
        self._starting.join(STOP_TIMEOUT_S)
        with self._lock:
            local, background, checks = self._local, self._background, self._checks
            self._local = self._background = self._checks = None
            self._stopped = True
        if checks is not None:
            checks.stop()  # a check in progress finishes first (bounded by its own timeouts)
        if local is not None:
            local.close(LAST_SYNC_TIMEOUT_S)
        elif background is not None:
            background.stop(STOP_TIMEOUT_S)
