"""At scale: two service processes share one PostgreSQL and one blob folder; a laptop may talk to either."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from cloud_client.client import CloudClient, Refused
from desktop.store import Store
from desktop.sync.bundle import build_bundle
from tests.support.cloud import ServiceProcess, record_session
from tests.support.postgres import running_cluster


@pytest.fixture(scope="module")
def postgres():
    with running_cluster() as cluster:
        yield cluster


@pytest.fixture
def two_services(tmp_path, postgres):
    url = postgres.new_database()
    first = ServiceProcess(tmp_path / "cloud", url).start()
    second = ServiceProcess(tmp_path / "cloud", url).start()
    yield first, second
    first.kill()
    second.kill()


@pytest.mark.slow
def test_chunks_through_two_processes_make_one_session_and_concurrent_commits_agree(two_services, tmp_path):
    first, second = two_services
    with Store.open(tmp_path / "laptop") as store:
        session_id = record_session(store, athletes={"Ana": True, "Ben": True}, samples=2000).session_id
        built = build_bundle(store, session_id)
    with CloudClient(first.url, allow_http=True) as anonymous:
        token = anonymous.enrol(first.enrol_code("Lions"), "laptop")["token"]
    payload = built.path.read_bytes()
    clients = [CloudClient(s.url, token, allow_http=True) for s in (first, second)]
    try:
        upload_id = clients[0].create_upload(session_id, len(payload), built.sha256)["upload_id"]
        offset, step = 0, max(1, len(payload) // 6)
        for i in range(0, len(payload), step):  # the chunks alternate between the two processes
            offset = clients[(i // step) % 2].send_chunk(upload_id, offset, payload[i:i + step])
        with ThreadPoolExecutor(max_workers=2) as pool:  # both processes asked to commit at once
            outcomes = list(pool.map(lambda c: _commit_or_refusal(c, session_id, upload_id, built.sha256), clients))
        listed = clients[1].sessions()
    finally:
        for client in clients:
            client.close()
    answers = [o for o in outcomes if isinstance(o, dict)]
    assert offset == len(payload) and answers and all(a["sha256"] == built.sha256 for a in answers)
    assert all(o == 409 for o in outcomes if not isinstance(o, dict))  # the loser is told it is running
    assert [s["session_id"] for s in listed] == [session_id]


def _commit_or_refusal(client, session_id, upload_id, sha256):
    try:
        return client.commit(session_id, upload_id, sha256)
    except Refused as exc:
        return exc.status
