"""A heart-rate source whose delivery can be paused: a strap out of range whose link has not ended.

For demonstrations and tests of what the coach sees when a strap goes quiet (the tile turns stale
after three seconds): the wrapped source keeps running; while paused its events are withheld.
"""

from __future__ import annotations

import threading

from desktop.sources.events import Sink


class PausableSource:
    """Wraps a started-by-the-recorder source; `pause()` and `resume()` from any thread."""

    def __init__(self, inner):
        self.inner = inner
        self.spec = inner.spec
        self.channels = getattr(inner, "channels", [])
        self.athletes = getattr(inner, "athletes", [])
        self._paused = threading.Event()

    def start(self, sink: Sink) -> None:
        self.inner.start(lambda event: None if self._paused.is_set() else sink(event))

    def stop(self) -> None:
        self.inner.stop()

    def pause(self) -> None:
        self._paused.set()

    def resume(self) -> None:
        self._paused.clear()

    @property
    def paused(self) -> bool:
        return self._paused.is_set()
