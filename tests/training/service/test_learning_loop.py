"""The service's half of the learning loop: its stored sessions as a job's data, the update
repository it creates and serves, and jobs started and read through the API.

Real service on loopback, real uploads from a real laptop store, a real TUF repository and the
laptop's real update client; the job runs in the real spawned worker.
"""

from __future__ import annotations

import dataclasses
import pickle
from datetime import datetime, timezone
import shutil
import subprocess
import sys
import uuid

import pytest
import requests

from cloud_client.protocol import API_PREFIX
from cloud_client.updates import INSTALLED, ModelUpdates, UpdateSource
from edge_models.manifest import load_manifest, save_manifest
from edge_models.model_store import BUNDLED_MODELS_DIR, ModelStore
from training.service.cli import main as cloud_main
from training.service.learning import ServiceSessionSource, root_file

JOB_WAIT_S = 120.0  # a spawned worker starting on a busy machine


@pytest.fixture
def database_url():
    """SQLite only: the queries here are the upload suite's, which runs on both databases."""
    return None


def _upload_with_a_training_refusal(enrol_device, tmp_path):
    """Ana consents to the cloud and to training; Ben to the cloud only. One labelled session."""
    from desktop.store import Store
    from desktop.sync.bundle import build_bundle
    from tests.support.cloud import record_session

    client = enrol_device("Lions")
    with Store.open(tmp_path / "laptop") as store:
        store.add_athlete("Ana", 190, 50, consent=True, consent_cloud=True, consent_training=True)
        store.add_athlete("Ben", 190, 50, consent=True, consent_cloud=True, consent_training=False)
        recorded = record_session(store, athletes={"Ana": True, "Ben": True})
        built = build_bundle(store, recorded.session_id)
    uploading_from = datetime.now(timezone.utc)  # after the recording began
    client.upload_bundle(recorded.session_id, built.path, built.sha256)
    client.put_labels(recorded.session_id, 1, [{"start_mono_s": 101.0, "end_mono_s": 105.0, "label": "sprint"}])
    return client, recorded, built, uploading_from


def test_a_job_reads_the_teams_stored_sessions_with_each_athletes_training_consent(service, enrol_device,
                                                                                    tmp_path):
    client, recorded, built, uploading_from = _upload_with_a_training_refusal(enrol_device, tmp_path)
    source = ServiceSessionSource(service.settings.database_url, service.settings.blob_dir)
    source = pickle.loads(pickle.dumps(source))  # it crosses into the job's worker process

    [session] = list(source.sessions("Lions"))

    assert session.session_id == recorded.session_id
    # "new since the last job" counts from when a session reached the cloud, not when it was recorded
    assert datetime.fromisoformat(session.uploaded_utc) >= uploading_from
    consent = {c.channel: c.athlete.training for c in session.channels}
    assert consent == {"sim-1": True, "sim-2": False}
    assert [(lb.label, lb.start_s, lb.end_s) for lb in session.labels] == [("sprint", 1.0, 5.0)]
    assert len(session.channels[0].hr_bpm) == 30 and session.channels[0].time_s[0] == 0.0
    client.request_deletion(str(uuid.uuid4()), built.athlete_refs[0])
    [after] = list(source.sessions("Lions"))
    assert len(after.channels) == 1  # an erased athlete is in no later training set
    with pytest.raises(LookupError):
        list(source.sessions("Tigers"))


def test_init_then_publish_serves_a_model_the_laptop_verifies_and_installs(service, tmp_path, capsys):
    where = ["--data-dir", str(service.settings.data_dir)]
    assert cloud_main(["init", *where]) == 0
    assert cloud_main(["init", *where]) == 3  # never over an existing repository
    bundle = tmp_path / "bundle"
    shutil.copytree(BUNDLED_MODELS_DIR / "heart_rate", bundle)
    manifest = load_manifest(bundle / "manifest.json")
    major, minor, _ = manifest.version.split(".")
    newer = f"{major}.{int(minor) + 1}.0"  # the bundled model re-versioned: newer than the laptop's
    save_manifest(dataclasses.replace(manifest, version=newer), bundle / "manifest.json")
    assert cloud_main(["publish", str(bundle), "--team", "Lions", *where]) == 0
    assert f"published heart_rate {newer}" in capsys.readouterr().out
    assert not (service.settings.data_dir / "updates-repo" / "root.key").exists()

    laptop = tmp_path / "laptop"
    store = ModelStore(laptop / "models", BUNDLED_MODELS_DIR)
    source = UpdateSource.from_root_file(service.url + "/updates/", root_file(service.settings.data_dir))
    record = ModelUpdates(store, source, laptop / "updates").check_for_update("heart_rate")

    assert record.status == INSTALLED and store.active("heart_rate")[1].version == newer


