"""The service's half of the learning loop: the team's stored sessions as a job's `SessionSource`,
retraining jobs beside the service, and publishing a job that passed the double gate.

Folders under the service's data folder (one update repository per service: the embedded
service and a small club cloud hold one team; a cloud of many teams would need one repository,
and so one root of trust, per team, which is not built):

    updates-repo/metadata/, targets/     the TUF repository, served read-only at /updates/
    update-keys/                         the online keys (targets, snapshot, timestamp)
    update-root-key/root.key             the root key, kept apart (take it offline after `init`)
    jobs/, runs/, models/                the job records, each job's bundle, the model in the field

TensorFlow never loads here: a job runs in the runner's spawned worker process; this module only
reads the job's record and copies/publishes the bundle it left.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from sqlalchemy import select

from training.jobs.bundles import record_from_bundle
from training.jobs.cli import field_model_dir
from training.jobs.records import SUCCEEDED, JobBook, JobRecord
from training.jobs.sessions import SessionRecord, consents_to_training
from training.jobs.spec import RetrainSpec

logger = logging.getLogger(__name__)

REPO_DIR, KEYS_DIR, ROOT_KEY = "updates-repo", "update-keys", Path("update-root-key") / "root.key"
UPDATES_PATH = "/updates"  # the repository's URL on the service: <url>/updates/metadata/ and /targets/


def repo_dir(data_dir: Path) -> Path:
    return Path(data_dir) / REPO_DIR


def root_file(data_dir: Path) -> Path:
    """The repository's root.json: what a laptop must hold before it trusts any update."""
    return repo_dir(data_dir) / "metadata" / "root.json"


def init_updates(data_dir: Path) -> int:
    """`trackside-cloud init`: keys and an empty update repository (refused if one is there)."""
    from training.publish.cli import cli_init

    data_dir = Path(data_dir)
    return cli_init(repo_dir(data_dir), data_dir / KEYS_DIR, data_dir / ROOT_KEY)


def publish_bundle(data_dir: Path, bundle_dir: Path) -> int:
    """`trackside-cloud publish BUNDLE_DIR`: an accepted model bundle into the repository."""
    from training.publish.cli import cli_publish

    data_dir = Path(data_dir)
    return cli_publish(repo_dir(data_dir), data_dir / KEYS_DIR, Path(bundle_dir))


def publish_if_passed(data_dir: Path, record: JobRecord) -> str | None:
    """A job that passed the double gate: its bundle becomes the team's field model and is
    published; returns the version, or None (rejected, failed, or no repository: said in the log)."""
    from training.publish.repository import publish_model

    if record.state != SUCCEEDED or not record.result:
        return None
    data_dir, bundle = Path(data_dir), Path(record.result["out_dir"])
    if not root_file(data_dir).is_file():
        logger.warning("job %s passed but there is no update repository: run `trackside-cloud init`",
                       record.job_id)
        return None
    published = publish_model(repo_dir(data_dir), bundle, data_dir / KEYS_DIR)
    field = data_dir / "models" / record.team / record.kind
    shutil.rmtree(field, ignore_errors=True)
    shutil.copytree(bundle, field)
    JobBook(data_dir / "jobs").update(record.job_id, line=f"published {published.kind} {published.version}",
                                      published={"kind": published.kind, "version": published.version})
    logger.info("job %s: published %s %s", record.job_id, published.kind, published.version)
    return published.version


@dataclass(frozen=True)
class ServiceSessionSource:
    """A team's committed sessions as the service stores them (picklable: it crosses into the job's
    process, which opens the database and blob folder itself). Only what `training.service.dataset`
    allows is read: the athlete parts the cloud still holds (an erased athlete's are gone); the
    training consent is the athlete's own flag in the session's manifest."""

    database_url: str
    blob_dir: Path

    def sessions(self, team: str) -> Iterator[SessionRecord]:
        from training.service import crud
        from training.service.blobs import LocalFolderBlobs
        from training.service.db import make_engine, session_factory

        engine = make_engine(self.database_url)
        blobs = LocalFolderBlobs(self.blob_dir)
        try:
            with session_factory(engine)() as db:
                records = [_stored_record(db, blobs, s) for s in _committed(db, crud.team_by_name(db, team).id)]
        finally:
            engine.dispose()
        yield from records


def _committed(db, team_id: int):
    from training.service.models import CloudSession

    return list(db.scalars(select(CloudSession).where(CloudSession.team_id == team_id,
                                                      CloudSession.state == "committed",
                                                      CloudSession.manifest_blob.is_not(None))
                           .order_by(CloudSession.id)))


