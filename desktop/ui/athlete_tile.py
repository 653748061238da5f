"""One athlete's tile: heart rate readable from two metres, zone as colour and number, sensor state."""

from __future__ import annotations

from desktop.live_board import AthleteTile
from desktop.ui import theme
from desktop.ui.qt import QFont, QFrame, QHBoxLayout, QLabel, QSizePolicy, Qt, QVBoxLayout, QWidget

HR_POINT_SIZE = 44  # ~15 mm tall digits on a 14" laptop screen: readable from 2 m
SENSOR_WORDS = {"waiting": "waiting for strap", "connected": "connected", "reconnecting": "reconnecting…",
                "stale": "STALE", "lost": "strap lost", "ended": "ended"}


def _label(point_size: int, bold: bool = True) -> QLabel:
    label = QLabel()
    font = QFont(label.font())
    font.setPointSize(point_size)
    font.setBold(bold)
    label.setFont(font)
    return label


def zone_text(zone: int | None) -> str:
    """The zone as a number, never as colour alone: 'Z3', '<Z1' below zone 1, 'Z–' without HRmax."""
    if zone is None:
        return "Z–"
    return "<Z1" if zone == 0 else f"Z{zone}"


class QtAthleteTile(QFrame):
    """A thin view of one `AthleteTile`; `refresh(now)` repaints it from the model."""

    def __init__(self, channel: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.channel = channel
        self.setObjectName("athleteTile")
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setMinimumSize(200, 130)
        self.name = _label(14)
        self.sensor = _label(11)
        self.hr = _label(HR_POINT_SIZE)
        self.zone = _label(20)
        self.details = _label(10)
        self.forecast = _label(10)
        self.hr.setAlignment(Qt.AlignLeft | Qt.AlignVCenter)
        self.zone.setAlignment(Qt.AlignCenter)
        self.zone.setMinimumWidth(64)
        self.sensor.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
        side = QVBoxLayout()
        side.addWidget(self.zone)
        side.addWidget(self.sensor)
        middle = QHBoxLayout()
        middle.addWidget(self.hr, 1)
        middle.addLayout(side)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.setSpacing(0)
        layout.addWidget(self.name)
        layout.addLayout(middle, 1)
        layout.addWidget(self.details)
        layout.addWidget(self.forecast)
        self.state = "waiting"
        self._colours: tuple[str, str] | None = None

    def refresh(self, tile: AthleteTile, now_mono_s: float) -> None:
        self.state = tile.sensor_state(now_mono_s)
        live = self.state == "connected"
        self.name.setText(tile.name)
        self.sensor.setText(self._sensor_text(tile, now_mono_s))
        self.hr.setText(f"{tile.last_hr_bpm:.0f}" if tile.last_hr_bpm is not None else "--")
        self.zone.setText(zone_text(tile.zone))
        pct = f"{tile.percent_hr_max:.0f}% HRmax" if tile.percent_hr_max is not None else "no HRmax"
        rmssd = f"RMSSD {tile.rmssd_ms:.0f} ms" if tile.rmssd_ms is not None else "RMSSD –"
        self.details.setText(f"{pct} · {rmssd}")
        self.forecast.setText(self._forecast_text(tile))
        self._colour(tile, live)

    @staticmethod
    def _sensor_text(tile: AthleteTile, now_mono_s: float) -> str:
        state = tile.sensor_state(now_mono_s)
        if state == "stale" and tile.last_sample_mono_s is not None:
            return f"STALE {now_mono_s - tile.last_sample_mono_s:.0f} s"
        return SENSOR_WORDS[state]

    @staticmethod
    def _forecast_text(tile: AthleteTile) -> str:
        f = tile.forecast
        if not f:
            return "forecast: warming up"
        recover, target = f.get("recover_in_s"), f.get("recover_to_bpm", 0)
        if recover is None:
            recover_text = f"<{target:.0f} in >60 s"
        elif recover == 0:
            recover_text = f"recovered (<{target:.0f})"
        else:
            recover_text = f"<{target:.0f} in {recover:.0f} s"
        return f"+30 s: {f.get('hr_30s_bpm', 0):.0f} · {recover_text}"

    def _colour(self, tile: AthleteTile, live: bool) -> None:
        if live:
            background, text = theme.zone_colour(tile.zone), "#000000"
        else:
            background, text = theme.STALE_BACKGROUND, theme.STALE_TEXT
        border = "#FFFFFF" if live else "#8A8A8A"
        if (background, text) == self._colours:
            return  # a style sheet is costly to apply: only when the colours change
        self._colours = (background, text)
        self.setStyleSheet(f"#athleteTile {{ background: {background}; border: 3px solid {border}; "
                           f"border-radius: 6px; }} #athleteTile QLabel {{ background: transparent; color: {text}; }}")