def test_a_team_starts_a_job_and_follows_it_through_the_api(service, enrol_device):
    client = enrol_device("Lions")
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {client.token}"
    started = http.post(f"{service.url}{API_PREFIX}/teams/Lions/retrain", params={"kind": "hr", "small": "true"})
    assert started.status_code == 202 and started.json()["state"] == "queued"
    job_id = started.json()["job_id"]
    refused = http.post(f"{service.url}{API_PREFIX}/teams/Lions/retrain", params={"kind": "sprint"})
    assert refused.status_code == 422 and "kind must be one of" in refused.json()["detail"]

    service.app.state.jobs.wait(job_id, JOB_WAIT_S)
    answer = http.get(f"{service.url}{API_PREFIX}/jobs/{job_id}").json()
    http.close()

    assert answer["state"] == "failed" and "no session with heart rate" in answer["error"]
    assert answer["log"][0].startswith("started in process") and answer["published"] is None


def test_the_service_process_runs_a_job_without_importing_tensorflow_or_opencv(tmp_path):
    script = (
        "import sys\n"
        "from training.service.core.config import load_settings\n"
        "from training.service.main import create_app\n"
        f"app = create_app(load_settings({str(tmp_path)!r}))\n"
        "job = app.state.jobs.start('Lions', 'hr', small=True)\n"
        f"print(app.state.jobs.wait(job.job_id, {JOB_WAIT_S}).state)\n"
        "app.state.jobs.close()\n"
        "print(sorted(m for m in ('tensorflow', 'keras', 'tf_keras', 'cv2') if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=JOB_WAIT_S)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-2:] == ["failed", "[]"]  # no team Lions: it failed, in the worker


def test_the_retrain_command_reads_the_services_uploads_and_says_why_a_job_failed(service, capsys):
    where = ["--data-dir", str(service.settings.data_dir)]
    assert cloud_main(["retrain", "Nobody", "--kind", "hr", "--small", *where]) == 3
    out, err = capsys.readouterr()
    assert "failed" in out and "Nobody" in err and "Traceback" not in err
    assert cloud_main(["jobs", *where]) == 0
    assert "Nobody  hr  failed" in capsys.readouterr().out


def test_enough_new_labelled_sessions_start_a_job_by_itself_and_none_before(tmp_path):
    """The service's policy: with `auto_retrain_after=2`, the first labelled session starts nothing,
    the second starts one small heart-rate job for that team."""
    import threading

    from cloud_client.client import CloudClient
    from desktop.store import Store
    from desktop.sync.bundle import build_bundle
    from tests.support.cloud import ServiceThread, record_session, settings_for
    from tests.support.waiting import wait_until
    from training.jobs.records import JobBook

    settings = settings_for(tmp_path / "cloud", None, auto_retrain_after=2, auto_retrain_small=True)
    with ServiceThread(settings) as service:
        with CloudClient(service.url, allow_http=True) as anonymous:
            enrolled = anonymous.enrol(service.enrol_code("Lions"), "laptop")
        book = JobBook(settings.data_dir / "jobs")
        with CloudClient(service.url, enrolled["token"], allow_http=True) as client, \
                Store.open(tmp_path / "laptop") as store:
            store.add_athlete("Ana", 190, 50, consent=True, consent_cloud=True, consent_training=True)
            for n in range(2):
                recorded = record_session(store, athletes={"Ana": True}, seed=n)
                built = build_bundle(store, recorded.session_id)
                client.upload_bundle(recorded.session_id, built.path, built.sha256)
                client.put_labels(recorded.session_id, 1, [{"start_mono_s": 101.0, "end_mono_s": 105.0,
                                                            "label": "sprint"}])
                if n == 0:  # the policy runs on threads of its own: let them decide, then look
                    wait_until(lambda: not any(t.name == "retrain-policy" for t in threading.enumerate()), 30,
                               "the policy to decide")
                    assert book.all() == []  # one new labelled session: not enough
            wait_until(lambda: len(book.all()) == 1, JOB_WAIT_S, "a job started by itself")
        (job,) = book.all()
        assert (job.team, job.kind) == ("Lions", "hr")
        service.app.state.jobs.wait(job.job_id, JOB_WAIT_S)  # nothing left running when the service stops
