"""The stored-bundle adapter gives the same records as the laptop store it was built from.

The bundle below is written in the upload format (desktop/sync/bundle.py on the sync branch:
manifest + one JSON part per athlete) from the real recorded store, by hand, because the
bundle builder lands with the sync work; the lead's merge replaces it with the real builder.
"""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from desktop.store import DB_NAME, Store
from training.jobs.bundles import record_from_bundle
from training.jobs.sessions import StoreSessionSource
from tests.training.jobs.conftest import TEAM


def _bundle(store: Store, session_id: str) -> tuple[dict, dict]:
    detail = store.session(session_id)
    athletes, parts = [], {}
    for c in detail.channels:
        name = f"athletes/{c.athlete_id}.json"
        samples = store.hr_samples(session_id, c.channel)
        athletes.append({"ref": str(c.athlete_id), "channel": c.channel, "part": name})
        parts[name] = {"channel": c.channel, "samples": {
            key: [getattr(s, key) for s in samples]
            for key in ("t_mono_s", "hr_bpm", "speed_mps", "power_w", "cadence_rpm")}}
    manifest = {"session": {"id": detail.id, "started_mono_s": detail.started_mono_s,
                            "started_wall_utc": detail.started_wall_utc.isoformat()},
                "athletes": athletes,
                "marks": [{"t_mono_s": detail.started_mono_s + 60, "kind": "work", "channel": None}],
                "labels": []}
    return manifest, parts


def test_a_stored_bundle_becomes_the_same_record_as_the_store_gives(team_store):
    from_store = {s.session_id: s for s in StoreSessionSource(team_store).sessions(TEAM)}
    conn = sqlite3.connect(f"file:{team_store / DB_NAME}?mode=ro", uri=True)  # leave the shared store as it is
    conn.row_factory = sqlite3.Row
    with Store(team_store, conn) as store:
        bundles = [_bundle(store, session_id) for session_id in from_store]
    for manifest, parts in bundles:
        record = record_from_bundle(manifest, parts, training_consent=lambda ref: ref == "1")
        expected = from_store[record.session_id]
        assert [c.channel for c in record.channels] == [c.channel for c in expected.channels]
        for got, want in zip(record.channels, expected.channels):
            np.testing.assert_allclose(got.time_s, want.time_s)
            np.testing.assert_array_equal(got.hr_bpm, want.hr_bpm)
            assert got.athlete == want.athlete  # Ana ("1") consented, Ben did not
        # started_mono_s is the real clock's: (start + 60) - start is 60 only to within rounding
        assert record.marks[0].t_s == pytest.approx(60.0, abs=1e-6) and record.marks[0].kind == "work"
