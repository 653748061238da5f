"""The learning loop's steps as a coach and a team's administrator take them, for the e2e test
and `bench.bench_loop`: record with the real `trackside` command, label, sync to a real service,
retrain through the service's API, and the laptop's update client installing what was published.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from cloud_client.protocol import API_PREFIX
from desktop.cli import main as trackside
from desktop.store import Store
from desktop.sync.credentials import TokenStore

TEAM = "Lions"
ATHLETES = {"sim-1": ("Ana", 190, 50), "sim-2": ("Ben", 185, 55)}
REQUEST_TIMEOUT_S = 30.0


def _run(*args: object) -> None:
    code = trackside([str(a) for a in args])
    if code != 0:
        raise RuntimeError(f"trackside {' '.join(map(str, args[:2]))} failed (exit {code})")


def add_consenting_squad(data_dir: Path) -> None:
    """Two athletes who consent to recording, to the team's cloud and to training."""
    for name, hr_max, hr_rest in ATHLETES.values():
        _run("athletes", "add", name, "--hr-max", hr_max, "--hr-rest", hr_rest, "--data-dir", data_dir)
        _run("athletes", "consent", name, "--cloud", "yes", "--training", "yes", "--data-dir", data_dir)


def record(data_dir: Path, *, seed: int, duration_s: int, camera: str | None = None, feedback: bool = True) -> str:
    """One session of the simulated squad (`sim:2`, as fast as the machine runs unless a camera
    paces it), recorded by `trackside record --headless`; its id."""
    wearers = [a for channel, (name, _, _) in ATHLETES.items() for a in ("--athlete", f"{channel}={name}")]
    _run("record", "--headless", "--hr", f"sim:2?speed=inf&seed={seed}", "--duration", duration_s, *wearers,
         *(["--camera", camera] if camera else []), *([] if feedback else ["--no-feedback"]),
         "--data-dir", data_dir)
    with Store.open(data_dir) as store:
        return store.list_sessions()[0].id


def label(data_dir: Path, session_id: str, start_s: float, end_s: float, name: str) -> None:
    _run("sessions", "label", session_id, start_s, end_s, name, "--data-dir", data_dir)


def all_synced(data_dir: Path, session_ids: list[str]) -> bool:
    with Store.open(data_dir) as store:
        return all(store.synced_session(s) is not None for s in session_ids)


def device_token(data_dir: Path) -> str:
    with Store.open(data_dir) as store:
        return TokenStore(data_dir).load(store.sync_server().device_id)


def start_retrain(service_url: str, token: str, team: str = TEAM, kind: str = "hr", small: bool = True) -> dict:
    """POST /teams/{team}/retrain: the job as queued."""
    answer = requests.post(f"{service_url}{API_PREFIX}/teams/{team}/retrain", params={"kind": kind, "small": small},
                           headers={"Authorization": f"Bearer {token}"}, timeout=REQUEST_TIMEOUT_S)
    answer.raise_for_status()
    return answer.json()


def job(service_url: str, token: str, job_id: str) -> dict:
    answer = requests.get(f"{service_url}{API_PREFIX}/jobs/{job_id}", headers={"Authorization": f"Bearer {token}"},
                          timeout=REQUEST_TIMEOUT_S)
    answer.raise_for_status()
    return answer.json()


def forecast_versions(data_dir: Path, session_id: str) -> list[str]:
    """The heart-rate model version each forecast of the session came from."""
    with Store.open(data_dir) as store:
        return [e.model_version for e in store.feedback_events(session_id) if e.kind == "hr_forecast"]


def install_worse_field_model(cloud_dir: Path, team: str = TEAM) -> Path:
    """The team's model in the field made clearly worse (the bundled one with its biases pushed
    off), so a small job on a few simulated sessions beats it by the margin and is published."""
    from tests.training.jobs.conftest import BUNDLED_HR, perturbed_copy

    target = Path(cloud_dir) / "models" / team / "hr"
    target.parent.mkdir(parents=True, exist_ok=True)
    return perturbed_copy(BUNDLED_HR, target, bias_offset=30_000)


