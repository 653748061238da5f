"""Find the heart-rate straps in range, so the coach can pair one to an athlete.

A scan runs bleak's `BleakScanner` for the Heart Rate Service (0x180D) on its own asyncio loop on
the caller's thread: call `scan_for_straps` from a worker thread, never the Qt thread. Each strap is
reported once through `on_found` (from the scanning thread: it must only hand the strap on) and
the whole list comes back at the end, strongest signal first. `cancel` ends a scan early.
`backend=` injects another bleak scanner backend (the tests' bumble stack), as bleak's own does.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from typing import Callable

from bleak import BleakScanner

from desktop.sources.heart_rate.ble import HEART_RATE_SERVICE_UUID

logger = logging.getLogger(__name__)

DEFAULT_SCAN_S = 5.0  # straps advertise every 0.1-1 s: five seconds finds every strap in range
CANCEL_POLL_S = 0.05  # how often a scan looks at its cancel flag


@dataclass(frozen=True, slots=True)
class FoundStrap:
    """A strap that answered the scan: its address (what pairing stores), its name and signal."""

    address: str
    name: str
    rssi_dbm: int | None


def scan_for_straps(duration_s: float = DEFAULT_SCAN_S, *, backend: type | None = None,
                    on_found: Callable[[FoundStrap], None] | None = None,
                    cancel: threading.Event | None = None) -> list[FoundStrap]:
    """Scan for `duration_s` (or until `cancel` is set); every heart-rate strap seen, strongest first.

    Blocks its thread for the duration. A computer without usable Bluetooth raises bleak's error
    (BleakError or OSError), which the caller shows to the coach.
    """
    if not duration_s > 0:
        raise ValueError(f"a scan lasts a positive number of seconds, got {duration_s}")
    return asyncio.run(_scan(duration_s, backend, on_found, cancel or threading.Event()))


async def _scan(duration_s: float, backend: type | None, on_found: Callable[[FoundStrap], None] | None,
                cancel: threading.Event) -> list[FoundStrap]:
    found: dict[str, FoundStrap] = {}

    def seen(device, advertisement) -> None:
        if HEART_RATE_SERVICE_UUID not in {u.lower() for u in advertisement.service_uuids}:
            return
        address = device.address.upper()
        strap = FoundStrap(address, advertisement.local_name or device.name or address, advertisement.rssi)
        first = address not in found
        found[address] = strap
        if first and on_found is not None:
            on_found(strap)

    kw = {} if backend is None else {"backend": backend}
    async with BleakScanner(detection_callback=seen, service_uuids=[HEART_RATE_SERVICE_UUID], **kw):
        await _wait(duration_s, cancel)
    logger.info("strap scan found %d strap(s)", len(found))
    return sorted(found.values(), key=lambda s: -(s.rssi_dbm if s.rssi_dbm is not None else -999))


async def _wait(duration_s: float, cancel: threading.Event) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + duration_s
    while not cancel.is_set() and loop.time() < deadline:
        await asyncio.sleep(min(CANCEL_POLL_S, max(0.0, deadline - loop.time())))
