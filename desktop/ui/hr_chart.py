"""The session's heart rate: one curve per athlete, zone bands, laps, marks and work/rest.

pyqtgraph, as its docs advise for live plots: each curve is created once and only `setData` is
called, from the live screen's refresh timer; clip to view, peak downsampling, no antialiasing.
"""

from __future__ import annotations

import pyqtgraph as pg

from desktop.live_board import LiveBoard
from desktop.ui import theme
from desktop.ui.qt import QColor, QWidget

CURVE_COLOURS = ("#FFFFFF", "#00E5FF", "#FF66FF", "#B2FF59", "#FFAB40", "#EA80FC")
MARK_COLOURS = {"lap": theme.LAP_COLOUR, "note": theme.NOTE_COLOUR, "work": theme.WORK_COLOUR,
                "rest": theme.REST_COLOUR}
ZONE_BAND_ALPHA = 50
Y_RANGE_BPM = (50, 205)
MIN_SPAN_S = 120.0  # the chart shows at least two minutes; it grows by a minute at a time


class HeartRateChart(pg.PlotWidget):
    """A thin view of the board's heart-rate histories and marks."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent, background=theme.BACKGROUND)
        self.setMinimumHeight(150)
        item = self.getPlotItem()
        item.setClipToView(True)
        item.setDownsampling(mode="peak")
        item.showGrid(x=False, y=True, alpha=0.3)
        item.setLabel("bottom", "session time", units="s")
        item.setLabel("left", "HR", units="bpm")
        item.setYRange(*Y_RANGE_BPM, padding=0)
        item.setMouseEnabled(x=False, y=False)
        item.disableAutoRange()  # ranges are set here: no bounds computed on every change
        item.setXRange(0, MIN_SPAN_S, padding=0)
        self._span_s = MIN_SPAN_S
        self.legend = item.addLegend(offset=(10, 5), labelTextColor=theme.TEXT, labelTextSize="10pt")
        self._curves: dict[str, pg.PlotDataItem] = {}
        self._sizes: dict[str, int] = {}
        self._marks_drawn = 0
        self._bands: list[pg.LinearRegionItem] = []
        self._bands_of: str | None = None

    def refresh(self, board: LiveBoard, now_mono_s: float | None = None) -> None:
        start = board.started_mono_s or 0.0
        if now_mono_s is not None and board.started_mono_s is not None and now_mono_s - start > self._span_s:
            self._span_s = 60.0 * (1 + int((now_mono_s - start) // 60))
            self.getPlotItem().setXRange(0, self._span_s, padding=0)
        for i, tile in enumerate(board.tiles_in_order()):
            curve = self._curves.get(tile.channel)
            if curve is None:
                pen = pg.mkPen(CURVE_COLOURS[i % len(CURVE_COLOURS)], width=1)
                curve = self._curves[tile.channel] = self.plot([], [], pen=pen, name=tile.name, antialias=False)
            if self._sizes.get(tile.channel) != tile.history.size:
                self._sizes[tile.channel] = tile.history.size
                curve.setData(tile.history.t - start, tile.history.values)
        self._draw_bands(board)
        self._draw_marks(board, start)

    def _draw_bands(self, board: LiveBoard) -> None:
        """Zone bands of the first athlete whose HRmax is known (zones differ per athlete)."""
        tile = next((t for t in board.tiles_in_order() if t.hr_max_bpm), None)
        if tile is None or tile.channel == self._bands_of:
            return
        for band in self._bands:
            self.removeItem(band)
        fractions = (0.5, 0.6, 0.7, 0.8, 0.9, 1.05)
        self._bands = []
        for zone, (low, high) in enumerate(zip(fractions, fractions[1:]), start=1):
            colour = QColor(theme.zone_colour(zone))
            colour.setAlpha(ZONE_BAND_ALPHA)
            band = pg.LinearRegionItem((low * tile.hr_max_bpm, high * tile.hr_max_bpm), orientation="horizontal",
                                       brush=colour, pen=pg.mkPen(None), movable=False)
            band.setZValue(-10)
            self.addItem(band)
            self._bands.append(band)
        self._bands_of = tile.channel
        self.getPlotItem().setTitle(f"zones of {tile.name}", color=theme.TEXT, size="10pt")

    def _draw_marks(self, board: LiveBoard, start: float) -> None:
        for mark in board.marks[self._marks_drawn:]:
            colour = MARK_COLOURS.get(mark.kind, theme.TEXT)
            line = pg.InfiniteLine(pos=mark.t_mono_s - start, angle=90, movable=False,
                                   pen=pg.mkPen(colour, width=2 if mark.kind in ("lap", "note") else 1),
                                   label=mark.kind, labelOpts={"color": colour, "position": 0.92})
            self.addItem(line)
        self._marks_drawn = len(board.marks)

    @property
    def marks_drawn(self) -> int:
        return self._marks_drawn

    @property
    def curve_count(self) -> int:
        return len(self._curves)

    def points_of(self, channel: str) -> int:
        curve = self._curves.get(channel)
        return 0 if curve is None or curve.xData is None else len(curve.xData)
