"""The learning loop's steps as a coach and a team's administrator take them, for the e2e test
and `bench.bench_loop`: record with the real `trackside` command, label, sync to a real service,
retrain through the service's API, and the laptop's update client installing what was published.
"""

from __future__ import annotations

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
