"""The sessions screen: the list of recorded sessions, and the review of one on a single timeline.

Review: the stored video and every athlete's heart rate share one playhead (scrub either, the
other follows); laps, notes, work/rest and the models' feedback are drawn on the timeline. The coach
labels a time range with the team's movement classes or with work/rest (the learning loop's
training data) and exports the session as CSV, TCX or FIT.

Nothing slow runs on the Qt thread: the list and a session are read on a worker thread with their
own store connection, video frames are decoded on a worker (only the newest asked-for frame), and
exports are written on a worker. Labels are single small inserts through the window's store.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from desktop.export import EXPORT_FORMATS, export_session
from desktop.store import Store, StoreError
from desktop.ui.off_thread import LatestOnly, run_off_thread
from desktop.ui.qt import (
    QAbstractItemView, QComboBox, QFileDialog, QGridLayout, QGroupBox, QHBoxLayout, QHeaderView, QImage,
    QKeySequence, QLabel, QListWidget, QListWidgetItem, QPixmap, QShortcut, QSizePolicy, QSlider, QStackedWidget, Qt,
    QTableWidget, QTableWidgetItem, QTimer, QVBoxLayout, QWidget, Signal,
)
from desktop.ui.review_data import (
    WORK_REST_LABELS, SessionReview, SessionRow, labels_as_spans, load_review, load_session_rows, movement_classes,
)
from desktop.ui.review_timeline import Playhead, ReviewTimeline
from desktop.ui.screen_kit import SCREEN_FONT_PT, action_button, heading, show_status, use_screen_font
from desktop.ui.segment_frames import DecodedFrame, SegmentFrames

logger = logging.getLogger(__name__)

LIST_COLUMNS = ("Date", "Athletes", "Duration", "Video", "Labelled", "Status")
PLAYBACK_TICK_MS = 40  # the playhead advances 25 times a second while playing
SCRUB_STEPS_PER_S = 10  # the slider moves in tenths of a second
FRAME_STEP_S = 1 / 30  # one frame of 30 fps video
JUMP_S = 5.0
WORKER_JOIN_S = 5.0  # closing the screen waits this long for a decode or export to finish
LABEL_BUTTONS_PER_ROW = 3
TIMELINE_MIN_HEIGHT_PX = 280  # HR rows readable, plus the model and label strips
EXPORTS_FOLDER = "exports"  # under the data directory, until the coach chooses another folder


class SessionsScreen(QWidget):
    """The list page and the review page, one shown at a time."""

    session_opened = Signal(str)  # a session is shown for review (its id)
    review_ready = Signal()  # the review of the opened session is drawn

    def __init__(self, store: Store, *, label_classes: tuple[str, ...] | None = None,
                 export_dir: Path | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self._store = store
        self._data_dir = Path(store.data_dir)
        self.label_classes = tuple(label_classes if label_classes is not None else movement_classes())
        self.export_dir = Path(export_dir) if export_dir is not None else self._data_dir / EXPORTS_FOLDER
        self._rows: list[SessionRow] = []
        self.review: SessionReview | None = None
        self._opening: str | None = None  # the session whose read was asked for last
        self._frames: SegmentFrames | None = None
        self._threads: list = []
        self.shown_frame: DecodedFrame | None = None  # the frame on screen (None: no video there)
        self.exported: list[Path] = []  # the files of the last export
        self.playhead = Playhead(self)
        self._player = QTimer(self)
        self._player.setInterval(PLAYBACK_TICK_MS)
        self._player.timeout.connect(lambda: self._advance(PLAYBACK_TICK_MS / 1000))
        self._decoder = LatestOnly(self, self._decode, self._show_frame, name="review-decode")
        use_screen_font(self)
        self.pages = QStackedWidget()
        self.list_page, self.review_page = self._build_list(), self._build_review()
        self.pages.addWidget(self.list_page)
        self.pages.addWidget(self.review_page)
        QVBoxLayout(self).addWidget(self.pages)
        self.playhead.moved.connect(self._on_playhead)
        self.refresh()

    # == the list ================================================================================

    def _build_list(self) -> QWidget:
        page = QWidget()
        column = QVBoxLayout(page)
        top = QHBoxLayout()
        top.addWidget(heading("Sessions"))
        top.addStretch(1)
        top.addWidget(action_button("Open", "Return", self.open_selected))
        top.addWidget(action_button("Refresh", "F5", self.refresh))
        column.addLayout(top)
        self.table = QTableWidget(0, len(LIST_COLUMNS))
        self.table.setHorizontalHeaderLabels(LIST_COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.cellDoubleClicked.connect(lambda row, _col: self.open_session(self._rows[row].summary.id))
        column.addWidget(self.table, 1)
        self.list_status = QLabel("")
        column.addWidget(self.list_status)
        return page

    def refresh(self) -> None:
        """Read the session list again, on a worker thread."""
        show_status(self.list_status, "Reading sessions…")
        data_dir = self._data_dir
        self._start(lambda: load_session_rows(data_dir), self._show_rows, self._list_failed, "sessions-list")

    def _show_rows(self, rows: list[SessionRow]) -> None:
        self._rows = rows
        self.table.setRowCount(len(rows))
        for i, row in enumerate(rows):
            for column, text in enumerate(_row_texts(row)):
                self.table.setItem(i, column, QTableWidgetItem(text))
        if rows and not self.table.selectionModel().selectedRows():
            self.table.selectRow(0)
        show_status(self.list_status, f"{len(rows)} session(s). Open one with Enter or a double click.")

    def _list_failed(self, error: Exception) -> None:
        show_status(self.list_status, f"Cannot read the sessions: {error}", problem=True)

    def session_ids(self) -> list[str]:
        return [r.summary.id for r in self._rows]

    def list_row_texts(self) -> list[tuple[str, ...]]:
        return [tuple(self.table.item(r, c).text() for c in range(len(LIST_COLUMNS)))
                for r in range(self.table.rowCount())]

    def open_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            self.open_session(self._rows[rows[0].row()].summary.id)

    # == the review ==============================================================================

    def _build_review(self) -> QWidget:
        page = QWidget()
        column = QVBoxLayout(page)
        column.setContentsMargins(4, 4, 4, 4)
        column.addLayout(self._review_top())
        middle = QHBoxLayout()
        middle.addLayout(self._video_column(), 3)
        middle.addWidget(self._label_panel(), 2)
        column.addLayout(middle, 1)
        self.timeline = ReviewTimeline(self.playhead, self.label_classes)
        self.timeline.setMinimumHeight(TIMELINE_MIN_HEIGHT_PX)
        column.addWidget(self.timeline, 1)
        self.timeline.selection.sigRegionChangeFinished.connect(
            lambda region: self.select_range(*region.getRegion()))
        return page

    def _review_top(self) -> QHBoxLayout:
        top = QHBoxLayout()
        top.addWidget(action_button("Back", "Esc", self.back_to_list))
        self.review_title = heading("")
        self.review_title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        font = self.review_title.font()
        font.setPointSize(SCREEN_FONT_PT + 1)
        self.review_title.setFont(font)
        top.addWidget(self.review_title, 1)
        top.addLayout(self._export_row())
        return top

    def _export_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(QLabel("Export:"))
        for fmt, key in zip(EXPORT_FORMATS, ("Alt+C", "Alt+T", "Alt+F")):
            row.addWidget(action_button(fmt.upper(), key, lambda fmt=fmt: self.export(fmt),
                                        tip=f"write this session as {fmt.upper()}"))
        row.addWidget(action_button("Folder…", "Alt+O", self.choose_export_dir,
                                    tip="choose where exports are written"))
        return row

    def _video_column(self) -> QVBoxLayout:
        column = QVBoxLayout()
        self.video = QLabel("No video in this session")
        self.video.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.video.setMinimumSize(320, 180)
        self.video.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.video.setStyleSheet("background: #000000; color: #ffffff;")
        column.addWidget(self.video, 1)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.valueChanged.connect(lambda v: self.playhead.move_to(v / SCRUB_STEPS_PER_S))
        column.addWidget(self.slider)
        controls = QHBoxLayout()
        self.play_button = action_button("Play", "Space", self.toggle_play)
        controls.addWidget(self.play_button)
        controls.addWidget(action_button("◀ frame", ",", lambda: self.playhead.step(-FRAME_STEP_S)))
        controls.addWidget(action_button("frame ▶", ".", lambda: self.playhead.step(FRAME_STEP_S)))
        controls.addWidget(action_button("−5 s", "Left", lambda: self.playhead.step(-JUMP_S)))
        controls.addWidget(action_button("+5 s", "Right", lambda: self.playhead.step(JUMP_S)))
        self.clock_label = QLabel("0.0 s")
        controls.addWidget(self.clock_label, 1, Qt.AlignmentFlag.AlignRight)
        column.addLayout(controls)
        return column

    def _label_panel(self) -> QGroupBox:
        box = QGroupBox("Label a stretch (training data)")
        grid = QGridLayout(box)
        grid.addWidget(action_button("Start here", "[", self.mark_start), 0, 0)
        grid.addWidget(action_button("End here", "]", self.mark_end), 0, 1)
        self.channel_combo = QComboBox()
        self.channel_combo.setToolTip("who the label is for: the whole squad or one athlete — A picks the next")
        QShortcut(QKeySequence("A"), self.channel_combo).activated.connect(self.next_label_target)
        grid.addWidget(self.channel_combo, 0, 2)
        self.selection_label = QLabel("No stretch chosen: press [ and ] at the playhead, then drag its edges "
                                      "on the chart.")
        self.selection_label.setWordWrap(True)
        grid.addWidget(self.selection_label, 1, 0, 1, LABEL_BUTTONS_PER_ROW)
        keys = [str(i + 1) for i in range(min(9, len(self.label_classes)))]
        choices = [(name, key) for name, key in zip(self.label_classes, keys)] + [("work", "W"), ("rest", "R")]
        for i, (name, key) in enumerate(choices):
            grid.addWidget(action_button(name, key, lambda name=name: self.label_selection(name),
                                         tip=f"label the chosen stretch as {name}"),
                           2 + i // LABEL_BUTTONS_PER_ROW, i % LABEL_BUTTONS_PER_ROW)
        row = 2 + (len(choices) + LABEL_BUTTONS_PER_ROW - 1) // LABEL_BUTTONS_PER_ROW
        self.label_list = QListWidget()
        self.label_list.setMinimumHeight(60)
        grid.addWidget(self.label_list, row + 1, 0, 1, LABEL_BUTTONS_PER_ROW)
        grid.addWidget(action_button("Delete label", "Delete", self.delete_selected_label), row + 2, 0)
        self.review_status = QLabel("")
        self.review_status.setWordWrap(True)
        grid.addWidget(self.review_status, row + 2, 1, 1, LABEL_BUTTONS_PER_ROW - 1)
        return box

    def open_session(self, session_id: str) -> None:
        """Show the review page and read the session on a worker thread."""
        self._stop_playing()
        self.pages.setCurrentWidget(self.review_page)
        self.review_title.setText("Reading the session…")
        self._opening = session_id
        data_dir = self._data_dir
        self._start(lambda: load_review(data_dir, session_id), lambda review: self._show_review(session_id, review),
                    self._review_failed, "review-read")

    def _show_review(self, asked_id: str, review: SessionReview) -> None:
        if asked_id != self._opening:
            return  # the coach opened another session meanwhile
        self.review = review
        self._frames = SegmentFrames(review.segment_dir, review.segments)
        detail = review.detail
        names = ", ".join(review.channel_names.values()) or "no athletes"
        count = len(review.channel_names)
        self.review_title.setText(f"{detail.started_wall_utc.astimezone():%a %d %b %H:%M} · "
                                  f"{_duration_text(detail.duration_s)} · {count} athlete{'s' * (count != 1)}"
                                  + (" · interrupted" if detail.status == "interrupted" else ""))
        self.review_title.setToolTip(f"{detail.started_wall_utc.astimezone():%A %d %B %Y %H:%M}: {names}")
        self.channel_combo.clear()
        self.channel_combo.addItem("Whole squad (A)", None)
        for channel, name in review.channel_names.items():
            self.channel_combo.addItem(f"{name} (A)", channel)
        self.slider.setRange(0, int(review.duration_s * SCRUB_STEPS_PER_S))
        self.playhead.set_duration(review.duration_s)
        self.timeline.show_session(review)
        self.timeline.selection.hide()
        self._fill_labels()
        self.video.setText("" if self._frames.has_video else "No video in this session")
        self.playhead.move_to(0.0)
        self._on_playhead(self.playhead.position_s)
        self.session_opened.emit(detail.id)
        self.review_ready.emit()

    def _review_failed(self, error: Exception) -> None:
        self.review_title.setText("This session cannot be read")
        show_status(self.review_status, str(error), problem=True)

    def back_to_list(self) -> None:
        self._stop_playing()
        self.pages.setCurrentWidget(self.list_page)
        self.refresh()

    # -- playhead, video ---------------------------------------------------------------------------

    def _on_playhead(self, t_s: float) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(round(t_s * SCRUB_STEPS_PER_S))
        self.slider.blockSignals(False)
        self.clock_label.setText(f"{t_s:.2f} s / {self.playhead.duration_s:.1f} s")
        if self.review is not None and self._frames is not None and self._frames.has_video:
            self._decoder.ask((self._frames, self.review.to_mono_s(t_s)))

    @staticmethod
    def _decode(job: tuple[SegmentFrames, float]) -> DecodedFrame | None:
        frames, t_mono_s = job
        return frames.frame_at(t_mono_s)

    def _show_frame(self, frame: DecodedFrame | None) -> None:
        self.shown_frame = frame
        if frame is None:
            self.video.setPixmap(QPixmap())
            self.video.setText("No video at this moment")
            return
        rgb = np.ascontiguousarray(frame.image[:, :, ::-1])
        image = QImage(rgb.data, rgb.shape[1], rgb.shape[0], rgb.strides[0], QImage.Format.Format_RGB888).copy()
        pixmap = QPixmap.fromImage(image).scaled(self.video.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                                 Qt.TransformationMode.SmoothTransformation)
        self.video.setPixmap(pixmap)

    def toggle_play(self) -> None:
        if self._player.isActive():
            self._stop_playing()
        else:
            self._player.start()
            self.play_button.setText("Pause (Space)")

    def _stop_playing(self) -> None:
        self._player.stop()
        self.play_button.setText("Play (Space)")

    def _advance(self, seconds: float) -> None:
        if self.playhead.position_s >= self.playhead.duration_s:
            self._stop_playing()
            return
        self.playhead.step(seconds)

    # -- labelling ---------------------------------------------------------------------------------

    def next_label_target(self) -> None:
        """A: the whole squad, then each athlete in turn, for the next label."""
        if self.channel_combo.count():
            self.channel_combo.setCurrentIndex((self.channel_combo.currentIndex() + 1) % self.channel_combo.count())

    def mark_start(self) -> None:
        t_s = self.playhead.position_s
        current = self.timeline.selected_range_s()
        end_s = current[1] if current and current[1] > t_s else min(t_s + 1.0, self.playhead.duration_s)
        self.select_range(t_s, end_s)

    def mark_end(self) -> None:
        t_s = self.playhead.position_s
        current = self.timeline.selected_range_s()
        start_s = current[0] if current and current[0] < t_s else max(0.0, t_s - 1.0)
        self.select_range(start_s, t_s)

    def select_range(self, start_s: float, end_s: float) -> None:
        if self.timeline.selection.getRegion() != (start_s, end_s):
            self.timeline.selection.blockSignals(True)
            self.timeline.set_selection(start_s, end_s)
            self.timeline.selection.blockSignals(False)
        self.selection_label.setText(f"Chosen: {start_s:.1f}–{end_s:.1f} s. Press a class key to label it.")

    def label_selection(self, label: str) -> None:
        chosen = self.timeline.selected_range_s()
        if self.review is None or chosen is None:
            show_status(self.review_status, "Choose a stretch first: [ at its start, ] at its end.", problem=True)
            return
        channel = self.channel_combo.currentData()
        try:
            self._store.add_label(self.review.detail.id, start_mono_s=self.review.to_mono_s(chosen[0]),
                                  end_mono_s=self.review.to_mono_s(chosen[1]), label=label, channel=channel)
        except (ValueError, StoreError) as exc:
            show_status(self.review_status, f"Label not saved: {exc}", problem=True)
            return
        who = self.channel_combo.currentText().removesuffix(" (A)")
        show_status(self.review_status, f"Labelled {chosen[0]:.1f}–{chosen[1]:.1f} s as {label} ({who}).")
        self._fill_labels()

    def _fill_labels(self) -> None:
        review = self.review
        review.labels = labels_as_spans(self._store.labels(review.detail.id), review.detail.started_mono_s)
        self.timeline.show_labels(review.labels)
        self.label_list.clear()
        for span in review.labels:
            who = review.channel_names.get(span.channel, "whole squad") if span.channel else "whole squad"
            kind = "work/rest" if span.text in WORK_REST_LABELS else "movement"
            item = QListWidgetItem(f"{span.start_s:.1f}–{span.end_s:.1f} s  {span.text} · {who}")
            item.setToolTip(f"a {kind} label, by {span.labelled_by}")
            item.setData(Qt.ItemDataRole.UserRole, span.label_id)
            self.label_list.addItem(item)

    def delete_selected_label(self) -> None:
        chosen = self.label_list.selectedItems()  # only a label the coach picked, never one by accident
        if not chosen:
            show_status(self.review_status, "Pick the label to delete in the list first.", problem=True)
            return
        item = chosen[0]
        self._store.delete_label(item.data(Qt.ItemDataRole.UserRole))
        show_status(self.review_status, "Label deleted.")
        self._fill_labels()

    # -- export ------------------------------------------------------------------------------------

    def choose_export_dir(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export to", str(self.export_dir))
        if folder:
            self.export_dir = Path(folder)

    def export(self, fmt: str) -> None:
        if self.review is None:
            return
        data_dir, session_id, out_dir = self._data_dir, self.review.detail.id, self.export_dir
        show_status(self.review_status, f"Exporting {fmt.upper()}…")
        self._start(lambda: _export(data_dir, session_id, fmt, out_dir), self._exported,
                    lambda exc: show_status(self.review_status, f"Export failed: {exc}", problem=True), "export")

    def _exported(self, paths: list[Path]) -> None:
        self.exported = paths
        show_status(self.review_status, "Exported: " + ", ".join(p.name for p in paths) + f" in {paths[0].parent}")

    # -- threads ---------------------------------------------------------------------------------

    def _start(self, work, on_result, on_error, name: str) -> None:
        self._threads = [t for t in self._threads if t.is_alive()]
        self._threads.append(run_off_thread(self, work, on_result, on_error, name))

    def shutdown(self) -> None:
        """Stop playback and wait for the worker threads (the main window calls this on closing)."""
        self._stop_playing()
        self._decoder.wait_idle(WORKER_JOIN_S)
        for thread in self._threads:
            thread.join(WORKER_JOIN_S)
        if self._frames is not None:
            self._frames.close()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self.shutdown()
        super().closeEvent(event)


def _export(data_dir: Path, session_id: str, fmt: str, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    with Store.open(data_dir) as store:
        return export_session(store, session_id, fmt, out_dir)


def _row_texts(row: SessionRow) -> tuple[str, ...]:
    s = row.summary
    names = ", ".join(c.display_name for c in s.channels) or "—"
    labelled = f"yes ({row.label_count})" if row.label_count else "no"
    return (f"{s.started_wall_utc.astimezone():%a %d %b %Y %H:%M}", names, _duration_text(s.duration_s),
            "yes" if row.has_video else "no", labelled, s.status)


def _duration_text(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds or 0)), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}" if minutes >= 60 else f"{minutes}:{secs:02d}"
