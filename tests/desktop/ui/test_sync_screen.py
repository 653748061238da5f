"""The Sync screen against the real cloud service on loopback: connect with a one-time code, see
what waits, send it, and see it arrive; with no network, it still says what waits and why."""

from __future__ import annotations

import pytest

from cloud_client.client import CloudClient
from desktop.store import Store
from desktop.sync.app_sync import AppSync
from desktop.sync.credentials import TokenStore
from desktop.ui.qt import Qt
from desktop.ui.sync_screen import SyncScreen
from tests.support.cloud import ServiceThread, record_session, settings_for

WAIT_MS = 30_000


@pytest.fixture
def service(tmp_path):
    with ServiceThread(settings_for(tmp_path / "cloud")) as running:
        yield running


@pytest.fixture
def screen(qtbot, data_dir):
    sync = AppSync(data_dir).start()
    widget = SyncScreen(sync)
    qtbot.addWidget(widget)
    widget.resize(1200, 700)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.shutdown()
    sync.stop()


def test_connect_with_a_code_then_a_recorded_session_reaches_the_cloud(qtbot, screen, service, data_dir):
    with Store.open(data_dir) as store:
        session_id = record_session(store, athletes={"Ana": True}).session_id
    qtbot.waitUntil(lambda: screen.shown_status is not None and screen.shown_status.waiting == 1, timeout=WAIT_MS)
    assert "Not connected" in screen.server_label.text()

    screen.url_edit.setText(service.url)
    screen.code_edit.setText(service.enrol_code("Lions"))
    screen.allow_http.setChecked(True)  # the test's service is on this computer: plain http is allowed there only
    qtbot.keyClick(screen, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: "Connected to team Lions" in screen.enrol_status.text(), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: screen.shown_status.sent == 1 and screen.shown_status.waiting == 0, timeout=WAIT_MS)
    assert "Lions" in screen.server_label.text() and screen.table.rowCount() == 0
    assert "everything is in the team's cloud" in screen.summary_label.text().lower()

    with Store.open(data_dir) as store:
        server = store.sync_server()
    with CloudClient(service.url, TokenStore(data_dir).load(server.device_id), allow_http=True) as cloud:
        assert cloud.session(session_id)["athletes"]  # it is there, once


def test_a_wrong_code_is_said_in_words_and_nothing_is_kept(qtbot, screen, service, data_dir):
    screen.url_edit.setText(service.url)
    screen.code_edit.setText("not-a-code")
    screen.allow_http.setChecked(True)
    screen.enrol_button.click()
    qtbot.waitUntil(lambda: "Not connected" in screen.enrol_status.text(), timeout=WAIT_MS)
    assert screen.enrol_button.isEnabled()
    with Store.open(data_dir) as store:
        assert store.sync_server() is None


def test_with_no_cloud_at_all_the_outbox_still_says_what_waits(qtbot, screen, data_dir):
    with Store.open(data_dir) as store:
        record_session(store, athletes={"Ana": True})
        record_session(store, athletes={"Ben": True}, seed=1)
    qtbot.waitUntil(lambda: screen.shown_status is not None and screen.shown_status.waiting == 2, timeout=WAIT_MS)
    assert "Not connected" in screen.server_label.text() and "Last sync: never" in screen.last_label.text()
    assert "2 item(s) waiting" in screen.summary_label.text()
