"""The Sync screen: which team's cloud this laptop sends to, what waits in the outbox, and why.

A thin view of `desktop.sync.app_sync.AppSync`: the status is read off the Qt thread once a
second; enrolling and "sync now" run in the background too. Everything here works with no
network: the outbox and the last sync are read from the local store.
"""

from __future__ import annotations

import logging

from desktop.sync.app_sync import AppSync
from desktop.sync.engine import enrol
from desktop.sync.state import SyncStatus
from desktop.ui.off_thread import run_off_thread
from desktop.ui.qt import (
    QCheckBox, QFormLayout, QGroupBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QTableWidget,
    QTableWidgetItem, QTimer, QVBoxLayout, QWidget,
)
from desktop.ui.screen_kit import action_button, heading, show_status, use_screen_font

logger = logging.getLogger(__name__)

REFRESH_MS = 1000
OUTBOX_COLUMNS = ("What", "State", "Sent", "Problem", "Next try")


class SyncScreen(QWidget):
    def __init__(self, sync: AppSync, parent: QWidget | None = None):
        super().__init__(parent)
        self.sync = sync
        self.shown_status: SyncStatus | None = None
        self._reading = False
        use_screen_font(self)
        column = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(heading("Team cloud"), 1)
        top.addWidget(action_button("Sync now", "Ctrl+Shift+S", self.sync_now, tip="send what waits, now"))
        column.addLayout(top)
        self.server_label, self.summary_label, self.last_label = QLabel(), QLabel(), QLabel()
        self.problem_label = QLabel("")
        for label in (self.server_label, self.summary_label, self.last_label, self.problem_label):
            label.setWordWrap(True)
            column.addWidget(label)
        column.addWidget(self._enrol_box())
        self.table = QTableWidget(0, len(OUTBOX_COLUMNS))
        self.table.setHorizontalHeaderLabels(OUTBOX_COLUMNS)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        column.addWidget(QLabel("<b>Waiting to be sent</b>"))
        column.addWidget(self.table, 1)
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()

    def _enrol_box(self) -> QGroupBox:
        box = QGroupBox("Connect this laptop to the team's cloud")
        form = QFormLayout(box)
        self.url_edit = QLineEdit()
        self.url_edit.setPlaceholderText("https://cloud.your-team.org")
        self.code_edit = QLineEdit()
        self.code_edit.setPlaceholderText("the one-time code from your administrator")
        self.allow_http = QCheckBox("plain http (only to this computer)")
        form.addRow("Address", self.url_edit)
        form.addRow("Code", self.code_edit)
        form.addRow("", self.allow_http)
        self.enrol_button = action_button("Connect", "Ctrl+E", self.enrol, tip="exchange the code for this laptop's key")
        self.enrol_status = QLabel("")
        self.enrol_status.setWordWrap(True)
        form.addRow(self.enrol_button, self.enrol_status)
        return box

    # -- reading the status (off the Qt thread) ------------------------------------------------

    def refresh(self) -> None:
        """Read the status again (off the Qt thread), while this screen is shown."""
        if self._reading or not self.isVisible():
            return
        self._reading = True
        run_off_thread(self, self.sync.status, self._show, self._read_failed, "sync-status")

    def _read_failed(self, exc: Exception) -> None:
        self._reading = False
        show_status(self.problem_label, f"The outbox could not be read: {exc}", problem=True)

    def _show(self, status: SyncStatus) -> None:
        self._reading = False
        self.shown_status = status
        self.server_label.setText(f"Sends to <b>{status.server_url}</b> as team <b>{status.team}</b>."
                                  if status.enrolled else "Not connected to a team's cloud: sessions stay on "
                                  "this laptop until it is (connect below).")
        summary = status.summary if status.enrolled else f"{status.waiting} item(s) waiting on this laptop"
        self.summary_label.setText(summary[:1].upper() + summary[1:] + ".")
        self.last_label.setText("Last sync: " + (f"{status.last_sync_utc.astimezone():%a %d %b %H:%M}"
                                                 if status.last_sync_utc else "never"))
        problem = status.problem or self.sync.problem
        show_status(self.problem_label, problem or "", problem=bool(problem))
        self.table.setRowCount(len(status.outbox))
        for row, line in enumerate(status.outbox):
            sent = "" if line.progress is None else f"{100 * line.progress:.0f} %"
            next_try = f"{line.next_try_utc.astimezone():%H:%M:%S}" if line.next_try_utc else ""
            for col, text in enumerate((line.what, line.state, sent, line.problem or "", next_try)):
                self.table.setItem(row, col, QTableWidgetItem(text))

    # -- the coach's actions ----------------------------------------------------------------------

    def sync_now(self) -> None:
        self.sync.sync_now()
        show_status(self.enrol_status, "Sending what waits…")

    def enrol(self) -> None:
        url, code, allow_http = self.url_edit.text().strip(), self.code_edit.text().strip(), self.allow_http.isChecked()
        if not url or not code:
            show_status(self.enrol_status, "Give the cloud's address and the one-time code.", problem=True)
            return
        self.enrol_button.setEnabled(False)
        show_status(self.enrol_status, "Connecting…")
        data_dir = self.sync.data_dir
        run_off_thread(self, lambda: enrol(data_dir, url, code, allow_http=allow_http), self._enrolled,
                       self._enrol_failed, "sync-enrol")

    def _enrolled(self, answer: dict) -> None:
        self.enrol_button.setEnabled(True)
        self.code_edit.clear()
        self.sync.enrolled()
        show_status(self.enrol_status, f"Connected to team {answer['team']}; this laptop's key is kept in "
                                       f"{answer['token_kept_in']}.")
        self.sync.sync_now()
        self.refresh()

    def _enrol_failed(self, exc: Exception) -> None:
        self.enrol_button.setEnabled(True)
        show_status(self.enrol_status, f"Not connected: {exc}", problem=True)

    def shutdown(self) -> None:
        self._timer.stop()
