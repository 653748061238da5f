"""The real window on real sources (simulated squad, the real Sports2D clip), offscreen."""

from __future__ import annotations

import pytest

from desktop.live_session import LiveSources
from desktop.ui.main_window import MainWindow
from desktop.ui.theme import apply_theme
from tests.support.assets import real_asset

START_TIMEOUT_MS = 60_000  # models load and the clip opens on a shared 2-core machine


@pytest.fixture
def clip_spec():
    return f"file:{real_asset('demo.mp4')}?loop=1"


@pytest.fixture
def open_window(qtbot, qapp, data_dir):
    """Opens the real main window on given sources; stops its recording and waits at the end."""
    windows = []
    apply_theme(qapp)

    def open_(hr_specs=(), camera_spec=None, **options) -> MainWindow:
        window = MainWindow(LiveSources(data_dir, tuple(hr_specs), camera_spec, **options))
        qtbot.addWidget(window)
        window.resize(1366, 768)
        window.show()
        qtbot.waitExposed(window)
        window.activateWindow()
        qtbot.waitUntil(window.isActiveWindow, timeout=5_000)  # shortcuts reach the active window only
        windows.append(window)
        return window

    yield open_
    for window in windows:
        window.close()  # as the coach closes it: every screen shut down, the store and the sync stopped


def start_and_wait(qtbot, window, athletes: int, video: bool = True) -> None:
    """Start recording and wait until every athlete has a tile with heart rate (and video is painted)."""
    live = window.live
    live.start_recording()

    def ready() -> bool:
        tiles = live.board.tiles_in_order()
        hr_ok = len(tiles) == athletes and all(t.last_hr_bpm is not None for t in tiles) \
            and len(live.tile_widgets) == athletes
        return live.recording and hr_ok and (not video or live.video.frames_painted > 0)
    qtbot.waitUntil(ready, timeout=START_TIMEOUT_MS)
