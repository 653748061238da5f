"""Soak of the Bluetooth heart-rate path: a strap that drops its link in the middle of its stream.

Runs the product's BleHeartRateSource through real bleak on the bumble stack (the virtual radio
of tests/support/bumble_bleak.py; these machines have no Bluetooth hardware). The virtual strap
notifies on its own every STREAM_PERIOD_S (a strap's one notification a second, run faster),
each notification numbered in its RR intervals, connected or not; the link is cut at random
moments between two notifications of that stream. What counts as owed to the source is decided
on the strap's side: the notifications its GATT server sent on a live, subscribed link it had
not yet cut. Prints:

    soak.ble_drops                 links the strap cut in the middle of its stream
    soak.ble_gaps_recorded         SignalGap events the source recorded (must equal soak.ble_drops)
    soak.ble_lost_while_connected  notifications sent on a live link that never reached the sink (must be 0)
    soak.ble_duplicates            notifications received more often than sent on a live link (must be 0)
    soak.ble_reconnect_p95_s       95th percentile of link loss to subscribed again, seconds
"""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from desktop.sources.events import SignalGap, Sink
from desktop.sources.heart_rate.base import HeartRateSample
from desktop.sources.heart_rate.ble import BleHeartRateSource
from desktop.sources.heart_rate.reconnect import FailureKind, ReconnectPolicy
from tests.support.bumble_bleak import SentNotification, SinkRecorder, VirtualRadio, VirtualStrap, number_of
from tests.support.waiting import wait_until

logger = logging.getLogger(__name__)

STRAP_ADDRESS = "D0:00:00:00:50:AC"  # the soak's virtual strap
STREAM_PERIOD_S = 0.01  # the strap notifies 100 times a second: 100x its real 1 s cadence
NOTIFICATIONS_PER_LINK = (1, 12)  # a link carries this many notifications (uniform) before its drop
STEP_TIMEOUT_S = 10.0  # one reconnection, or the last notifications to arrive; normally milliseconds
DEFAULT_SEED = 6  # the soak's drops fall at the same moments in every run unless asked otherwise
SOAK_RETRY = ReconnectPolicy(  # quick retries: the soak measures the path, not the backoff table
    max_attempts=20, overall_timeout_s=30.0, backoff_s={kind: (0.01,) for kind in FailureKind}
)

SinkWrapper = Callable[[Sink], Sink]
"""Stands between the source and the soak's recorder: only to prove that the soak sees damage."""


@dataclass(frozen=True)
class Delivery:
    """What the strap sent on live links, held against what the source handed on."""

    lost_while_connected: int
    duplicates: int


def count_delivery(sent: list[SentNotification], samples: list[HeartRateSample]) -> Delivery:
    """Count numbered notifications sent on a live link and never received, and those received extra."""
    owed = Counter(number_of(item.rr_intervals_s) for item in sent if item.delivered)
    received = Counter(number_of(sample.rr_intervals_s) for sample in samples)
    return Delivery(lost_while_connected=sum((owed - received).values()),
                    duplicates=sum((received - owed).values()))


def run_ble_soak(drops: int = 50, seed: int = DEFAULT_SEED, between: SinkWrapper | None = None) -> dict[str, float]:
    """Cut the link `drops` times inside the strap's stream; count what was lost or repeated."""
    with VirtualRadio() as radio:
        strap = radio.add_strap(STRAP_ADDRESS, "soak strap")
        client_backend, scanner_backend = radio.backends()
        source = BleHeartRateSource(
            STRAP_ADDRESS, client_backend=client_backend, scanner_backend=scanner_backend,
            watchdog_s=3.0, scan_timeout_s=2.0, policy=SOAK_RETRY,
        )
        recorder = SinkRecorder()
        source.start(recorder if between is None else between(recorder))
        try:
            _drive(strap, drops, random.Random(seed))
            _wait_for_the_last_delivered(strap, recorder)
        finally:
            strap.stop_stream()
            source.stop()
        return _results(strap, recorder, source)


def _drive(strap: VirtualStrap, drops: int, rng: random.Random) -> None:
    if not strap.subscribed_event.wait(STEP_TIMEOUT_S):
        raise RuntimeError("the strap was never subscribed")
    strap.start_stream(STREAM_PERIOD_S)
    for link in range(1, drops + 2):
        wait_until(lambda: strap.connections_made >= link and strap.is_subscribed, STEP_TIMEOUT_S,
                   f"subscribed again after {link - 1} drops")
        carried, current = rng.randint(*NOTIFICATIONS_PER_LINK), strap.connections_made
        wait_until(lambda: strap.delivered_on_link(current) >= carried, STEP_TIMEOUT_S,
                   f"{carried} notifications on link {link}")
        if link <= drops:
            strap.drop_link(after_s=rng.uniform(0.0, STREAM_PERIOD_S))


def _wait_for_the_last_delivered(strap: VirtualStrap, recorder: SinkRecorder) -> None:
    """Stop the stream, then wait for its last notification sent on a live link to be received.

    The source hands samples on in arrival order, so everything before it has arrived too; a
    source that lost that very one ends the wait at the timeout, and the count shows the loss.
    """
    strap.stop_stream()
    last = next(number_of(item.rr_intervals_s) for item in reversed(strap.sent) if item.delivered)
    try:
        recorder.wait_for(lambda r: any(number_of(s.rr_intervals_s) == last for s in r.of(HeartRateSample)),
                          STEP_TIMEOUT_S, f"notification {last}")
    except AssertionError:
        logger.error("the last notification sent on a live link (number %d) never arrived", last)


def _results(strap: VirtualStrap, recorder: SinkRecorder, source: BleHeartRateSource) -> dict[str, float]:
    delivery = count_delivery(strap.sent, recorder.of(HeartRateSample))
    return {
        "soak.ble_drops": float(strap.links_cut),
        "soak.ble_gaps_recorded": float(len(recorder.of(SignalGap))),
        "soak.ble_lost_while_connected": float(delivery.lost_while_connected),
        "soak.ble_duplicates": float(delivery.duplicates),
        "soak.ble_reconnect_p95_s": _p95(sorted(source.stats.reconnect_durations_s)),
    }


def soak_is_sound(figures: dict[str, float], min_drops: int = 1) -> bool:
    """The soak's pass rule: every drop a gap, nothing owed lost, nothing twice."""
    return (figures["soak.ble_drops"] >= min_drops
            and figures["soak.ble_gaps_recorded"] == figures["soak.ble_drops"]
            and figures["soak.ble_lost_while_connected"] == 0 and figures["soak.ble_duplicates"] == 0)


def _p95(sorted_values: list[float]) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, round(0.95 * (len(sorted_values) - 1)))]


def main() -> int:
    """Command line: print one name=value line per measure; exit 1 when the soak failed."""
    logging.basicConfig(level=logging.WARNING)
    figures = run_ble_soak()
    for name, value in figures.items():
        print(f"{name}={value:g}")
    return 0 if soak_is_sound(figures) else 1


if __name__ == "__main__":
    raise SystemExit(main())
