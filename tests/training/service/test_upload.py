"""The upload as the tus protocol has it, and the commit as the Idempotency-Key draft has it, on both databases."""

from __future__ import annotations

import io
import json
import uuid
import zipfile

import pytest
import requests

from cloud_client.client import BundleRefused, Refused, SessionConflict, file_sha256
from cloud_client.protocol import HEADER_OFFSET, STATUS_CHECKSUM_MISMATCH
from training.service.models import CloudSession


def test_chunks_resume_from_the_servers_offset_and_the_commit_names_the_hash(enrol_device, bundle):
    client = enrol_device()
    session_id, built, _ = bundle()
    payload = built.path.read_bytes()
    upload_id = client.create_upload(session_id, len(payload), built.sha256)["upload_id"]
    half = len(payload) // 2

    assert client.upload_offset(upload_id) == 0
    assert client.send_chunk(upload_id, 0, payload[:half]) == half
    with pytest.raises(Refused) as stale:
        client.send_chunk(upload_id, 0, payload[:half])  # a replayed chunk: the server is past it
    assert client.create_upload(session_id, len(payload), built.sha256)["upload_id"] == upload_id  # replayed create
    answer = client.upload_bundle(session_id, built.path, built.sha256)  # resumes at the server's offset

    assert stale.value.status == 409 and stale.value.headers[HEADER_OFFSET] == str(half)
    assert answer["sha256"] == built.sha256 and answer["athletes"] == 2
    assert client.commit(session_id, upload_id, built.sha256) == answer  # replayed commit: the same answer
    assert client.create_upload(session_id, len(payload), built.sha256)["committed"] == answer
    assert [s["session_id"] for s in client.sessions()] == [session_id]


def test_a_chunk_with_a_wrong_checksum_is_refused_without_moving_the_offset(enrol_device, bundle, service):
    client = enrol_device()
    session_id, built, _ = bundle()
    payload = built.path.read_bytes()
    upload_id = client.create_upload(session_id, len(payload), built.sha256)["upload_id"]
    client.send_chunk(upload_id, 0, payload[:100])

    other = requests.patch(  # the checksum of other bytes than those sent
        f"{service.url}/v1/uploads/{upload_id}", data=payload[100:200], timeout=10,
        headers={"Authorization": f"Bearer {client.token}", HEADER_OFFSET: "100",
                 "Upload-Checksum": "sha256 " + "A" * 43 + "=", "Content-Type": "application/offset+octet-stream"})

    assert other.status_code == STATUS_CHECKSUM_MISMATCH
    assert client.upload_offset(upload_id) == 100


def test_the_size_cap_is_413_and_a_chunk_past_the_length_too(enrol_device, bundle, service):
    client = enrol_device()
    session_id, built, _ = bundle()
    with pytest.raises(BundleRefused) as too_big:
        client.create_upload(session_id, service.settings.max_upload_bytes + 1, built.sha256)
    upload_id = client.create_upload(session_id, 10, built.sha256)["upload_id"]
    with pytest.raises(Refused) as past_end:
        client.send_chunk(upload_id, 0, b"x" * 11)
    assert too_big.value.status == 413 and past_end.value.status == 413


def test_the_same_session_with_another_hash_is_422(enrol_device, bundle):
    client = enrol_device()
    session_id, built, store = bundle()
    client.upload_bundle(session_id, built.path, built.sha256)
    store.add_label(session_id, start_mono_s=101, end_mono_s=105, label="sprint")
    from desktop.sync.bundle import build_bundle

    changed = build_bundle(store, session_id)
    with pytest.raises(SessionConflict) as conflict:
        client.upload_bundle(session_id, changed.path, changed.sha256)
    assert changed.sha256 != built.sha256 and conflict.value.status == 422
    assert client.session(session_id)["sha256"] == built.sha256  # the first content stays


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return out.getvalue()


def _send_raw(client, session_id: str, payload: bytes) -> dict:
    import hashlib

    sha256 = hashlib.sha256(payload).hexdigest()
    upload_id = client.create_upload(session_id, len(payload), sha256)["upload_id"]
    client.send_chunk(upload_id, 0, payload)
    return client.commit(session_id, upload_id, sha256)


