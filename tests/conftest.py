"""Shared fixtures. Every test fails if it leaves a thread behind."""

from __future__ import annotations

import faulthandler
import os
import shutil
import tempfile
import threading

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

THREAD_LEAK_GRACE_S = 5.0  # how long a finished test's threads get to end before it fails
# A test still running after this long is hung, possibly in C code where pytest-timeout's signal (300 s,
# pyproject.toml) never reaches Python: every thread's stack is written to the real stderr and the run
# ends at once, instead of CI waiting out its whole budget without a word.
HANG_S = float(os.environ.get("TRACKSIDE_TEST_HANG_S", "420"))
_hang_report = None


def pytest_configure(config):
    global _hang_report
    _hang_report = os.fdopen(os.dup(2), "w")  # fd 2 itself is captured while a test runs
    # No test (nor a process it starts) ever reads or writes the real user's data folder: a
    # command run without --data-dir lands in a folder of this run, removed at its end.
    home = tempfile.mkdtemp(prefix="trackside-test-home-")
    config.add_cleanup(lambda: shutil.rmtree(home, ignore_errors=True))
    os.environ["XDG_DATA_HOME"] = home
    os.environ.pop("TRACKSIDE_DATA_DIR", None)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    if _hang_report is not None:
        faulthandler.dump_traceback_later(HANG_S, exit=True, file=_hang_report)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


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
