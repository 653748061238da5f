"""A session's bundle: the same content gives the same bytes; only what consent allows goes in it."""

from __future__ import annotations

import json
import stat
import zipfile

from desktop.store import Store
from desktop.sync.bundle import build_bundle
from tests.support.sync_faults import record_with_video


def _manifest(path):
    with zipfile.ZipFile(path) as bundle:
        return json.loads(bundle.read("session.json")), sorted(bundle.namelist())


def test_the_same_session_gives_the_same_bytes_in_a_user_only_file(data_dir):
    import random

    with Store.open(data_dir) as store:
        session_id = record_with_video(store, random.Random(0))
        first = build_bundle(store, session_id)
        first_bytes = first.path.read_bytes()
        second = build_bundle(store, session_id)
    assert second.sha256 == first.sha256 and second.path.read_bytes() == first_bytes
    assert stat.S_IMODE(first.path.stat().st_mode) == 0o600
    manifest, names = _manifest(first.path)
    assert len(manifest["athletes"]) == 2 and len(manifest["video"]) == 1
    assert any(n.startswith("video/") for n in names)


def test_an_athlete_without_consent_is_left_out_and_so_is_the_video(data_dir):
    import random

    with Store.open(data_dir) as store:
        session_id = record_with_video(store, random.Random(0))
        ben = store.athlete_by_name("Ben")
        store.set_consent(ben.id, cloud=False)
        built = build_bundle(store, session_id)
        ana_ref = store.athlete_ref(store.athlete_by_name("Ana").id)
    manifest, names = _manifest(built.path)
    assert [a["display_name"] for a in manifest["athletes"]] == ["Ana"]
    assert built.athlete_refs == (ana_ref,)
    assert manifest["video"] == [] and not any(n.startswith("video/") for n in names)
    assert "Ben" not in built.path.read_bytes().decode("latin-1")
