"""`python -m desktop.ui.screenshots --out docs/screenshots`: the real app, one PNG per screen and state.

Runs the window on replay sources (four simulated athletes, the real Sports2D clip looped) and
walks through `STATES` in order; each state prepares the window, waits until what it shows is
there, and is grabbed. Adding a screen's shot is one `State` line. Run under Xvfb for a real
X11 window (`make screenshots`); offscreen works too.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from desktop.live_session import LiveSources

logger = logging.getLogger(__name__)

WINDOW_SIZE_PX = (1366, 768)  # the laptop screen the window must fit
POLL_MS = 100
STATE_TIMEOUT_MS = 90_000
SILENT_SOURCE = 1  # the second heart-rate source (one athlete) stops sending: its tile goes stale


@dataclass(frozen=True)
class State:
    name: str  # the PNG's name
    prepare: Callable[[object], None]  # given the MainWindow
    ready: Callable[[object], bool]
    settle_ms: int = 600
    before: Callable[[object], bool] = lambda window: True  # what must hold before `prepare`


def _silence_one_strap(window) -> None:
    window.show_screen(0)
    window.live.session.pause_source(SILENT_SOURCE)


def _squad_streaming(window) -> bool:
    live = window.live
    return len(live.tile_widgets) == 4 and live.chart.points_of("sim-4") >= 12


def _live_ready(window) -> bool:
    live = window.live
    tiles = live.tile_widgets
    return (live.video.skeleton_shown and live.board.camera.movement is not None
            and sum(t.state == "stale" for t in tiles.values()) == 1)


def _start_timer(window) -> None:
    window.live.timer_panel.plan_edit.setText("6x60/90")
    window.live.toggle_interval_timer()


def _replay_quarter(window) -> None:
    window.live.replay_last()
    window.live.set_speed(0.25)


def _replay_ready(window) -> bool:
    live = window.live
    newest = live.session.ring.snapshot()[-1].t_mono_s
    return live.replaying and live.video.frame is not None and live.video.frame.t_mono_s < newest - 3


STATES: list[State] = [
    State("live-session", _silence_one_strap, _live_ready, before=_squad_streaming),
    State("interval-timer", _start_timer, lambda w: w.live.timer_panel.running and w.live.board.marks, 2500),
    State("replay-quarter-speed", _replay_quarter, _replay_ready, 1500),
    # the Sessions, Athletes and Models screens and crash recovery add their states here
]


def demo_sources(data_dir: Path) -> LiveSources:
    from edge_models.assets import asset_path

    return LiveSources(data_dir, ("sim:3", "sim:1?first=4"), f"file:{asset_path('demo.mp4')}?loop=1",
                       pausable=(SILENT_SOURCE,))


class Walker:
    """Steps through the states on the Qt event loop (never sleeping), grabbing each."""

    def __init__(self, window, states: list[State], out: Path, on_done: Callable[[int], None]):
        from desktop.ui.qt import QTimer

        self.window, self.states, self.out, self.on_done = window, list(states), out, on_done
        self.timer = QTimer()
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self._poll)
        self.waited_ms = 0
        self.written: list[Path] = []

    def begin(self) -> None:
        self.timer.start()

    def _poll(self) -> None:
        live = self.window.live
        if not self.states:
            return self._finish(0)
        if live.session is None or not live.recording:
            return self._wait()
        state = self.states[0]
        if getattr(self, "_prepared", None) is not state:
            if not state.before(self.window):
                return self._wait()
            state.prepare(self.window)
            self._prepared = state
        if not state.ready(self.window):
            return self._wait()
        self.timer.stop()
        from desktop.ui.qt import QTimer

        QTimer.singleShot(state.settle_ms, lambda: self._grab(state))

    def _wait(self) -> None:
        self.waited_ms += POLL_MS
        if self.waited_ms > STATE_TIMEOUT_MS * (1 + len(self.written)):
            name = self.states[0].name if self.states else "?"
            live = self.window.live
            logger.error("state %s never became ready (frame %s, tiles %s, pose %s)", name, live.video.frame is not None,
                         {c: t.state for c, t in live.tile_widgets.items()}, live.video.skeleton_shown)
            self._finish(1)

    def _grab(self, state: State) -> None:
        path = self.out / f"{state.name}.png"
        self.window.grab().save(str(path))
        self.written.append(path)
        print(path, flush=True)
        self.states.pop(0)
        self.window.live.stall_watch.reset()  # the grab itself holds the event loop: not the app's stall
        self.timer.start()

    def _finish(self, code: int) -> None:
        self.timer.stop()
        self.on_done(code)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--states", help=f"comma-separated, default all: {','.join(s.name for s in STATES)}")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    chosen = [s for s in STATES if not args.states or s.name in args.states.split(",")]
    args.out.mkdir(parents=True, exist_ok=True)
    from desktop.ui.main_window import MainWindow
    from desktop.ui.qt import QApplication, QTimer
    from desktop.ui.theme import apply_theme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_theme(app)
    with tempfile.TemporaryDirectory(prefix="trackside-screenshots-") as data_dir:
        window = MainWindow(demo_sources(Path(data_dir)))
        window.resize(*WINDOW_SIZE_PX)
        window.show()
        result = {}

        def done(code: int) -> None:
            result["code"] = code
            window.close()
            app.quit()
        walker = Walker(window, chosen, args.out, done)
        QTimer.singleShot(0, window.live.start_recording)
        walker.begin()
        app.exec()
    return result.get("code", 1)


if __name__ == "__main__":
    raise SystemExit(main())