@pytest.mark.parametrize("payload", [
    b"not a zip at all",
    _zip({"session.json": b"{not json"}),
    _zip({"session.json": json.dumps({"format": "trackside-session-bundle", "format_version": 1}).encode()}),
    _zip({"other.txt": b"hello"}),
], ids=["not-zip", "bad-json", "missing-fields", "no-manifest"])
def test_a_malformed_bundle_is_422_and_a_good_one_may_follow(enrol_device, bundle, payload):
    client = enrol_device()
    session_id, built, _ = bundle()
    with pytest.raises(BundleRefused) as refused:
        _send_raw(client, session_id, payload)
    answer = client.upload_bundle(session_id, built.path, built.sha256)
    assert refused.value.status == 422 and answer["sha256"] == built.sha256


def test_a_bundle_of_another_session_is_422(enrol_device, bundle):
    client = enrol_device()
    _, built, _ = bundle()
    with pytest.raises(BundleRefused):
        client.upload_bundle(str(uuid.uuid4()), built.path, built.sha256)


def test_a_commit_in_progress_is_409_until_its_lease_runs_out(enrol_device, bundle, service):
    client = enrol_device()
    session_id, built, _ = bundle()
    payload = built.path.read_bytes()
    upload_id = client.create_upload(session_id, len(payload), built.sha256)["upload_id"]
    client.send_chunk(upload_id, 0, payload)
    claim = _claim_as_another_process(service, client, session_id, built.sha256, lease_s=3600)

    with pytest.raises(Refused) as running:
        client.commit(session_id, upload_id, built.sha256)
    _expire(service, claim)
    answer = client.commit(session_id, upload_id, built.sha256)

    assert running.value.status == 409 and running.value.code == "commit_in_progress"
    assert answer["sha256"] == built.sha256


def _claim_as_another_process(service, client, session_id, sha256, lease_s) -> int:
    """What a commit that is running in another service process has written: its claim."""
    from datetime import timedelta

    from training.service.crud import utc_now
    from training.service.models import Device

    with service.app.state.make_db.begin() as db:
        device = db.get(Device, client.device_id)
        row = CloudSession(team_id=device.team_id, session_id=session_id, sha256=sha256, state="committing",
                           device_id=device.id, lease_utc=utc_now() + timedelta(seconds=lease_s))
        db.add(row)
        db.flush()
        return row.id


def _expire(service, claim_id: int) -> None:
    from datetime import timedelta

    from training.service.crud import utc_now

    with service.app.state.make_db.begin() as db:
        db.get(CloudSession, claim_id).lease_utc = utc_now() - timedelta(seconds=1)


def test_file_hash_helper_matches_the_bundle_name(bundle):
    _, built, _ = bundle()
    assert file_sha256(built.path) == built.sha256 and built.sha256[:16] in built.path.name


def test_a_request_without_a_token_is_401(service):
    assert requests.get(service.url + "/v1/sessions", timeout=5).status_code == 401


def test_bytes_lost_on_the_server_are_found_at_commit_and_sent_again(enrol_device, bundle, service):
    """As after a power cut: the offset says the bytes are there, the file says otherwise."""
    client = enrol_device()
    session_id, built, _ = bundle()
    payload = built.path.read_bytes()
    upload_id = client.create_upload(session_id, len(payload), built.sha256)["upload_id"]
    client.send_chunk(upload_id, 0, payload)
    upload_path = service.settings.upload_dir / upload_id
    upload_path.write_bytes(b"\0" * len(payload))  # what the disk kept
    service.app.state.hashes.forget(upload_id)  # a restarted process remembers no running hash

    with pytest.raises(Refused) as corrupt:
        client.commit(session_id, upload_id, built.sha256)
    answer = client.upload_bundle(session_id, built.path, built.sha256)

    assert corrupt.value.status == 422 and corrupt.value.code == "upload_corrupt"
    assert not isinstance(corrupt.value, BundleRefused)  # the laptop sends it again, it is not refused
    assert answer["sha256"] == built.sha256


def test_uploads_nobody_finishes_expire_with_their_files(enrol_device, bundle, service):
    import time

    from training.service.uploads import UPLOAD_EXPIRY_S, expire_uploads

    client = enrol_device()
    session_id, built, _ = bundle()
    upload_id = client.create_upload(session_id, built.size_bytes, built.sha256)["upload_id"]
    client.send_chunk(upload_id, 0, built.path.read_bytes()[:100])
    with service.app.state.make_db.begin() as db:
        kept = expire_uploads(db, service.settings)
    with service.app.state.make_db.begin() as db:
        dropped = expire_uploads(db, service.settings, now_s=time.time() + UPLOAD_EXPIRY_S + 1)
    assert (kept, dropped) == (0, 1)
    assert not (service.settings.upload_dir / upload_id).exists()
    with pytest.raises(Refused) as gone:
        client.upload_offset(upload_id)
    assert gone.value.status == 404
