"""What the Sync screen shows, read from the store alone: no Qt, no network."""

from __future__ import annotations

from desktop.store import Store
from desktop.sync.credentials import TokenStore
from desktop.sync.state import read_status
from tests.support.cloud import record_session


def test_the_outbox_reads_in_a_coachs_words_with_progress(data_dir):
    with Store.open(data_dir) as store:
        store.set_sync_server("https://cloud.example.org", "device-1", "Lions", allow_http=False)
        first = record_session(store, athletes={"Ana": True}).session_id
        second = record_session(store, athletes={"Ana": True}).session_id
        store.enqueue_finished_sessions()
        items = {i.session_id: i for i in store.outbox_items()}
        store.set_bundle(items[first].id, "outbox/a.zip", "a" * 64, 1000)
        store.note_sent(items[first].id, 250)
        store.mark_retry(items[second].id, attempts=300, next_attempt_s=0, error="network: cut", give_up=True)
    TokenStore(data_dir).save("device-1", "a-token")

    status = read_status(data_dir, progress={items[second].id: (10, 40)})

    lines = {line.item_id: line for line in status.outbox}
    assert status.enrolled and status.team == "Lions" and status.waiting == 1 and status.needs_attention == 1
    assert lines[items[first].id].what == f"session {first[:8]}" and lines[items[first].id].progress == 0.25
    assert lines[items[second].id].state == "sending" and lines[items[second].id].progress == 0.25
    assert "no connection" in lines[items[second].id].problem
    assert status.summary == "1 item(s) need attention; 1 waiting"


def test_a_laptop_that_never_recorded_is_not_enrolled(tmp_path):
    status = read_status(tmp_path / "nothing-here")
    assert not status.enrolled and status.summary == "not connected to a team's cloud"
    assert not (tmp_path / "nothing-here").exists()  # reading the status creates nothing
