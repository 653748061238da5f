"""End to end over loopback: a coach enrols the laptop, records a session, and it arrives in the cloud once."""

from __future__ import annotations

from desktop.store import Store
from desktop.sync.engine import SyncEngine, enrol
from tests.support.cloud import ServiceThread, record_session, settings_for


def test_a_recorded_session_arrives_once_and_is_marked_synced_with_its_hash(tmp_path, data_dir):
    with ServiceThread(settings_for(tmp_path / "cloud")) as service:
        enrolled = enrol(data_dir, service.url, service.enrol_code("Lions"), allow_http=True)
        with Store.open(data_dir) as store:
            recorded = record_session(store, athletes={"Ana": True, "Ben": True})

        first = SyncEngine(data_dir).run_once()
        second = SyncEngine(data_dir).run_once()

        with Store.open(data_dir) as store:
            synced = store.synced_session(recorded.session_id)
        from cloud_client.client import CloudClient
        from desktop.sync.credentials import TokenStore

        token = TokenStore(data_dir).load(enrolled["device_id"])
        with CloudClient(service.url, token, allow_http=True) as client:
            in_cloud = client.sessions()
    assert enrolled["team"] == "Lions"
    assert len(first.sent) == 1 and not first.failed and not second.sent
    assert synced is not None and synced.answer["sha256"] == synced.sha256
    assert [s["session_id"] for s in in_cloud] == [recorded.session_id]
    assert in_cloud[0]["sha256"] == synced.sha256 and len(in_cloud[0]["athletes"]) == 2
