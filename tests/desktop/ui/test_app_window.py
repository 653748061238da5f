"""The window's shell: keys for everything, the help overlay, the screens, the command that opens it."""

from __future__ import annotations

import subprocess
import sys

from desktop.store import Store
from desktop.ui.qt import Qt


def test_every_action_has_a_key_shown_on_its_button_and_in_the_help(qtbot, open_window):
    window = open_window()
    commands = window.all_commands()
    assert all(c.keys for c in commands)
    keys = [k for c in commands for k in c.keys]
    assert len(keys) == len(set(keys)), "two actions share a key"
    for name, widget in window.live.buttons.items():
        command = next(c for c in commands if c.name == name)
        assert f"[{command.first_key_text}]" in widget.text()

    qtbot.keyClick(window, Qt.Key_F1)
    assert window.help.isVisible()
    assert {c.name for c in window.help.commands} == {c.name for c in commands}
    qtbot.keyClick(window.help, Qt.Key_Escape)
    assert not window.help.isVisible()


def test_without_sources_start_says_what_to_give_and_records_nothing(qtbot, open_window, data_dir):
    window = open_window()
    qtbot.keyClick(window, Qt.Key_R, Qt.ControlModifier)
    assert not window.live.recording
    assert "--hr" in window.status.text()
    qtbot.keyClick(window, Qt.Key_L)
    assert "start recording first" in window.status.text()
    with Store.open(data_dir) as store:  # the window opens the store for its screens; no session in it
        assert store.list_sessions() == []


def test_a_source_that_cannot_open_is_a_message_in_the_window_not_a_crash(qtbot, open_window):
    window = open_window(["replay:/no/such/ride.fit"])
    window.live.start_recording()
    qtbot.waitUntil(lambda: window.live.last_error is not None, timeout=30_000)
    assert "could not start" in window.status.text() and not window.live.recording


def test_the_window_fits_a_1366x768_laptop_screen(qtbot, open_window):
    window = open_window(["sim:4"])
    assert window.minimumSize().width() <= 1366 and window.minimumSize().height() <= 768
    assert window.minimumSizeHint().width() <= 1366 and window.minimumSizeHint().height() <= 768


def test_the_headless_commands_never_load_qt(tmp_path):
    code = ("import sys; from desktop.cli import main; "
            f"main(['record', '--headless', '--hr', 'sim:1?speed=inf', '--duration', '5', '--no-feedback', "
            f"'--data-dir', {str(tmp_path)!r}]); "
            "assert not any(m.startswith('PySide6') for m in sys.modules), 'Qt was imported'")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120, capture_output=True)


def test_trackside_alone_and_trackside_app_open_the_window(monkeypatch, tmp_path):
    import desktop.ui.app as app

    opened = []
    monkeypatch.setattr(app, "main", lambda args: opened.append(args) or 0)  # the window itself: tests above
    from desktop.cli import main

    assert main(["app", "--hr", "sim:2", "--camera", "synthetic", "--data-dir", str(tmp_path)]) == 0
    assert main(["-v"]) == 0
    assert [a.command for a in opened] == ["app", "app"]
    assert opened[0].hr == ["sim:2"] and opened[0].camera == "synthetic" and opened[0].data_dir == tmp_path
