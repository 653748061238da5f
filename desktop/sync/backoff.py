"""When to try an outbox item again: a pure table by kind of failure, and a cap on attempts.

Pure: the attempt number and the failure kind in, a delay out; the caller's clock does the rest.
"""

from __future__ import annotations

from enum import Enum

from cloud_client.client import (BundleRefused, CloudError, CloudUnreachable, HashMismatch, NotEnrolled, ServerFailed,
                                 SessionConflict)


class FailureKind(Enum):
    NETWORK = "network"  # no answer: the field has no signal, the server is down; it comes back by itself
    SERVER = "server"  # a 5xx: the service failed; give it a little longer
    REFUSED = "refused"  # the service said no (409 while another commit runs, a stale offset): soon again
    NOT_ENROLLED = "not_enrolled"  # the token was revoked: nothing helps until the coach enrols again
    BAD_BUNDLE = "bad_bundle"  # the bundle was refused, or the cloud holds other content: trying again won't help


# Seconds to wait after the n-th failure in a row (the last value repeats). Network failures start
# quick (a flaky link often returns in seconds) and level off at 5 minutes, so a laptop at a field
# with no signal tries about 12 times an hour; a failing server is given longer from the start.
BACKOFF_S: dict[FailureKind, tuple[float, ...]] = {
    FailureKind.NETWORK: (2.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0),
    FailureKind.SERVER: (10.0, 30.0, 60.0, 300.0),
    FailureKind.REFUSED: (1.0, 5.0, 30.0, 120.0),
    FailureKind.NOT_ENROLLED: (3600.0,),
    FailureKind.BAD_BUNDLE: (3600.0,),
}

# Attempts before an item is marked 'failed' and waits for the coach ('sync now'): network trouble
# is expected at a field, so it gets many tries (a day at 5 minutes); a refused bundle gets two.
MAX_ATTEMPTS: dict[FailureKind, int] = {
    FailureKind.NETWORK: 300,
    FailureKind.SERVER: 50,
    FailureKind.REFUSED: 20,
    FailureKind.NOT_ENROLLED: 1,
    FailureKind.BAD_BUNDLE: 2,
}


def failure_kind(exc: BaseException) -> FailureKind:
    if isinstance(exc, NotEnrolled):
        return FailureKind.NOT_ENROLLED
    if isinstance(exc, (BundleRefused, HashMismatch, SessionConflict)):
        return FailureKind.BAD_BUNDLE
    if isinstance(exc, CloudUnreachable):
        return FailureKind.NETWORK
    if isinstance(exc, ServerFailed):
        return FailureKind.SERVER
    if isinstance(exc, CloudError):
        return FailureKind.REFUSED
    return FailureKind.SERVER  # the laptop's own trouble (a disk error building a bundle): try later


def delay_s(kind: FailureKind, attempt: int) -> float:
    """Seconds to wait after failure number `attempt` (1-based) of `kind`."""
    table = BACKOFF_S[kind]
    return table[min(max(attempt, 1), len(table)) - 1]


def gives_up(kind: FailureKind, attempt: int) -> bool:
    return attempt >= MAX_ATTEMPTS[kind]
