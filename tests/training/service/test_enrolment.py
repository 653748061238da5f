"""Teams, one-time codes, device tokens kept only as hashes, revocation; and the admin command."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import select

from cloud_client.client import CloudClient, NotEnrolled
from training.service.models import Device, EnrolCode


def test_a_code_enrols_one_device_only(service):
    code = service.enrol_code("Lions")
    with CloudClient(service.url, allow_http=True) as anonymous:
        first = anonymous.enrol(code, "field laptop")
        with pytest.raises(NotEnrolled):
            anonymous.enrol(code, "second laptop")
        with pytest.raises(NotEnrolled):
            anonymous.enrol("AAAA-BBBB-CCCC-DDDD", "guessing laptop")
    assert first["team"] == "Lions" and len(first["token"]) >= 40


def test_the_service_keeps_only_hashes_of_tokens_and_codes(service):
    code = service.enrol_code("Lions")
    with CloudClient(service.url, allow_http=True) as anonymous:
        token = anonymous.enrol(code, "field laptop")["token"]
    with service.app.state.make_db() as db:
        stored = [d.token_hash for d in db.scalars(select(Device))] + [c.code_hash for c in db.scalars(select(EnrolCode))]
    assert token not in stored and code not in stored and code.replace("-", "") not in stored
    assert all(len(value) == 64 for value in stored)


def test_a_revoked_device_is_refused_and_others_of_the_team_go_on(enrol_device):
    lost, kept = enrol_device("Lions"), enrol_device("Lions")
    kept._request("DELETE", f"/devices/{lost.device_id}")
    with pytest.raises(NotEnrolled):
        lost.sessions()
    assert kept.sessions() == []


def test_an_expired_code_is_refused(service):
    from datetime import timedelta

    code = service.enrol_code("Lions")
    with service.app.state.make_db.begin() as db:
        for row in db.scalars(select(EnrolCode)):
            row.expires_utc = row.expires_utc - timedelta(days=2)
    with CloudClient(service.url, allow_http=True) as anonymous, pytest.raises(NotEnrolled):
        anonymous.enrol(code, "late laptop")


def _cloud(*args, data_dir):
    return subprocess.run([sys.executable, "-m", "training.service.cli", *args, "--data-dir", str(data_dir)],
                          capture_output=True, text=True, timeout=60)


def test_the_admin_command_creates_a_team_hands_out_a_code_and_revokes(tmp_path):
    made = _cloud("teams", "create", "Lions", data_dir=tmp_path)
    again = _cloud("teams", "create", "Lions", data_dir=tmp_path)
    code = _cloud("enrol-code", "Lions", data_dir=tmp_path)
    unknown = _cloud("enrol-code", "Nobody", data_dir=tmp_path)
    assert made.returncode == 0 and "Lions" in made.stdout
    assert again.returncode == 3 and "already exists" in again.stderr and "Traceback" not in again.stderr
    assert code.returncode == 0 and len(code.stdout.strip()) == 19
    assert unknown.returncode == 3 and "no team" in unknown.stderr and "Traceback" not in unknown.stderr


def test_the_admin_command_lists_and_revokes_a_device(service, tmp_path):
    code = service.enrol_code("Lions")
    with CloudClient(service.url, allow_http=True) as anonymous:
        device_id = anonymous.enrol(code, "field laptop")["device_id"]
    data_dir = service.settings.data_dir
    url = ["--database-url", service.settings.database_url]
    listed = _cloud("devices", "list", "Lions", *url, data_dir=data_dir)
    revoked = _cloud("devices", "revoke", device_id, *url, data_dir=data_dir)
    listed_after = _cloud("devices", "list", "Lions", *url, data_dir=data_dir)
    assert device_id in listed.stdout and "active" in listed.stdout
    assert revoked.returncode == 0 and "revoked" in listed_after.stdout
