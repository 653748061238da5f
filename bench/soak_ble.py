"""Soak of the Bluetooth heart-rate path: a strap that drops its link again and again.

Runs the product's BleHeartRateSource through real bleak on the bumble stack (the virtual radio
of tests/support/bumble_bleak.py; these machines have no Bluetooth hardware). Prints:

    soak.ble_drops              link drops survived (at least the number asked for)
    soak.ble_duplicates         RR intervals received more often than sent (must be 0)
    soak.ble_lost_rr            RR intervals sent while connected and subscribed, never received (must be 0)
    soak.ble_reconnect_p95_s    95th percentile of link loss to subscribed again, seconds
"""

from __future__ import annotations

import logging
from collections import Counter

from desktop.sources.heart_rate.base import HeartRateSample
from desktop.sources.heart_rate.ble import BleHeartRateSource
from desktop.sources.heart_rate.reconnect import FailureKind, ReconnectPolicy
from tests.support.bumble_bleak import SinkRecorder, VirtualRadio, VirtualStrap

logger = logging.getLogger(__name__)

STRAP_ADDRESS = "D0:00:00:00:50:AC"  # the soak's virtual strap
BEATS_PER_LINK = 3  # notifications sent on each link before it is dropped
STEP_TIMEOUT_S = 10.0  # one subscribe or one batch of samples; normally milliseconds
SOAK_RETRY = ReconnectPolicy(  # quick retries: the soak measures the path, not the backoff table
    max_attempts=20, overall_timeout_s=30.0, backoff_s={kind: (0.01,) for kind in FailureKind}
)


def run_ble_soak(drops: int = 50) -> dict[str, float]:
    """Drop the link `drops` times while the strap sends; count what was lost or repeated."""
    with VirtualRadio() as radio:
        strap = radio.add_strap(STRAP_ADDRESS, "soak strap")
        client_backend, scanner_backend = radio.backends()
        source = BleHeartRateSource(
            STRAP_ADDRESS, client_backend=client_backend, scanner_backend=scanner_backend,
            watchdog_s=3.0, scan_timeout_s=2.0, policy=SOAK_RETRY,
        )
        recorder = SinkRecorder()
        source.start(recorder)
        try:
            _drive(strap, recorder, drops)
        finally:
            source.stop()
        return _results(strap, recorder, source)


def _drive(strap: VirtualStrap, recorder: SinkRecorder, drops: int) -> None:
    for link in range(drops + 1):
        if not strap.subscribed_event.wait(STEP_TIMEOUT_S):
            raise RuntimeError(f"strap not subscribed again after {link} drops")
        strap.subscribed_event.clear()
        for beat in range(BEATS_PER_LINK):
            strap.send(60 + beat, _unique_rr_s(link * BEATS_PER_LINK + beat))
        expected = (link + 1) * BEATS_PER_LINK
        recorder.wait_for(lambda r: len(r.of(HeartRateSample)) >= expected, STEP_TIMEOUT_S,
                          f"{expected} samples")
        if link < drops:
            strap.drop_link()


def _unique_rr_s(i: int) -> tuple[float, float]:
    """Two RR intervals (in 1/1024 s steps) that no other notification of the soak carries."""
    return ((400 + 2 * i) / 1024, (401 + 2 * i) / 1024)


def _results(strap: VirtualStrap, recorder: SinkRecorder, source: BleHeartRateSource) -> dict[str, float]:
    sent = Counter(strap.delivered_rr_s())
    received = Counter(rr for s in recorder.of(HeartRateSample) for rr in s.rr_intervals_s)
    durations_s = sorted(source.stats.reconnect_durations_s)
    return {
        "soak.ble_drops": float(source.stats.link_losses),
        "soak.ble_duplicates": float(sum((received - sent).values())),
        "soak.ble_lost_rr": float(sum((sent - received).values())),
        "soak.ble_reconnect_p95_s": _p95(durations_s),
    }


def _p95(sorted_values: list[float]) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, round(0.95 * (len(sorted_values) - 1)))]


def main() -> None:
    """Command line: print one name=value line per measure."""
    logging.basicConfig(level=logging.WARNING)
    for name, value in run_ble_soak().items():
        print(f"{name}={value:g}")


if __name__ == "__main__":
    main()
