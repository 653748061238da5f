"""The laptop's sync against the real service on loopback: labels after a sync, deletions, backoff, the token."""

from __future__ import annotations

import logging
import os
import socket
import stat
import subprocess
import sys

import pytest

from cloud_client.client import CloudClient
from desktop.store import DB_NAME, Store
from desktop.sync.credentials import TokenStore
from desktop.sync.engine import SyncEngine, enrol
from desktop.sync.state import read_status
from tests.support.cloud import ServiceThread, record_session, settings_for


class FixedClock:
    def __init__(self, now_s: float = 1_000_000.0):
        self.now_s = now_s

    def __call__(self) -> float:
        return self.now_s


@pytest.fixture
def service(tmp_path):
    with ServiceThread(settings_for(tmp_path / "cloud")) as running:
        yield running


@pytest.fixture
def cloud(service, data_dir):
    """The laptop enrolled; a client of the same team to look into the cloud."""
    enrolled = enrol(data_dir, service.url, service.enrol_code("Lions"), allow_http=True)
    with CloudClient(service.url, TokenStore(data_dir).load(enrolled["device_id"]), allow_http=True) as client:
        yield client


def test_labels_added_after_a_sync_go_as_their_own_versioned_record(cloud, data_dir):
    with Store.open(data_dir) as store:
        session_id = record_session(store, athletes={"Ana": True}).session_id
    SyncEngine(data_dir).run_once()
    sha_before = cloud.session(session_id)["sha256"]
    with Store.open(data_dir) as store:
        store.add_label(session_id, start_mono_s=101, end_mono_s=104, label="sprint")
    first = SyncEngine(data_dir).run_once()
    with Store.open(data_dir) as store:
        store.add_label(session_id, start_mono_s=110, end_mono_s=120, label="jog", channel="sim-1")
    second = SyncEngine(data_dir).run_once()
    nothing_new = SyncEngine(data_dir).run_once()

    labels = cloud._request("GET", f"/sessions/{session_id}/labels").json()
    assert len(first.sent) == 1 and len(second.sent) == 1 and not nothing_new.sent
    assert labels["version"] == 2 and [lab["label"] for lab in labels["labels"]] == ["sprint", "jog"]
    assert cloud.session(session_id)["sha256"] == sha_before  # the session itself was not sent again


def _trackside(*args, data_dir):
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    return subprocess.run([sys.executable, "-c", "from desktop.cli import main; raise SystemExit(main())", *args,
                           "--data-dir", str(data_dir)], capture_output=True, text=True, timeout=120, env=env)


@pytest.mark.parametrize("command", [["athletes", "delete-data", "Ana"], ["athletes", "consent", "Ana", "--cloud", "no"]],
                         ids=["delete-data", "consent-withdrawn"])
def test_erasing_an_athlete_reaches_the_cloud_and_is_kept_until_confirmed(cloud, service, data_dir, command):
    with Store.open(data_dir) as store:
        session_id = record_session(store, athletes={"Ana": True, "Ben": True}).session_id
    assert _trackside("sync", "now", data_dir=data_dir).returncode == 0
    assert len(cloud.session(session_id)["athletes"]) == 2

    erased = _trackside(*command, data_dir=data_dir)
    service.server.should_exit = True  # the cloud goes away: the deletion waits in the outbox
    service._thread.join(15)
    offline = _trackside("sync", "now", data_dir=data_dir)
    with Store.open(data_dir) as store:
        waiting = [i for i in store.outbox_items() if i.kind == "deletion"]

    assert erased.returncode == 0 and offline.returncode == 3 and "kept for later" in offline.stdout
    assert [i.state for i in waiting] == ["pending"]


def test_a_deletion_is_confirmed_and_the_athlete_is_gone_from_the_cloud(cloud, data_dir):
    with Store.open(data_dir) as store:
        recorded = record_session(store, athletes={"Ana": True, "Ben": True})
    SyncEngine(data_dir).run_once()
    with Store.open(data_dir) as store:
        ana = store.athlete_by_name("Ana")
        ana_ref = store.athlete_ref(ana.id)
        store.delete_athlete_data(ana.id)
    report = SyncEngine(data_dir).run_once()
    with Store.open(data_dir) as store:
        deletion = [i for i in store.outbox_items() if i.kind == "deletion"][0]
    athletes = cloud.session(recorded.session_id)["athletes"]
    assert report.sent == [deletion.id] and deletion.state == "done"
    assert deletion.answer["athlete_ref"] == ana_ref and ana_ref not in athletes and len(athletes) == 1


