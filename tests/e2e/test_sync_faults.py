"""Every session arrives exactly once, with its hash, through cut connections and a killed service."""

from __future__ import annotations

import pytest

from tests.support.cloud import ServiceProcess, ServiceThread, settings_for
from tests.support.sync_faults import SyncFaultRig


def test_connections_cut_at_random_offsets_lose_and_duplicate_nothing(tmp_path):
    with ServiceThread(settings_for(tmp_path / "cloud")) as service, \
            SyncFaultRig(tmp_path / "laptop", service, seed=1) as rig:
        rig.run_cuts(12)
        rig.finish()
        result = rig.count_damage()
    assert result.cuts >= 10
    assert (result.lost, result.duplicates) == (0, 0)


def test_answers_lost_after_the_server_acted_are_replayed_safely(tmp_path):
    """The service does each request, but its answer never reaches the laptop: every step is replayed."""
    with ServiceThread(settings_for(tmp_path / "cloud")) as service, \
            SyncFaultRig(tmp_path / "laptop", service, seed=2) as rig:
        rig.record(2)
        rig.proxy.cut_answers = True
        for _ in range(3):
            rig.engine().run_once()
        rig.proxy.cut_answers = False
        rig.finish()
        result = rig.count_damage()
    assert rig.proxy.cuts >= 3
    assert (result.lost, result.duplicates) == (0, 0)


@pytest.mark.slow
def test_the_service_killed_and_restarted_mid_upload_loses_and_duplicates_nothing(tmp_path):
    cloud = tmp_path / "cloud"
    service = ServiceProcess(cloud, extra_env={"TRACKSIDE_CLOUD_COMMIT_LEASE_S": "2"}).start()

    def kill_and_restart():
        service.kill()
        service.start()

    try:
        with SyncFaultRig(tmp_path / "laptop", service, seed=3) as rig:
            rig.run_cuts(6, kill=kill_and_restart, kill_every=2)
            rig.finish()
            result = rig.count_damage()
    finally:
        service.kill()
    assert result.kills >= 3 and result.cuts >= 6
    assert (result.lost, result.duplicates) == (0, 0)

