"""The update repository: keys, root, published models as signed targets, periodic re-signing.

Read back the way a laptop reads it: python-tuf's ngclient over a real loopback HTTP server.
"""

from __future__ import annotations

import stat
from datetime import datetime, timedelta, timezone

import pytest
import requests
from tuf.ngclient import Updater

from bench.update_attacks import UpdateLab
from edge_models.manifest import load_manifest
from training.publish.cli import EXIT_UNUSABLE, cli_init, cli_publish
from training.publish.keys import KeyFileError, online_key_path
from training.publish.repository import (
    METADATA_DIR, PublishError, init_repository, load_root, load_snapshot, load_targets, load_timestamp,
    publish_model, refresh_expiring, renew_root,
)
from training.publish.serve import RepositoryServer

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)


def at(moment: datetime):
    return lambda: moment


@pytest.fixture
def lab(tmp_path):
    with UpdateLab(tmp_path) as lab:
        yield lab


def test_init_keeps_the_root_key_apart_and_every_key_private(tmp_path):
    repo, keys, root_key = tmp_path / "repo", tmp_path / "keys", tmp_path / "offline" / "root.pem"
    init_repository(repo, keys, root_key, clock=at(T0))

    root = load_root(repo)
    root.verify_delegate("root", root)  # self-signed by the root key
    assert sorted(root.signed.roles) == ["root", "snapshot", "targets", "timestamp"]
    assert root.signed.expires == T0 + timedelta(days=365) and root.signed.consistent_snapshot
    assert not (keys / "root.pem").exists() and root_key.is_file()
    for path in (root_key, *(online_key_path(keys, r) for r in ("targets", "snapshot", "timestamp"))):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700
    assert load_timestamp(repo).signed.expires == T0 + timedelta(days=1)
    assert load_snapshot(repo).signed.expires == T0 + timedelta(days=7)
    assert load_targets(repo).signed.expires == T0 + timedelta(days=30)
    with pytest.raises(PublishError):
        init_repository(repo, keys, root_key)


def test_a_published_model_is_a_signed_target_with_its_kind_version_metrics_and_input(lab, tmp_path):
    bundle = lab.bundle("3.1.0")
    manifest = load_manifest(bundle / "manifest.json")
    published = lab.publish("3.1.0", bundle)

    updater = Updater(str(tmp_path / "client"), lab.server.url + "metadata/", str(tmp_path / "downloads"),
                      lab.server.url + "targets/", bootstrap=(lab.repo / METADATA_DIR / "root.json").read_bytes())
    info = updater.get_targetinfo(published.model_target)
    assert info.custom["kind"] == "heart_rate" and info.custom["version"] == "3.1.0"
    assert info.custom["input"]["shape"] == list(manifest.input.shape)
    assert float(info.custom["metrics"]["int8"]["mae30_bpm"]) == pytest.approx(manifest.metrics["int8"]["mae30_bpm"])
    assert updater.download_target(info) and info.length == manifest.tflite_size_bytes
    assert updater.get_targetinfo("models/heart_rate/latest.json").custom["versions"] == ["3.1.0"]
    assert load_timestamp(lab.repo).signed.version == 2 and load_targets(lab.repo).signed.version == 2


def test_a_version_is_published_once_and_only_newer_ones_follow(lab):
    lab.publish("3.1.0")
    with pytest.raises(PublishError, match="already published"):
        publish_model(lab.repo, lab.folder / "bundles" / "heart_rate-3.1.0", lab.keys)
    with pytest.raises(PublishError, match="not newer"):
        lab.publish("3.0.9")
    assert load_targets(lab.repo).signed.version == 2  # nothing changed


def test_refresh_re_signs_the_timestamp_and_renews_the_snapshot_before_it_expires(lab):
    lab.publish("3.1.0", clock=at(T0))
    snapshot_before, timestamp_before = load_snapshot(lab.repo).signed, load_timestamp(lab.repo).signed

    refresh_expiring(lab.repo, lab.keys, clock=at(T0 + timedelta(hours=20)))
    assert load_timestamp(lab.repo).signed.version == timestamp_before.version + 1
    assert load_timestamp(lab.repo).signed.expires == T0 + timedelta(hours=20, days=1)
    assert load_snapshot(lab.repo).signed.version == snapshot_before.version  # still far from expiry

    refresh_expiring(lab.repo, lab.keys, clock=at(T0 + timedelta(days=6)))
    assert load_snapshot(lab.repo).signed.version == snapshot_before.version + 1
    assert load_snapshot(lab.repo).signed.expires == T0 + timedelta(days=13)


def test_only_the_offline_root_key_renews_root_and_laptops_follow(lab):
    with pytest.raises(KeyFileError):
        renew_root(lab.repo, online_key_path(lab.keys, "targets"))
    assert renew_root(lab.repo, lab.root_key) == 2

    lab.publish("3.1.0")
    assert lab.check().status == "installed"  # the laptop shipped root v1 and walked to v2
    assert (lab.folder / "laptop" / "updates" / "tuf" / "root_history" / "2.root.json").is_file()


def test_the_commands_say_what_went_wrong_in_one_line(tmp_path, capsys):
    repo, keys, root_key = tmp_path / "repo", tmp_path / "keys", tmp_path / "root.pem"
    assert cli_init(repo, keys, root_key) == 0
    assert cli_publish(repo, keys, tmp_path / "no-such-bundle") == EXIT_UNUSABLE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a model bundle" in err and "Traceback" not in err


def test_the_server_serves_the_folder_on_loopback_only(tmp_path):
    (tmp_path / "hello.txt").write_text("hi")
    with RepositoryServer(tmp_path) as server:
        assert server.url.startswith("http://127.0.0.1:")
        assert requests.get(server.url + "hello.txt", timeout=5).text == "hi"
