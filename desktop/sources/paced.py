"""Sources that play a timeline on their own thread: in real time, k times faster, or flat out.

`speed=1` waits (interruptibly, on the stop event) until each point is due and stamps it with the
clock; `speed=k` compresses the waits; `speed=inf` does not wait and stamps each point at
start + its time in the timeline, so analytics still see the timeline's seconds.
"""

from __future__ import annotations

import logging
import math
import threading
from typing import Callable

from desktop.sources.events import Sink, SourceProblem

logger = logging.getLogger(__name__)


class PacedSource:
    """Start/stop and pacing shared by the simulated and replayed heart-rate sources."""

    spec: str
    channels: list[str]

    def __init__(self, *, speed: float, clock: Callable[[], float], thread_name: str):
        if not speed > 0:
            raise ValueError(f"speed must be positive, got {speed!r}")
        self._speed = speed
        self._clock = clock
        self._thread_name = thread_name
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, sink: Sink) -> None:
        self._thread = threading.Thread(target=self._run, args=(sink,), name=self._thread_name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self, sink: Sink) -> None:
        try:
            self._play(sink)
        except Exception as exc:  # a source never raises into the recorder
            logger.exception("%s failed", self.spec)
            for channel in self.channels:
                sink(SourceProblem(channel, self._clock(), "source_failed", f"{self.spec}: {exc}", fatal=True))

    def _play(self, sink: Sink) -> None:
        raise NotImplementedError

    @property
    def flat_out(self) -> bool:
        return math.isinf(self._speed)

    def _wait_until(self, t0: float, timeline_s: float) -> float | None:
        """Wait until the point at `timeline_s` is due; its timestamp, or None once stopped."""
        if self._stop.is_set():
            return None
        if self.flat_out:
            return t0 + timeline_s
        due = t0 + timeline_s / self._speed
        while (remaining := due - self._clock()) > 0:
            if self._stop.wait(remaining):
                return None
        return self._clock()
