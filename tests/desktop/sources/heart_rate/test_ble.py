"""The Bluetooth heart-rate source, through real bleak code on the bumble Bluetooth stack.

No mock: the source's BleakScanner/BleakClient run unchanged on a bleak backend whose bottom
layer is bumble (tests/support/bumble_bleak.py): virtual straps advertise, accept connections,
serve GATT and notify over a bumble LocalLink. Short watchdog and backoff values keep it fast.
"""

from __future__ import annotations

import contextlib
import time

import pytest

from desktop.sources.events import RECONNECTING, ChannelOpened, SignalGap, SourceProblem
from desktop.sources.heart_rate.base import HeartRateSample, SensorContact
from desktop.sources.heart_rate.ble import BleHeartRateSource, InvalidBleSpec, open_ble_source
from desktop.sources.heart_rate.reconnect import FailureKind, ReconnectPolicy
from desktop.store.checks import check_storable
from tests.support.bumble_bleak import SinkRecorder, VirtualRadio, VirtualStrap

STRAP_A = "D0:00:00:00:00:0A"
WAIT_S = 10.0  # generous bound for one step on a slow shared machine; normally milliseconds
FAST_RETRY = ReconnectPolicy(  # tests retry quickly; the real table is in reconnect.py
    max_attempts=5, overall_timeout_s=10.0, backoff_s={kind: (0.01,) for kind in FailureKind}
)


@pytest.fixture
def radio():
    with VirtualRadio() as world:
        yield world


def make_source(radio: VirtualRadio, target: str, **kw) -> BleHeartRateSource:
    client_backend, scanner_backend = radio.backends()
    options = dict(watchdog_s=2.0, scan_timeout_s=1.0, connect_timeout_s=5.0, policy=FAST_RETRY)
    options.update(kw)
    return open_ble_source(f"ble:{target}", client_backend=client_backend,
                           scanner_backend=scanner_backend, **options)


@contextlib.contextmanager
def running(*sources: BleHeartRateSource):
    recorders = [SinkRecorder() for _ in sources]
    try:
        for source, recorder in zip(sources, recorders):
            source.start(recorder)
        yield recorders
    finally:
        for source in sources:
            source.stop()


def wait_subscribed(strap: VirtualStrap) -> None:
    assert strap.subscribed_event.wait(WAIT_S), f"strap {strap.address} never subscribed"
    strap.subscribed_event.clear()


def send_beats(strap: VirtualStrap, count: int, first: int) -> None:
    """`count` notifications, each with two RR intervals no other notification carries."""
    for i in range(first, first + count):
        rr_s = (0.5 + (2 * i % 512) / 1024, 0.5 + (2 * i % 512 + 1) / 1024)
        strap.send(60 + i % 120, rr_s, sensor_contact=SensorContact.DETECTED)


def samples_of(recorder: SinkRecorder) -> list[HeartRateSample]:
    return recorder.of(HeartRateSample)


def received_rr_s(recorder: SinkRecorder) -> list[float]:
    return [rr for sample in samples_of(recorder) for rr in sample.rr_intervals_s]


def wait_samples(recorder: SinkRecorder, count: int) -> None:
    recorder.wait_for(lambda r: len(samples_of(r)) >= count, WAIT_S, f"{count} samples")


def test_a_strap_is_found_connected_and_every_notification_is_one_sample(radio):
    strap = radio.add_strap(STRAP_A, "Polar H10 A")
    source = make_source(radio, STRAP_A)
    with running(source) as (recorder,):
        wait_subscribed(strap)
        send_beats(strap, 10, first=0)
        wait_samples(recorder, 10)
    opened = recorder.of(ChannelOpened)
    assert [(o.channel, o.display_name) for o in opened] == [(STRAP_A, "Polar H10 A")]
    samples = samples_of(recorder)
    assert len(samples) == 10 and {s.channel for s in samples} == {STRAP_A}
    assert received_rr_s(recorder) == strap.delivered_rr_s()
    assert [s.hr_bpm for s in samples] == list(range(60, 70))
    assert all(s.sensor_contact is SensorContact.DETECTED for s in samples)
    assert [s.t_mono_s for s in samples] == sorted(s.t_mono_s for s in samples)
    assert recorder.of(SignalGap) == [] and recorder.of(SourceProblem) == []
    assert source.stats.notifications == 10