def test_with_no_service_items_wait_with_a_bounded_backoff_and_the_coach_sees_why(data_dir, tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as closed:
        dead_url = f"http://127.0.0.1:{closed.getsockname()[1]}"
    with Store.open(data_dir) as store:
        store.set_sync_server(dead_url, "device-1", "Lions", allow_http=True)
        record_session(store, athletes={"Ana": True})
        record_session(store, athletes={"Ana": True})
    TokenStore(data_dir).save("device-1", "a-token")
    clock = FixedClock()
    engine = SyncEngine(data_dir, clock=clock)

    first = engine.run_once()  # the first item fails; the second is not tried and waits as long
    not_due = engine.run_once()  # the clock has not moved: nothing is due
    clock.now_s += 2.0
    due_again = engine.run_once()
    with Store.open(data_dir) as store:
        tried, untried = store.outbox_items()
    status = read_status(data_dir)

    assert len(first.failed) == 1 and not not_due.failed and len(due_again.failed) == 1
    assert tried.state == "pending" and tried.attempts == 2 and tried.next_attempt_s == clock.now_s + 5.0
    assert untried.attempts == 0 and untried.next_attempt_s == tried.next_attempt_s
    assert status.waiting == 2 and "no connection" in status.problem and status.enrolled


def test_the_token_is_in_a_user_only_file_never_in_the_store_or_the_log(service, data_dir, caplog):
    caplog.set_level(logging.DEBUG)
    enrolled = enrol(data_dir, service.url, service.enrol_code("Lions"), allow_http=True)
    with Store.open(data_dir) as store:
        record_session(store, athletes={"Ana": True})
    SyncEngine(data_dir).run_once()
    token = TokenStore(data_dir).load(enrolled["device_id"])
    token_file = data_dir / "sync-token"

    assert token and stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert "no secure keyring" in caplog.text and token not in caplog.text
    store_bytes = b"".join(p.read_bytes() for p in data_dir.glob(DB_NAME + "*"))
    assert token.encode() not in store_bytes


def test_a_bundle_waiting_when_an_athlete_is_erased_is_built_again_without_them(cloud, data_dir):
    with Store.open(data_dir) as store:
        session_id = record_session(store, athletes={"Ana": True, "Ben": True}).session_id
        store.enqueue_finished_sessions()
    engine = SyncEngine(data_dir)
    with Store.open(data_dir) as store:  # the bundle is built, but not sent yet
        (item,) = store.outbox_items()
        engine._with_bundle(store, item)
        first_sha = store.outbox_item(item.id).sha256
        store.delete_athlete_data(store.athlete_by_name("Ana").id)

    report = engine.run_once()

    with Store.open(data_dir) as store:
        synced = store.synced_session(session_id)
        ben_ref = store.athlete_ref(store.athlete_by_name("Ben").id)
    assert len(report.sent) == 2  # the session built again, then the deletion
    assert synced.sha256 != first_sha and synced.superseded_sha256 == first_sha
    assert cloud.session(session_id)["athletes"] == [ben_ref]


def test_a_bundle_the_cloud_took_before_an_erasure_is_recognised_and_the_erasure_follows(cloud, data_dir):
    """The commit went through but its answer was lost; then the athlete was erased and the bundle rebuilt."""
    with Store.open(data_dir) as store:
        session_id = record_session(store, athletes={"Ana": True, "Ben": True}).session_id
        store.enqueue_finished_sessions()
        (item,) = store.outbox_items()
        built = SyncEngine(data_dir)._with_bundle(store, item)
    cloud.upload_bundle(session_id, data_dir / built.bundle_path, built.sha256)  # the answer never came back
    with Store.open(data_dir) as store:
        ana = store.athlete_by_name("Ana")
        ana_ref = store.athlete_ref(ana.id)
        store.delete_athlete_data(ana.id)

    report = SyncEngine(data_dir).run_once()

    with Store.open(data_dir) as store:
        synced = store.synced_session(session_id)
    assert len(report.sent) == 2 and not report.failed
    assert synced.answer["sha256"] == built.sha256  # the cloud's content, which this laptop had sent
    assert ana_ref not in cloud.session(session_id)["athletes"]


def test_a_revoked_laptop_is_told_to_enrol_again_and_sends_once_it_has(cloud, service, data_dir):
    with Store.open(data_dir) as store:
        session_id = record_session(store, athletes={"Ana": True}).session_id
        device_id = store.sync_server().device_id
    cloud._request("DELETE", f"/devices/{device_id}")  # the team's admin revoked this laptop

    refused = SyncEngine(data_dir).run_once()
    status = read_status(data_dir)
    enrol(data_dir, service.url, service.enrol_code("Lions"), allow_http=True)
    after = SyncEngine(data_dir).run_once()

    assert refused.failed and status.needs_attention == 1 and "enrol it again" in status.problem
    assert len(after.sent) == 1
    with Store.open(data_dir) as store:
        assert store.synced_session(session_id) is not None


def test_the_background_sync_tries_again_when_the_backoff_says_not_an_hour_later(tmp_path, data_dir):
    from desktop.sync.engine import BackgroundSync
    from tests.support.waiting import wait_until

    settings = settings_for(tmp_path / "cloud")
    with ServiceThread(settings) as first:
        port = first.port
        enrol(data_dir, first.url, first.enrol_code("Lions"), allow_http=True)
    with Store.open(data_dir) as store:  # recorded while the cloud is down
        record_session(store, athletes={"Ana": True})
    background = BackgroundSync(SyncEngine(data_dir), interval_s=3600).start()
    try:
        wait_until(lambda: read_status(data_dir).problem is not None, 30, "a failed first try")
        again = ServiceThread(settings)
        again.server.config.port = port  # the cloud comes back at the same address
        with again:
            wait_until(lambda: read_status(data_dir).sent == 1, 60, "the session to be sent by the next due try")
    finally:
        background.stop()
    assert background.passes >= 2  # the 2 s retry of the backoff table, not the hourly pass
