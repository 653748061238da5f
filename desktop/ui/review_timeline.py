"""The review timeline: HR of every athlete, work/rest, laps, notes, the models' feedback and the labels.

Three rows share one time axis (seconds from the session's start): heart rate (with work/rest
shading, laps, notes and unusual responses), the movement model's class run by run, and the
coach's labels. One playhead line crosses all three; dragging it, or clicking anywhere on the
rows, moves the shared `Playhead`, which the video follows. A second, shaded range is the
selection the coach is about to label.
"""

from __future__ import annotations

import numpy as np

from desktop.ui import qt  # noqa: F401  (PySide6 first, so pyqtgraph binds to it)
import pyqtgraph as pg  # noqa: E402

from desktop.ui.qt import QColor, QFont, QObject, Signal  # noqa: E402
from desktop.ui.review_data import SessionReview, Span  # noqa: E402

ATHLETE_COLOURS = ("#ffffff", "#00e5ff", "#ff4df0", "#b6ff3b", "#ffb000", "#8c9eff")  # on black: high contrast
PHASE_BRUSHES = {"work": (255, 120, 0, 60), "rest": (60, 140, 255, 45)}
LABEL_BRUSH = (255, 220, 0, 110)
SELECTION_BRUSH = (255, 255, 255, 70)
MOVEMENT_BRUSHES = ((0, 200, 255, 95), (255, 80, 200, 95), (120, 235, 60, 95), (150, 120, 255, 110))  # never the labels' yellow
TEXT_SHARE_PER_CHAR = 0.0075  # a character's width as a share of the timeline (~8 px of ~1100 px at 1366 wide)
AXIS_FONT_PT = 12
PLAYHEAD_PEN = pg.mkPen("#ff2020", width=3)
HR_AXIS_MARGIN_BPM = 10
STRIP_HEIGHT_PX = 44  # the movement and label rows: one line of text each
AXIS_HEIGHT_PX = 46  # the time axis and its title under the label row


class Playhead(QObject):
    """The moment under review, in seconds from the session's start; everything follows it."""

    moved = Signal(float)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.position_s = 0.0
        self.duration_s = 0.0

    def set_duration(self, duration_s: float) -> None:
        self.duration_s = max(0.0, duration_s)
        self.move_to(min(self.position_s, self.duration_s))

    def move_to(self, t_s: float) -> None:
        t_s = float(min(max(t_s, 0.0), self.duration_s))
        if t_s != self.position_s:
            self.position_s = t_s
            self.moved.emit(t_s)

    def step(self, delta_s: float) -> None:
        self.move_to(self.position_s + delta_s)


