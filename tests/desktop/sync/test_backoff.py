"""The retry table: pure, bounded, by kind of failure."""

from __future__ import annotations

from cloud_client.client import BundleRefused, CloudUnreachable, NotEnrolled, Refused, ServerFailed, SessionConflict
from desktop.sync.backoff import BACKOFF_S, MAX_ATTEMPTS, FailureKind, delay_s, failure_kind, gives_up


def test_delays_grow_and_level_off_at_the_tables_last_value():
    delays = [delay_s(FailureKind.NETWORK, n) for n in range(1, 20)]
    assert delays == sorted(delays) and delays[-1] == BACKOFF_S[FailureKind.NETWORK][-1] == 300.0


def test_every_kind_gives_up_after_its_cap():
    for kind in FailureKind:
        assert not gives_up(kind, MAX_ATTEMPTS[kind] - 1) and gives_up(kind, MAX_ATTEMPTS[kind])


def test_failures_are_told_apart_by_kind():
    assert failure_kind(CloudUnreachable("cut")) is FailureKind.NETWORK
    assert failure_kind(ServerFailed("500")) is FailureKind.SERVER
    assert failure_kind(NotEnrolled("no", 401, "unauthorised")) is FailureKind.NOT_ENROLLED
    assert failure_kind(BundleRefused("bad", 422, "bad_bundle")) is FailureKind.BAD_BUNDLE
    assert failure_kind(SessionConflict("other content", 422, "session_conflict")) is FailureKind.BAD_BUNDLE
    assert failure_kind(Refused("busy", 409, "commit_in_progress")) is FailureKind.REFUSED
