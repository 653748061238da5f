"""The athletes screen: the roster with HRmax, HRrest and zones, editing, consent and strap pairing.

A thin view of the store: every change is written through `Store` and the roster is read back
from it. Consent is three separate choices, each saved the moment the coach ticks or clears it.
The strap scan runs on a worker thread (desktop.sources.heart_rate.scan); straps appear as they
are found.
"""

from __future__ import annotations

import logging
import threading

from desktop.analytics.zones import AthleteProfile as ZoneProfile
from desktop.analytics.zones import ZoneModel
from desktop.sources.heart_rate.scan import DEFAULT_SCAN_S, FoundStrap, scan_for_straps
from desktop.store import Athlete, Store, StoreError
from desktop.ui.off_thread import run_off_thread
from desktop.ui.qt import (
    QAbstractItemView, QCheckBox, QFormLayout, QGroupBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
    QListWidget, QListWidgetItem, QObject, QSpinBox, Qt, QTableWidget, QTableWidgetItem, QVBoxLayout,
    QWidget, Signal,
)
from desktop.ui.screen_kit import action_button, heading, show_status, use_screen_font, zone_chip

logger = logging.getLogger(__name__)

COLUMNS = ("Name", "HRmax", "HRrest", "Zones from (bpm)", "Record", "Cloud", "Training", "Strap")
PANEL_MAX_WIDTH_PX = 430  # the details panel; the roster takes the rest of the width
SCAN_JOIN_S = 2.0  # how long closing the screen waits for a cancelled scan to end
CONSENT_CHOICES = (  # (store argument, check-box text, what it means)
    ("record", "&Record heart rate (Alt+R)", "keep this athlete's heart rate in this laptop's sessions"),
    ("cloud", "Send to the team's &cloud (Alt+C)", "upload their sessions to the team's cloud service"),
    ("training", "Use for &training (Alt+T)", "let their data train the team's models"),
)


def zone_lower_bounds_bpm(athlete: Athlete) -> list[int]:
    """Zone 1..N lower bounds: the athlete's own zones if the coach set them, else %HRmax zones."""
    if athlete.zones:
        return [round(low) for low, _high in athlete.zones]
    bounds = ZoneModel().bounds_bpm(ZoneProfile(athlete.hr_max_bpm, athlete.hr_rest_bpm))
    return [round(b) for b in bounds]


class _ScanRelay(QObject):
    found = Signal(object)  # a FoundStrap, emitted from the scanning thread


