"""`trackside app` (and `trackside` alone): open the window, recording at once when sources are given."""

from __future__ import annotations

import logging
import sys
import time

from desktop.live_session import LiveSources

logger = logging.getLogger(__name__)
PROCESS_START_S = time.monotonic()  # as early as this module is imported: start-up is measured from here


def main(args) -> int:
    """Run the window until it closes; `args` carries hr, camera, athlete, data_dir (a Path)."""
    from desktop.ui.main_window import MainWindow
    from desktop.ui.qt import QApplication, QTimer
    from desktop.ui.theme import apply_theme

    sources = LiveSources(data_dir=args.data_dir, hr_specs=tuple(args.hr or ()), camera_spec=args.camera,
                          athletes=tuple(getattr(args, "athlete", ()) or ()),
                          feedback=not getattr(args, "no_feedback", False))
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Trackside")
    apply_theme(app)
    window = MainWindow(sources)
    window.resize(1366, 768)
    window.show()
    if sources.hr_specs or sources.camera_spec:
        QTimer.singleShot(0, window.live.start_recording)
    return app.exec()
