"""The bridge from the Qt-free recorder to the window: core events become calls on the GUI thread.

The recorder calls `listener` on its dispatcher thread, and start/stop work ends on threads of
its own; both only post to the hub of `off_thread` (never emit on an object the window owns), so a
window that closes while they run drops what arrives late instead of racing its own deletion.
Nothing else crosses: frames come through the live session's one-slot handoff, read by the
window's paint timer.
"""

from __future__ import annotations

from typing import Callable

from desktop.ui.off_thread import install_hub, post_to_qt
from desktop.ui.qt import QObject


class RecorderBridge:
    """Hands recorder events and finished background tasks to `owner`'s handlers on the GUI thread."""

    def __init__(self, owner: QObject, on_event: Callable[[object], None],
                 on_task_finished: Callable[[str, object], None]):
        install_hub()
        self._owner, self._on_event, self._on_task_finished = owner, on_event, on_task_finished

    def listener(self, event: object) -> None:
        """Called by the recorder on its dispatcher thread."""
        post_to_qt(self._owner, lambda: self._on_event(event))

    def task_finished(self, name: str, result: object) -> None:
        """Called on a background thread when its start/stop work has ended."""
        post_to_qt(self._owner, lambda: self._on_task_finished(name, result))
