"""Export one athlete of a session as a FIT activity file, encoded by Garmin's FIT SDK.

`garmin_fit_sdk.Encoder` writes the file header, the message definitions, the values in FIT's
units (it applies each field's scale from the FIT profile: speed in m/s, RR and times in s) and
both CRCs; this module only says which messages an activity holds. Messages, in order: file_id; a
timer-start event; for each sample a record (timestamp, heart rate, and cadence, speed, power when
known) followed by hrv messages carrying that sample's RR intervals (five to a message, as Garmin
devices write them); a lap message at the end of each lap; a timer-stop event; one session; one
activity. A field with no value is left out of its message (FIT's way of saying "not measured").
"""

from __future__ import annotations

import zlib
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable

from garmin_fit_sdk import Encoder, Profile

from edge_models.durable import write_file_atomically
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

MESG_NUM = Profile["mesg_num"]  # message name (FILE_ID, RECORD, ...) -> global message number
PRODUCT_ID = 1  # our own product number under manufacturer "development"
RR_PER_HRV_MESSAGE = 5  # hrv "time" array length, as Garmin devices write it
MAX_FIT_HR_BPM = 254  # uint8, 255 is "invalid"
MAX_FIT_CADENCE_RPM = 254
UINT32_MASK = 0xFFFFFFFF

Stamp = Callable[[float], datetime]  # monotonic time of this athlete -> wall-clock time, whole seconds


def export_fit(session: ExportSession, path: Path, channel: str) -> Path:
    """Write one athlete (`channel`) of the session to `path` as a FIT activity; returns the path."""
    check_session(session)
    athlete = session.athlete(channel)
    if not athlete.samples:
        raise ExportError(f"channel {channel!r} has no heart-rate samples to export as FIT "
                          "(none were received, or the athlete's consent to storage was withdrawn)")
    encoder = Encoder()
    try:
        for message in _activity_messages(session, athlete):
            encoder.write_mesg(message)
    except ValueError as exc:  # the SDK refuses a value its field cannot hold
        raise ExportError(f"channel {channel!r} cannot be written as FIT: {exc}") from exc
    return write_file_atomically(Path(path), encoder.close())


def _message(name: str, **fields) -> dict:
    """A message for the SDK encoder, without the fields that have no value."""
    return {"mesg_num": MESG_NUM[name], **{k: v for k, v in fields.items() if v is not None}}


def _activity_messages(session: ExportSession, athlete: ExportAthlete) -> list[dict]:
    stamp = _stamper(session, athlete)
    samples = ordered_samples(athlete)
    start, end = samples[0].t_mono_s, samples[-1].t_mono_s
    out = [_message("FILE_ID", type="activity", manufacturer="development", product=PRODUCT_ID,
                    serial_number=_serial(session.session_id, athlete.channel), time_created=stamp(start)),
           _message("EVENT", timestamp=stamp(start), event="timer", event_type="start")]
    laps = laps_of(athlete)
    for index, lap in enumerate(laps):
        out.extend(_sample_messages(lap, stamp))
        out.append(_lap_message(lap, index, stamp))
    out.append(_message("EVENT", timestamp=stamp(end), event="timer", event_type="stop_all"))
    out.append(_session_message(samples, len(laps), stamp))
    out.append(_message("ACTIVITY", timestamp=stamp(end), total_timer_time=end - start, num_sessions=1,
                        type="manual", event="activity", event_type="stop"))
    return out


def _sample_messages(lap: Lap, stamp: Stamp) -> list[dict]:
    out = []
    for sample in lap.samples:
        out.append(_message(
            "RECORD", timestamp=stamp(sample.t_mono_s), heart_rate=min(MAX_FIT_HR_BPM, sample.hr_bpm),
            cadence=None if sample.cadence_rpm is None else min(MAX_FIT_CADENCE_RPM, round(sample.cadence_rpm)),
            speed=sample.speed_mps, power=None if sample.power_w is None else round(sample.power_w)))
        rr_s = [float(rr) for rr in sample.rr_intervals_s]
        for i in range(0, len(rr_s), RR_PER_HRV_MESSAGE):
            out.append(_message("HRV", time=rr_s[i:i + RR_PER_HRV_MESSAGE]))
    return out


def _lap_message(lap: Lap, index: int, stamp: Stamp) -> dict:
    hr_values = [s.hr_bpm for s in lap.samples]
    elapsed_s = lap.end_mono_s - lap.start_mono_s
    return _message(
        "LAP", timestamp=stamp(lap.end_mono_s), message_index=index, event="lap", event_type="stop",
        start_time=stamp(lap.start_mono_s), total_elapsed_time=elapsed_s, total_timer_time=elapsed_s,
        avg_heart_rate=_average(hr_values), max_heart_rate=max(hr_values) if hr_values else None)


def _session_message(samples, lap_count: int, stamp: Stamp) -> dict:
    hr_values = [s.hr_bpm for s in samples]
    start, end = samples[0].t_mono_s, samples[-1].t_mono_s
    return _message(
        "SESSION", timestamp=stamp(end), event="session", event_type="stop", start_time=stamp(start),
        sport="generic", total_elapsed_time=end - start, total_timer_time=end - start,
        avg_heart_rate=_average(hr_values), max_heart_rate=max(hr_values), first_lap_index=0, num_laps=lap_count)


def _stamper(session: ExportSession, athlete: ExportAthlete) -> Stamp:
    """Monotonic time of this athlete -> UTC time rounded to the nearest second (FIT's date_time)."""
    def stamp(t_mono_s: float) -> datetime:
        moment = wall_time(session, athlete, t_mono_s)
        return (moment + timedelta(milliseconds=500)).replace(microsecond=0)
    return stamp


def _average(values: list[int]) -> int | None:
    return round(sum(values) / len(values)) if values else None


def _serial(session_id: str, channel: str) -> int:
    """A stable non-zero serial number for this athlete's file (uint32z: 0 means none)."""
    return zlib.crc32(f"{session_id}/{channel}".encode()) & UINT32_MASK or 1
