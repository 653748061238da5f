"""Export one athlete of a session as a FIT activity file, with our own encoder (fit_encoder).

Messages, in order: file_id; a timer-start event; for each sample a record (timestamp, heart
rate, and cadence, speed, power when known) followed by hrv messages carrying that sample's RR
intervals (five to a message, in 1/1000 s, 0xFFFF padding); a lap message at the end of each lap;
a timer-stop event; one session; one activity.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from edge_models.durable import write_file_atomically
from desktop.export.fit_encoder import (
    ENUM,
    UINT8,
    UINT16,
    UINT32,
    UINT32Z,
    Field,
    MessageDefinition,
    encode_data,
    encode_definition,
    fit_crc,
    fit_file,
    fit_timestamp,
)
from desktop.export.session import (
    ExportAthlete,
    ExportError,
    ExportSession,
    Lap,
    check_session,
    laps_of,
    ordered_samples,
    wall_time,
)

FILE_TYPE_ACTIVITY = 4  # file enum: activity
MANUFACTURER_DEVELOPMENT = 255  # manufacturer enum: development
PRODUCT_ID = 1  # our own product number under "development"
EVENT_TIMER, EVENT_SESSION, EVENT_LAP, EVENT_ACTIVITY = 0, 8, 9, 26  # event enum
EVENT_TYPE_START, EVENT_TYPE_STOP, EVENT_TYPE_STOP_ALL = 0, 1, 4  # event_type enum
SPORT_GENERIC = 0  # sport enum
ACTIVITY_MANUAL = 0  # activity enum
RR_PER_HRV_MESSAGE = 5  # hrv "time" array length, as Garmin devices write it
MS_PER_S = 1000  # FIT scale of hrv time, lap and session times (1/1000 s)
SPEED_SCALE = 1000  # FIT record speed is in 1/1000 m/s
MAX_FIT_HR_BPM = 254  # uint8, 255 is "invalid"
MAX_FIT_CADENCE_RPM = 254

TIMESTAMP = 253  # field number of "timestamp" in every message that has one
FILE_ID = MessageDefinition(0, 0, (Field(0, ENUM), Field(1, UINT16), Field(2, UINT16), Field(3, UINT32Z),
                                   Field(4, UINT32)))
EVENT = MessageDefinition(21, 1, (Field(TIMESTAMP, UINT32), Field(0, ENUM), Field(1, ENUM)))
RECORD = MessageDefinition(20, 2, (Field(TIMESTAMP, UINT32), Field(3, UINT8), Field(4, UINT8), Field(6, UINT16),
                                   Field(7, UINT16)))
HRV = MessageDefinition(78, 3, (Field(0, UINT16, RR_PER_HRV_MESSAGE),))
LAP = MessageDefinition(19, 4, (Field(TIMESTAMP, UINT32), Field(254, UINT16), Field(0, ENUM), Field(1, ENUM),
                                Field(2, UINT32), Field(7, UINT32), Field(8, UINT32), Field(15, UINT8),
                                Field(16, UINT8)))
SESSION = MessageDefinition(18, 5, (Field(TIMESTAMP, UINT32), Field(0, ENUM), Field(1, ENUM), Field(2, UINT32),
                                    Field(5, ENUM), Field(7, UINT32), Field(8, UINT32), Field(16, UINT8),
                                    Field(17, UINT8), Field(25, UINT16), Field(26, UINT16)))
ACTIVITY = MessageDefinition(34, 6, (Field(TIMESTAMP, UINT32), Field(0, UINT32), Field(1, UINT16), Field(2, ENUM),
                                     Field(3, ENUM), Field(4, ENUM)))
ALL_DEFINITIONS = (FILE_ID, EVENT, RECORD, HRV, LAP, SESSION, ACTIVITY)


def export_fit(session: ExportSession, path: Path, channel: str) -> Path:
    """Write one athlete (`channel`) of the session to `path` as a FIT activity; returns the path."""
    check_session(session)
    athlete = session.athlete(channel)
    if not athlete.samples:
        raise ExportError(f"channel {channel!r} has no heart-rate samples to export")
    messages = b"".join(encode_definition(d) for d in ALL_DEFINITIONS)
    messages += _activity_messages(session, athlete)
    return write_file_atomically(Path(path), fit_file(messages))


def _activity_messages(session: ExportSession, athlete: ExportAthlete) -> bytes:
    stamp = _stamper(session, athlete)
    samples = ordered_samples(athlete)
    start, end = samples[0].t_mono_s, samples[-1].t_mono_s
    out = [encode_data(FILE_ID, {0: FILE_TYPE_ACTIVITY, 1: MANUFACTURER_DEVELOPMENT, 2: PRODUCT_ID,
                                 3: _serial(session.session_id, athlete.channel), 4: stamp(start)}),
           encode_data(EVENT, {TIMESTAMP: stamp(start), 0: EVENT_TIMER, 1: EVENT_TYPE_START})]
    laps = laps_of(athlete)
    for index, lap in enumerate(laps):
        out.extend(_sample_messages(lap, stamp))
        out.append(_lap_message(lap, index, stamp))
    out.append(encode_data(EVENT, {TIMESTAMP: stamp(end), 0: EVENT_TIMER, 1: EVENT_TYPE_STOP_ALL}))
    out.append(_session_message(samples, len(laps), stamp))
    out.append(encode_data(ACTIVITY, {TIMESTAMP: stamp(end), 0: _ms(end - start), 1: 1, 2: ACTIVITY_MANUAL,
                                      3: EVENT_ACTIVITY, 4: EVENT_TYPE_STOP}))
    return b"".join(out)


def _sample_messages(lap: Lap, stamp) -> list[bytes]:
    out = []
    for sample in lap.samples:
        out.append(encode_data(RECORD, {
            TIMESTAMP: stamp(sample.t_mono_s),
            3: min(MAX_FIT_HR_BPM, sample.hr_bpm),
            4: None if sample.cadence_rpm is None else min(MAX_FIT_CADENCE_RPM, sample.cadence_rpm),
            6: None if sample.speed_mps is None else sample.speed_mps * SPEED_SCALE,
            7: sample.power_w,
        }))
        rr_ms = [rr * MS_PER_S for rr in sample.rr_intervals_s]
        for i in range(0, len(rr_ms), RR_PER_HRV_MESSAGE):
            out.append(encode_data(HRV, {0: rr_ms[i:i + RR_PER_HRV_MESSAGE]}))
    return out


def _lap_message(lap: Lap, index: int, stamp) -> bytes:
    hr_values = [s.hr_bpm for s in lap.samples]
    elapsed_ms = _ms(lap.end_mono_s - lap.start_mono_s)
    return encode_data(LAP, {
        TIMESTAMP: stamp(lap.end_mono_s), 254: index, 0: EVENT_LAP, 1: EVENT_TYPE_STOP,
        2: stamp(lap.start_mono_s), 7: elapsed_ms, 8: elapsed_ms,
        15: _average(hr_values), 16: max(hr_values) if hr_values else None,
    })


def _session_message(samples, lap_count: int, stamp) -> bytes:
    hr_values = [s.hr_bpm for s in samples]
    start, end = samples[0].t_mono_s, samples[-1].t_mono_s
    return encode_data(SESSION, {
        TIMESTAMP: stamp(end), 0: EVENT_SESSION, 1: EVENT_TYPE_STOP, 2: stamp(start), 5: SPORT_GENERIC,
        7: _ms(end - start), 8: _ms(end - start), 16: _average(hr_values), 17: max(hr_values),
        25: 0, 26: lap_count,
    })


def _stamper(session: ExportSession, athlete: ExportAthlete) -> Callable[[float], int]:
    """Monotonic time of this athlete -> FIT timestamp."""
    def stamp(t_mono_s: float) -> int:
        return fit_timestamp(wall_time(session, athlete, t_mono_s))
    return stamp


def _ms(seconds: float) -> int:
    return round(seconds * MS_PER_S)


def _average(values: list[int]) -> int | None:
    return round(sum(values) / len(values)) if values else None


def _serial(session_id: str, channel: str) -> int:
    """A stable non-zero serial number for this athlete's file (uint32z: 0 means none)."""
    return (fit_crc(session_id.encode()) << 16 | fit_crc(channel.encode())) or 1
