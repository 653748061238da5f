"""Results of worker threads reach the Qt thread, and never a widget that has been closed meanwhile."""

from __future__ import annotations

import threading

from desktop.ui.off_thread import post_to_qt, run_off_thread
from desktop.ui.qt import QWidget, is_alive


def test_a_result_is_delivered_on_the_qt_thread(qtbot):
    owner = QWidget()
    qtbot.addWidget(owner)
    got = []
    run_off_thread(owner, lambda: 42, lambda value: got.append((value, threading.current_thread())))
    qtbot.waitUntil(lambda: bool(got), timeout=10_000)
    assert got == [(42, threading.main_thread())]


def test_an_error_goes_to_its_handler_and_not_to_the_result_handler(qtbot):
    owner = QWidget()
    qtbot.addWidget(owner)
    results, errors = [], []
    run_off_thread(owner, lambda: 1 / 0, results.append, errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=10_000)
    assert results == [] and isinstance(errors[0], ZeroDivisionError)


def test_a_result_that_arrives_after_its_widget_was_deleted_is_dropped(qtbot):
    owner, release, got = QWidget(), threading.Event(), []
    thread = run_off_thread(owner, lambda: release.wait(10) and "late", got.append)
    owner.deleteLater()
    qtbot.waitUntil(lambda: not is_alive(owner), timeout=10_000)
    release.set()
    thread.join(10)
    done = []
    post_to_qt(QWidget(), lambda: done.append(True))  # posted after the late result: runs after it
    qtbot.waitUntil(lambda: bool(done), timeout=10_000)
    assert got == []


def test_threads_posting_while_their_widgets_are_deleted_neither_crash_nor_hang(qtbot):
    delivered = []
    for _ in range(20):
        owner, stop = QWidget(), threading.Event()

        def spam(owner=owner, stop=stop):
            while not stop.is_set():
                post_to_qt(owner, lambda: delivered.append(1))
        threads = [threading.Thread(target=spam, daemon=True) for _ in range(3)]
        for t in threads:
            t.start()
        qtbot.wait(5)  # the event loop delivers some while the widget lives
        owner.deleteLater()
        qtbot.waitUntil(lambda owner=owner: not is_alive(owner), timeout=10_000)
        stop.set()
        for t in threads:
            t.join(10)
        assert not any(t.is_alive() for t in threads)
    qtbot.wait(10)  # what is still queued is dropped on delivery
    assert delivered  # the posts of living widgets did arrive
