"""The service suite runs on both databases: SQLite (the embedded default) and a real PostgreSQL."""

from __future__ import annotations

import pytest

from tests.support.cloud import ServiceThread, settings_for
from tests.support.postgres import running_cluster


@pytest.fixture(scope="session")
def postgres():
    with running_cluster() as cluster:
        yield cluster


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request):
    if request.param == "sqlite":
        return None  # the default: cloud.sqlite in the data folder
    return request.getfixturevalue("postgres").new_database()


@pytest.fixture
def service(tmp_path, database_url):
    with ServiceThread(settings_for(tmp_path / "cloud", database_url, max_upload_bytes=4 * 1024**2)) as running:
        yield running


@pytest.fixture
def enrol_device(service):
    """A function: enrol a new device of `team` and hand back its CloudClient (closed after the test)."""
    from cloud_client.client import CloudClient

    clients = []

    def enrol(team: str = "Lions") -> CloudClient:
        with CloudClient(service.url, allow_http=True) as anonymous:
            answer = anonymous.enrol(service.enrol_code(team), f"{team} laptop")
        client = CloudClient(service.url, answer["token"], allow_http=True)
        client.device_id, client.token = answer["device_id"], answer["token"]
        clients.append(client)
        return client

    yield enrol
    for client in clients:
        client.close()


@pytest.fixture
def bundle(tmp_path):
    """A function: record a small real session into a laptop store and build its bundle."""
    from desktop.store import Store
    from desktop.sync.bundle import build_bundle
    from tests.support.cloud import record_session

    stores = []

    def make(athletes=None, seed: int = 0):
        store = Store.open(tmp_path / f"laptop{len(stores)}")
        stores.append(store)
        recorded = record_session(store, athletes=athletes or {"Ana": True, "Ben": True}, seed=seed)
        return recorded.session_id, build_bundle(store, recorded.session_id), store

    yield make
    for store in stores:
        store.close()
