"""The window measures its own responsiveness: a heartbeat timer whose lateness is the stall.

As KDToolBox's UiWatchdog does: a timer asks to fire every `period_ms`; whenever it fires later
than that, the event loop was busy for the difference. The worst and recent stalls are kept.
"""

from __future__ import annotations

import time
from collections import deque

from desktop.ui.qt import QObject, QTimer, Qt

HEARTBEAT_MS = 10
RECENT_BEATS = 500  # stalls kept for "the worst in the last few seconds"


class StallWatch(QObject):
    def __init__(self, parent: QObject | None = None, period_ms: int = HEARTBEAT_MS):
        super().__init__(parent)
        self.period_s = period_ms / 1000
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.PreciseTimer)
        self._timer.setInterval(period_ms)
        self._timer.timeout.connect(self._beat)
        self._last_s: float | None = None
        self.max_stall_ms = 0.0
        self.recent_ms: deque[float] = deque(maxlen=RECENT_BEATS)
        self.beats = 0

    def start(self) -> None:
        self._last_s = None
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def reset(self) -> None:
        self.max_stall_ms = 0.0
        self.recent_ms.clear()
        self._last_s = None

    def _beat(self) -> None:
        now = time.perf_counter()
        if self._last_s is not None:
            stall_ms = max(0.0, (now - self._last_s - self.period_s) * 1000)
            self.max_stall_ms = max(self.max_stall_ms, stall_ms)
            self.recent_ms.append(stall_ms)
        self._last_s = now
        self.beats += 1

    @property
    def recent_max_ms(self) -> float:
        return max(self.recent_ms, default=0.0)
