"""The main window: a side list of screens over a stack, a status line, the help overlay.

Adding a screen is one line in `screens()`: a title, its key, and a factory that takes the
window's `ScreenContext`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from desktop.feedback.models import model_store, update_state
from desktop.live_session import LiveSources
from desktop.store import Store
from desktop.sync.app_sync import AppSync
from desktop.ui.athletes_screen import AthletesScreen
from desktop.ui.commands import Command, install
from desktop.ui.help_overlay import HelpOverlay
from desktop.ui.live_screen import LiveScreen
from desktop.ui.models_screen import ModelsScreen
from desktop.ui.recovery import offer_recovery
from desktop.ui.sessions_screen import SessionsScreen
from desktop.ui.sync_screen import SyncScreen
from desktop.ui.qt import QHBoxLayout, QLabel, QListWidget, QMainWindow, QStackedWidget, QWidget

MIN_SIZE_PX = (1280, 720)  # usable on a 1366x768 laptop screen


@dataclass
class ScreenContext:
    """What a screen may use: where the data is, the window's store connection, and the window."""

    data_dir: Path
    sources: LiveSources
    store: Store  # the Qt thread's connection, open while the window is
    sync: AppSync
    window: "MainWindow"


@dataclass(frozen=True)
class Screen:
    title: str
    key: str  # the shortcut that shows it
    make: Callable[[ScreenContext], QWidget]


def screens() -> list[Screen]:
    """The window's screens, in the side list's order."""
    return [
        Screen("Live", "Ctrl+1", lambda ctx: LiveScreen(ctx.sources)),
        Screen("Sessions", "Ctrl+2", lambda ctx: SessionsScreen(ctx.store)),
        Screen("Athletes", "Ctrl+3", lambda ctx: AthletesScreen(ctx.store)),
        Screen("Models", "Ctrl+4", lambda ctx: ModelsScreen(model_store(ctx.data_dir), update_state(ctx.data_dir))),
        Screen("Sync", "Ctrl+5", lambda ctx: SyncScreen(ctx.sync)),
    ]


class MainWindow(QMainWindow):
    def __init__(self, sources: LiveSources, screen_list: list[Screen] | None = None):
        super().__init__()
        self.setWindowTitle("Trackside")
        self.setMinimumSize(*MIN_SIZE_PX)
        self.store = Store.open(sources.data_dir)
        self.sync = AppSync(sources.data_dir, embedded=sources.embedded_cloud).start()
        self.context = ScreenContext(sources.data_dir, sources, self.store, self.sync, self)
        self.screens = screen_list or screens()
        self.nav = QListWidget()
        self.nav.setFixedWidth(130)
        self.stack = QStackedWidget()
        self.widgets: dict[str, QWidget] = {}
        for screen in self.screens:
            widget = screen.make(self.context)
            self.widgets[screen.title] = widget
            self.stack.addWidget(widget)
            self.nav.addItem(f"{screen.title}\n{screen.key}")
        self.nav.currentRowChanged.connect(self._show_index)
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.nav)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self.status = QLabel("")
        self.statusBar().addWidget(self.status, 1)
        self.statusBar().addPermanentWidget(QLabel("F1 or ?: keys"))
        self.help = HelpOverlay(central)
        self.window_commands = [Command(f"Show {s.title}", (s.key,), lambda i=i: self.show_screen(i), "Window")
                                for i, s in enumerate(self.screens)]
        self.window_commands.append(Command("Help: every key", ("F1", "?"), self.toggle_help, "Window"))
        install(self.window_commands, self)
        self.live = self.widgets.get("Live")
        if isinstance(self.live, LiveScreen):
            self.live.status_changed.connect(self.status.setText)
            self.live.recording_changed.connect(lambda recording: recording or self.sync.session_finished())
        self.nav.setCurrentRow(0)

    def show_screen(self, index: int) -> None:
        self.nav.setCurrentRow(index)

    def _show_index(self, index: int) -> None:
        """Show a screen, read afresh: a session just recorded or an athlete just added appears."""
        self.stack.setCurrentIndex(index)
        widget = self.stack.currentWidget()
        if widget is not self.live and hasattr(widget, "refresh"):
            widget.refresh()

    def offer_recovery(self) -> str | None:
        """After an unclean exit: offer the session the store kept, and open it for review."""
        session_id = offer_recovery(self.store, self)
        sessions = self.widgets.get("Sessions")
        if session_id is not None and isinstance(sessions, SessionsScreen):
            self.show_screen(self.screens.index(next(s for s in self.screens if s.title == "Sessions")))
            sessions.open_session(session_id)
        return session_id

    def all_commands(self) -> list[Command]:
        current = self.stack.currentWidget()
        return self.window_commands + list(getattr(current, "commands", []))

    def toggle_help(self) -> None:
        self.help.toggle(self.all_commands())

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        if self.help.isVisible():
            self.help.setGeometry(self.centralWidget().rect())

    def closeEvent(self, event) -> None:  # noqa: N802
        for widget in self.widgets.values():
            if hasattr(widget, "shutdown"):
                widget.shutdown()
        self.store.close()
        self.sync.stop()  # the embedded cloud's last pass, bounded
        super().closeEvent(event)
