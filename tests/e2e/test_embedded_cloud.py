"""`make run`'s cloud: the embedded service beside the app, the laptop enrolled once, each session synced."""

from __future__ import annotations

import socket

from desktop.store import Store
from desktop.sync.embedded import LocalCloudSync
from desktop.sync.model_updates import trusted_root_path
from tests.support.cloud import record_session
from tests.support.waiting import wait_until


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_stopped_session_reaches_the_embedded_cloud_and_a_second_run_keeps_the_enrolment(data_dir):
    port = _free_port()
    with LocalCloudSync.start(data_dir, port=port, interval_s=3600) as cloud:
        with Store.open(data_dir) as store:
            session_id = record_session(store, athletes={"Ana": True}).session_id
        cloud.session_finished()
        wait_until(lambda: _synced(data_dir, session_id), 60, "the session to be synced")
        with Store.open(data_dir) as store:
            first_device = store.sync_server().device_id
    embedded_root = data_dir / "embedded-cloud" / "updates-repo" / "metadata" / "root.json"
    assert trusted_root_path(data_dir).read_bytes() == embedded_root.read_bytes()  # by file, not network

    with LocalCloudSync.start(data_dir, port=port, interval_s=3600) as cloud:
        with Store.open(data_dir) as store:
            second = record_session(store, athletes={"Ana": True}).session_id
            device = store.sync_server().device_id
    report = cloud.background.last_report

    assert device == first_device  # enrolled once, not once per run
    assert _synced(data_dir, second) and report is not None and not report.failed


def _synced(data_dir, session_id) -> bool:
    with Store.open(data_dir) as store:
        return store.synced_session(session_id) is not None