class ReviewTimeline(pg.GraphicsLayoutWidget):
    """The three rows; drawn once per session (and the label row again after a change)."""

    def __init__(self, playhead: Playhead, movement_classes: tuple[str, ...] = (), parent=None):
        super().__init__(parent)
        self._playhead = playhead
        self._movement_classes = tuple(movement_classes)  # a class keeps its colour from session to session
        self._duration_s = 1.0
        self.setBackground("k")
        self.hr_plot = self._row(0, "HR (bpm)")
        self.movement_plot = self._row(1, "Model")
        self.label_plot = self._row(2, "Labels")
        self.ci.layout.setRowFixedHeight(1, STRIP_HEIGHT_PX)
        self.ci.layout.setRowFixedHeight(2, STRIP_HEIGHT_PX + AXIS_HEIGHT_PX)
        self.label_plot.setLabel("bottom", "seconds from the start")
        for plot in (self.movement_plot, self.label_plot):
            plot.setXLink(self.hr_plot)
            plot.setYRange(0, 1, padding=0)
            plot.getAxis("left").setTicks([[]])
        self.hr_plot.addLegend(offset=(-10, 5), labelTextSize=f"{AXIS_FONT_PT}pt", brush=pg.mkBrush(0, 0, 0, 200))
        for plot in (self.hr_plot, self.movement_plot):
            plot.getAxis("bottom").setStyle(showValues=False)
            plot.getAxis("bottom").setHeight(6)
        self._playhead_lines = [self._playhead_line(p) for p in (self.hr_plot, self.movement_plot, self.label_plot)]
        self.selection = pg.LinearRegionItem((0, 0), movable=True, brush=pg.mkBrush(*SELECTION_BRUSH))
        self.selection.setZValue(5)
        self.selection.hide()
        self.hr_plot.addItem(self.selection)
        self._label_items: list = []
        self._channel_names: dict[str, str] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.scene().sigMouseClicked.connect(self._on_click)
        playhead.moved.connect(self._follow)

    def _row(self, row: int, title: str):
        plot = self.addPlot(row=row, col=0)
        plot.setLabel("left", title)
        plot.setMouseEnabled(x=True, y=False)
        plot.showGrid(x=True, y=row == 0, alpha=0.25)
        font = QFont()
        font.setPointSize(AXIS_FONT_PT)
        for side in ("left", "bottom"):
            plot.getAxis(side).setTickFont(font)
        plot.getAxis("left").setWidth(70)
        return plot

    def _playhead_line(self, plot) -> pg.InfiniteLine:
        line = pg.InfiniteLine(0, angle=90, movable=True, pen=PLAYHEAD_PEN)
        line.setZValue(10)
        line.sigDragged.connect(lambda ln: self._playhead.move_to(ln.value()))
        plot.addItem(line)
        return line

    # -- drawing -------------------------------------------------------------------------------

    def show_session(self, review: SessionReview) -> None:
        for plot in (self.hr_plot, self.movement_plot):
            for item in list(plot.items):
                if item not in self._playhead_lines and item is not self.selection:
                    plot.removeItem(item)
        self.hr_plot.legend.clear()
        self._channel_names = dict(review.channel_names)
        self._duration_s = max(review.duration_s, 1.0)
        self.curves = {}
        self._draw_heart_rate(review)
        self._draw_phases(review.phases)
        self._draw_moments(review)
        self._draw_movement(review.movement)
        self.show_labels(review.labels)
        self.hr_plot.setXRange(0, max(review.duration_s, 1.0), padding=0.01)
        self._follow(self._playhead.position_s)

    def _draw_heart_rate(self, review: SessionReview) -> None:
        lows, highs = [], []
        for i, trace in enumerate(review.traces):
            colour = ATHLETE_COLOURS[i % len(ATHLETE_COLOURS)]
            curve = self.hr_plot.plot(trace.t_s, trace.hr_bpm, pen=pg.mkPen(colour, width=2), name=trace.name)
            curve.setClipToView(True)
            curve.setDownsampling(auto=True, method="peak")
            self.curves[trace.channel] = curve
            if len(trace.hr_bpm):
                lows.append(trace.hr_bpm.min())
                highs.append(trace.hr_bpm.max())
        if lows:
            self.hr_plot.setYRange(min(lows) - HR_AXIS_MARGIN_BPM, max(highs) + HR_AXIS_MARGIN_BPM, padding=0)

    def _draw_phases(self, phases: list[Span]) -> None:
        for phase in phases:
            brush = PHASE_BRUSHES.get(phase.text)
            if brush is None or phase.end_s <= phase.start_s:
                continue
            region = pg.LinearRegionItem((phase.start_s, phase.end_s), movable=False, brush=pg.mkBrush(*brush),
                                         pen=pg.mkPen(None))
            region.setZValue(-10)
            self.hr_plot.addItem(region)
            self._text(self.hr_plot, phase.text.upper(), phase.start_s, self.hr_plot.viewRange()[1][1],
                       colour="#ffd9b0")

    def _draw_moments(self, review: SessionReview) -> None:
        for moment in review.moments:
            if moment.kind == "unusual_response":
                self._unusual(review, moment)
                continue
            line = pg.InfiniteLine(moment.t_s, angle=90, movable=False,
                                   pen=pg.mkPen("#c8c8c8", width=1, style=pg.QtCore.Qt.PenStyle.DashLine),
                                   label=moment.kind, labelOpts={"position": 0.95, "color": "#ffffff"})
            self.hr_plot.addItem(line)

    def _unusual(self, review: SessionReview, moment) -> None:
        trace = next((t for t in review.traces if t.channel == moment.channel), None)
        if trace is None or not len(trace.t_s):
            return
        hr = float(np.interp(moment.t_s, trace.t_s, trace.hr_bpm))
        marker = pg.ScatterPlotItem([moment.t_s], [hr], symbol="t1", size=16, brush=pg.mkBrush("#ff3030"),
                                    pen=pg.mkPen("#ffffff"))
        marker.setToolTip(f"{review.channel_names.get(moment.channel, moment.channel)}: unusual response, "
                          f"{moment.text}")
        self.hr_plot.addItem(marker)

    def _draw_movement(self, runs: list[Span]) -> None:
        if not runs:
            self._text(self.movement_plot, "no movement feedback in this session", 0, 0.95, colour="#b0b0b0")
        order = list(self._movement_classes) + sorted({r.text for r in runs} - set(self._movement_classes))
        for run in runs:
            self._bar(self.movement_plot, run, MOVEMENT_BRUSHES[order.index(run.text) % len(MOVEMENT_BRUSHES)])

    def show_labels(self, labels: list[Span]) -> None:
        for item in self._label_items:
            self.label_plot.removeItem(item)
        self._label_items = []
        for label in labels:
            who = self._channel_names.get(label.channel, label.channel) if label.channel else None
            self._label_items += self._bar(self.label_plot, label, LABEL_BRUSH, who)

    def _bar(self, plot, span: Span, brush: tuple, who: str | None = None) -> list:
        region = pg.LinearRegionItem((span.start_s, max(span.end_s, span.start_s + 1e-3)), movable=False,
                                     brush=pg.mkBrush(*brush), pen=pg.mkPen("#000000"))
        name = span.text + ("" if who is None else f" ({who})")
        region.setToolTip(f"{name}: {span.start_s:.1f}–{span.end_s:.1f} s")
        plot.addItem(region)
        if span.end_s - span.start_s < len(name) * TEXT_SHARE_PER_CHAR * self._duration_s:
            return [region]  # too short to hold its name: the tooltip says it
        return [region, self._text(plot, name, span.start_s, 0.95)]

    @staticmethod
    def _text(plot, text: str, x: float, y: float, colour: str = "#ffffff") -> pg.TextItem:
        item = pg.TextItem(text, color=QColor(colour), anchor=(0, 0))
        item.setFont(QFont("", AXIS_FONT_PT - 1, QFont.Weight.Bold))
        item.setPos(x, y)
        plot.addItem(item)
        return item

    # -- playhead and selection --------------------------------------------------------------------

    def _follow(self, t_s: float) -> None:
        for line in self._playhead_lines:
            if line.value() != t_s:
                line.blockSignals(True)
                line.setValue(t_s)
                line.blockSignals(False)

    def playhead_x(self) -> float:
        return self._playhead_lines[0].value()

    def _on_click(self, event) -> None:
        for plot in (self.hr_plot, self.movement_plot, self.label_plot):
            if plot.sceneBoundingRect().contains(event.scenePos()) and event.button() == pg.QtCore.Qt.MouseButton.LeftButton:
                self._playhead.move_to(plot.vb.mapSceneToView(event.scenePos()).x())
                return

    def set_selection(self, start_s: float, end_s: float) -> None:
        self.selection.setRegion((start_s, end_s))
        self.selection.show()

    def selected_range_s(self) -> tuple[float, float] | None:
        if not self.selection.isVisible():
            return None
        start_s, end_s = self.selection.getRegion()
        return (float(start_s), float(end_s)) if end_s > start_s else None
