"""The Heart Rate Measurement characteristic (0x2A37) of the Bluetooth Heart Rate Service.

A strap sends one measurement per notification:

    byte 0      flags
                  bit 0   heart rate is a uint16 (1) or a uint8 (0)
                  bits 1-2 sensor contact: 0 or 1 not supported, 2 not detected, 3 detected
                  bit 3   energy expended (uint16, kJ) is present
                  bit 4   RR intervals are present
                  bits 5-7 reserved for future use: ignored, as the standard asks
    then        heart rate (uint8, or uint16 little-endian) in beats per minute
    then        energy expended (uint16 little-endian, kJ) when bit 3 is set
    then        every remaining pair of bytes is one RR interval (uint16 little-endian,
                1/1024 s), oldest first, when bit 4 is set

Decisions where the standard leaves room (a strap that breaks them is reported, never guessed at):
- a payload that ends before the heart rate or the energy field is malformed;
- with bit 4 set, an odd number of bytes left is malformed (half an RR interval);
- with bit 4 set and no bytes left the measurement is kept with no RR intervals: straps send
  this when no beat fell in the notification window, and nothing is lost by accepting it;
- with bit 4 clear, any bytes left over are malformed (a strap that does not say what they are);
- a heart rate of 0 is kept as sent: straps send it while they have no reading yet (the consumer
  decides what 0 means on a chart), it is not a transport fault;
- an RR interval no heartbeat can have (0, shorter than RR_PLAUSIBLE_MIN_S or longer than
  RR_PLAUSIBLE_MAX_S) is left out and counted in `rr_dropped`; the heart rate, the energy and
  the other RR intervals of the notification are kept: one bad field never costs the sample.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from desktop.sources.heart_rate.base import HeartRateMeasurement, SensorContact

FLAG_HR_UINT16 = 0x01  # bit 0: heart rate value is a uint16
FLAG_CONTACT_SHIFT = 1  # bits 1-2: sensor contact status
FLAG_CONTACT_MASK = 0x03  # two bits of sensor contact status
FLAG_ENERGY_PRESENT = 0x08  # bit 3: energy expended field present
FLAG_RR_PRESENT = 0x10  # bit 4: RR interval fields present
RR_UNITS_PER_S = 1024  # RR intervals are counted in 1/1024 s
UINT8_MAX = 0xFF  # largest heart rate that fits the short (uint8) format
UINT16_MAX = 0xFFFF  # largest uint16 field (heart rate, energy in kJ, RR in 1/1024 s)
RR_PLAUSIBLE_MIN_S = 0.2  # 300 bpm: no human heart beats faster; shorter is a strap fault
RR_PLAUSIBLE_MAX_S = 3.0  # 20 bpm: longer is missed beats or a strap fault, not one interval
_UINT16 = struct.Struct("<H")


class MalformedMeasurement(ValueError):
    """A Heart Rate Measurement payload that does not follow the standard's layout."""


def parse_heart_rate_measurement(payload: bytes) -> HeartRateMeasurement:
    """Decode one Heart Rate Measurement notification; raise MalformedMeasurement if it is broken."""
    data = bytes(payload)
    if not data:
        raise MalformedMeasurement("empty heart rate measurement (no flags byte)")
    flags = data[0]
    hr_bpm, offset = _read_heart_rate(data, flags)
    energy_kj, offset = _read_energy(data, flags, offset)
    rr_sent_s = _read_rr_intervals(data, flags, offset)
    rr_intervals_s = tuple(rr_s for rr_s in rr_sent_s if is_plausible_rr_s(rr_s))
    return HeartRateMeasurement(
        hr_bpm=hr_bpm,
        sensor_contact=_sensor_contact(flags),
        energy_expended_kj=energy_kj,
        rr_intervals_s=rr_intervals_s,
        rr_dropped=len(rr_sent_s) - len(rr_intervals_s),
    )


def is_plausible_rr_s(rr_s: float) -> bool:
    """Whether an RR interval (seconds) can be the time between two heartbeats."""
    return RR_PLAUSIBLE_MIN_S <= rr_s <= RR_PLAUSIBLE_MAX_S