def test_fifty_link_drops_give_fifty_gaps_and_lose_or_repeat_no_rr(radio):
    strap = radio.add_strap(STRAP_A)
    source = make_source(radio, STRAP_A)
    drops, beats_per_link = 50, 2
    with running(source) as (recorder,):
        for link in range(drops):
            wait_subscribed(strap)
            send_beats(strap, beats_per_link, first=link * beats_per_link)
            wait_samples(recorder, (link + 1) * beats_per_link)
            strap.drop_link()
        wait_subscribed(strap)
        send_beats(strap, beats_per_link, first=drops * beats_per_link)
        wait_samples(recorder, (drops + 1) * beats_per_link)
    gaps = recorder.of(SignalGap)
    assert len(gaps) == drops and {g.reason for g in gaps} == {"disconnected"}
    told = [p for p in recorder.of(SourceProblem) if p.kind == RECONNECTING]
    assert len(told) == drops and not any(p.fatal for p in told)  # the coach sees "reconnecting" each time
    assert received_rr_s(recorder) == strap.delivered_rr_s()  # nothing lost, nothing twice
    assert len(received_rr_s(recorder)) == 2 * (drops + 1) * beats_per_link
    assert_gaps_fall_between_samples(samples_of(recorder), gaps, beats_per_link)
    assert source.stats.reconnects == drops == len(source.stats.reconnect_durations_s)
    assert len(recorder.of(ChannelOpened)) == 1


def assert_gaps_fall_between_samples(samples, gaps, beats_per_link):
    """Each gap runs from the last sample of one link to the first sample of the next."""
    times = [s.t_mono_s for s in samples]
    for i, gap in enumerate(gaps):
        last_before, first_after = times[(i + 1) * beats_per_link - 1], times[(i + 1) * beats_per_link]
        assert (gap.start_mono_s, gap.end_mono_s) == (last_before, first_after)


def test_four_straps_at_once_each_give_their_own_complete_channel(radio):
    addresses = [f"D0:00:00:00:00:{n:02X}" for n in range(1, 5)]
    straps = [radio.add_strap(address, f"athlete {n}") for n, address in enumerate(addresses)]
    sources = [make_source(radio, address) for address in addresses]
    with running(*sources) as recorders:
        for strap in straps:
            wait_subscribed(strap)
        for round_ in range(5):
            for n, strap in enumerate(straps):
                send_beats(strap, 2, first=round_ * 2 + 100 * n)
        for recorder in recorders:
            wait_samples(recorder, 10)
    for address, strap, recorder in zip(addresses, straps, recorders):
        assert [o.channel for o in recorder.of(ChannelOpened)] == [address]
        assert {s.channel for s in samples_of(recorder)} == {address}
        assert received_rr_s(recorder) == strap.delivered_rr_s()
        assert len(samples_of(recorder)) == 10


def test_a_bad_rr_interval_costs_only_itself_the_heart_rate_is_recorded(radio):
    strap = radio.add_strap(STRAP_A)
    source = make_source(radio, STRAP_A)
    zero_then_one_s = bytes([0x16, 72, 0x00, 0x00, 0x00, 0x04])  # HR 72, RR 0 and RR 1.0 s
    only_64_s = bytes([0x10, 75, 0xFF, 0xFF])  # HR 75, one RR of 64 s: no heartbeat is that long
    with running(source) as (recorder,):
        wait_subscribed(strap)
        strap.notify(zero_then_one_s)
        strap.notify(only_64_s)
        wait_samples(recorder, 2)
    samples = samples_of(recorder)
    for sample in samples:
        check_storable(sample)  # the store keeps the sample: its heart rate is not lost with the bad RR
    assert [(s.hr_bpm, s.rr_intervals_s) for s in samples] == [(72, (1.0,)), (75, ())]
    assert [s.rr_dropped for s in samples] == [1, 1] and source.stats.rr_dropped == 2
    assert recorder.of(SourceProblem) == []


