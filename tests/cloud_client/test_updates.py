"""Signed model updates on the laptop, against a real TUF repository on a real loopback server.

The models are the bundled ones, copied and re-versioned; LiteRT loads and runs them. Each attack
and each bad model comes from bench.update_attacks, which the soak plays too.
"""

from __future__ import annotations

import dataclasses
import math
from types import SimpleNamespace

import pytest

from bench.update_attacks import (
    ATTACKS, BAD_MODELS, BASELINE, KIND, NEXT, UpdateLab, days_ago, non_finite_live_model, play_attack,
    play_bad_model, run_live,
)
from cloud_client.tuf_fetcher import InsecureUrlError
from cloud_client.updates import (
    INSTALLED, OFFLINE, PINNED, REFUSED, ROLLED_BACK, UP_TO_DATE, ModelUpdates, PeriodicChecks, UpdateSource,
    UpdateState,
)
from desktop.feedback.hr_worker import HeartRateFeedbackWorker
from edge_models.manifest import load_manifest, save_manifest
from edge_models.model_store import BUNDLED_MODELS_DIR, LiveModelCheck
from edge_models.movement_live import LiveMovementClassifier
from tests.desktop.feedback.test_hr_worker import Collector, simulated_session
from tests.edge_models.test_movement_live import _up_down
from tests.support.waiting import wait_until
from training.publish.repository import METADATA_DIR, init_repository, publish_model
from training.publish.serve import RepositoryServer

BUNDLED_HR_VERSION = load_manifest(BUNDLED_MODELS_DIR / "heart_rate" / "manifest.json").version
WAIT_S = 60.0


@pytest.fixture
def lab(tmp_path):
    with UpdateLab(tmp_path) as lab:
        yield lab


def test_a_published_update_installs_and_becomes_active(lab):
    assert lab.active_version() == BUNDLED_HR_VERSION  # the bundled model until an update arrives
    lab.publish(BASELINE)

    record = lab.check()

    assert record.status == INSTALLED and record.active_version == BASELINE
    assert [h["status"] for h in record.history] == ["available", "installing", "installed"]
    assert lab.active_version() == BASELINE and lab.active_model_runs()
    again = lab.check()
    assert again.status == UP_TO_DATE and lab.active_version() == BASELINE
    saved = UpdateState(lab.folder / "laptop" / "updates" / "state.json").get(KIND)
    assert saved.status == UP_TO_DATE and saved.active_version == BASELINE


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.name for a in ATTACKS])
def test_an_attack_is_refused_and_the_old_model_stays_active(lab, attack):
    record = play_attack(lab, attack)

    assert record.status == REFUSED, record
    assert attack.expect in record.reason
    assert lab.active_version() == BASELINE and lab.active_model_runs()


@pytest.mark.parametrize("bad", BAD_MODELS, ids=[b.name for b in BAD_MODELS])
def test_a_bad_signed_model_is_rolled_back_by_itself_with_its_reason(lab, bad):
    record = play_bad_model(lab, bad)

    assert record.status == ROLLED_BACK, record
    assert bad.expect in record.reason and record.rejected[NEXT] == record.reason
    assert lab.active_version() == BASELINE and lab.active_model_runs()
    again = lab.check()  # the rejected version is never tried again
    assert again.status == ROLLED_BACK and lab.active_version() == BASELINE


def test_a_first_update_failing_live_goes_back_to_the_bundled_model(lab):
    lab.publish(NEXT, non_finite_live_model(lab))
    assert lab.check().status == INSTALLED and lab.active_version() == NEXT

    check = run_live(lab)

    assert "non-finite" in check.failure
    assert lab.active_version() == BUNDLED_HR_VERSION and lab.active_model_runs()
    assert lab.updates.state.get(KIND).status == ROLLED_BACK


def test_a_pinned_version_stays_while_newer_ones_are_published(lab):
    lab.install_baseline()
    lab.updates.pin(KIND)
    lab.publish(NEXT)

    record = lab.check()
    assert record.status == PINNED and record.available_version == NEXT
    assert lab.active_version() == BASELINE

    lab.updates.unpin(KIND)
    assert lab.check().status == INSTALLED and lab.active_version() == NEXT


def test_the_coach_may_pin_an_older_published_version(lab):
    lab.install_baseline()
    lab.publish(NEXT)
    assert lab.check().status == INSTALLED and lab.active_version() == NEXT

    lab.updates.pin(KIND, BASELINE)
    assert lab.check().status == INSTALLED and lab.active_version() == BASELINE


def test_thirty_days_without_network_keep_the_installed_model_and_stop_new_installs(lab, tmp_path):
    lab.install_baseline()
    lab.server.close()  # the network is gone

    offline = lab.check()
    assert offline.status == OFFLINE and lab.active_version() == BASELINE and lab.active_model_runs()

    # 31 days later the server answers with what it last signed: a new model, all metadata expired
    lab.publish(NEXT, clock=days_ago(31))
    with RepositoryServer(lab.repo) as server:
        source = UpdateSource.from_root_file(server.url, lab.repo / METADATA_DIR / "root.json")
        laptop = ModelUpdates(lab.store, source, lab.folder / "laptop" / "updates")
        record = laptop.check_for_update(KIND)
    assert record.status == REFUSED and "expired" in record.reason
    assert lab.active_version() == BASELINE and lab.active_model_runs()


