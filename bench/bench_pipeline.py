"""The recording a coach lives with: `trackside record --headless`, timed from outside.

The Sports2D demo clip, cut to 4:3 and scaled to 640x480 (what a laptop camera gives), is written
to a temporary video file. `trackside record` then runs as its own process, exactly as the CLI
runs it: the `file:` camera paced at the clip's 30 fps and looping, three simulated heart-rate
straps, pose and movement feedback on, into a temporary data folder, for PIPELINE_S seconds
(env TRACKSIDE_BENCH_PIPELINE_S, default 60). Afterwards the store (the real SQLite file) is read:

- pipeline.frames_stored_per_s: frames in the indexed video segments over the recorded duration (30: none dropped)
- pipeline.feedback_per_s: frames that got pose feedback, per second (from the stored pose events)
- pipeline.feedback_p95_ms, pipeline.feedback_max_ms: camera grab to the stored pose event
- pipeline.rss_mb: peak resident memory of the record process
- pipeline.cpu_pct: its CPU time (user + system) over its wall time, in % of one core
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edge_models.assets import asset_path

logger = logging.getLogger(__name__)

CLIP = "demo.mp4"  # Sports2D: people jumping and walking outdoors, 30 fps
FRAME_SIZE_PX = (640, 480)  # width, height of a common laptop camera
PIPELINE_S_ENV = "TRACKSIDE_BENCH_PIPELINE_S"
DEFAULT_PIPELINE_S = 60.0
HR_SOURCES = "sim:3"  # three athletes' straps
EXIT_GRACE_S = 120.0  # the record process must have stopped this long after its duration


def camera_clip(folder: Path) -> Path:
    """The clip as a 640x480 camera would film it: the middle 4:3 of the frame, scaled."""
    source = cv2.VideoCapture(str(asset_path(CLIP)))
    fps = source.get(cv2.CAP_PROP_FPS) or 30.0
    path = folder / "camera_640x480.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, FRAME_SIZE_PX)
    while (grabbed := source.read())[0]:
        writer.write(cv2.resize(_middle_4_by_3(grabbed[1]), FRAME_SIZE_PX, interpolation=cv2.INTER_AREA))
    source.release()
    writer.release()
    return path


def _middle_4_by_3(image: np.ndarray) -> np.ndarray:
    height, width = image.shape[:2]
    keep = min(width, height * 4 // 3)
    left = (width - keep) // 2
    return image[:, left:left + keep]


@dataclass(frozen=True)
class ProcessCost:
    wall_s: float
    cpu_s: float
    peak_rss_mb: float


def record_command(clip: Path, data_dir: Path, duration_s: float) -> list[str]:
    """The coach's command line: the installed `trackside` entry point beside this Python."""
    trackside = Path(sys.executable).parent / "trackside"
    return [str(trackside), "record", "--headless", "--hr", HR_SOURCES,
            "--camera", f"file:{clip}?loop=1", "--duration", f"{duration_s:g}",
            "--data-dir", str(data_dir), "--json"]


def run_record(command: list[str], duration_s: float) -> tuple[dict, ProcessCost]:
    """Run the record process to its end; (its JSON summary, what that one process cost).

    `os.wait4` gives the resource use of exactly this child: its CPU time and peak resident set.
    A process still running EXIT_GRACE_S after its duration is killed and reported.
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, text=True)
        killer = threading.Timer(duration_s + EXIT_GRACE_S, process.kill)
        killer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            killer.cancel()
        wall_s = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        out.seek(0)
        err.seek(0)
        if process.returncode != 0:
            raise RuntimeError(f"trackside record exited {process.returncode}: {err.read()[-2000:]}")
        summary = json.loads(out.read())
    peak_rss_mb = usage.ru_maxrss / 1024.0  # Linux reports kB
    return summary, ProcessCost(wall_s, usage.ru_utime + usage.ru_stime, peak_rss_mb)


def stored_figures(database: Path, session_id: str) -> dict[str, float]:
    """What the store holds of the session: frames a second, feedback a second, feedback latency."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        started_s, ended_s = db.execute("SELECT started_mono_s, ended_mono_s FROM sessions WHERE id = ?",
                                        (session_id,)).fetchone()
        frames = db.execute("SELECT COALESCE(SUM(frame_count), 0) FROM video_segments WHERE session_id = ?",
                            (session_id,)).fetchone()[0]
        poses = [(t, json.loads(p)) for t, p in db.execute(
            "SELECT t_mono_s, payload_json FROM feedback_events WHERE session_id = ? AND kind = 'pose' "
            "ORDER BY t_mono_s", (session_id,))]
    if not poses:
        raise RuntimeError("the recording stored no pose feedback")
    latency_ms = np.array([p["latency_ms"] for _, p in poses])
    first, last = poses[0], poses[-1]
    return {"pipeline.frames_stored_per_s": frames / (ended_s - started_s),
            "pipeline.feedback_per_s": (last[1]["frames_with_pose"] - first[1]["frames_with_pose"])
            / (last[0] - first[0]),
            "pipeline.feedback_p95_ms": float(np.percentile(latency_ms, 95)),
            "pipeline.feedback_max_ms": float(latency_ms.max())}


def pipeline_s() -> float:
    return float(os.environ.get(PIPELINE_S_ENV, DEFAULT_PIPELINE_S))


def main() -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    duration_s = pipeline_s()
    with tempfile.TemporaryDirectory(prefix="trackside-bench-") as tmp:
        folder = Path(tmp)
        data_dir = folder / "data"
        summary, cost = run_record(record_command(camera_clip(folder), data_dir, duration_s), duration_s)
        lines = stored_figures(data_dir / "trackside.sqlite", summary["session_id"])
    lines["pipeline.rss_mb"] = cost.peak_rss_mb
    lines["pipeline.cpu_pct"] = 100.0 * cost.cpu_s / cost.wall_s
    lines["pipeline.frames_dropped"] = summary["frames_dropped"]
    for name, value in lines.items():
        print(f"{name}={value:.4g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
