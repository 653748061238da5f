"""`trackside app` (and `trackside` alone): open the window, recording at once when sources are given."""

from __future__ import annotations

import logging
import signal
import sys

from desktop.live_session import LiveSources

logger = logging.getLogger(__name__)
SIGNAL_POLL_MS = 200  # how soon Ctrl-C is noticed while the event loop waits


def main(args) -> int:
    """Run the window until it closes; `args` carries hr, camera, athlete, data_dir (a Path)."""
    from desktop.ui.main_window import MainWindow
    from desktop.ui.qt import QApplication, QTimer
    from desktop.ui.theme import apply_theme

    sources = LiveSources(data_dir=args.data_dir, hr_specs=tuple(args.hr or ()), camera_spec=args.camera,
                          athletes=tuple(getattr(args, "athlete", ()) or ()),
                          feedback=not getattr(args, "no_feedback", False),
                          embedded_cloud=getattr(args, "embedded_cloud", False))
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Trackside")
    apply_theme(app)
    window = MainWindow(sources)
    window.resize(1366, 768)
    window.show()
    QTimer.singleShot(0, lambda: _recover_then_record(window, sources))
    wake = _close_on_signals(window)
    code = app.exec()
    wake.stop()
    return code


def _recover_then_record(window, sources: LiveSources) -> None:
    """Offer an interrupted session first: closing it must never touch the one about to start."""
    window.offer_recovery()
    if sources.hr_specs or sources.camera_spec:
        window.live.start_recording()


def _close_on_signals(window):
    """Ctrl-C or SIGTERM close the window as its close button does: the recording ends cleanly.

    Python runs signal handlers only between its own bytecodes, so a light timer wakes it up."""
    from desktop.ui.qt import QTimer

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: QTimer.singleShot(0, window.close))
    wake = QTimer()
    wake.setInterval(SIGNAL_POLL_MS)
    wake.timeout.connect(lambda: None)
    wake.start()
    return wake
