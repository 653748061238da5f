"""The learning loop end to end: record -> label -> sync -> retrain -> double gate -> publish ->
the laptop installs it -> the next recording's forecasts come from the new model.

Everything real: the `trackside` command with simulated straps and the synthetic camera, the
laptop store, the sync over loopback to the real service, the job in the service's spawned
worker (a small heart-rate job on CPU), the TUF repository the service serves and the laptop's
update client started by the window's sync. The field model is made clearly worse first, so the
gate's verdict is known: the new model must beat it by the margin.
"""

from __future__ import annotations

import pytest

from desktop.feedback.models import model_store, update_state
from desktop.sync.app_sync import AppSync
from desktop.sync.engine import SyncEngine, enrol
from tests.support import learning_loop as loop
from tests.support.cloud import ServiceThread, settings_for
from tests.support.waiting import wait_until
from training.service.cli import main as cloud_main
from training.service.learning import root_file

pytestmark = pytest.mark.slow  # trains a small model
JOB_TIMEOUT_S = 600.0
INSTALL_TIMEOUT_S = 120.0


def test_a_labelled_synced_session_retrains_and_the_next_recording_uses_the_new_model(tmp_path, data_dir):
    loop.add_consenting_squad(data_dir)
    sessions = [loop.record(data_dir, seed=seed, duration_s=900, feedback=False) for seed in (1, 2, 3)]
    loop.label(data_dir, sessions[0], 60, 120, "sprint")
    bundled = model_store(data_dir).active("heart_rate")[1].version

    with ServiceThread(settings_for(tmp_path / "cloud")) as service:
        cloud_dir = service.settings.data_dir
        assert cloud_main(["init", "--data-dir", str(cloud_dir)]) == 0
        loop.install_worse_field_model(cloud_dir)
        enrol(data_dir, service.url, service.enrol_code(loop.TEAM), allow_http=True)
        assert loop.root_installed(data_dir, root_file(cloud_dir))
        report = SyncEngine(data_dir).run_once()
        assert report.sent and not report.failed and loop.all_synced(data_dir, sessions)

        token = loop.device_token(data_dir)
        job_id = loop.start_retrain(service.url, token)["job_id"]
        service.app.state.jobs.wait(job_id, JOB_TIMEOUT_S)
        finished = loop.job(service.url, token, job_id)
        assert finished["state"] == "succeeded", finished
        published = finished["published"]["version"]
        assert published != bundled and finished["published"]["kind"] == "heart_rate"

        sync = AppSync(data_dir).start()  # what the window starts: the sync and the update checks
        try:
            wait_until(lambda: model_store(data_dir).active("heart_rate")[1].version == published,
                       INSTALL_TIMEOUT_S, "the laptop to install the published model")
        finally:
            sync.stop()
    assert update_state(data_dir).get("heart_rate").active_version == published

    after = loop.record(data_dir, seed=4, duration_s=25, camera="synthetic")
    versions = loop.forecast_versions(data_dir, after)
    assert versions and set(versions) == {published}
