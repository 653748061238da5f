"""Crash recovery: after an unclean exit, offer the session the store kept and open it for review.

`offer_recovery(store, parent)` is what the main window calls at start, before any recording: the
store closes what a killed process left 'recording' (as 'interrupted', ended at its last event,
partial video removed) and, if there was such a session, the coach is shown what was kept and
can open it for review. Returns the chosen session's id, or None.
"""

from __future__ import annotations

import logging

from desktop.store import SessionDetail, Store, StoreError
from desktop.ui.qt import QDialog, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, Qt, QVBoxLayout, QWidget
from desktop.ui.screen_kit import action_button, heading, use_screen_font

logger = logging.getLogger(__name__)

DIALOG_SIZE_PX = (720, 340)


class RecoveryDialog(QDialog):
    """Lists the interrupted session(s); Enter opens the chosen one, Esc leaves them for later."""

    def __init__(self, sessions: list[SessionDetail], store: Store, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Trackside closed unexpectedly")
        self.chosen_id: str | None = None
        use_screen_font(self)
        column = QVBoxLayout(self)
        column.addWidget(heading("The last session was interrupted"))
        intro = QLabel("Trackside closed without stopping the recording (a crash, a power cut or a flat "
                       "battery). Everything recorded up to then was kept, and the session list shows it as "
                       "interrupted:")
        intro.setWordWrap(True)
        column.addWidget(intro)
        self.session_list = QListWidget()
        for detail in sessions:
            item = QListWidgetItem(_kept_text(detail, store))
            item.setData(Qt.ItemDataRole.UserRole, detail.id)
            self.session_list.addItem(item)
        self.session_list.setCurrentRow(0)
        self.session_list.itemActivated.connect(lambda _item: self.open_chosen())
        column.addWidget(self.session_list, 1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        # Esc and Enter are the dialog's own keys (reject, and the default button)
        self.later_button = action_button("Later (Esc)", None, self.reject, tip="keep it in the session list")
        self.open_button = action_button("Open for review (Enter)", None, self.open_chosen)
        self.open_button.setDefault(True)
        buttons.addWidget(self.later_button)
        buttons.addWidget(self.open_button)
        column.addLayout(buttons)
        self.resize(DIALOG_SIZE_PX[0], DIALOG_SIZE_PX[1])

    def open_chosen(self) -> None:
        item = self.session_list.currentItem()
        if item is not None:
            self.chosen_id = item.data(Qt.ItemDataRole.UserRole)
            self.accept()


def offer_recovery(store: Store, parent: QWidget | None = None) -> str | None:
    """Close sessions left open by a crash; ask the coach whether to review one. Its id, or None."""
    try:
        recovered = store.recover_interrupted()
    except StoreError:
        logger.exception("interrupted sessions could not be closed")
        return None
    if not recovered:
        return None
    dialog = RecoveryDialog([store.session(session_id) for session_id in recovered], store, parent)
    dialog.exec()
    return dialog.chosen_id if dialog.result() == QDialog.DialogCode.Accepted else None


def _kept_text(detail: SessionDetail, store: Store) -> str:
    started = f"{detail.started_wall_utc.astimezone():%a %d %b %H:%M}"
    minutes, seconds = divmod(int(round(detail.duration_s)), 60)
    athletes = " · ".join(f"{c.display_name} {c.sample_count} HR samples" for c in detail.channels) or "no athletes"
    video_s = sum(s.end_mono_s - s.start_mono_s for s in store.video_segments(detail.id))
    video = f"{video_s:.0f} s of video" if video_s else "no video"
    return f"{started}, {minutes}:{seconds:02d} recorded\n{athletes} · {video}"
