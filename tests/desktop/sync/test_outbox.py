"""The outbox in the local store: its migration, one row per session, deletions only for athletes the cloud knows."""

from __future__ import annotations

import sqlite3

from desktop.store import DB_NAME, Store
from desktop.store.schema import LATEST_VERSION, migrate
from tests.support.cloud import record_session


def test_a_store_of_the_version_before_gains_the_outbox_and_keeps_its_sessions(data_dir):
    with Store.open(data_dir) as store:
        session_id = record_session(store, athletes={"Ana": True}).session_id
    conn = sqlite3.connect(data_dir / DB_NAME, isolation_level=None)
    for table in ("sync_outbox", "sync_athlete_refs", "sync_server"):
        conn.execute(f"DROP TABLE {table}")
    conn.execute(f"PRAGMA user_version = {LATEST_VERSION - 1}")  # as the previous Trackside left it
    conn.close()

    with Store.open(data_dir) as store:
        added = store.enqueue_finished_sessions()
        items = store.outbox_items()
        version = store.schema_version
    assert version == LATEST_VERSION and added == 1 and [i.session_id for i in items] == [session_id]


def test_a_session_is_queued_once_however_often_it_is_asked(data_dir):
    with Store.open(data_dir) as store:
        record_session(store, athletes={"Ana": True})
        counts = [store.enqueue_finished_sessions() for _ in range(3)]
        assert counts == [1, 0, 0] and len(store.outbox_items()) == 1


def test_erasing_an_athlete_the_cloud_never_heard_of_queues_nothing(data_dir):
    with Store.open(data_dir) as store:
        record_session(store, athletes={"Ana": True, "Ben": True})
        ana, ben = store.athlete_by_name("Ana"), store.athlete_by_name("Ben")
        store.athlete_ref(ben.id, create=True)  # Ben's data went into a bundle once
        store.delete_athlete_data(ana.id)
        store.set_consent(ben.id, cloud=False)  # withdrawn: the cloud must erase his data
        deletions = [i for i in store.outbox_items() if i.kind == "deletion"]
    assert len(deletions) == 1 and deletions[0].athlete_ref is not None and deletions[0].request_id


def test_migrate_alone_creates_the_outbox(tmp_path):
    conn = sqlite3.connect(tmp_path / "fresh.sqlite", isolation_level=None)
    migrate(conn)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn.close()
    assert {"sync_outbox", "sync_athlete_refs", "sync_server"} <= tables
