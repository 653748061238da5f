"""The live screen: camera with skeleton and movement, athlete tiles, HR chart, interval timer,
instant replay and the recording's status line. A thin view over desktop.live_session and
desktop.live_board; the recording runs on the core's threads, never on this one."""

from __future__ import annotations

import gc
import logging
import threading
import time
from typing import Callable

from desktop.interval_timer import IntervalPhase, planned_marks
from desktop.live_board import LiveBoard
from desktop.live_session import LiveSession, LiveSources
from desktop.replay_buffer import SPEEDS, ReplayCursor, ReplaySource
from desktop.ui.athlete_tile import QtAthleteTile
from desktop.ui.bridge import RecorderBridge
from desktop.ui.commands import Command, button, install
from desktop.ui.hr_chart import HeartRateChart
from desktop.ui.qt import (QApplication, QFont, QGridLayout, QHBoxLayout, QLabel, QSlider, QSplitter, Qt, QTimer, QVBoxLayout,
                           QWidget, Signal)
from desktop.ui.stall_watch import StallWatch
from desktop.ui.timer_panel import IntervalTimerPanel
from desktop.ui.video_view import VideoView
from edge_models.pose.angles import ANGLE_NAMES

logger = logging.getLogger(__name__)

REFRESH_MS = 33  # the screen repaints video, tiles, chart and timer at ~30 Hz
STATUS_EVERY_TICKS = 15  # the status line twice a second
TILES_EVERY_TICKS = 6  # tiles five times a second: stale shows within 0.2 s
CHART_EVERY_TICKS = 15  # the chart twice a second (heart rate arrives once a second)
REPLAY_BACK_S = 10.0
JUMP_S = 5.0
LIVE_POSE_MATCH_S = 0.5  # live, the newest pose is drawn on a frame up to this much newer (pose lags video)
TILE_COLUMNS = 2