def _stored_record(db, blobs, session) -> SessionRecord:
    from training.service.dataset import read_athlete_part, training_parts
    from training.service.models import LabelRecord

    with blobs.open(session.manifest_blob) as source:
        manifest = json.load(source)
    parts = {p.name: read_athlete_part(blobs, p) for p in training_parts(db, session.team_id)
             if p.session_pk == session.id}
    consent = {a["ref"]: consents_to_training(bool(a.get("training", False))) for a in manifest["athletes"]}
    label_row = db.get(LabelRecord, session.id)
    labels = json.loads(label_row.labels_json) if label_row is not None else None
    committed_utc = json.loads(session.answer_json)["committed_utc"]  # when it reached the cloud, not when recorded
    return record_from_bundle(manifest, parts, lambda ref: consent.get(ref, False), labels=labels,
                              uploaded_utc=committed_utc)


class ServiceJobs:
    """The service's retraining jobs: one spawned worker process (made on the first job), each
    passed job published from the runner's callback; closed with the service. With
    `auto_retrain_after` N > 0, a heart-rate job starts by itself once N new labelled sessions of a
    team have arrived (`small`: in its small, quick form)."""

    def __init__(self, data_dir: Path, database_url: str, blob_dir: Path, auto_retrain_after: int = 0,
                 small: bool = False):
        self.data_dir, self._sessions = Path(data_dir), ServiceSessionSource(database_url, Path(blob_dir))
        self.auto_retrain_after, self._auto_small = auto_retrain_after, small
        self.book = JobBook(self.data_dir / "jobs")
        self._runner = None
        self._lock = threading.Lock()
        self._policy_lock = threading.Lock()
        self._published: dict[str, threading.Event] = {}  # set once a finished job is handled

    def start(self, team: str, kind: str, small: bool = False, seed: int = 0) -> JobRecord:
        from training.jobs.runners import ProcessJobRunner

        spec = RetrainSpec(team, kind, seed=seed, small=small)
        with self._lock:
            if self._runner is None:
                self._runner = ProcessJobRunner(self.book.folder, on_finished=self._finished)
            record = self._runner.submit(spec, self._sessions, field_model_dir(self.data_dir, team, kind),
                                         self.data_dir / "runs" / team / kind)
            self._published.setdefault(record.job_id, threading.Event())
            return record

    def consider(self, team: str) -> None:
        """Start a heart-rate job for `team` by itself once `auto_retrain_after` new labelled,
        training-consented sessions have arrived since its last job (call it only when that is
        above 0). Reading the team's sessions can take a while: it runs on a thread of its own,
        never in the request."""
        threading.Thread(target=self._consider, args=(team, self.auto_retrain_after, self._auto_small),
                         name="retrain-policy", daemon=True).start()

    def _consider(self, team: str, after_sessions: int, small: bool) -> None:
        from training.jobs.policy import should_retrain

        try:
            with self._policy_lock:  # two commits at once must not start two jobs
                jobs = [r for r in self.book.all() if r.team == team and r.kind == "hr"]
                if any(not r.finished for r in jobs):
                    return  # one job at a time per team
                last_utc = max((r.created_utc for r in jobs), default=None)
                if not should_retrain(list(self._sessions.sessions(team)), last_utc, after_sessions):
                    return
                record = self.start(team, "hr", small=small)
            logger.info("job %s started by itself for team %s: %d new labelled session(s)", record.job_id, team,
                        after_sessions)
        except Exception:  # the policy must never take the service down; the next commit tries again
            logger.exception("the retraining policy failed for team %s", team)

    def wait(self, job_id: str, timeout_s: float) -> JobRecord:
        """Block until the job's worker is done and a passed job is published (or `timeout_s`)."""
        with self._lock:
            runner = self._runner
        if runner is None:
            return self.book.get(job_id)
        runner.wait(job_id, timeout_s)
        self._published.setdefault(job_id, threading.Event()).wait(timeout_s)
        return self.book.get(job_id)

    def _finished(self, record: JobRecord) -> None:
        try:
            publish_if_passed(self.data_dir, record)
        except Exception as exc:  # a publishing fault is the job's news, not the service's end
            logger.error("job %s passed but publishing failed: %s", record.job_id, exc)
            self.book.update(record.job_id, line=f"publishing failed: {exc}")
        finally:
            self._published.setdefault(record.job_id, threading.Event()).set()

    def close(self) -> None:
        with self._lock:
            if self._runner is not None:
                self._runner.close()
                self._runner = None
