"""Shared fixtures. Every test fails if it leaves a thread behind."""

from __future__ import annotations

import os
import threading

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

THREAD_LEAK_GRACE_S = 5.0  # how long a finished test's threads get to end before it fails


@pytest.fixture(autouse=True)
def no_thread_left_behind():
    before = set(threading.enumerate())
    yield
    leaked = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    for thread in leaked:
        thread.join(timeout=THREAD_LEAK_GRACE_S / max(1, len(leaked)))
    still = [t.name for t in leaked if t.is_alive()]
    assert not still, f"test left threads running: {still}"


@pytest.fixture
def data_dir(tmp_path):
    """A fresh Trackside data directory (the coach's chosen place for the store)."""
    path = tmp_path / "trackside-data"
    path.mkdir()
    return path
