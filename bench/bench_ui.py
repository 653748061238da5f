"""The window during a live session: `ui.max_stall_ms`, `ui.video_fps`, `ui.startup_s`, `ui.rss_mb`.

A real X11 window under Xvfb (started here when no display is set) records four simulated
athletes and the real Sports2D clip at 30 fps, with every feedback model on, for 60 s:

- ui.max_stall_ms: the worst lateness of a 10 ms heartbeat timer once the session runs (goal <= 50)
- ui.video_fps: camera frames painted per second over the session (goal >= 25)
- ui.startup_s: process start to the first camera frame painted (goal <= 2)
- ui.rss_mb: peak resident memory of the process (goal <= 400)
"""

from __future__ import annotations

import logging
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SESSION_S = float(os.environ.get("BENCH_UI_SESSION_S", "60"))
START_LIMIT_S = 120.0  # a window that paints no frame by then is reported as failed
XVFB_SCREEN = "-screen 0 1600x1000x24"


def process_age_s() -> float:
    """Seconds since this process was started (Linux /proc), else since this module loaded."""
    try:
        start_ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime_s = float(Path("/proc/uptime").read_text().split()[0])
        return uptime_s - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return time.monotonic() - _LOADED_S


_LOADED_S = time.monotonic()


def run_in_window(data_dir: Path) -> dict[str, float]:
    from desktop.ui.main_window import MainWindow
    from desktop.ui.qt import QApplication, QTimer
    from desktop.ui.screenshots import demo_sources
    from desktop.ui.theme import apply_theme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_theme(app)
    window = MainWindow(demo_sources(data_dir))
    window.resize(1366, 768)
    window.show()
    live = window.live
    figures: dict[str, float] = {}
    poll = QTimer()
    poll.setInterval(5)
    began = {}

    def watch() -> None:
        if "startup_s" not in figures:
            if live.video.frames_painted:
                figures["startup_s"] = process_age_s()
                live.stall_watch.reset()
                began["t"], began["painted"] = time.monotonic(), live.video.frames_painted
            elif process_age_s() > START_LIMIT_S:
                app.quit()
            return
        elapsed = time.monotonic() - began["t"]
        if elapsed >= SESSION_S:
            figures["video_fps"] = (live.video.frames_painted - began["painted"]) / elapsed
            figures["max_stall_ms"] = live.stall_watch.max_stall_ms
            poll.stop()
            window.close()
            app.quit()
    poll.timeout.connect(watch)
    QTimer.singleShot(0, live.start_recording)
    poll.start()
    app.exec()
    return figures


def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    if not os.environ.get("DISPLAY") and shutil.which("xvfb-run"):
        env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
        return subprocess.run(["xvfb-run", "-a", "-s", XVFB_SCREEN, sys.executable, "-m", "bench.bench_ui"],
                              env=env).returncode
    with tempfile.TemporaryDirectory(prefix="trackside-bench-ui-") as data_dir:
        figures = run_in_window(Path(data_dir))
    if "video_fps" not in figures:
        print("ui.failed=1", flush=True)
        return 1
    print(f"ui.max_stall_ms={figures['max_stall_ms']:.1f}")
    print(f"ui.video_fps={figures['video_fps']:.1f}")
    print(f"ui.startup_s={figures['startup_s']:.2f}")
    print(f"ui.rss_mb={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
