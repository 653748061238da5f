"""Keyboard first: every action of a screen is a `Command` with its keys, shown beside its button
and in the help overlay (F1 or ?)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from desktop.ui.qt import QAction, QKeySequence, QPushButton, Qt, QWidget


@dataclass(frozen=True)
class Command:
    name: str  # what the coach reads: "Lap", "Replay last 10 s"
    keys: tuple[str, ...]  # QKeySequence strings, the first shown on the button
    run: Callable[[], None]
    group: str = "Live"
    label: str = ""  # a shorter text for its button (default: the name)

    @property
    def first_key_text(self) -> str:
        return QKeySequence(self.keys[0]).toString(QKeySequence.NativeText)

    @property
    def keys_text(self) -> str:
        return " / ".join(QKeySequence(k).toString(QKeySequence.NativeText) for k in self.keys)


def install(commands: list[Command], on: QWidget) -> dict[str, QAction]:
    """One QAction per command on `on` (active while `on` is in the active window and visible)."""
    actions = {}
    for command in commands:
        action = QAction(command.name, on)
        action.setShortcuts([QKeySequence(k) for k in command.keys])
        action.setShortcutContext(Qt.WindowShortcut)
        action.triggered.connect(lambda _=False, run=command.run: run())
        on.addAction(action)
        actions[command.name] = action
    return actions


def button(command: Command, parent: QWidget | None = None) -> QPushButton:
    """A button that says what it does and its key, e.g. 'Lap  [L]'."""
    widget = QPushButton(f"{command.label or command.name} [{command.first_key_text}]", parent)
    widget.setFocusPolicy(Qt.NoFocus)  # keys go to the screen's shortcuts, never a focused button
    widget.clicked.connect(lambda _=False: command.run())
    return widget
