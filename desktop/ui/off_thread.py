"""Hand work between worker threads and the Qt thread without racing a widget's deletion.

Worker threads never emit on a widget or on anything a widget owns: a window that closes deletes
its children on the Qt thread, and a signal emitted on an object while another thread destroys it
is undefined behaviour in Qt (a crash, or a deadlock between Qt's connection lock and Python's
GIL that no Python timeout can break). Instead every hand-over goes through one `_Hub`, made on
the Qt thread and never deleted: a worker posts a call to it, and the Qt thread runs that call only
if the widget it is for still exists.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable

from desktop.ui.qt import QCoreApplication, QObject, Qt, QThread, Signal, Slot, is_alive

logger = logging.getLogger(__name__)

_NOTHING = object()


class _Hub(QObject):
    posted = Signal(object)  # a call of no arguments, run on the Qt thread

    def __init__(self):
        super().__init__()  # no parent: it lives as long as this module
        self.posted.connect(self._run, Qt.ConnectionType.QueuedConnection)  # in post order, even from this thread

    @Slot(object)
    def _run(self, call: Callable[[], None]) -> None:
        try:
            call()
        except Exception:  # a slot that raises would only print to stderr; say where it came from
            logger.exception("a result handed to the window failed")


_hub: _Hub | None = None


def install_hub() -> None:
    """Make the hub on the Qt thread (idempotent); called before any worker can post."""
    global _hub
    if _hub is None:
        app = QCoreApplication.instance()
        if app is not None and QThread.currentThread() is not app.thread():
            raise RuntimeError("the hub must be made on the Qt thread")
        _hub = _Hub()


def post_to_qt(owner: QObject, call: Callable[[], None]) -> None:
    """From any thread: run `call()` on the Qt thread, unless `owner` has been deleted by then."""
    if _hub is None:
        raise RuntimeError("install_hub() first, on the Qt thread")

    def deliver() -> None:
        if is_alive(owner):
            call()
        else:
            logger.debug("a result for a closed widget was dropped")
    _hub.posted.emit(deliver)


def run_off_thread(owner: QObject, work: Callable[[], Any], on_result: Callable[[Any], None],
                   on_error: Callable[[Exception], None] | None = None, name: str = "ui-worker") -> threading.Thread:
    """Start `work()` on a new thread; `on_result(value)` or `on_error(exc)` then runs on the Qt thread
    (neither runs if `owner` is gone by then)."""
    install_hub()

    def main() -> None:
        try:
            result = work()
        except Exception as exc:  # handed to the Qt thread, which shows it to the coach
            logger.debug("background work %s failed", name, exc_info=True)
            if on_error is not None:
                post_to_qt(owner, lambda error=exc: on_error(error))
            else:
                post_to_qt(owner, lambda error=exc: logger.error("background work %s failed: %s", name, error))
            return
        post_to_qt(owner, lambda: on_result(result))

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
