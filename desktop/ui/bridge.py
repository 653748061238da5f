"""The bridge from the Qt-free recorder to the window: core events become Qt signals.

The recorder calls `listener` on its dispatcher thread; `event_received` is a queued signal, so
its slots run on the GUI thread. Nothing else crosses: frames come through the live session's
one-slot handoff, read by the window's paint timer.
"""

from __future__ import annotations

from desktop.ui.qt import QObject, Signal


class RecorderBridge(QObject):
    """Turns recorder events into `event_received` on the GUI thread."""

    event_received = Signal(object)
    task_finished = Signal(str, object)  # name of a background task, its result or exception

    def listener(self, event: object) -> None:
        """Called by the recorder on its dispatcher thread: only emits (Qt queues it)."""
        self.event_received.emit(event)
