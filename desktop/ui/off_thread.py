"""Run a Qt-free call on a worker thread and hand its result to the Qt thread by a signal.

The work never touches a widget; the callbacks run on the Qt thread. The relay that carries the
result is a child of the widget that asked: if that widget is gone by the time the work ends, the
result is dropped (logged), never delivered to a deleted widget.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable

from desktop.ui.qt import QObject, Signal, Slot

logger = logging.getLogger(__name__)

_NOTHING = object()


class _Relay(QObject):
    done = Signal(object, object)  # (result, error)

    def __init__(self, owner: QObject, on_result: Callable[[Any], None],
                 on_error: Callable[[Exception], None] | None):
        super().__init__(owner)
        self._on_result, self._on_error = on_result, on_error
        self.done.connect(self._deliver)  # queued: emitted on the worker, received on the Qt thread

    @Slot(object, object)
    def _deliver(self, result: object, error: object) -> None:
        try:
            if error is None:
                self._on_result(result)
            elif self._on_error is not None:
                self._on_error(error)
            else:
                logger.error("background work failed: %s", error)
        finally:
            self.deleteLater()


def run_off_thread(owner: QObject, work: Callable[[], Any], on_result: Callable[[Any], None],
                   on_error: Callable[[Exception], None] | None = None, name: str = "ui-worker") -> threading.Thread:
    """Start `work()` on a new thread; `on_result(value)` or `on_error(exc)` then runs on the Qt thread."""
    relay = _Relay(owner, on_result, on_error)

    def main() -> None:
        result, error = _NOTHING, None
        try:
            result = work()
        except Exception as exc:  # handed to the Qt thread, which shows it to the coach
            logger.debug("background work %s failed", name, exc_info=True)
            error = exc
        try:
            relay.done.emit(None if result is _NOTHING else result, error)
        except RuntimeError:  # the widget that asked is gone
            logger.debug("%s finished after its widget was closed; result dropped", name)

    thread = threading.Thread(target=main, name=name, daemon=True)
    thread.start()
    return thread


class LatestOnly:
    """Runs at most one job at a time; asks made meanwhile collapse into the newest one.

    For work like decoding the frame under a scrubbed playhead: only the last position matters.
    """

    def __init__(self, owner: QObject, work: Callable[[Any], Any], on_result: Callable[[Any], None],
                 name: str = "ui-latest"):
        self._owner, self._work, self._on_result, self._name = owner, work, on_result, name
        self._busy = False
        self._pending: object = _NOTHING
        self.thread: threading.Thread | None = None

    @property
    def busy(self) -> bool:
        return self._busy or self._pending is not _NOTHING

    def ask(self, argument: object) -> None:
        if self._busy:
            self._pending = argument
            return
        self._busy = True
        self.thread = run_off_thread(self._owner, lambda: self._work(argument), self._finished,
                                     self._failed, self._name)

    def _finished(self, result: object) -> None:
        self._busy = False
        self._on_result(result)
        self._next()

    def _failed(self, error: Exception) -> None:
        self._busy = False
        logger.warning("%s failed: %s", self._name, error)
        self._next()

    def _next(self) -> None:
        if self._pending is not _NOTHING:
            argument, self._pending = self._pending, _NOTHING
            self.ask(argument)

    def wait_idle(self, timeout_s: float) -> None:
        """Join the running job's thread (on closing: nothing must outlive the window)."""
        self._pending = _NOTHING
        if self.thread is not None:
            self.thread.join(timeout_s)
