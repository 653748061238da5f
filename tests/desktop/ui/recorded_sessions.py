"""Real short recordings for the screen tests: the real recorder, simulated athletes, a camera."""

from __future__ import annotations

from desktop.ui.screens_demo import record_session

SQUAD = (("Ana", 195, 48), ("Ben", 188, 55))
HR_TIMELINE_S = 59  # sixty samples per athlete, stamped a second apart (the source plays flat out)
VIDEO_S = 1.5  # wall time the paced synthetic camera records: 45 frames at 30 fps
WAIT_S = 30.0  # a worker-thread read, decode or export that takes longer on a loaded machine has hung


def record_with_video(data_dir) -> str:
    return record_session(data_dir, hr_spec="sim:2?speed=inf", camera_spec="synthetic:320x240@30",
                          duration_s=VIDEO_S, squad=SQUAD, hr_timeline_s=HR_TIMELINE_S)


def record_without_video(data_dir) -> str:
    return record_session(data_dir, hr_spec="sim:2?speed=inf", camera_spec=None, duration_s=VIDEO_S,
                          squad=SQUAD, hr_timeline_s=HR_TIMELINE_S)


def show_active(qtbot, widget, size=(1366, 768)) -> None:
    """Show a screen as the active window, so its keyboard shortcuts answer as they do for the coach."""
    qtbot.addWidget(widget)
    widget.resize(*size)
    widget.show()
    widget.activateWindow()
    qtbot.waitUntil(widget.isActiveWindow, timeout=int(WAIT_S * 1000))