def test_a_laptop_trusts_only_the_root_it_shipped_with(lab, tmp_path):
    lab.publish(BASELINE)
    other_root = init_repository(tmp_path / "other", tmp_path / "other-keys", tmp_path / "other-root.pem")
    stranger = ModelUpdates(lab.store, UpdateSource.from_root_file(lab.server.url, other_root),
                            tmp_path / "stranger-updates")

    record = stranger.check_for_update(KIND)

    assert record.status == REFUSED and "not signed by the update keys" in record.reason
    assert lab.active_version() == BUNDLED_HR_VERSION


@pytest.mark.parametrize("url", ["http://192.0.2.10/updates/", "ftp://127.0.0.1/", "http://example.com/"])
def test_plain_http_is_refused_except_to_this_machine(lab, tmp_path, url):
    with pytest.raises(InsecureUrlError):
        ModelUpdates(lab.store, UpdateSource(url, b"{}"), tmp_path / "updates")


def test_the_heart_rate_worker_goes_back_to_the_old_model_when_the_new_one_fails_live(lab):
    lab.install_baseline()
    lab.publish(NEXT, non_finite_live_model(lab))
    assert lab.check().status == INSTALLED and lab.active_version() == NEXT  # it passed its smoke test
    path, manifest = lab.store.active(KIND)
    sink = Collector()
    check = LiveModelCheck(KIND, manifest.version, lab.updates.report_live_failure)
    worker = HeartRateFeedbackWorker(sink, path, manifest, live_check=check)
    worker.start()
    try:
        for event in simulated_session(199):
            worker.on_event(event)
        wait_until(lambda: any(f.model_version == BASELINE for f in sink.of("hr_forecast")), WAIT_S,
                   "forecasts from the model before")
    finally:
        worker.stop()

    assert check.failure is not None and "non-finite" in check.failure
    assert lab.active_version() == BASELINE
    assert lab.updates.state.get(KIND).status == ROLLED_BACK
    shown = [v for f in sink.of("hr_forecast") for k, v in f.payload.items() if k.endswith("_bpm")]
    assert shown and all(math.isfinite(v) for v in shown if v is not None)


def test_a_live_failure_with_nothing_to_go_back_to_keeps_the_model_and_says_why(lab):
    assert lab.updates.report_live_failure(KIND, BUNDLED_HR_VERSION, "NaN in the first forecast") is None
    assert lab.active_version() == BUNDLED_HR_VERSION
    assert "NaN in the first forecast" in lab.updates.state.get(KIND).reason


def test_a_live_failure_of_a_model_no_longer_active_changes_nothing(lab):
    lab.install_baseline()
    assert lab.updates.report_live_failure(KIND, BUNDLED_HR_VERSION, "late report") is None
    assert lab.active_version() == BASELINE


def test_periodic_checks_install_on_demand_and_stop_cleanly(lab):
    checks = PeriodicChecks(lab.updates, (KIND,), period_s=3600.0).start()
    try:
        wait_until(lambda: checks.rounds >= 1, WAIT_S, "the first round of checks")
        assert lab.active_version() == BUNDLED_HR_VERSION  # nothing published yet
        lab.publish(BASELINE)
        checks.check_now()  # the coach's "check for updates"
        wait_until(lambda: lab.active_version() == BASELINE, WAIT_S, "the update installed on demand")
    finally:
        checks.stop()


def test_the_movement_classifier_goes_back_to_the_old_model_when_the_new_one_errs_live(lab):
    """A signed 'movement' model that is really the heart-rate network: it passes its own smoke
    test, then every live window fails to fit it."""
    bundled = load_manifest(BUNDLED_MODELS_DIR / "movement" / "manifest.json")
    bundle = lab.bundle("1.9.0", kind="heart_rate")
    wrong = dataclasses.replace(load_manifest(bundle / "manifest.json"), kind="movement", name="movement",
                                labels=bundled.labels)
    save_manifest(wrong, bundle / "manifest.json")
    publish_model(lab.repo, bundle, lab.keys)
    assert lab.check("movement").status == INSTALLED and lab.active_version("movement") == "1.9.0"

    check = LiveModelCheck("movement", "1.9.0", lab.updates.report_live_failure)
    with LiveMovementClassifier(*lab.store.active("movement"), live_check=check) as classifier:
        t_s, poses = _up_down(-1.0)
        results = [r for t, p in zip(t_s, poses) if (r := classifier.update(SimpleNamespace(landmarks=p), float(t)))]

    assert "a live run failed" in check.failure
    assert classifier.model_version == bundled.version and results  # feedback went on, from the old model
    assert lab.active_version("movement") == bundled.version
    record = lab.updates.state.get("movement")
    assert record.status == ROLLED_BACK and "1.9.0" in record.rejected
