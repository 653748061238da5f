"""How long to wait before the next try to reach a strap, by what went wrong: a pure table.

A strap drops its link often at the trackside (an athlete runs out of range, turns behind a
wall, the strap loses skin contact and sleeps). The source tries again at once for a link that
just dropped, waits longer when the strap is not advertising at all, and gives up after a capped
number of tries or an outer time limit, whichever comes first: then the coach is told the strap
is absent. Nothing here sleeps or touches Bluetooth; `ble.py` does.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from bleak.exc import BleakBluetoothNotAvailableError, BleakDeviceNotFoundError, BleakError


class FailureKind(enum.Enum):
    """Why one try to reach a strap failed."""

    NOT_FOUND = "not_found"  # no advertisement of the strap within the scan time
    TIMEOUT = "timeout"  # found, but connecting or subscribing took too long
    LINK_ERROR = "link_error"  # the stack refused or dropped the link while setting it up
    NOT_A_HEART_RATE_STRAP = "not_a_heart_rate_strap"  # connected, but no 0x2A37 to subscribe
    NO_BLUETOOTH = "no_bluetooth"  # this machine has no Bluetooth adapter or stack: no retry helps


class StrapNotFound(Exception):
    """A scan ended without an advertisement from the wanted strap."""


class NotAHeartRateStrap(Exception):
    """The device connected but offers no Heart Rate Measurement characteristic."""


# Seconds to wait before try n+1 after a try failed this way; the last value repeats.
_BACKOFF_S: Mapping[FailureKind, tuple[float, ...]] = MappingProxyType({
    # the scan itself already waited scan_timeout_s: retry soon, then ease off
    FailureKind.NOT_FOUND: (0.0, 0.5, 1.0, 2.0, 5.0),
    # a slow controller or a strap busy with another central: give it a little room
    FailureKind.TIMEOUT: (0.25, 1.0, 2.0, 5.0),
    # BlueZ "le-connection-abort-by-local" and friends usually clear within a second
    FailureKind.LINK_ERROR: (0.1, 0.5, 1.0, 2.0, 5.0),
    # a wrong device will not grow the service: wait long, the try limit ends it
    FailureKind.NOT_A_HEART_RATE_STRAP: (5.0,),
    # never waited on: the source gives up at the first such failure
    FailureKind.NO_BLUETOOTH: (0.0,),
})

DEFAULT_MAX_ATTEMPTS = 12  # tries per loss; with the table above about a minute of trying
DEFAULT_OVERALL_TIMEOUT_S = 90.0  # hard limit on one reconnection, tries and waits together


@dataclass(frozen=True)
class ReconnectPolicy:
    """Capped tries under an outer time limit, with a delay table by failure kind."""

    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    overall_timeout_s: float = DEFAULT_OVERALL_TIMEOUT_S
    backoff_s: Mapping[FailureKind, tuple[float, ...]] = field(default_factory=lambda: _BACKOFF_S)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.overall_timeout_s <= 0:
            raise ValueError("overall_timeout_s must be positive")
        missing = set(FailureKind) - set(self.backoff_s)
        if missing or any(not delays for delays in self.backoff_s.values()):
            raise ValueError("backoff_s needs a non-empty delay list for every FailureKind")

    def delay_s(self, kind: FailureKind, failed_attempts: int) -> float:
        """Seconds to wait after the `failed_attempts`-th failed try (1-based) of this kind."""
        delays = self.backoff_s[kind]
        return delays[min(failed_attempts, len(delays)) - 1]

    def should_retry(self, failed_attempts: int, kind: FailureKind | None = None) -> bool:
        """Whether another try is allowed after this many failures, the last of this kind."""
        return kind is not FailureKind.NO_BLUETOOTH and failed_attempts < self.max_attempts


def classify_failure(exc: BaseException) -> FailureKind:
    """Map an error from a try to reach a strap onto the backoff table's kinds."""
    if isinstance(exc, (BleakBluetoothNotAvailableError, FileNotFoundError)):
        return FailureKind.NO_BLUETOOTH  # FileNotFoundError: BlueZ's D-Bus socket is absent
    if isinstance(exc, (StrapNotFound, BleakDeviceNotFoundError)):
        return FailureKind.NOT_FOUND
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return FailureKind.TIMEOUT
    if isinstance(exc, NotAHeartRateStrap):
        return FailureKind.NOT_A_HEART_RATE_STRAP
    if isinstance(exc, (BleakError, OSError, EOFError)):
        return FailureKind.LINK_ERROR
    raise TypeError(f"not a link failure: {type(exc).__name__}") from exc
