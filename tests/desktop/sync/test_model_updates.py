"""The laptop's model updates from its team's cloud: the root of trust it holds, the window's
checks once enrolled, and nothing without a root (never trust on first use).

A real service on loopback with its real update repository (`trackside-cloud init`/`publish`),
a real enrolment, the real update client installing a real .tflite model.
"""

from __future__ import annotations

import dataclasses
import shutil
import stat

import pytest

from desktop.cli import main as trackside_main
from desktop.feedback.models import model_store
from desktop.sync.app_sync import AppSync
from desktop.sync.engine import enrol
from desktop.sync.model_updates import trusted_root_path, updates_for
from edge_models.manifest import load_manifest, save_manifest
from edge_models.model_store import BUNDLED_MODELS_DIR
from tests.support.cloud import ServiceThread, settings_for
from tests.support.waiting import wait_until
from training.service.cli import main as cloud_main
from training.service.learning import root_file

WAIT_S = 60.0


@pytest.fixture
def cloud(tmp_path):
    """The team's service with an update repository holding a heart-rate model newer than the bundled one."""
    with ServiceThread(settings_for(tmp_path / "cloud")) as service:
        where = ["--data-dir", str(service.settings.data_dir)]
        assert cloud_main(["init", *where]) == 0
        bundle = tmp_path / "bundle"
        shutil.copytree(BUNDLED_MODELS_DIR / "heart_rate", bundle)
        manifest = load_manifest(bundle / "manifest.json")
        major, minor, _ = manifest.version.split(".")
        service.newer = f"{major}.{int(minor) + 1}.0"
        save_manifest(dataclasses.replace(manifest, version=service.newer), bundle / "manifest.json")
        assert cloud_main(["publish", str(bundle), *where]) == 0
        yield service


def _enrolled(data_dir, cloud) -> None:
    enrol(data_dir, cloud.url, cloud.enrol_code("Lions"), allow_http=True, device_name="test laptop")


def test_an_enrolled_laptop_with_the_teams_root_installs_the_published_model(cloud, data_dir, capsys):
    _enrolled(data_dir, cloud)
    assert trackside_main(["sync", "trust-root", str(root_file(cloud.settings.data_dir)),
                           "--data-dir", str(data_dir)]) == 0
    assert "now checked against" in capsys.readouterr().out
    assert stat.S_IMODE(trusted_root_path(data_dir).stat().st_mode) == 0o600

    sync = AppSync(data_dir).start()
    try:
        wait_until(lambda: model_store(data_dir).active("heart_rate")[1].version == cloud.newer, WAIT_S,
                   "the published model to be installed")
        assert sync.check_updates_now()
    finally:
        sync.stop()


def test_without_the_teams_root_no_update_is_looked_for(cloud, data_dir):
    _enrolled(data_dir, cloud)
    assert updates_for(data_dir) is None
    sync = AppSync(data_dir).start()
    wait_until(lambda: sync.ready, WAIT_S, "the sync to start")
    assert not sync.check_updates_now()
    sync.stop()
    assert model_store(data_dir).active("heart_rate")[1].version != cloud.newer


def test_a_file_that_is_not_a_signed_root_is_refused_in_words(tmp_path, data_dir, capsys):
    forged = tmp_path / "root.json"
    forged.write_text('{"signed": {"_type": "root"}, "signatures": []}')
    assert trackside_main(["sync", "trust-root", str(forged), "--data-dir", str(data_dir)]) != 0
    assert trackside_main(["sync", "trust-root", str(tmp_path / "none.json"), "--data-dir", str(data_dir)]) != 0
    err = capsys.readouterr().err
    assert "is not a signed update root" in err and "cannot read" in err and "Traceback" not in err
    assert not trusted_root_path(data_dir).exists()
