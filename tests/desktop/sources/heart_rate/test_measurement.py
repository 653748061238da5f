"""Heart Rate Measurement (0x2A37): golden vectors written from the standard, and properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desktop.sources.heart_rate.base import HeartRateMeasurement, SensorContact
from desktop.sources.heart_rate.measurement import (
    MalformedMeasurement,
    encode_heart_rate_measurement,
    is_plausible_rr_s,
    parse_heart_rate_measurement,
)

# Each vector: bytes as a strap puts them on air, and what the coach must see.
GOLDEN = [
    # flags 0x00: uint8 HR 72, contact not supported, nothing else
    (bytes([0x00, 72]), HeartRateMeasurement(72, SensorContact.NOT_SUPPORTED, None, ())),
    # flags 0x02: contact bits = 1 also means "not supported"
    (bytes([0x02, 60]), HeartRateMeasurement(60, SensorContact.NOT_SUPPORTED, None, ())),
    # flags 0x04: contact supported but not detected (strap off the chest)
    (bytes([0x04, 0]), HeartRateMeasurement(0, SensorContact.NOT_DETECTED, None, ())),
    # flags 0x06: contact detected
    (bytes([0x06, 181]), HeartRateMeasurement(181, SensorContact.DETECTED, None, ())),
    # flags 0x01: uint16 HR 0x012C = 300 bpm, little-endian
    (bytes([0x01, 0x2C, 0x01]), HeartRateMeasurement(300, SensorContact.NOT_SUPPORTED, None, ())),
    # flags 0x08: energy 0x0102 = 258 kJ after a uint8 HR
    (bytes([0x08, 90, 0x02, 0x01]), HeartRateMeasurement(90, SensorContact.NOT_SUPPORTED, 258, ())),
    # flags 0x16: contact detected + RR: 1024/1024 s = 1.0 s, then 512/1024 s = 0.5 s (oldest first)
    (
        bytes([0x16, 75, 0x00, 0x04, 0x00, 0x02]),
        HeartRateMeasurement(75, SensorContact.DETECTED, None, (1.0, 0.5)),
    ),
    # flags 0x19: uint16 HR 140, energy 5 kJ, one RR of 0x01B4 = 436/1024 s
    (
        bytes([0x19, 140, 0x00, 0x05, 0x00, 0xB4, 0x01]),
        HeartRateMeasurement(140, SensorContact.NOT_SUPPORTED, 5, (436 / 1024,)),
    ),
    # flags 0x10 with no RR bytes: kept, no beat in this window
    (bytes([0x10, 55]), HeartRateMeasurement(55, SensorContact.NOT_SUPPORTED, None, ())),
    # reserved bits 5-7 set (0xE0): ignored as the standard asks
    (bytes([0xE6, 64]), HeartRateMeasurement(64, SensorContact.DETECTED, None, ())),
]

# A valid heart rate with an RR interval no heart beats: the heart rate and the good RR are kept,
# the bad RR is dropped and counted (rr_dropped).
BAD_RR = [
    # flags 0x16: HR 72, RR 0 (no interval at all), then RR 0x0400 = 1.0 s
    (bytes([0x16, 72, 0x00, 0x00, 0x00, 0x04]),
     HeartRateMeasurement(72, SensorContact.DETECTED, None, (1.0,), rr_dropped=1)),
    # flags 0x10: HR 80, RR 0x0200 = 0.5 s, then RR 0xFFFF = 64 s (far beyond any heartbeat)
    (bytes([0x10, 80, 0x00, 0x02, 0xFF, 0xFF]),
     HeartRateMeasurement(80, SensorContact.NOT_SUPPORTED, None, (0.5,), rr_dropped=1)),
    # flags 0x10: HR 190, RR 0x0064 = 0.098 s (over 600 bpm), then RR 0x0140 = 0.3125 s
    (bytes([0x10, 190, 0x64, 0x00, 0x40, 0x01]),
     HeartRateMeasurement(190, SensorContact.NOT_SUPPORTED, None, (0.3125,), rr_dropped=1)),
    # flags 0x18: HR 66, energy 7 kJ, its only RR is 0: heart rate and energy kept, no RR
    (bytes([0x18, 66, 0x07, 0x00, 0x00, 0x00]),
     HeartRateMeasurement(66, SensorContact.NOT_SUPPORTED, 7, (), rr_dropped=1)),
    # flags 0x11: uint16 HR 61, RR 0x0C01 = 3.0010 s (under 20 bpm) and RR 0 both dropped
    (bytes([0x11, 61, 0x00, 0x01, 0x0C, 0x00, 0x00]),
     HeartRateMeasurement(61, SensorContact.NOT_SUPPORTED, None, (), rr_dropped=2)),
]

MALFORMED = [
    (b"", "empty"),
    (bytes([0x00]), "heart rate"),  # uint8 HR missing
    (bytes([0x01, 0x48]), "heart rate"),  # uint16 HR cut after one byte
    (bytes([0x08, 80]), "energy"),  # energy flag, no energy bytes
    (bytes([0x08, 80, 0x01]), "energy"),  # energy cut after one byte
    (bytes([0x10, 80, 0x00, 0x04, 0x00]), "odd"),  # half an RR interval at the end
    (bytes([0x00, 80, 0x01]), "unexplained"),  # trailing byte with no flag saying what it is
]


@pytest.mark.parametrize(("payload", "expected"), GOLDEN)
def test_golden_vectors_decode_as_the_standard_says(payload, expected):
    assert parse_heart_rate_measurement(payload) == expected


@pytest.mark.parametrize(("payload", "expected"), BAD_RR)
def test_a_bad_rr_interval_is_dropped_and_counted_and_the_heart_rate_kept(payload, expected):
    assert parse_heart_rate_measurement(payload) == expected


def test_rr_intervals_at_the_edges_of_the_plausible_range_are_kept():
    shortest, longest = 205, 3072  # 0.2002 s (just under 300 bpm) and exactly 3.0 s (20 bpm)
    payload = bytes([0x10, 100]) + shortest.to_bytes(2, "little") + longest.to_bytes(2, "little")
    measurement = parse_heart_rate_measurement(payload)
    assert measurement.rr_intervals_s == (shortest / 1024, longest / 1024) and measurement.rr_dropped == 0


@pytest.mark.parametrize(("payload", "expected"), GOLDEN[:-1])
def test_encoding_the_decoded_vector_gives_the_same_bytes(payload, expected):
    flags = payload[0]
    contact = SensorContact((flags >> 1) & 3) if (flags >> 1) & 3 >= 2 else None
    encoded = encode_heart_rate_measurement(
        expected.hr_bpm,
        rr_intervals_s=expected.rr_intervals_s,
        sensor_contact=contact or SensorContact.NOT_SUPPORTED,
        energy_expended_kj=expected.energy_expended_kj,
        hr_uint16=bool(flags & 0x01),
        rr_present=bool(flags & 0x10),
    )
    # contact value 1 ("not supported") re-encodes as 0, the canonical "not supported"
    assert encoded == bytes([flags & ~0x02 if flags & 0x06 == 0x02 else flags]) + payload[1:]


@pytest.mark.parametrize(("payload", "words"), MALFORMED)
def test_broken_payloads_raise_a_typed_error_that_says_what_is_wrong(payload, words):
    with pytest.raises(MalformedMeasurement, match=words):
        parse_heart_rate_measurement(payload)


def test_malformed_measurement_is_a_value_error():
    assert issubclass(MalformedMeasurement, ValueError)


def test_a_bytearray_from_bleak_decodes_like_bytes():
    assert parse_heart_rate_measurement(bytearray([0x00, 72])).hr_bpm == 72


def test_encoder_refuses_values_the_format_cannot_carry():
    with pytest.raises(ValueError):
        encode_heart_rate_measurement(256, hr_uint16=False)
    with pytest.raises(ValueError):
        encode_heart_rate_measurement(70, rr_intervals_s=(64.0,))  # 65536/1024 s
    with pytest.raises(ValueError):
        encode_heart_rate_measurement(-1)


measurements = st.builds(
    dict,
    hr_bpm=st.integers(0, 0xFFFF),
    rr_units=st.lists(st.integers(0, 0xFFFF), max_size=9),
    sensor_contact=st.sampled_from(list(SensorContact)),
    energy_expended_kj=st.none() | st.integers(0, 0xFFFF),
    rr_present=st.booleans(),
    force_uint16=st.booleans(),
)


@given(measurements)
def test_every_flag_combination_round_trips(m):
    rr_s = tuple(units / 1024 for units in m["rr_units"]) if m["rr_present"] else ()
    payload = encode_heart_rate_measurement(
        m["hr_bpm"],
        rr_intervals_s=rr_s,
        sensor_contact=m["sensor_contact"],
        energy_expended_kj=m["energy_expended_kj"],
        hr_uint16=m["force_uint16"] or m["hr_bpm"] > 255,
        rr_present=m["rr_present"],
    )
    kept_s = tuple(rr for rr in rr_s if is_plausible_rr_s(rr))
    assert parse_heart_rate_measurement(payload) == HeartRateMeasurement(
        m["hr_bpm"], m["sensor_contact"], m["energy_expended_kj"], kept_s, rr_dropped=len(rr_s) - len(kept_s)
    )


@given(st.binary(max_size=24))
def test_random_bytes_parse_or_raise_malformed_and_nothing_else(payload):
    try:
        measurement = parse_heart_rate_measurement(payload)
    except MalformedMeasurement:
        return
    assert 0 <= measurement.hr_bpm <= 0xFFFF
    # the fields before the RR intervals re-encode to themselves, less reserved bits and contact value 1
    canonical = bytes([payload[0] & 0x1F & ~(0x02 if payload[0] & 0x06 == 0x02 else 0)])
    head = encode_heart_rate_measurement(
        measurement.hr_bpm,
        sensor_contact=measurement.sensor_contact,
        energy_expended_kj=measurement.energy_expended_kj,
        hr_uint16=bool(payload[0] & 0x01),
        rr_present=bool(payload[0] & 0x10),
    )
    assert canonical + payload[1:len(head)] == head
    # every RR interval sent is either kept, in order, or dropped and counted
    sent_s = [int.from_bytes(payload[i:i + 2], "little") / 1024 for i in range(len(head), len(payload), 2)]
    assert measurement.rr_intervals_s == tuple(rr for rr in sent_s if is_plausible_rr_s(rr))
    assert measurement.rr_dropped == len(sent_s) - len(measurement.rr_intervals_s)
