"""The high-contrast theme: black ground, white bold text, zone colours coaches know.

Made for a laptop in sunlight: no greys for anything that matters, large type for the numbers a
coach reads from two metres, and every colour paired with a word or a number.
"""

from __future__ import annotations

from desktop.ui.qt import QApplication, QColor, QFont, QPalette

# Below zone 1 white; zone colours (Z1 blue, Z2 green, Z3 yellow, Z4 orange, Z5 red), bright enough for black text.
ZONE_COLOURS = {0: "#FFFFFF", 1: "#4DA3FF", 2: "#2ECC40", 3: "#FFDC00", 4: "#FF851B", 5: "#FF4136"}
STALE_BACKGROUND = "#2B2B2B"
STALE_TEXT = "#8A8A8A"
BACKGROUND = "#000000"
TEXT = "#FFFFFF"
ACCENT = "#FFDC00"
WORK_COLOUR = "#FF4136"
REST_COLOUR = "#4DA3FF"
LAP_COLOUR = "#FFFFFF"
NOTE_COLOUR = "#FFDC00"
BASE_POINT_SIZE = 11

STYLE_SHEET = f"""
QWidget {{ background: {BACKGROUND}; color: {TEXT}; }}
QPushButton, QToolButton {{ background: #1A1A1A; color: {TEXT}; border: 2px solid {TEXT}; border-radius: 4px;
    padding: 4px 10px; font-weight: bold; }}
QPushButton:focus, QToolButton:focus {{ border-color: {ACCENT}; }}
QPushButton:pressed, QPushButton:checked {{ background: {ACCENT}; color: #000000; }}
QPushButton:disabled {{ color: #777777; border-color: #555555; }}
QLineEdit, QSpinBox {{ background: #111111; color: {TEXT}; border: 2px solid {TEXT}; padding: 2px 4px; }}
QListWidget {{ background: #0A0A0A; border: none; font-size: 13pt; font-weight: bold; }}
QListWidget::item {{ padding: 10px 8px; }}
QListWidget::item:selected {{ background: {ACCENT}; color: #000000; }}
QStatusBar {{ border-top: 1px solid #444444; font-weight: bold; }}
QToolTip {{ background: {TEXT}; color: #000000; }}
"""


def zone_colour(zone: int | None) -> str:
    return ZONE_COLOURS.get(zone if zone is not None else 0, ZONE_COLOURS[0])


def apply_theme(app: QApplication) -> None:
    palette = QPalette()
    for role, colour in ((QPalette.Window, BACKGROUND), (QPalette.WindowText, TEXT), (QPalette.Base, "#111111"),
                         (QPalette.Text, TEXT), (QPalette.Button, "#1A1A1A"), (QPalette.ButtonText, TEXT),
                         (QPalette.Highlight, ACCENT), (QPalette.HighlightedText, "#000000")):
        palette.setColor(role, QColor(colour))
    app.setPalette(palette)
    font = QFont(app.font())
    font.setPointSize(BASE_POINT_SIZE)
    app.setFont(font)
    app.setStyleSheet(STYLE_SHEET)
