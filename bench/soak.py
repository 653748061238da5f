"""`make soak`: kill -9 recordings at random moments, and drop BLE links, then count the damage.

Prints `name=value` lines:
- soak.crash_runs: recordings killed with SIGKILL at a random moment (feedback models running)
- soak.crash_runs_recording: of those, the runs killed after their session had started
- soak.crash_corrupt: runs whose store fails `PRAGMA integrity_check` or holds an indexed video
  segment that does not play to its indexed frame count (must be 0)
- soak.crash_max_hr_loss_s: the longest stretch of heart rate received before a kill but not in
  the store afterwards (at most 1.0)
- the soak.ble_* lines of bench.soak_ble
- the update.* lines of bench.soak_updates (attacks on model updates, bad models rolled back)
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from desktop.sources.heart_rate.simulated import SAMPLE_PERIOD_S
from desktop.store import Store
from desktop.store.video import is_playable

KILL_AFTER_S = (0.5, 8.0)  # kill moments are drawn uniformly from this range after launch
MAX_HR_LOSS_S = 1.0  # the most heart rate a kill may cost
ARRIVAL_SLACK_S = 0.05  # a sample due this close to the kill may not have arrived yet
RUN_TIMEOUT_S = 60.0  # a recording that outlives this is a failure of the soak itself


def _launch(data_dir: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "desktop.cli", "record", "--headless", "--hr", "sim:3", "--camera",
           "synthetic", "--duration", str(RUN_TIMEOUT_S), "--data-dir", str(data_dir)]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _integrity_ok(db_path: Path) -> bool:
    if not db_path.exists():
        return True  # killed before the store was created: nothing to corrupt
    with sqlite3.connect(db_path) as db:
        return db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def _hr_loss_s(samples_t: list[float], killed_at: float, started_at: float) -> float:
    """Time span before the kill whose (strictly periodic) simulated samples were not stored.

    With nothing stored, the whole time since the session started counts as lost: an upper bound.
    """
    if not samples_t:
        return max(0.0, killed_at - started_at - ARRIVAL_SLACK_S)
    first = min(samples_t)
    stored = {round((t - first) / SAMPLE_PERIOD_S) for t in samples_t}
    due = [k for k in range(int((killed_at - first) / SAMPLE_PERIOD_S) + 1)
           if first + k * SAMPLE_PERIOD_S < killed_at - ARRIVAL_SLACK_S]
    lost = [k for k in due if k not in stored]
    return killed_at - (first + min(lost) * SAMPLE_PERIOD_S) if lost else 0.0


def _inspect(data_dir: Path, killed_at: float) -> tuple[bool, float, bool]:
    """(corrupt, hr loss in seconds, whether a session had started) of one killed recording."""
    if not _integrity_ok(data_dir / "trackside.sqlite"):
        return True, 0.0, True
    if not (data_dir / "trackside.sqlite").exists():
        return False, 0.0, False
    loss_s, corrupt = 0.0, False
    with Store.open(data_dir) as store:
        sessions = store.list_sessions()
        for summary in sessions:
            started_at = store.session(summary.id).started_mono_s
            for segment in store.video_segments(summary.id):
                corrupt |= not is_playable(store.segment_file(segment), segment.frame_count)
            by_channel: dict[str, list[float]] = {f"sim-{i}": [] for i in (1, 2, 3)}
            for sample in store.hr_samples(summary.id):
                by_channel[sample.channel].append(sample.t_mono_s)
            for times in by_channel.values():
                loss_s = max(loss_s, _hr_loss_s(times, killed_at, started_at))
    return corrupt, loss_s, bool(sessions)


def crash_soak(runs: int, seed: int = 0) -> dict[str, float]:
    rng = random.Random(seed)
    corrupt_runs, recording_runs, max_loss_s = 0, 0, 0.0
    with tempfile.TemporaryDirectory(prefix="trackside-soak-") as tmp:
        for i in range(runs):
            data_dir = Path(tmp) / f"run{i:03d}"
            process = _launch(data_dir)
            time.sleep(rng.uniform(*KILL_AFTER_S))  # the point of a soak: a random moment
            killed_at = time.monotonic()
            process.kill()
            process.wait(timeout=RUN_TIMEOUT_S)
            corrupt, loss_s, recording = _inspect(data_dir, killed_at)
            corrupt_runs += corrupt
            recording_runs += recording
            max_loss_s = max(max_loss_s, loss_s)
    return {"soak.crash_runs": runs, "soak.crash_runs_recording": recording_runs, "soak.crash_corrupt": corrupt_runs,
            "soak.crash_max_hr_loss_s": max_loss_s}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crash-runs", type=int, default=50)
    parser.add_argument("--ble-drops", type=int, default=50)
    args = parser.parse_args(argv)
    figures = crash_soak(args.crash_runs)
    from bench.soak_ble import run_ble_soak, soak_is_sound
    from bench.soak_updates import run_update_soak, update_soak_is_sound

    ble_figures = run_ble_soak(drops=args.ble_drops)
    figures.update(ble_figures)
    figures.update(update_figures := run_update_soak())
    from bench.soak_sync import run_sync_soak, sync_sound

    figures.update(run_sync_soak())
    for name, value in figures.items():
        print(f"{name}={int(value)}" if float(value).is_integer() else f"{name}={value:.3f}", flush=True)
    sound = (figures["soak.crash_corrupt"] == 0 and figures["soak.crash_max_hr_loss_s"] <= MAX_HR_LOSS_S
             and soak_is_sound(ble_figures, min_drops=args.ble_drops) and update_soak_is_sound(update_figures)
             and sync_sound(figures))
    return 0 if sound else 1


if __name__ == "__main__":
    raise SystemExit(main())
