"""The persisted job record: one JSON file per job in a jobs folder, written atomically.

The service, the CLI and the job itself (in its worker process or Ray task) all read and write
the same record, so state, progress and log lines survive a service restart and need no shared
memory. Only the job's own process writes to its record while it runs; the runner writes it
before (queued) and after a crash of the worker (failed).
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from edge_models.durable import make_private_dir, write_file_atomically

logger = logging.getLogger(__name__)

QUEUED, RUNNING, SUCCEEDED, FAILED, REJECTED = "queued", "running", "succeeded", "failed", "rejected"
FINISHED_STATES = (SUCCEEDED, FAILED, REJECTED)
MAX_LOG_LINES = 200  # the newest lines are kept; the bundle's job_report.md has the verdict in full


@dataclass
class JobRecord:
    job_id: str
    team: str
    kind: str
    state: str = QUEUED
    progress: float = 0.0  # 0-1
    log: list[str] = field(default_factory=list)
    created_utc: str = ""
    finished_utc: str | None = None
    result: dict | None = None  # RetrainResult.to_dict() once finished
    error: str | None = None  # why a failed job failed
    published: dict | None = None  # {"kind", "version"} once a passed job's model was published

    @property
    def finished(self) -> bool:
        return self.state in FINISHED_STATES


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class JobBook:
    """The jobs folder: `<folder>/<job_id>.json`."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        make_private_dir(self.folder)

    def new(self, team: str, kind: str) -> JobRecord:
        record = JobRecord(job_id=uuid.uuid4().hex[:12], team=team, kind=kind, created_utc=_now())
        self.save(record)
        return record

    def save(self, record: JobRecord) -> None:
        write_file_atomically(self._path(record.job_id), json.dumps(asdict(record), indent=1).encode("utf-8"))

    def get(self, job_id: str) -> JobRecord:
        path = self._path(job_id)
        if not path.is_file():
            raise KeyError(f"no job {job_id!r}")
        return JobRecord(**json.loads(path.read_text(encoding="utf-8")))

    def all(self) -> list[JobRecord]:
        return sorted((self.get(p.stem) for p in self.folder.glob("*.json")), key=lambda r: r.created_utc)

    def update(self, job_id: str, *, state: str | None = None, progress: float | None = None,
               line: str | None = None, **fields) -> JobRecord:
        record = self.get(job_id)
        if state is not None:
            record.state = state
            if state in FINISHED_STATES:
                record.finished_utc = _now()
        if progress is not None:
            record.progress = progress
        if line is not None:
            record.log = (record.log + [line])[-MAX_LOG_LINES:]
        for name, value in fields.items():
            setattr(record, name, value)
        self.save(record)
        return record

    def _path(self, job_id: str) -> Path:
        if not job_id or not job_id.isalnum():
            raise KeyError(f"{job_id!r} is not a job id")
        return self.folder / f"{job_id}.json"
