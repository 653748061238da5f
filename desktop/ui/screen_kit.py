"""Small pieces the sessions, athletes, models and recovery screens share.

Every action is a button whose text names its shortcut ("Save (Ctrl+S)"), so the key is shown
beside the action; zones are always a colour AND a number.
"""

from __future__ import annotations

from typing import Callable

from desktop.ui.qt import QColor, QFont, QKeySequence, QLabel, QPushButton, QShortcut, QSizePolicy, QWidget

SCREEN_FONT_PT = 13  # body text, readable at arm's length on a 1366x768 laptop
HEADING_FONT_PT = 17

# The convention coaches know from team HR systems: Z1 blue, Z2 green, Z3 yellow, Z4 orange, Z5 red.
ZONE_COLOURS = {1: "#1f6fe0", 2: "#1f9e3a", 3: "#f2c300", 4: "#f07d10", 5: "#d8232a"}
ZONE_TEXT_COLOURS = {1: "#ffffff", 2: "#ffffff", 3: "#000000", 4: "#000000", 5: "#ffffff"}
BELOW_ZONES_COLOUR = "#9a9a9a"


def zone_colour(zone: int) -> QColor:
    return QColor(ZONE_COLOURS.get(zone, BELOW_ZONES_COLOUR))


def zone_chip(zone: int, text: str) -> QLabel:
    """A zone as a coloured chip that also says its number (never colour alone)."""
    chip = QLabel(f"Z{zone} {text}")
    chip.setStyleSheet(f"background: {ZONE_COLOURS.get(zone, BELOW_ZONES_COLOUR)}; "
                       f"color: {ZONE_TEXT_COLOURS.get(zone, '#000000')}; padding: 1px 4px; font-weight: bold;")
    return chip


def action_button(text: str, key: str | None, slot: Callable[[], object], parent: QWidget | None = None,
                  tip: str = "") -> QPushButton:
    """A button that shows its shortcut in its text and answers to it while its screen is shown."""
    button = QPushButton(f"{text} ({_native(key)})" if key else text, parent)
    for each in _KEYS_ALSO.get(key, (key,)) if key else ():
        # a QShortcut, not setShortcut: it acts at once (no animated click) and only while shown and enabled
        QShortcut(QKeySequence(each), button).activated.connect(slot)
    button.setToolTip(f"{tip or text} — {_native(key)}" if key else (tip or text))
    button.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Fixed)
    button.setMinimumHeight(36)
    button.clicked.connect(lambda _checked=False: slot())
    return button


_KEYS_ALSO = {"Return": ("Return", "Enter")}  # the main Enter key and the keypad's answer alike
_SHOWN_AS = {"Return": "Enter"}  # what the key is called on the keyboard the coach looks at


def _native(key: str | None) -> str:
    if not key:
        return ""
    return _SHOWN_AS.get(key) or QKeySequence(key).toString(QKeySequence.SequenceFormat.NativeText)


def heading(text: str) -> QLabel:
    label = QLabel(text)
    font = label.font()
    font.setPointSize(HEADING_FONT_PT)
    font.setBold(True)
    label.setFont(font)
    return label


def use_screen_font(widget: QWidget) -> None:
    font = QFont(widget.font())
    font.setPointSize(SCREEN_FONT_PT)
    widget.setFont(font)


def show_status(label: QLabel, text: str, problem: bool = False) -> None:
    """A one-line message under an action: what it did, or (in red, with a marker) what went wrong."""
    label.setText(("⚠ " if problem else "") + text)
    label.setStyleSheet("color: #ff5050; font-weight: bold;" if problem else "")
