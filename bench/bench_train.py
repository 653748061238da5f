"""Retraining-job benchmarks: the same small job on the in-process worker and on a local Ray.

    train.job_inproc_s   submit to done on ProcessJobRunner (a spawned worker beside the service)
    train.job_ray_s      submit to done on RayJobRunner, on a local single-node Ray started first
    train.gpu_speedup    the same job with the GPU hidden over with it visible; printed only where
                         TensorFlow sees a GPU (a ratio needs both sides: on a CPU-only machine
                         there is nothing to compare, so no line rather than a made-up 1.0)

The team is four real rowing sessions (rowingdata's test files) recorded into a real laptop store
by `trackside record`; the field model is the bundled heart-rate model. Both runs are the same
spec (small: a few epochs on a subset of windows), the same seed, the same data, one after the
other in this run.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from edge_models.assets import data_dir

TEAM = "bench-team"
ROWING_SESSIONS = (("crewnerddata.tcx", "Ana"), ("testtcx_210614.tcx", "Ana"), ("invalidchar.tcx", "Ana"),
                   ("testtcx.tcx", "Ben"))  # Ben has not consented: the store keeps none of his HR
JOB_TIMEOUT_S = 1200.0
BUNDLED_HR = Path(__file__).resolve().parents[1] / "edge_models" / "bundled" / "heart_rate"


def rowing_path(name: str) -> Path:
    return data_dir() / "rowingdata" / "testdata" / name


def record_rowing_team(folder: Path) -> Path:
    """A laptop data folder with the rowing sessions recorded by the real `trackside` command."""
    from desktop.cli import main as trackside

    quiet = ["--data-dir", str(folder)]
    trackside(["athletes", "add", "Ana", "--hr-max", "190", "--hr-rest", "50", *quiet])
    trackside(["athletes", "consent", "Ana", "--cloud", "yes", "--training", "yes", *quiet])  # both start at no
    trackside(["athletes", "add", "Ben", "--hr-max", "185", "--hr-rest", "55", "--no-consent", *quiet])
    for name, athlete in ROWING_SESSIONS:
        code = trackside(["record", "--headless", "--hr", f"replay:{rowing_path(name)}?speed=max",
                          "--no-feedback", "--athlete", f"{Path(name).stem}={athlete}", *quiet])
        if code != 0:
            raise RuntimeError(f"recording {name} failed (exit {code})")
    return folder


def _timed_job(runner, store: Path, runs: Path) -> float:
    from training.jobs.records import FAILED
    from training.jobs.sessions import StoreSessionSource
    from training.jobs.spec import RetrainSpec

    started = time.perf_counter()
    job = runner.submit(RetrainSpec(TEAM, "hr", seed=0, small=True), StoreSessionSource(store), BUNDLED_HR, runs)
    record = runner.wait(job.job_id, JOB_TIMEOUT_S)
    elapsed_s = time.perf_counter() - started
    if not record.finished or record.state == FAILED:
        raise RuntimeError(f"job {job.job_id} ended {record.state}: {record.error}")
    return elapsed_s


def inproc_s(store: Path, work: Path) -> float:
    from training.jobs.runners import ProcessJobRunner

    runner = ProcessJobRunner(work / "jobs")
    try:
        return _timed_job(runner, store, work / "runs")
    finally:
        runner.close()


def ray_s(store: Path, work: Path) -> float:
    import ray

    from training.jobs.runners import RayJobRunner

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": str(Path(__file__).resolve().parents[1])}})
    try:
        return _timed_job(RayJobRunner(work / "jobs"), store, work / "runs")
    finally:
        ray.shutdown()


def gpu_visible() -> bool:
    from training.tf_setup import tensorflow_ready

    return bool(tensorflow_ready().config.list_physical_devices("GPU"))


def main() -> int:
    missing = [n for n, _ in ROWING_SESSIONS if not rowing_path(n).is_file()]
    if missing:
        print(f"bench_train: missing rowing sessions {missing}: run `make data`", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="bench_train_") as folder:
        work = Path(folder)
        store = record_rowing_team(work / "laptop")
        gpu_s = inproc_s(store, work / "inproc")
        print(f"train.job_inproc_s={gpu_s:.1f}", flush=True)
        print(f"train.job_ray_s={ray_s(store, work / 'ray'):.1f}", flush=True)
        if gpu_visible():  # the in-process job above trained on the GPU; now the same with it hidden
            os.environ["CUDA_VISIBLE_DEVICES"] = "-1"  # read by the spawned worker's TensorFlow
            print(f"train.gpu_speedup={inproc_s(store, work / 'cpu') / gpu_s:.2f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