class LiveScreen(QWidget):
    """Start/stop a session from `sources`; everything the coach sees while it records."""

    status_changed = Signal(str)  # the status line's text
    recording_changed = Signal(bool)
    phase_marked = Signal(object, float)  # an interval change, marked for every athlete

    def __init__(self, sources: LiveSources, parent: QWidget | None = None, *,
                 clock: Callable[[], float] = time.monotonic):
        super().__init__(parent)
        self.sources = sources
        self.clock = clock
        self.session: LiveSession | None = None
        self.board = LiveBoard(clock=clock)
        self.bridge = RecorderBridge(self, self._on_event, self._on_task_finished)
        self.stall_watch = StallWatch(self)
        self.replay: ReplayCursor | None = None
        self._replay_source: ReplaySource | None = None
        self._last_tick_s = time.monotonic()
        self._ticks = 0
        self._background: list[threading.Thread] = []
        self.last_summary = None
        self.last_error: str | None = None
        self.commands = self._commands()
        self.actions = install(self.commands, self)
        self._build()
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self._tick)
        self._timer.start()
        self.stall_watch.start()

    # -- layout ---------------------------------------------------------------------------
    def _commands(self) -> list[Command]:
        c = Command
        return [
            c("Start / stop recording", ("Ctrl+R",), self.toggle_recording, label="Rec ● / ■"),
            c("Lap", ("L",), self.lap), c("Marker", ("M",), self.marker),
            c("Interval timer start / stop", ("T",), self.toggle_interval_timer, label="Timer"),
            c("Edit interval plan", ("Ctrl+T",), self._edit_plan, label="Plan"),
            c("Replay last 10 s", ("R",), self.replay_last, label="Replay"),
            c("Back to live", ("Esc",), self.back_to_live, label="Live"),
            c("Replay play / pause", ("Space",), self.toggle_replay_play),
            c("Replay 1x", ("1",), lambda: self.set_speed(1.0), label="1x"),
            c("Replay 0.5x", ("2",), lambda: self.set_speed(0.5), label="½x"),
            c("Replay 0.25x", ("3",), lambda: self.set_speed(0.25), label="¼x"),
            c("Frame back", ("Left", ","), lambda: self.step(-1), label="◀"),
            c("Frame forward", ("Right", "."), lambda: self.step(1), label="▶"),
            c("Back 5 s", ("Shift+Left",), lambda: self.jump(-JUMP_S)),
            c("Forward 5 s", ("Shift+Right",), lambda: self.jump(JUMP_S)),
        ]

    def _command(self, name: str) -> Command:
        return next(c for c in self.commands if c.name == name)

    def _button_row(self, names: tuple[str, ...]) -> QHBoxLayout:
        row = QHBoxLayout()
        for name in names:
            self.buttons[name] = button(self._command(name))
            row.addWidget(self.buttons[name])
        row.addStretch(1)
        return row

    def _build(self) -> None:
        self.buttons = {}
        self.video = VideoView()
        self.movement = QLabel("movement: –")
        self.angles = QLabel("angles: –")
        big = QFont(self.movement.font())
        big.setPointSize(15)
        big.setBold(True)
        self.movement.setFont(big)
        self.angles.setWordWrap(True)
        self.replay_slider = QSlider(Qt.Horizontal)
        self.replay_slider.setFocusPolicy(Qt.NoFocus)
        self.replay_slider.setRange(0, 1000)
        self.replay_slider.sliderMoved.connect(self._scrub)
        self.replay_slider.hide()
        video_box = QVBoxLayout()
        video_box.setSpacing(2)
        video_box.addWidget(self.video, 1)
        video_box.addWidget(self.replay_slider)
        video_box.addLayout(self._button_row(("Replay last 10 s", "Replay 1x", "Replay 0.5x", "Replay 0.25x",
                                               "Frame back", "Frame forward", "Back to live")))
        video_box.addWidget(self.movement)
        video_box.addWidget(self.angles)
        self.timer_panel = IntervalTimerPanel()
        self.timer_panel.phase_changed.connect(self._on_phase)
        self.timer_panel.plan_edit.returnPressed.connect(self.setFocus)
        self.tiles_box = QGridLayout()
        self.tiles_box.setSpacing(6)
        self.tile_widgets: dict[str, QtAthleteTile] = {}
        right = QVBoxLayout()
        right.addWidget(self.timer_panel)
        right.addLayout(self.tiles_box, 1)
        top = QHBoxLayout()
        top.addLayout(video_box, 5)
        top.addLayout(right, 4)
        top_widget = QWidget()
        top_widget.setLayout(top)
        self.chart = HeartRateChart()
        splitter = QSplitter(Qt.Vertical)
        splitter.addWidget(top_widget)
        splitter.addWidget(self.chart)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 0)
        layout.addLayout(self._button_row(("Start / stop recording", "Lap", "Marker", "Interval timer start / stop",
                                           "Edit interval plan")))
        layout.addWidget(splitter, 1)
        self.setFocusPolicy(Qt.StrongFocus)

    # -- recording ------------------------------------------------------------------------
    @property
    def recording(self) -> bool:
        return self.session is not None

    def toggle_recording(self) -> None:
        if self._busy():
            return
        if self.session is None:
            self.start_recording()
        else:
            self.stop_recording()

    def start_recording(self) -> None:
        if not self.sources.hr_specs and not self.sources.camera_spec:
            self._say("nothing to record: start Trackside with --hr SPEC and/or --camera SPEC")
            return
        self._say("opening sources and models…")
        self._in_background("built", lambda: LiveSession(self.sources, listener=self.bridge.listener,
                                                         clock=self.clock))

    def stop_recording(self) -> None:
        if self.session is None:
            return
        self.back_to_live()
        session, self.session = self.session, None
        gc.unfreeze()  # see "started": the session's objects go back to the collector
        self.timer_panel.stop()
        self._say("stopping: keeping the last events and video…")
        self._in_background("stopped", session.stop)

    def _busy(self) -> bool:
        self._background = [t for t in self._background if t.is_alive()]
        return bool(self._background)

    def _in_background(self, name: str, work: Callable[[], object]) -> None:
        def run() -> None:
            try:
                result = work()
            except Exception as exc:  # shown to the coach; the window stays usable
                logger.exception("%s failed", name)
                result = exc
            self.bridge.task_finished(name, result)
        thread = threading.Thread(target=run, name=f"ui-{name}", daemon=True)
        self._background.append(thread)
        thread.start()

    def wait_for_background(self, timeout_s: float = 30.0) -> None:
        """Join start/stop work (the window closing, a test ending)."""
        for thread in list(self._background):
            thread.join(timeout_s)

    def _on_task_finished(self, name: str, result: object) -> None:
        if isinstance(result, Exception):
            self.last_error = f"{type(result).__name__}: {result}"
            self._say(f"could not {'start' if name != 'stopped' else 'stop cleanly'}: {result}")
            if name != "stopped":
                self.session = None
                self.recording_changed.emit(False)
            return
        if name == "built":
            self._on_built(result)
        elif name == "started":
            # Everything alive now (libraries, window, models, the session's parts) lives as long as
            # the session: out of the collector's full passes, which otherwise walk all of it on this
            # thread and stalled the window 80-170 ms at a time (measured under Xvfb); stopping
            # hands it back, so a finished session's cycles are still collected.
            gc.freeze()
            self._say(f"recording session {str(result)[:8]}")
            self.recording_changed.emit(True)
        elif name == "stopped":
            self.last_summary = result
            self._say(f"session {result.session_id[:8]} kept: {result.duration_s:.0f} s, "
                      f"{result.frames_recorded} frames, {sum(c.samples for c in result.channels)} heart-rate samples")
            self.recording_changed.emit(False)

    def _on_built(self, session: LiveSession) -> None:
        self.session = session
        profiles = {c: (p.name, p.hr_max_bpm, p.hr_rest_bpm) for c, p in session.profiles.items()}
        self.board = LiveBoard(clock=self.clock, profiles=profiles)
        self._reset_views()
        self._replay_source = ReplaySource(session.ring, session.segments)
        for note in session.feedback_notes:
            logger.warning("%s", note)
        self._in_background("started", self._start_and_note)

    def _start_and_note(self) -> str:
        session_id = self.session.start()
        self.board.started_mono_s = self.session.started_mono_s
        return session_id

    def _reset_views(self) -> None:
        for widget in self.tile_widgets.values():
            widget.setParent(None)
        self.tile_widgets.clear()
        self.chart.setParent(None)
        splitter = self.findChild(QSplitter)
        self.chart = HeartRateChart()
        splitter.addWidget(self.chart)

    def shutdown(self) -> None:
        """Stop recording and wait for it (the window is closing)."""
        self._timer.stop()
        self.stall_watch.stop()
        for _ in range(3):  # a start under way finishes (built, then started) before the stop
            self.wait_for_background()
            QApplication.processEvents()
        if self.session is not None:
            self.stop_recording()
            self.wait_for_background()

    # -- marks ----------------------------------------------------------------------------
    def lap(self) -> None:
        self._mark("lap", "lap")

    def marker(self) -> None:
        self._mark("note", "marker")

    def _mark(self, kind: str, text: str) -> None:
        if self.session is None:
            self._say("start recording first (Ctrl+R)")
            return
        self.session.mark(kind, text)

    def toggle_interval_timer(self) -> None:
        if self.timer_panel.timer is not None:
            self.timer_panel.stop()
            if self.session is not None:
                self.session.plan_intervals(None)  # forecasts go on without a plan
        elif self.session is None:
            self._say("start recording first (Ctrl+R): the timer marks work and rest in the session")
        else:
            problem = self.timer_panel.start(self.clock())
            if problem:
                self._say(problem)
            else:  # the heart-rate model knows the effort planned for the next minute
                timer = self.timer_panel.timer
                self.session.plan_intervals(planned_marks(timer.plan, timer.started_mono_s))

    def _edit_plan(self) -> None:
        self.timer_panel.plan_edit.setFocus()
        self.timer_panel.plan_edit.selectAll()

    def _on_phase(self, phase: IntervalPhase, t_mono_s: float) -> None:
        """Each work or rest start is marked for every athlete (the HR model reads it as effort)."""
        if self.session is None or (phase.kind == "done" and self.timer_panel.timer.plan.rest_s > 0):
            return  # the last rest already marked the end of work
        kind = "work" if phase.kind == "work" else "rest"
        text = f"interval {phase.rep}/{self.timer_panel.timer.plan.reps}" if phase.kind != "done" else "intervals done"
        channels = sorted(self.board.tiles) or [None]
        self.session.mark(kind, text, channels, t_mono_s=t_mono_s)
        self.phase_marked.emit(phase, t_mono_s)

    # -- replay ---------------------------------------------------------------------------
    @property
    def replaying(self) -> bool:
        return self.replay is not None

    def replay_last(self, seconds: float = REPLAY_BACK_S) -> None:
        if self._replay_source is None or self.session is None:
            self._say("replay needs a recording with a camera")
            return
        newest = self._replay_source.newest_s()
        if newest is None:
            return
        start = max(self.session.started_mono_s, newest - seconds)
        speed = self.replay.speed if self.replay else 1.0
        self.replay = ReplayCursor(start, speed)
        self.replay_slider.show()

    def back_to_live(self) -> None:
        self.replay = None
        self.replay_slider.hide()
        self.video.set_banner("")

    def toggle_replay_play(self) -> None:
        if self.replay is not None:
            self.replay.playing = not self.replay.playing

    def set_speed(self, speed: float) -> None:
        if speed not in SPEEDS:
            raise ValueError(f"replay speeds are {SPEEDS}")
        if self.replay is None:
            self.replay_last()
        if self.replay is not None:
            self.replay.speed = speed
            self.replay.playing = True

    def step(self, frames: int) -> None:
        if self.replay is None:
            self.replay_last(0.0)
        if self.replay is not None:
            self.replay.step(self._replay_source.frame_times(), frames)
            self._show_replay_frame()

    def jump(self, seconds: float) -> None:
        if self.replay is None:
            self.replay_last(-seconds if seconds < 0 else 0.0)
            return
        self._seek(self.replay.t_mono_s + seconds)

    def _seek(self, t_mono_s: float) -> None:
        newest = self._replay_source.newest_s() or t_mono_s
        self.replay.t_mono_s = min(max(self.session.started_mono_s, t_mono_s), newest)
        self._show_replay_frame()

    def _scrub(self, position: int) -> None:
        if self.replay is None or self.session is None:
            return
        start, newest = self.session.started_mono_s, self._replay_source.newest_s() or self.clock()
        self.replay.playing = False
        self._seek(start + (newest - start) * position / 1000)

    def _show_replay_frame(self) -> None:
        frame = self._replay_source.frame_at(self.replay.t_mono_s)
        if frame is not None and frame is not self.video.frame:
            pose = self.session.poses.near(frame.t_mono_s) if frame.exact else None  # never a skeleton guessed
            self.video.show_frame(frame, pose)
        newest = self._replay_source.newest_s() or self.replay.t_mono_s
        state = "▶" if self.replay.playing else "❚❚"
        self.video.set_banner(f"REPLAY {state} {self.replay.speed:g}x   {self.replay.t_mono_s - newest:+.1f} s "
                              f"  [Esc] live")
        start = self.session.started_mono_s
        if not self.replay_slider.isSliderDown() and newest > start:
            self.replay_slider.setValue(round(1000 * (self.replay.t_mono_s - start) / (newest - start)))

    # -- the refresh timer ----------------------------------------------------------------
    def _tick(self) -> None:
        now_wall = time.monotonic()
        elapsed, self._last_tick_s = now_wall - self._last_tick_s, now_wall
        self._ticks += 1
        if self.session is not None:
            if self.replay is not None:
                self.replay.advance(elapsed, self._replay_source.newest_s() or self.replay.t_mono_s)
                self._show_replay_frame()
            else:
                self._show_live_frame()
        self.timer_panel.tick(self.clock())
        if self._ticks % TILES_EVERY_TICKS == 0:
            self._refresh_tiles(self.board.clock())
            self._refresh_camera_feedback()
        if self._ticks % CHART_EVERY_TICKS == 0:
            self.chart.refresh(self.board, self.clock())
        if self._ticks % STATUS_EVERY_TICKS == 0:
            self._refresh_status()

    def _show_live_frame(self) -> None:
        frame = self.session.latest_frame()
        if frame is not None:
            self.video.show_frame(frame, self.session.poses.near(frame.t_mono_s, LIVE_POSE_MATCH_S))

    def _refresh_tiles(self, now_mono_s: float) -> None:
        for i, tile in enumerate(self.board.tiles_in_order()):
            widget = self.tile_widgets.get(tile.channel)
            if widget is None:
                widget = self.tile_widgets[tile.channel] = QtAthleteTile(tile.channel)
                self.tiles_box.addWidget(widget, *divmod(i, TILE_COLUMNS))
            widget.refresh(tile, now_mono_s)

    def _refresh_camera_feedback(self) -> None:
        movement, pose = self.board.camera.movement, self.board.camera.pose
        if movement:
            self.movement.setText(f"{movement.get('label', '?')} {100 * movement.get('probability', 0):.0f} %   "
                                  f"phase {movement.get('phase', '–')}   reps {movement.get('reps', 0)}")
        if pose:
            angles = [f"{name.replace('_', ' ')} {pose[name]:.0f}°" for name in ANGLE_NAMES
                      if isinstance(pose.get(name), float)]  # joint angles only, never other figures
            self.angles.setText("   ".join(angles) if angles else "no athlete in view")

    def _refresh_status(self) -> None:
        parts = []
        if self.session is not None:
            s = self.session.status()
            load = f"{100 * s.feedback_load:.0f} %" if s.feedback_load is not None else "–"
            parts += [f"camera {s.camera_fps:.1f} fps", f"feedback load {load}",
                      f"dropped {s.frames_dropped_video} video / {s.frames_dropped_feedback} feedback",
                      f"disk {s.disk_bytes / 1e6:.1f} MB"]
        parts.append(f"UI stall {self.stall_watch.recent_max_ms:.0f} ms")
        self.status_line = "   ·   ".join(parts)
        self.status_changed.emit(self.status_line)

    # -- events ---------------------------------------------------------------------------
    def _on_event(self, event: object) -> None:
        self.board.take(event)

    def _say(self, text: str) -> None:
        logger.info("%s", text)
        self.status_changed.emit(text)