def test_malformed_notifications_are_reported_and_skipped_and_the_rest_recorded(radio):
    strap = radio.add_strap(STRAP_A)
    source = make_source(radio, STRAP_A)
    broken = [b"", bytes([0x01, 0x48]), bytes([0x10, 80, 0x00]), bytes([0x08, 80])]
    with running(source) as (recorder,):
        wait_subscribed(strap)
        for i, payload in enumerate(broken):
            send_beats(strap, 2, first=2 * i)
            strap.inject(payload)
        send_beats(strap, 2, first=100)
        wait_samples(recorder, 10)
        recorder.wait_for(lambda r: len(r.of(SourceProblem)) >= 4, WAIT_S, "4 problems")
    problems = recorder.of(SourceProblem)
    assert [p.kind for p in problems] == ["malformed_packet"] * 4
    assert not any(p.fatal for p in problems) and {p.channel for p in problems} == {STRAP_A}
    assert received_rr_s(recorder) == strap.delivered_rr_s()
    assert source.stats.malformed == 4 and source.stats.notifications == 14
    assert recorder.of(SignalGap) == []


def test_ble_any_finds_a_strap_and_keeps_it(radio):
    strap = radio.add_strap(STRAP_A, "the only strap")
    source = make_source(radio, "any")
    with running(source) as (recorder,):
        wait_subscribed(strap)
        send_beats(strap, 1, first=0)
        strap.drop_link()
        wait_subscribed(strap)
        send_beats(strap, 1, first=1)
        wait_samples(recorder, 2)
    assert [o.channel for o in recorder.of(ChannelOpened)] == [STRAP_A]
    assert {s.channel for s in samples_of(recorder)} == {STRAP_A}
    assert source.spec == "ble:any"


def test_an_absent_strap_is_a_fatal_device_absent_problem_in_bounded_time(radio):
    radio.add_strap(STRAP_A)  # someone else's strap is on air; ours is not
    policy = ReconnectPolicy(max_attempts=3, overall_timeout_s=5.0,
                             backoff_s={kind: (0.05,) for kind in FailureKind})
    source = make_source(radio, "D0:00:00:00:00:EE", scan_timeout_s=0.3, policy=policy)
    started = time.monotonic()
    with running(source) as (recorder,):
        recorder.wait_for(lambda r: r.of(SourceProblem), WAIT_S, "a problem")
        took_s = time.monotonic() - started
    (problem,) = recorder.of(SourceProblem)
    assert problem.kind == "device_absent" and problem.fatal
    assert "3 tries" in problem.message
    assert took_s < 3.0  # three scans of 0.3 s and two waits of 0.05 s, with room for a slow box
    assert recorder.of(ChannelOpened) == [] and samples_of(recorder) == []


def test_a_silent_strap_trips_the_watchdog_and_the_gap_is_recorded(radio):
    strap = radio.add_strap(STRAP_A)
    source = make_source(radio, STRAP_A, watchdog_s=0.3)
    with running(source) as (recorder,):
        wait_subscribed(strap)
        send_beats(strap, 1, first=0)
        wait_samples(recorder, 1)
        wait_subscribed(strap)  # the watchdog gave up on the silent link and connected again
        send_beats(strap, 1, first=1)
        wait_samples(recorder, 2)
    (gap,) = recorder.of(SignalGap)
    first, second = samples_of(recorder)
    assert (gap.reason, gap.start_mono_s, gap.end_mono_s) == ("watchdog", first.t_mono_s, second.t_mono_s)
    assert strap.connections_made == 2


def test_stop_closes_an_open_gap_at_stop_time(radio):
    strap = radio.add_strap(STRAP_A)
    source = make_source(radio, STRAP_A, policy=ReconnectPolicy(
        max_attempts=1000, overall_timeout_s=60.0, backoff_s={kind: (0.05,) for kind in FailureKind}))
    with running(source) as (recorder,):
        wait_subscribed(strap)
        send_beats(strap, 1, first=0)
        wait_samples(recorder, 1)
        strap.power_off()  # gone for good: the source keeps trying until stopped
        before_stop_s = time.monotonic()
    (gap,) = recorder.of(SignalGap)
    assert gap.start_mono_s == samples_of(recorder)[0].t_mono_s
    assert before_stop_s <= gap.end_mono_s <= time.monotonic()
    assert [p.kind for p in recorder.of(SourceProblem)] == [RECONNECTING]  # never "absent": it was stopped


@pytest.mark.parametrize("spec", ["ble:", "ble:not-an-address", "ble:AA:BB:CC", "hr:any"])
def test_a_spec_that_names_no_strap_is_refused_clearly(spec):
    with pytest.raises(InvalidBleSpec):
        open_ble_source(spec)
