"""Retraining by itself: enough new labelled, consented sessions since the last job."""

from __future__ import annotations

import numpy as np

from training.jobs.policy import should_retrain
from training.jobs.sessions import AthleteRecord, ChannelSeries, CoachLabel, SessionRecord, WorkRestMark


def _session(n: int, *, labelled=True, consent=True, day="2026-11-10") -> SessionRecord:
    channel = ChannelSeries("strap", AthleteRecord(1, consent), np.arange(3.0), np.full(3, 120.0))
    labels = (CoachLabel(0.0, 1.0, "squat"),) if labelled and n % 2 else ()
    marks = (WorkRestMark(0.0, "work"),) if labelled and not n % 2 else ()
    return SessionRecord(f"s{n}", (channel,), marks, labels, f"{day}T10:{n:02d}:00+00:00")


def test_retrains_once_enough_new_labelled_consented_sessions_arrived():
    last_job = "2026-11-05T00:00:00Z"
    old = [_session(n, day="2026-11-01") for n in range(10)]
    new = [_session(n) for n in range(4)]
    assert not should_retrain(old + new, last_job, min_new=5)
    assert should_retrain(old + new + [_session(4)], last_job, min_new=5)


def test_unlabelled_or_unconsented_sessions_do_not_count():
    sessions = [_session(n, labelled=False) for n in range(5)] + [_session(n, consent=False) for n in range(5)]
    assert not should_retrain(sessions, None, min_new=1)
    assert should_retrain(sessions + [_session(9)], None, min_new=1)