def root_installed(data_dir: Path, root_json: Path) -> bool:
    """`trackside sync trust-root FILE` with the team's root.json the administrator handed over."""
    from desktop.sync.model_updates import trusted_root_path

    _run("sync", "trust-root", root_json, "--data-dir", data_dir)
    return trusted_root_path(data_dir).read_bytes() == Path(root_json).read_bytes()


JOB_TIMEOUT_S = 600.0
INSTALL_TIMEOUT_S = 120.0
TRAINING_SESSIONS = 3  # sessions of the squad; the job holds one out (a seeded hash of its id)
TRAINING_SESSION_S = 900
CAMERA_SESSION_S = 25  # the synthetic camera runs in real time; forecasts start after ~15 s


@dataclass
class LoopRun:
    """What one turn of the loop did, as the coach and the administrator see it."""

    bundled_version: str  # the laptop's heart-rate model before
    synced: bool  # every recorded session confirmed by the cloud
    job: dict  # the job as GET /jobs/{id} answers once it finished
    installed_version: str  # the laptop's active heart-rate model after the update check
    forecast_versions: list[str]  # the model version of each forecast of the next recording
    seconds: dict[str, float] = field(default_factory=dict)  # each step's wall time

    @property
    def published_version(self) -> str | None:
        return (self.job.get("published") or {}).get("version")


def run_loop(work: Path, data_dir: Path) -> LoopRun:
    """Record -> label -> sync -> retrain -> gate -> publish -> install -> record again."""
    from desktop.feedback.models import model_store
    from desktop.sync.app_sync import AppSync
    from desktop.sync.engine import SyncEngine, enrol
    from tests.support.cloud import ServiceThread, settings_for
    from tests.support.waiting import wait_until
    from training.service.cli import main as cloud_main
    from training.service.learning import root_file

    steps = _Steps()
    add_consenting_squad(data_dir)
    sessions = [record(data_dir, seed=seed, duration_s=TRAINING_SESSION_S, feedback=False)
                for seed in range(1, TRAINING_SESSIONS + 1)]
    label(data_dir, sessions[0], 60, 120, "sprint")
    bundled = model_store(data_dir).active("heart_rate")[1].version
    steps.done("record")
    with ServiceThread(settings_for(Path(work) / "cloud")) as service:
        cloud_dir = service.settings.data_dir
        if cloud_main(["init", "--data-dir", str(cloud_dir)]) != 0:
            raise RuntimeError("trackside-cloud init failed")
        install_worse_field_model(cloud_dir)
        enrol(data_dir, service.url, service.enrol_code(TEAM), allow_http=True)
        root_installed(data_dir, root_file(cloud_dir))
        report = SyncEngine(data_dir).run_once()
        synced = bool(report.sent) and not report.failed and all_synced(data_dir, sessions)
        steps.done("sync")
        token = device_token(data_dir)
        job_id = start_retrain(service.url, token)["job_id"]
        service.app.state.jobs.wait(job_id, JOB_TIMEOUT_S)
        finished = job(service.url, token, job_id)
        steps.done("retrain_and_publish")
        wanted = (finished.get("published") or {}).get("version")
        sync = AppSync(data_dir).start()  # what the window starts: the sync and the update checks
        try:
            if wanted:
                wait_until(lambda: model_store(data_dir).active("heart_rate")[1].version == wanted,
                           INSTALL_TIMEOUT_S, "the laptop to install the published model")
        finally:
            sync.stop()
        steps.done("install")
    installed = model_store(data_dir).active("heart_rate")[1].version
    after = record(data_dir, seed=TRAINING_SESSIONS + 1, duration_s=CAMERA_SESSION_S, camera="synthetic")
    steps.done("record_again")
    return LoopRun(bundled, synced, finished, installed, forecast_versions(data_dir, after), steps.seconds)


class _Steps:
    def __init__(self) -> None:
        self._last = time.perf_counter()
        self.seconds: dict[str, float] = {}

    def done(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name], self._last = now - self._last, now
