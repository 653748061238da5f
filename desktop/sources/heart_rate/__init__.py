"""Heart-rate sources, chosen by spec: `sim:N`, `replay:FILE`, `ble:ADDRESS`, `ble:any`."""

from __future__ import annotations

import time
from typing import Callable

from desktop.sources.heart_rate.base import HeartRateSource
from desktop.sources.spec import SpecError, parse_spec

ACCEPTED = "sim:N[?speed=S&first=K&seed=X], replay:FILE.fit|.tcx|.npy[?speed=S], ble:AA:BB:CC:DD:EE:FF, ble:any"


def open_heart_rate_source(spec: str, *, clock: Callable[[], float] = time.monotonic,
                           duration_s: float | None = None, **backend_options) -> HeartRateSource:
    """Build the source a spec names. Imports each backend lazily (bleak only for `ble:`)."""
    parsed = parse_spec(spec, ACCEPTED)
    if parsed.scheme == "sim":
        from desktop.sources.heart_rate.simulated import SimulatedHeartRateSource

        try:
            count = int(parsed.target)
        except ValueError:
            raise SpecError(f"{spec!r}: sim needs a number of athletes, e.g. sim:3") from None
        return SimulatedHeartRateSource(count, speed=parsed.float_option("speed", 1.0),
                                        seed=parsed.int_option("seed", 0), first_number=parsed.int_option("first", 1),
                                        duration_s=duration_s, clock=clock)
    if parsed.scheme == "replay":
        from desktop.sources.heart_rate.replay import ReplayHeartRateSource

        if not parsed.target:
            raise SpecError(f"{spec!r}: replay needs a file, e.g. replay:ride.fit")
        return ReplayHeartRateSource(parsed.target, speed=parsed.float_option("speed", 1.0), clock=clock)
    if parsed.scheme == "ble":
        from desktop.sources.heart_rate.ble import BleHeartRateSource

        if not parsed.target:
            raise SpecError(f"{spec!r}: ble needs an address or 'any'")
        return BleHeartRateSource(parsed.target, clock=clock, **backend_options)
    raise SpecError(f"{spec!r} is not a heart-rate source; accepted: {ACCEPTED}")
