"""Store fixtures: an open store on a fresh data directory, and a session to write into."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from desktop.store import Store

SESSION_START_MONO_S = 1000.0  # an arbitrary monotonic start, far from zero like a real one


@pytest.fixture
def store(data_dir):
    with Store.open(data_dir) as opened:
        yield opened


@pytest.fixture
def session_id(store):
    return store.create_session(started_wall_utc=datetime(2025, 5, 3, 9, 30, tzinfo=timezone.utc),
                                started_mono_s=SESSION_START_MONO_S, hr_specs=["sim:2"], camera_spec=None)
