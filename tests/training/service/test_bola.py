"""Nobody outside the team reads or changes its objects: every endpoint, team A's token, team B's objects."""

from __future__ import annotations

import uuid

from tests.support.bola import fake_sha256, populate, walk
from training.jobs.records import JobBook


def test_team_a_gets_403_or_404_on_every_endpoint_for_every_object_of_team_b(service, enrol_device, bundle):
    team_a, team_b = enrol_device("Lions"), enrol_device("Tigers")
    first_id, first, _ = bundle({"Ana": True, "Ben": True}, seed=1)
    second_id, second, _ = bundle({"Cai": True}, seed=2)
    victim = populate(team_b, team_b.token, team_b.device_id, [(first_id, first), (second_id, second)],
                      athlete_ref_to_erase=second.athlete_refs[0],
                      open_upload=(str(uuid.uuid4()), 1000, fake_sha256("open")))
    victim.team = "Tigers"
    victim.job_ids.append(JobBook(service.settings.data_dir / "jobs").new("Tigers", "hr").job_id)
    b_before = (team_b.session(first_id), team_b.upload_offset(victim.upload_ids[0]))

    checks = walk(service.app, service.url, team_a.token, victim)

    leaks = [c for c in checks if c.leaked]
    assert len(checks) >= 50 and not leaks, leaks
    assert (team_b.session(first_id), team_b.upload_offset(victim.upload_ids[0])) == b_before
    assert any(d["device_id"] == team_b.device_id and not d["revoked"] for d in team_b._request("GET", "/devices")
               .json())
