"""`make soak`: kill -9 recordings at random moments, and drop BLE links, then count the damage.

Prints `name=value` lines:
- soak.crash_runs: recordings killed with SIGKILL at a random moment
- soak.crash_corrupt: runs whose store fails `PRAGMA integrity_check` or holds an indexed video
  segment that does not play to its indexed frame count (must be 0)
- soak.crash_max_hr_loss_s: the longest stretch of heart rate received before a kill but not in
  the store afterwards (at most 1.0)
- the soak.ble_* lines of bench.soak_ble
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

KILL_AFTER_S = (0.2, 6.0)  # kill moments are drawn uniformly from this range after launch
ARRIVAL_SLACK_S = 0.05  # a sample due this close to the kill may not have arrived yet
RUN_TIMEOUT_S = 60.0  # a recording that outlives this is a failure of the soak itself


def _launch(data_dir: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "desktop.cli", "record", "--headless", "--hr", "sim:3", "--camera",
           "synthetic", "--duration", str(RUN_TIMEOUT_S), "--data-dir", str(data_dir), "--no-feedback"]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _integrity_ok(db_path: Path) -> bool:
    if not db_path.exists():
        return True  # killed before the store was created: nothing to corrupt
    with sqlite3.connect(db_path) as db:
        return db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def _hr_loss_s(samples_t: list[float], killed_at: float) -> float:
    """Time span before the kill whose (strictly periodic) simulated samples were not stored."""
    if not samples_t:
        return 0.0
    first = min(samples_t)
    stored = {round((t - first) / SAMPLE_PERIOD_S) for t in samples_t}
    due = [k for k in range(int((killed_at - first) / SAMPLE_PERIOD_S) + 1)
           if first + k * SAMPLE_PERIOD_S < killed_at - ARRIVAL_SLACK_S]
    lost = [k for k in due if k not in stored]
    return killed_at - (first + min(lost) * SAMPLE_PERIOD_S) if lost else 0.0


def _inspect(data_dir: Path, killed_at: float) -> tuple[bool, float]:
    """(corrupt, hr loss in seconds) of one killed recording."""
    if not _integrity_ok(data_dir / "trackside.sqlite"):
        return True, 0.0
    if not (data_dir / "trackside.sqlite").exists():
        return False, 0.0
    loss_s, corrupt = 0.0, False
    with Store.open(data_dir) as store:
        for summary in store.list_sessions():
            for segment in store.video_segments(summary.id):
                corrupt |= not is_playable(store.segment_file(segment), segment.frame_count)
            by_channel: dict[str, list[float]] = {}
            for sample in store.hr_samples(summary.id):
                by_channel.setdefault(sample.channel, []).append(sample.t_mono_s)
            for times in by_channel.values():
                loss_s = max(loss_s, _hr_loss_s(times, killed_at))
    return corrupt, loss_s


def crash_soak(runs: int, seed: int = 0) -> dict[str, float]:
    rng = random.Random(seed)
    corrupt_runs, max_loss_s = 0, 0.0
    with tempfile.TemporaryDirectory(prefix="trackside-soak-") as tmp:
        for i in range(runs):
            data_dir = Path(tmp) / f"run{i:03d}"
            process = _launch(data_dir)
            time.sleep(rng.uniform(*KILL_AFTER_S))  # the point of a soak: a random moment
            killed_at = time.monotonic()
            process.kill()
            process.wait(timeout=RUN_TIMEOUT_S)
            corrupt, loss_s = _inspect(data_dir, killed_at)
            corrupt_runs += corrupt
            max_loss_s = max(max_loss_s, loss_s)
    return {"soak.crash_runs": runs, "soak.crash_corrupt": corrupt_runs, "soak.crash_max_hr_loss_s": max_loss_s}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crash-runs", type=int, default=50)
    parser.add_argument("--ble-drops", type=int, default=50)
    args = parser.parse_args(argv)
    figures = crash_soak(args.crash_runs)
    from bench.soak_ble import run_ble_soak

    figures.update(run_ble_soak(drops=args.ble_drops))
    for name, value in figures.items():
        print(f"{name}={int(value)}" if float(value).is_integer() else f"{name}={value:.3f}", flush=True)
    return 0 if figures["soak.crash_corrupt"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