def _read_heart_rate(data: bytes, flags: int) -> tuple[int, int]:
    if flags & FLAG_HR_UINT16:
        return _read_uint16(data, 1, "heart rate (uint16)"), 3
    if len(data) < 2:
        raise MalformedMeasurement("heart rate (uint8) missing: payload has only the flags byte")
    return data[1], 2


def _read_energy(data: bytes, flags: int, offset: int) -> tuple[int | None, int]:
    if not flags & FLAG_ENERGY_PRESENT:
        return None, offset
    return _read_uint16(data, offset, "energy expended"), offset + 2


def _read_rr_intervals(data: bytes, flags: int, offset: int) -> tuple[float, ...]:
    rest = data[offset:]
    if not flags & FLAG_RR_PRESENT:
        if rest:
            raise MalformedMeasurement(f"{len(rest)} unexplained byte(s) after the last field")
        return ()
    if len(rest) % 2:
        raise MalformedMeasurement(f"RR interval part has an odd length ({len(rest)} bytes)")
    return tuple(units / RR_UNITS_PER_S for (units,) in _UINT16.iter_unpack(rest))


def _read_uint16(data: bytes, offset: int, field: str) -> int:
    if len(data) < offset + 2:
        raise MalformedMeasurement(
            f"{field} missing: needs bytes {offset}-{offset + 1}, payload has {len(data)}"
        )
    return _UINT16.unpack_from(data, offset)[0]


def _sensor_contact(flags: int) -> SensorContact:
    status = (flags >> FLAG_CONTACT_SHIFT) & FLAG_CONTACT_MASK
    if status < SensorContact.NOT_DETECTED:
        return SensorContact.NOT_SUPPORTED
    return SensorContact(status)


def encode_heart_rate_measurement(
    hr_bpm: int,
    *,
    rr_intervals_s: Sequence[float] = (),
    sensor_contact: SensorContact = SensorContact.NOT_SUPPORTED,
    energy_expended_kj: int | None = None,
    hr_uint16: bool | None = None,
    rr_present: bool | None = None,
) -> bytes:
    """Build a Heart Rate Measurement payload as a strap sends it.

    RR intervals are rounded to the nearest 1/1024 s. `hr_uint16` forces the long heart-rate
    format (default: only when the value needs it); `rr_present` forces the RR flag (default:
    set when there are RR intervals).
    """
    long_hr = hr_bpm > UINT8_MAX if hr_uint16 is None else hr_uint16
    with_rr = bool(rr_intervals_s) if rr_present is None else rr_present
    _check_range("hr_bpm", hr_bpm, UINT16_MAX if long_hr else UINT8_MAX)
    flags = _flags(long_hr, sensor_contact, energy_expended_kj is not None, with_rr)
    parts = [bytes([flags]), _UINT16.pack(hr_bpm) if long_hr else bytes([hr_bpm])]
    if energy_expended_kj is not None:
        _check_range("energy_expended_kj", energy_expended_kj, UINT16_MAX)
        parts.append(_UINT16.pack(energy_expended_kj))
    parts.extend(_UINT16.pack(_rr_units(rr_s)) for rr_s in rr_intervals_s)
    return b"".join(parts)


def _flags(long_hr: bool, contact: SensorContact, energy: bool, rr: bool) -> int:
    flags = FLAG_HR_UINT16 if long_hr else 0
    flags |= int(contact) << FLAG_CONTACT_SHIFT
    flags |= FLAG_ENERGY_PRESENT if energy else 0
    return flags | (FLAG_RR_PRESENT if rr else 0)


def _rr_units(rr_s: float) -> int:
    units = round(rr_s * RR_UNITS_PER_S)
    if not 0 <= units <= UINT16_MAX:
        raise ValueError(f"an RR interval must lie in 0..{UINT16_MAX}/{RR_UNITS_PER_S} s")
    return units


def _check_range(name: str, value: int, largest: int) -> None:
    if not 0 <= value <= largest:
        raise ValueError(f"{name} out of range for the measurement format: 0..{largest}")
