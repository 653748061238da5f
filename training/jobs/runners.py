"""Where jobs run: a worker process beside the service, or a Ray cluster. No scheduler of ours.

Both runners submit the SAME function, `execute_job`, which runs `run_retrain` and keeps the job
record up to date (running, progress, log, then succeeded / rejected / failed). TensorFlow is only
ever imported inside that function, so it stays out of the service process.

- `ProcessJobRunner`: a `ProcessPoolExecutor` with the spawn start method (no forked copy of the
  service's threads or sockets), one worker by default: jobs queue in the executor.
- `RayJobRunner`: the function as a Ray task, with `num_gpus=1` when the cluster has GPUs. The
  jobs folder, the field models and the sessions must be reachable from the worker nodes (a
  shared file system), as the embedded service's data folder is on one machine.
"""

from __future__ import annotations

import logging
import os
import multiprocessing
import traceback
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

from training.jobs.records import FAILED, RUNNING, JobBook, JobRecord
from training.jobs.sessions import SessionSource
from training.jobs.spec import RetrainSpec

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobOrder:
    """Everything a job needs, picklable: it crosses into the worker process or Ray task."""

    job_id: str
    jobs_folder: Path
    spec: RetrainSpec
    sessions: SessionSource  # must be picklable (StoreSessionSource is: a folder)
    field_model_dir: Path
    out_dir: Path


def execute_job(order: JobOrder) -> str:
    """Run one job and keep its record; returns the final state. Never raises for a job's failure."""
    import logging as _logging

    from training.jobs.retrain import run_retrain

    _logging.basicConfig(level=_logging.INFO)
    book = JobBook(order.jobs_folder)
    book.update(order.job_id, state=RUNNING, line=f"started in process {os.getpid()}")

    def progress(fraction: float, message: str) -> None:
        book.update(order.job_id, progress=fraction, line=message)

    try:
        result = run_retrain(order.spec, order.sessions, order.field_model_dir, order.out_dir, progress)
    except Exception as exc:  # the job failed: say why in its record, keep the service running
        expected = isinstance(exc, (FileNotFoundError, ValueError))  # missing data, bad input
        logger.error("job %s failed: %s", order.job_id, exc, exc_info=not expected)
        book.update(order.job_id, state=FAILED, error=f"{type(exc).__name__}: {exc}",
                    line=traceback.format_exc(limit=3).strip().splitlines()[-1])
        return FAILED
    book.update(order.job_id, state=result.state, progress=1.0, result=result.to_dict())
    return result.state


class JobRunner(Protocol):
    """Queues retraining jobs and tells their state through the job records."""

    book: JobBook

    def submit(self, spec: RetrainSpec, sessions: SessionSource, field_model_dir: Path,
               runs_dir: Path) -> JobRecord:
        """Queue a job writing its bundle to `runs_dir/<job_id>`; its record in state 'queued'."""
        ...

    def wait(self, job_id: str, timeout_s: float) -> JobRecord:
        """Block until the job finished (or `timeout_s` passed); its record."""
        ...

    def close(self) -> None:
        ...


def _order(book: JobBook, spec: RetrainSpec, sessions: SessionSource, field_model_dir: Path,
           runs_dir: Path) -> JobOrder:
    record = book.new(spec.team, spec.kind)
    return JobOrder(record.job_id, book.folder, spec, sessions, Path(field_model_dir),
                    Path(runs_dir) / record.job_id)


class ProcessJobRunner:
    """Jobs in worker processes beside the service (spawned, so TensorFlow never loads here)."""

    def __init__(self, jobs_folder: Path, max_workers: int = 1,
                 on_finished: Callable[[JobRecord], None] | None = None):
        """`on_finished(record)` runs here (a runner thread) once a job's worker is done."""
        self.book = JobBook(jobs_folder)
        self._on_finished = on_finished
        self._pool = ProcessPoolExecutor(max_workers=max_workers,
                                         mp_context=multiprocessing.get_context("spawn"))
        self._futures: dict[str, Future] = {}

    def submit(self, spec: RetrainSpec, sessions: SessionSource, field_model_dir: Path,
               runs_dir: Path) -> JobRecord:
        order = _order(self.book, spec, sessions, field_model_dir, runs_dir)
        future = self._pool.submit(execute_job, order)
        future.add_done_callback(lambda f, job_id=order.job_id: self._after(job_id, f))
        self._futures[order.job_id] = future
        return self.book.get(order.job_id)

    def _after(self, job_id: str, future: Future) -> None:
        """A job that never began, or whose worker died (killed, out of memory), cannot write its
        record: the runner does."""
        if future.cancelled():
            self.book.update(job_id, state=FAILED, error="the runner was closed before the job began")
        elif future.exception() is not None:
            self.book.update(job_id, state=FAILED, error=f"the worker process died: {future.exception()}")
        if self._on_finished is not None:
            self._on_finished(self.book.get(job_id))

    def wait(self, job_id: str, timeout_s: float) -> JobRecord:
        future = self._futures[job_id]
        try:
            future.result(timeout=timeout_s)
        except TimeoutError:
            pass
        except Exception:  # recorded by _after
            pass
        return self.book.get(job_id)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class RayJobRunner:
    """Jobs as Ray tasks on the cluster at `address` (or the Ray already initialised here)."""

    def __init__(self, jobs_folder: Path, address: str | None = None):
        import ray

        self.book = JobBook(jobs_folder)
        if not ray.is_initialized():
            _start_ray(ray, address)
        self._ray = ray
        self._task = ray.remote(execute_job)
        self._refs: dict[str, object] = {}

    def resources(self) -> dict:
        """What one job asks of the cluster: a GPU when the cluster has any, else one CPU."""
        gpus = self._ray.cluster_resources().get("GPU", 0)
        return {"num_gpus": 1, "num_cpus": 1} if gpus >= 1 else {"num_gpus": 0, "num_cpus": 1}

    def submit(self, spec: RetrainSpec, sessions: SessionSource, field_model_dir: Path,
               runs_dir: Path) -> JobRecord:
        order = _order(self.book, spec, sessions, field_model_dir, runs_dir)
        self._refs[order.job_id] = self._task.options(**self.resources()).remote(order)
        return self.book.get(order.job_id)

    def wait(self, job_id: str, timeout_s: float) -> JobRecord:
        ref = self._refs[job_id]
        ready, _ = self._ray.wait([ref], timeout=timeout_s)
        if ready:
            try:
                self._ray.get(ready[0])
            except Exception as exc:  # the task itself crashed (worker lost)
                self.book.update(job_id, state=FAILED, error=f"the Ray task failed: {exc}")
        return self.book.get(job_id)

    def close(self) -> None:
        """Forget the tasks; the Ray cluster is not ours to shut down."""
        self._refs.clear()


def _start_ray(ray, address: str | None) -> None:
    """Join the cluster at `address`; without one, start a local Ray on this machine's CPUs.

    Ray refuses local-start options (CPUs, dashboard) when it joins a cluster: only the address.
    """
    if address:
        ray.init(address=address)
    else:
        ray.init(include_dashboard=False)
