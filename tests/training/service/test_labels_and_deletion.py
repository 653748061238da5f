"""Labels after a sync as a versioned record; an athlete's deletion from the database, the blobs and training."""

from __future__ import annotations

import uuid

import pytest

from cloud_client.client import Refused
from training.service.dataset import open_video_part, read_athlete_part, training_parts
from training.service.models import Device

SPRINT = [{"start_mono_s": 101.0, "end_mono_s": 105.0, "label": "sprint", "channel": None}]
JOG = SPRINT + [{"start_mono_s": 110.0, "end_mono_s": 120.0, "label": "jog", "channel": "sim-1"}]


def test_labels_go_up_in_versions_and_a_replay_gets_the_same_answer(enrol_device, bundle):
    client = enrol_device()
    session_id, built, _ = bundle()
    client.upload_bundle(session_id, built.path, built.sha256)

    first = client.put_labels(session_id, 1, SPRINT)
    replay = client.put_labels(session_id, 1, SPRINT)
    with pytest.raises(Refused) as changed_same_version:
        client.put_labels(session_id, 1, JOG)
    second = client.put_labels(session_id, 2, JOG)
    with pytest.raises(Refused) as stale:
        client.put_labels(session_id, 1, SPRINT)

    assert replay == first and second["version"] == 2 and second["labels"] == JOG
    assert changed_same_version.value.status == 422 and stale.value.status == 409
    assert client._request("GET", f"/sessions/{session_id}/labels").json()["version"] == 2


def test_labels_of_a_session_not_in_the_cloud_are_404(enrol_device):
    with pytest.raises(Refused) as missing:
        enrol_device().put_labels(str(uuid.uuid4()), 1, SPRINT)
    assert missing.value.status == 404


def test_deleting_an_athlete_erases_their_parts_blobs_and_training_rows_and_is_confirmed_again(
        service, enrol_device, bundle):
    client = enrol_device()
    session_id, built, _ = bundle({"Ana": True, "Ben": True})
    client.upload_bundle(session_id, built.path, built.sha256)
    ana_ref, ben_ref = built.athlete_refs
    blobs = service.app.state.blobs
    keys_before = set(blobs.keys())
    request_id = str(uuid.uuid4())
    ana_jog = {"start_mono_s": 110.0, "end_mono_s": 120.0, "label": "jog", "channel": "sim-1"}  # Ana's channel
    client.put_labels(session_id, 1, SPRINT + [ana_jog])

    answer = client.request_deletion(request_id, ana_ref)
    replay = client.request_deletion(request_id, ana_ref)

    with service.app.state.make_db() as db:
        team_id = db.get(Device, client.device_id).team_id
        left = training_parts(db, team_id)
    assert answer == replay and answer["parts_erased"] == 1
    assert [p.athlete_ref for p in left] == [ben_ref]
    assert client.session(session_id)["athletes"] == [ben_ref]
    assert client._request("GET", f"/sessions/{session_id}/labels").json()["labels"] == SPRINT
    gone = keys_before - set(blobs.keys())
    assert len(gone) == 2  # Ana's part and the manifest that named her (rewritten without her)
    assert all(ana_ref.encode() not in blobs.open(k).read() for k in blobs.keys())


def test_a_training_set_reads_athletes_and_video_and_loses_an_erased_athletes_session_video(
        service, enrol_device, tmp_path):
    import random

    from desktop.store import Store
    from desktop.sync.bundle import build_bundle
    from tests.support.sync_faults import VIDEO_BYTES, record_with_video

    client = enrol_device()
    with Store.open(tmp_path / "laptop") as store:
        session_id = record_with_video(store, random.Random(5))
        built = build_bundle(store, session_id)
    client.upload_bundle(session_id, built.path, built.sha256)
    blobs = service.app.state.blobs
    with service.app.state.make_db() as db:
        team_id = db.get(Device, client.device_id).team_id
        athletes, videos = training_parts(db, team_id), training_parts(db, team_id, "video")
        samples = [len(read_athlete_part(blobs, p)["samples"]["hr_bpm"]) for p in athletes]
        with open_video_part(blobs, videos[0]) as video:
            video_bytes = len(video.read())

    client.request_deletion(str(uuid.uuid4()), built.athlete_refs[0])
    with service.app.state.make_db() as db:
        after = training_parts(db, team_id), training_parts(db, team_id, "video")

    assert samples == [600, 600] and video_bytes == VIDEO_BYTES
    assert len(after[0]) == 1 and after[1] == []  # the erased athlete was on the video: it goes too
