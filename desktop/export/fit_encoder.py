"""A minimal FIT (Flexible and Interoperable Data Transfer) file writer, written for Trackside.

It knows just what an activity file needs: a 14-byte file header with its CRC, definition
messages (one per local message type), data messages, and the file CRC. Everything is little
endian. Field values are given already in the FIT unit (e.g. speed in mm/s, RR in ms); None
becomes the base type's "invalid" value.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import datetime, timezone

FIT_EPOCH_UTC = datetime(1989, 12, 31, tzinfo=timezone.utc)  # FIT date_time counts seconds from here
HEADER_SIZE = 14  # header with its own CRC
PROTOCOL_VERSION = 0x20  # FIT protocol 2.0
PROFILE_VERSION = 2132  # profile 21.32
DATA_TYPE = b".FIT"
DEFINITION_FLAG = 0x40  # record header bit 6: a definition message
LITTLE_ENDIAN = 0  # definition message architecture byte
CRC_POLYNOMIAL_REFLECTED = 0xA001  # the FIT CRC is CRC-16 with polynomial 0x8005, bits reflected, init 0


@dataclass(frozen=True)
class BaseType:
    """A FIT base type: its id byte in definitions, struct code, and invalid value."""

    type_id: int
    code: str
    invalid: int

    @property
    def size(self) -> int:
        return struct.calcsize("<" + self.code)


ENUM = BaseType(0x00, "B", 0xFF)
UINT8 = BaseType(0x02, "B", 0xFF)
UINT16 = BaseType(0x84, "H", 0xFFFF)
UINT32 = BaseType(0x86, "I", 0xFFFFFFFF)
UINT32Z = BaseType(0x8C, "I", 0x00000000)


@dataclass(frozen=True)
class Field:
    """One field of a message definition: its number in the FIT profile, type and array length."""

    number: int
    base: BaseType
    count: int = 1  # > 1: an array field


@dataclass(frozen=True)
class MessageDefinition:
    """A global message (file_id, record, ...) bound to a local message type 0-15."""

    global_number: int
    local_type: int
    fields: tuple[Field, ...]


def fit_crc(data: bytes, crc: int = 0) -> int:
    """The FIT CRC-16 of `data`, continuing from `crc`."""
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ CRC_POLYNOMIAL_REFLECTED if crc & 1 else crc >> 1
    return crc


def fit_timestamp(moment: datetime) -> int:
    """A FIT date_time: whole seconds since 1989-12-31 00:00 UTC, rounded to the nearest."""
    return int((moment - FIT_EPOCH_UTC).total_seconds() + 0.5)


def encode_definition(definition: MessageDefinition) -> bytes:
    header = bytes([DEFINITION_FLAG | definition.local_type])
    fixed = struct.pack("<BBHB", 0, LITTLE_ENDIAN, definition.global_number, len(definition.fields))
    fields = b"".join(bytes([f.number, f.base.size * f.count, f.base.type_id]) for f in definition.fields)
    return header + fixed + fields


def encode_data(definition: MessageDefinition, values: dict[int, object]) -> bytes:
    """A data message; `values` maps field number to a value (a sequence for array fields)."""
    unknown = set(values) - {f.number for f in definition.fields}
    if unknown:
        raise ValueError(f"fields {sorted(unknown)} are not in the definition of message {definition.global_number}")
    payload = b"".join(_encode_field(f, values.get(f.number)) for f in definition.fields)
    return bytes([definition.local_type]) + payload


def _encode_field(field: Field, value) -> bytes:
    items = list(value) if field.count > 1 else [value]
    if len(items) > field.count:
        raise ValueError(f"field {field.number} holds {field.count} values, got {len(items)}")
    items += [None] * (field.count - len(items))
    return b"".join(struct.pack("<" + field.base.code, _checked(field, item)) for item in items)


def _checked(field: Field, item) -> int:
    if item is None:
        return field.base.invalid
    number = int(round(item))
    if not 0 <= number < (1 << (8 * field.base.size)):
        raise ValueError(f"value {item} does not fit field {field.number}")
    return number


def fit_file(records: bytes) -> bytes:
    """A whole FIT file around encoded messages: header (with CRC), messages, file CRC."""
    header = struct.pack("<BBHI4s", HEADER_SIZE, PROTOCOL_VERSION, PROFILE_VERSION, len(records), DATA_TYPE)
    header += struct.pack("<H", fit_crc(header))
    body = header + records
    return body + struct.pack("<H", fit_crc(body))
