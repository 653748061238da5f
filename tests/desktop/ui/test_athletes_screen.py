"""The athletes screen: roster and zones, editing, three consents, and pairing a strap from a scan."""

from __future__ import annotations

import pytest

from desktop.store import Store
from desktop.ui.athletes_screen import AthletesScreen
from desktop.ui.qt import Qt
from tests.desktop.ui.recorded_sessions import WAIT_S, record_without_video, show_active
from tests.support.bumble_bleak import VirtualRadio

WAIT_MS = int(WAIT_S * 1000)


@pytest.fixture
def store(data_dir):
    with Store.open(data_dir) as opened:
        yield opened


def row_of(screen: AthletesScreen, name: str) -> dict[str, str]:
    row = screen.athlete_names().index(name)
    headers = [screen.table.horizontalHeaderItem(c).text() for c in range(screen.table.columnCount())]
    cells = {h: (screen.table.item(row, c).text() if screen.table.item(row, c) else "") for c, h in enumerate(headers)}
    zones = screen.table.cellWidget(row, 3)
    cells["zones"] = [chip.text() for chip in zones.findChildren(type(screen.strap_label))]
    return cells


def test_the_roster_shows_limits_zones_as_numbers_and_each_consent(qtbot, data_dir, store):
    record_without_video(data_dir)  # adds Ana and Ben and records them
    store.set_consent(store.athlete_by_name("Ben").id, cloud=True)
    screen = AthletesScreen(store)
    show_active(qtbot, screen)

    ana = row_of(screen, "Ana")
    assert (ana["HRmax"], ana["HRrest"], ana["Record"], ana["Cloud"], ana["Training"]) == ("195", "48", "yes", "NO", "NO")
    assert ana["zones"] == ["Z1 98", "Z2 117", "Z3 136", "Z4 156", "Z5 176"]  # 50..90 % of 195 bpm, colour AND number
    assert row_of(screen, "Ben")["Cloud"] == "yes"


def test_an_athlete_is_added_and_edited_and_a_bad_entry_changes_nothing(qtbot, data_dir, store):
    screen = AthletesScreen(store)
    show_active(qtbot, screen)
    qtbot.keyClick(screen, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(screen.name_edit, "Dana")
    screen.hr_max_spin.setValue(192)
    screen.hr_rest_spin.setValue(51)
    qtbot.keyClick(screen, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)

    dana = store.athlete_by_name("Dana")
    assert (dana.hr_max_bpm, dana.hr_rest_bpm) == (192, 51)
    assert (dana.consent_record, dana.consent_cloud, dana.consent_training) == (True, False, False)
    assert screen.athlete_names() == ["Dana"]

    screen.hr_rest_spin.setValue(200)  # above HRmax: refused with the reason, nothing stored
    qtbot.keyClick(screen, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert "resting HR" in screen.details_status.text()
    assert store.athlete_by_name("Dana").hr_rest_bpm == 51

    screen.hr_rest_spin.setValue(49)
    screen.hr_max_spin.setValue(190)
    qtbot.keyClick(screen, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert (store.athlete_by_name("Dana").hr_max_bpm, row_of(screen, "Dana")["zones"][0]) == (190, "Z1 95")


def test_each_consent_is_saved_alone_and_record_consent_decides_what_a_recording_keeps(qtbot, data_dir, store):
    record_without_video(data_dir)
    screen = AthletesScreen(store)
    show_active(qtbot, screen)
    screen.select_athlete("Ben")
    qtbot.keyClick(screen, Qt.Key.Key_T, Qt.KeyboardModifier.AltModifier)  # use for training: yes
    qtbot.waitUntil(lambda: store.athlete_by_name("Ben").consent_training, timeout=WAIT_MS)  # Qt animates the tick
    ben = store.athlete_by_name("Ben")
    assert (ben.consent_record, ben.consent_cloud, ben.consent_training) == (True, False, True)

    screen.consent_boxes["record"].click()  # Ben withdraws consent to recording
    assert row_of(screen, "Ben")["Record"] == "NO" and store.athlete_by_name("Ben").consent_training

    session_id = record_without_video(data_dir)
    assert len(store.hr_samples(session_id, "sim-1")) == 60  # Ana
    assert store.hr_samples(session_id, "sim-2") == []  # Ben: nothing kept


def test_a_strap_found_by_a_scan_is_paired_to_the_chosen_athlete(qtbot, data_dir, store):
    store.add_athlete("Ana", 195, 48)
    store.add_athlete("Ben", 188, 55)
    with VirtualRadio() as radio:
        radio.add_strap("D0:00:00:00:00:0A", "Polar H10 A")
        radio.add_strap("D0:00:00:00:00:0B", "Garmin HRM B")
        _, scanner = radio.backends()
        screen = AthletesScreen(store, scanner_backend=scanner, scan_s=WAIT_S)
        show_active(qtbot, screen)
        qtbot.keyClick(screen, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)  # scan
        qtbot.waitUntil(lambda: len(screen.found_straps()) == 2, timeout=WAIT_MS)
        qtbot.keyClick(screen, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)  # stop the scan
        # the scan's thread ends first; its result reaches the window on the Qt thread after that
        qtbot.waitUntil(lambda: "Found 2 strap(s)" in screen.strap_status.text(), timeout=WAIT_MS)
    assert not screen.scanning and screen.scan_button.text() == "Scan (Ctrl+B)"

    screen.select_athlete("Ben")
    garmin = [s.name for s in screen.found_straps()].index("Garmin HRM B")
    screen.strap_list.setCurrentRow(garmin)
    qtbot.keyClick(screen, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)

    ben = store.athlete_by_name("Ben")
    assert (ben.strap_address, ben.strap_name) == ("D0:00:00:00:00:0B", "Garmin HRM B")
    assert row_of(screen, "Ben")["Strap"] == "Garmin HRM B" and row_of(screen, "Ana")["Strap"] == "—"
    assert "Garmin HRM B (D0:00:00:00:00:0B)" in screen.strap_label.text()

    qtbot.keyClick(screen, Qt.Key.Key_U, Qt.KeyboardModifier.ControlModifier)
    assert store.athlete_by_name("Ben").strap_address is None