class AthletesScreen(QWidget):
    """Roster on the left; the chosen athlete's details, consent and strap on the right."""

    def __init__(self, store: Store, *, scanner_backend: type | None = None, scan_s: float = DEFAULT_SCAN_S,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self._store = store
        self._scanner_backend = scanner_backend
        self._scan_s = scan_s
        self._athletes: list[Athlete] = []
        self._editing: Athlete | None = None
        self._scan_cancel: threading.Event | None = None
        self._scan_thread: threading.Thread | None = None
        self._relay = _ScanRelay(self)
        self._relay.found.connect(self._on_strap_found)
        use_screen_font(self)
        self._build()
        self.refresh()

    # -- layout --------------------------------------------------------------------------------

    def _build(self) -> None:
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._on_selection)
        left = QVBoxLayout()
        left.addWidget(heading("Athletes"))
        left.addWidget(self.table, 1)
        self.table.horizontalHeader().setFont(self.font())
        layout = QHBoxLayout(self)
        layout.addLayout(left, 1)
        panel = QWidget()
        panel.setMaximumWidth(PANEL_MAX_WIDTH_PX)
        right = QVBoxLayout(panel)
        right.setContentsMargins(0, 0, 0, 0)
        right.addWidget(self._details_box())
        right.addWidget(self._consent_box())
        right.addWidget(self._strap_box(), 1)
        layout.addWidget(panel)

    def _details_box(self) -> QGroupBox:
        box = QGroupBox("Athlete")
        form = QFormLayout(box)
        self.name_edit = QLineEdit()
        self.hr_max_spin, self.hr_rest_spin = _bpm_spin(195), _bpm_spin(55)
        form.addRow("&Name", self.name_edit)
        form.addRow("HR&max (bpm)", self.hr_max_spin)
        form.addRow("HR r&est (bpm)", self.hr_rest_spin)
        buttons = QHBoxLayout()
        buttons.addWidget(action_button("New athlete", "Ctrl+N", self.new_athlete))
        buttons.addWidget(action_button("Save", "Ctrl+S", self.save_athlete))
        form.addRow(buttons)
        self.details_status = QLabel("")
        self.details_status.setWordWrap(True)
        form.addRow(self.details_status)
        return box

    def _consent_box(self) -> QGroupBox:
        box = QGroupBox("Consent (each choice is separate)")
        column = QVBoxLayout(box)
        rule = QLabel("Sending to the cloud and training stay NO until the athlete says yes.")
        rule.setWordWrap(True)
        column.addWidget(rule)
        self.consent_boxes: dict[str, QCheckBox] = {}
        for choice, text, meaning in CONSENT_CHOICES:
            check = QCheckBox(text)
            check.setToolTip(meaning)
            check.toggled.connect(lambda on, choice=choice: self._on_consent(choice, on))
            column.addWidget(check)
            self.consent_boxes[choice] = check
        self.consent_note = QLabel("")
        self.consent_note.setWordWrap(True)
        column.addWidget(self.consent_note)
        return box

    def _strap_box(self) -> QGroupBox:
        box = QGroupBox("Heart-rate strap")
        column = QVBoxLayout(box)
        self.strap_label = QLabel("No strap paired")
        column.addWidget(self.strap_label)
        self.scan_button = action_button("Scan", "Ctrl+B", self.toggle_scan, tip="find straps nearby")
        column.addWidget(self.scan_button)  # a row of its own: its text grows to "Stop scan" while scanning
        row = QHBoxLayout()
        row.addWidget(action_button("Pair", "Ctrl+P", self.pair_selected_strap, tip="pair the chosen strap"))
        row.addWidget(action_button("Unpair", "Ctrl+U", self.unpair_strap))
        column.addLayout(row)
        self.strap_list = QListWidget()
        column.addWidget(self.strap_list, 1)
        self.strap_status = QLabel("Scan, choose a strap, then pair it to the athlete on the left.")
        self.strap_status.setWordWrap(True)
        column.addWidget(self.strap_status)
        return box

    # -- roster ----------------------------------------------------------------------------------

    def refresh(self, select_id: int | None = None) -> None:
        """Read the roster from the store again (and keep or set the selection)."""
        keep = select_id if select_id is not None else (self._editing.id if self._editing else None)
        self._athletes = self._store.list_athletes()
        self.table.blockSignals(True)
        self.table.setRowCount(len(self._athletes))
        for row, athlete in enumerate(self._athletes):
            self._fill_row(row, athlete)
        self.table.blockSignals(False)
        self.table.resizeRowsToContents()
        ids = [a.id for a in self._athletes]
        if keep in ids:
            self.table.selectRow(ids.index(keep))
        elif self._athletes and self._editing is None:
            self.table.selectRow(0)

    def _fill_row(self, row: int, athlete: Athlete) -> None:
        texts = (athlete.name, f"{athlete.hr_max_bpm}", f"{athlete.hr_rest_bpm}", None,
                 _yes_no(athlete.consent_record), _yes_no(athlete.consent_cloud), _yes_no(athlete.consent_training),
                 athlete.strap_name or athlete.strap_address or "—")
        for column, text in enumerate(texts):
            if text is not None:
                self.table.setItem(row, column, QTableWidgetItem(text))
        self.table.setCellWidget(row, 3, _zones_widget(zone_lower_bounds_bpm(athlete)))

    def athlete_names(self) -> list[str]:
        return [a.name for a in self._athletes]

    def select_athlete(self, name: str) -> None:
        self.table.selectRow(self.athlete_names().index(name))

    def _on_selection(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            self._show(self._athletes[rows[0].row()])

    def _show(self, athlete: Athlete | None) -> None:
        self._editing = athlete
        self.name_edit.setText(athlete.name if athlete else "")
        self.hr_max_spin.setValue(athlete.hr_max_bpm if athlete else 195)
        self.hr_rest_spin.setValue(athlete.hr_rest_bpm if athlete else 55)
        defaults = {"record": True, "cloud": False, "training": False}  # a new athlete: the CLI's defaults
        for choice, check in self.consent_boxes.items():
            check.blockSignals(True)
            check.setChecked(_consent_of(athlete, choice) if athlete else defaults[choice])
            check.blockSignals(False)
        self._show_consent_note(athlete)
        self._show_strap(athlete)

    def _show_consent_note(self, athlete: Athlete | None) -> None:
        if athlete is None:
            self.consent_note.setText("New athlete: ask before you save. Cloud and training stay NO until "
                                      "the athlete says yes.")
        elif athlete.consent_changed_utc is None:
            self.consent_note.setText("Consent never recorded.")
        else:
            self.consent_note.setText(f"Last changed {athlete.consent_changed_utc:%Y-%m-%d %H:%M} UTC.")

    def _show_strap(self, athlete: Athlete | None) -> None:
        if athlete is None or athlete.strap_address is None:
            self.strap_label.setText("No strap paired")
        else:
            self.strap_label.setText(f"Paired: {athlete.strap_name or 'strap'} ({athlete.strap_address})")

    # -- editing ---------------------------------------------------------------------------------

    def new_athlete(self) -> None:
        self.table.clearSelection()
        self._show(None)
        self.name_edit.setFocus()

    def save_athlete(self) -> None:
        name, hr_max, hr_rest = self.name_edit.text(), self.hr_max_spin.value(), self.hr_rest_spin.value()
        try:
            if self._editing is None:
                consent = {c: self.consent_boxes[c].isChecked() for c in ("record", "cloud", "training")}
                saved = self._store.add_athlete(name, hr_max, hr_rest, consent=consent["record"],
                                                consent_cloud=consent["cloud"], consent_training=consent["training"])
            else:
                saved = self._store.update_athlete(self._editing.id, name=name, hr_max_bpm=hr_max,
                                                   hr_rest_bpm=hr_rest, zones=self._editing.zones)
        except (ValueError, StoreError) as exc:
            show_status(self.details_status, str(exc), problem=True)
            return
        show_status(self.details_status, f"Saved {saved.name}.")
        self._editing = saved
        self.refresh(select_id=saved.id)

    def _on_consent(self, choice: str, on: bool) -> None:
        if self._editing is None:
            return  # a new athlete's choices are saved with the athlete
        try:
            self._editing = self._store.set_consent(self._editing.id, **{choice: on})
        except StoreError as exc:
            show_status(self.details_status, f"Consent not saved: {exc}", problem=True)
            return
        self.refresh()

    # -- strap pairing ---------------------------------------------------------------------------

    @property
    def scanning(self) -> bool:
        return self._scan_thread is not None and self._scan_thread.is_alive()

    def toggle_scan(self) -> None:
        if self._scan_cancel is not None:
            self._scan_cancel.set()
            return
        self.strap_list.clear()
        self._scan_cancel = threading.Event()
        cancel, backend, relay = self._scan_cancel, self._scanner_backend, self._relay
        self.scan_button.setText("Stop (Ctrl+B)")
        show_status(self.strap_status, "Scanning… put the strap on (it wakes on skin contact).")
        self._scan_thread = run_off_thread(
            self, lambda: scan_for_straps(self._scan_s, backend=backend, on_found=relay.found.emit, cancel=cancel),
            self._on_scan_done, self._on_scan_failed, name="strap-scan")

    def _on_strap_found(self, strap: FoundStrap) -> None:
        owner = self._store.athlete_by_strap(strap.address)
        signal = "" if strap.rssi_dbm is None else f", signal {strap.rssi_dbm} dBm"
        paired = f" — paired to {owner.name}" if owner else ""
        item = QListWidgetItem(f"{strap.name} ({strap.address}{signal}){paired}")
        item.setData(Qt.ItemDataRole.UserRole, strap)
        self.strap_list.addItem(item)
        if self.strap_list.currentRow() < 0:
            self.strap_list.setCurrentRow(0)

    def _on_scan_done(self, found: list[FoundStrap]) -> None:
        self._scan_finished()
        show_status(self.strap_status, f"Found {len(found)} strap(s)." if found else
                    "No strap found: is it worn (or its contacts wet) and close to this laptop?")

    def _on_scan_failed(self, error: Exception) -> None:
        self._scan_finished()
        show_status(self.strap_status, f"Bluetooth scan failed: {error}", problem=True)

    def _scan_finished(self) -> None:
        self._scan_cancel = None
        self.scan_button.setText("Scan (Ctrl+B)")

    def found_straps(self) -> list[FoundStrap]:
        return [self.strap_list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.strap_list.count())]

    def pair_selected_strap(self) -> None:
        item = self.strap_list.currentItem()
        if self._editing is None or item is None:
            show_status(self.strap_status, "Choose an athlete and a strap from a scan first.", problem=True)
            return
        strap: FoundStrap = item.data(Qt.ItemDataRole.UserRole)
        self._editing = self._store.pair_strap(self._editing.id, strap.address, strap.name)
        show_status(self.strap_status, f"{strap.name} paired to {self._editing.name}.")
        self._show_strap(self._editing)
        self.refresh()

    def unpair_strap(self) -> None:
        if self._editing is None or self._editing.strap_address is None:
            return
        self._editing = self._store.unpair_strap(self._editing.id)
        show_status(self.strap_status, f"{self._editing.name} has no strap now.")
        self._show_strap(self._editing)
        self.refresh()

    def shutdown(self) -> None:
        """End a running scan (the main window calls this on closing)."""
        if self._scan_cancel is not None:
            self._scan_cancel.set()
        if self._scan_thread is not None:
            self._scan_thread.join(SCAN_JOIN_S)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self.shutdown()
        super().closeEvent(event)


def _bpm_spin(value: int) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(25, 250)
    spin.setValue(value)
    spin.setSuffix(" bpm")
    return spin


def _zones_widget(bounds_bpm: list[int]) -> QWidget:
    widget = QWidget()
    row = QHBoxLayout(widget)
    row.setContentsMargins(2, 2, 2, 2)
    row.setSpacing(2)
    for zone, bound in enumerate(bounds_bpm, start=1):
        row.addWidget(zone_chip(zone, f"{bound}"))
    row.addStretch(1)
    return widget


def _consent_of(athlete: Athlete, choice: str) -> bool:
    return {"record": athlete.consent_record, "cloud": athlete.consent_cloud,
            "training": athlete.consent_training}[choice]


def _yes_no(choice: bool) -> str:
    return "yes" if choice else "NO"
