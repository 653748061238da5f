"""The team's sessions read from a real laptop store: consent, the held-out split, coach marks."""

from __future__ import annotations

import hashlib

import numpy as np

from desktop.store import DB_NAME
from training.jobs.sessions import StoreSessionSource, training_sessions
from training.jobs.team_data import hr_recordings, split_sessions
from tests.training.jobs.conftest import TEAM


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_only_consented_athletes_reach_training_and_the_store_is_left_as_it_was(team_store):
    before = _digest(team_store / DB_NAME)
    everything = list(StoreSessionSource(team_store).sessions(TEAM))
    used = training_sessions(StoreSessionSource(team_store), TEAM)
    assert len(everything) == 4
    assert all(c.athlete.training for s in used for c in s.channels)
    assert len(used) == 3  # Ben did not consent: the store kept none of his heart rate
    assert sorted(len(c.time_s) for s in used for c in s.channels) == [646, 1041, 3374]  # Ana's real samples
    assert _digest(team_store / DB_NAME) == before


def test_held_out_sessions_are_fixed_by_the_seed_and_never_trained_on(team_store):
    sessions = training_sessions(StoreSessionSource(team_store), TEAM)
    split = split_sessions(sessions, seed=0, held_out_fraction=0.25)
    again = split_sessions(list(reversed(sessions)), seed=0, held_out_fraction=0.25)
    held = {s.session_id for s in split.held_out}
    assert held == {s.session_id for s in again.held_out} and held
    assert held.isdisjoint(s.session_id for s in split.train)
    assert len(split.train) + len(split.held_out) == len(sessions)
    by_seed = {frozenset(s.session_id for s in split_sessions(sessions, seed, 0.5).held_out)
               for seed in range(8)}
    assert len(by_seed) > 1  # another seed holds out other sessions


def test_coach_work_rest_marks_become_the_effort_the_features_read(team_store):
    from dataclasses import replace

    from training.jobs.sessions import WorkRestMark

    session = training_sessions(StoreSessionSource(team_store), TEAM)[0]
    start_s = float(session.channels[0].time_s[0])
    marked = replace(session, marks=(WorkRestMark(start_s + 60, "work"), WorkRestMark(start_s + 120, "rest")))
    effort = hr_recordings(marked)[0].power_w
    time_s = session.channels[0].time_s
    assert np.all(effort[(time_s >= start_s + 60) & (time_s < start_s + 120)] == 1.0)
    assert np.all(effort[(time_s < start_s + 60) | (time_s >= start_s + 120)] == 0.0)


def test_a_public_recording_that_is_one_of_the_teams_sessions_is_left_out_of_the_corpus(team_store):
    from edge_models.recordings import read_recording
    from training.jobs.retrain import without_copies
    from bench.bench_train import rowing_path

    team = [r for s in training_sessions(StoreSessionSource(team_store), TEAM) for r in hr_recordings(s)]
    public = [read_recording(rowing_path(name)) for name in ("crewnerddata.tcx", "3x250m.tcx")]
    assert [r.name for r in without_copies(public, team)] == ["3x250m"]
