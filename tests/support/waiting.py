"""Waiting on a condition with a deadline, for state that has no event of its own to wait on."""

from __future__ import annotations

import threading
import time
from typing import Callable

POLL_S = 0.005  # how often the condition is looked at


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Return as soon as `condition()` holds; fail the test with `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    tick = threading.Event()
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        tick.wait(POLL_S)
