"""A one-item mailbox: live inference takes the newest frame and drops the rest.

A worker that falls behind never builds a queue: each `offer` replaces the waiting item, and the
number of items replaced unseen is counted as dropped.
"""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

T = TypeVar("T")


class LatestSlot(Generic[T]):
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item: T | None = None
        self._closed = False
        self.offered = 0
        self.dropped = 0

    def offer(self, item: T) -> None:
        """Put `item` in the slot, dropping any item still waiting. Never blocks for long."""
        with self._cond:
            self.offered += 1
            if self._item is not None:
                self.dropped += 1
            self._item = item
            self._cond.notify()

    def take(self, timeout_s: float | None = None) -> T | None:
        """The newest item, waiting up to `timeout_s`; None on timeout or once closed and empty."""
        with self._cond:
            self._cond.wait_for(lambda: self._item is not None or self._closed, timeout=timeout_s)
            item, self._item = self._item, None
            return item

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed
