"""The interval timer's panel: the plan the coach types, a large countdown, a sound at each change.

The timing itself is `desktop.interval_timer` (Qt-free); this panel shows it and tells the live
screen of each change (`phase_changed`), which marks work/rest for every athlete.
"""

from __future__ import annotations

from typing import Callable

from desktop.interval_timer import IntervalPhase, IntervalPlan, IntervalTimer
from desktop.ui import theme
from desktop.ui.qt import QApplication, QFont, QFrame, QHBoxLayout, QLabel, QLineEdit, Qt, QVBoxLayout, Signal

DEFAULT_PLAN = "6x60/90"
COUNTDOWN_POINT_SIZE = 40
PHASE_COLOURS = {"work": theme.WORK_COLOUR, "rest": theme.REST_COLOUR, "done": "#2ECC40"}


class IntervalTimerPanel(QFrame):
    """Set up, start and stop the interval timer; `tick(now)` advances it from the screen's timer."""

    phase_changed = Signal(object, float)  # IntervalPhase, its start on the monotonic clock

    def __init__(self, parent=None):
        super().__init__(parent)
        self.timer: IntervalTimer | None = None
        self.plan_edit = QLineEdit(DEFAULT_PLAN)
        self.plan_edit.setToolTip("reps x work seconds / rest seconds, e.g. 6x60/90")
        self.plan_edit.setMaximumWidth(110)
        self.caption = QLabel("Intervals")
        self.countdown = QLabel("--:--")
        font = QFont(self.countdown.font())
        font.setPointSize(COUNTDOWN_POINT_SIZE)
        font.setBold(True)
        self.countdown.setFont(font)
        self.countdown.setAlignment(Qt.AlignCenter)
        self.phase_label = QLabel("timer off")
        bold = QFont(self.phase_label.font())
        bold.setPointSize(14)
        bold.setBold(True)
        self.phase_label.setFont(bold)
        self.phase_label.setAlignment(Qt.AlignCenter)
        top = QHBoxLayout()
        top.addWidget(self.caption)
        top.addWidget(self.plan_edit)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.setSpacing(0)
        layout.addLayout(top)
        layout.addWidget(self.countdown)
        layout.addWidget(self.phase_label)
        self.sound: Callable[[], None] = QApplication.beep
        self._show_phase(None)

    @property
    def running(self) -> bool:
        return self.timer is not None and not self.timer.finished

    def start(self, now_mono_s: float) -> str | None:
        """Start the typed plan now; returns what is wrong with the plan, or None."""
        try:
            plan = IntervalPlan.parse(self.plan_edit.text())
        except ValueError as exc:
            self.phase_label.setText(str(exc))
            return str(exc)
        self.timer = IntervalTimer(plan, now_mono_s)
        self.tick(now_mono_s)
        return None

    def stop(self) -> None:
        self.timer = None
        self.countdown.setText("--:--")
        self._show_phase(None)

    def tick(self, now_mono_s: float) -> None:
        if self.timer is None:
            return
        for phase in self.timer.changes(now_mono_s):
            self.sound()
            self.phase_changed.emit(phase, self.timer.change_mono_s(phase))
        current = self.timer.phase(now_mono_s)
        remaining = self.timer.remaining_s(now_mono_s)
        self.countdown.setText("0:00" if current.kind == "done" else f"{int(remaining // 60)}:{int(remaining % 60):02d}")
        self._show_phase(current)

    def _show_phase(self, phase: IntervalPhase | None) -> None:
        if phase is None:
            text, colour = "timer off", "#1A1A1A"
        elif phase.kind == "done":
            text, colour = f"done: {self.timer.plan}", PHASE_COLOURS["done"]
        else:
            text, colour = f"{phase.kind.upper()} {phase.rep}/{self.timer.plan.reps}", PHASE_COLOURS[phase.kind]
        self.phase_label.setText(text)
        key = (colour,)
        if getattr(self, "_colour_key", None) != key:
            self._colour_key = key
            ink = "#FFFFFF" if phase is None else "#000000"
            self.setStyleSheet(f"IntervalTimerPanel {{ background: {colour}; border: 2px solid #FFFFFF; }}"
                               f" IntervalTimerPanel QLabel {{ background: transparent; color: {ink}; }}")
