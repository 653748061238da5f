"""A short run of the BLE soak (bench/soak_ble.py): links cut inside a strap's stream of notifications.

The full soak (50 drops) runs in `make soak`; here five drops through the same code, plus proof
that its counting sees a notification lost or received twice: a sink placed between the source
and the soak's recorder loses or repeats one sample, and the soak must say so.
"""

from __future__ import annotations

import time

from bench.soak_ble import count_delivery, run_ble_soak, soak_is_sound
from desktop.sources.events import Sink
from desktop.sources.heart_rate.base import HeartRateSample
from tests.support.bumble_bleak import SentNotification, number_of, numbered_rr_s


def test_five_drops_inside_the_stream_lose_nothing_and_each_leave_one_gap():
    figures = run_ble_soak(drops=5, seed=11)
    assert figures["soak.ble_drops"] == 5
    assert figures["soak.ble_gaps_recorded"] == 5
    assert figures["soak.ble_lost_while_connected"] == 0
    assert figures["soak.ble_duplicates"] == 0
    assert soak_is_sound(figures, min_drops=5)


def _changing_the_second_sample(change):
    """A sink wrapper that hands the second heart-rate sample to `change` instead of passing it on."""
    def wrap(recorder: Sink) -> Sink:
        seen = []

        def sink(event: object) -> None:
            if isinstance(event, HeartRateSample):
                seen.append(event)
                if len(seen) == 2:
                    change(recorder, event)
                    return
            recorder(event)
        return sink
    return wrap


def test_a_sample_lost_on_the_way_fails_the_soak():
    figures = run_ble_soak(drops=2, seed=3, between=_changing_the_second_sample(lambda _rec, _ev: None))
    assert figures["soak.ble_lost_while_connected"] == 1
    assert not soak_is_sound(figures)


def test_a_sample_handed_on_twice_fails_the_soak():
    def twice(recorder, event):
        recorder(event)
        recorder(event)

    figures = run_ble_soak(drops=2, seed=3, between=_changing_the_second_sample(twice))
    assert figures["soak.ble_duplicates"] == 1 and figures["soak.ble_lost_while_connected"] == 0
    assert not soak_is_sound(figures)


def test_numbers_survive_the_trip_through_rr_intervals():
    for number in (0, 1, 999, 1000, 123_456, 999_999):
        assert number_of(numbered_rr_s(number)) == number
    assert number_of((0.5,)) is None and number_of((0.1, 0.1)) is None


def _sent(number: int, delivered: bool) -> SentNotification:
    return SentNotification(time.monotonic(), b"", delivered, numbered_rr_s(number), 1 if delivered else 0)


def _sample(number: int) -> HeartRateSample:
    return HeartRateSample("strap", 0.0, 60, numbered_rr_s(number))


def test_what_was_sent_after_the_link_was_cut_is_not_owed():
    sent = [_sent(0, True), _sent(1, True), _sent(2, False), _sent(3, True)]
    delivery = count_delivery(sent, [_sample(0), _sample(1), _sample(3)])
    assert (delivery.lost_while_connected, delivery.duplicates) == (0, 0)
    missing_one = count_delivery(sent, [_sample(0), _sample(3)])
    assert (missing_one.lost_while_connected, missing_one.duplicates) == (1, 0)
    one_twice = count_delivery(sent, [_sample(0), _sample(1), _sample(1), _sample(3)])
    assert (one_twice.lost_while_connected, one_twice.duplicates) == (0, 1)
    never_owed = count_delivery(sent, [_sample(0), _sample(1), _sample(2), _sample(3)])
    assert never_owed.duplicates == 1
