"""What the store checks before it accepts an event, so a bad event is refused at once, never mid-batch.

Each stored event type has a rule per field: the column's NOT NULL, a finite time, a heart rate
the Heart Rate Measurement characteristic can carry, RR intervals that are real durations. A
refusal is an `UnstorableEvent` naming the event type and the field; it never quotes a value
(heart rate and RR are health data), only the type of what was given.
"""

from __future__ import annotations

import math
import numbers
from pathlib import PurePath, PurePosixPath
from typing import Callable

from desktop.sources.events import ChannelOpened, FeedbackEvent, Marker, SignalGap, SourceProblem, StreamEnded
from desktop.sources.heart_rate.base import HeartRateSample, SensorContact
from desktop.store import rows
from desktop.store.models import UnstorableEvent, VideoSegment

HR_BPM_MAX = 255  # the most a strap reports in the UINT8 format; no human heart beats faster
RR_S_MAX = 65535 / 1024  # the longest RR interval the standard can carry (UINT16 in 1/1024 s)
ENERGY_KJ_MAX = 65535  # Energy Expended is a UINT16 in kJ; the strap saturates there
SENSOR_CONTACT_VALUES = frozenset(int(c) for c in SensorContact)

Rule = Callable[[object], "str | None"]
"""A field rule: None when the value can be stored, else what the field must be."""


# -- field rules --------------------------------------------------------------------------------

def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _is_whole(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _name(value: object) -> str | None:
    return None if isinstance(value, str) and value.strip() else "must be a non-empty string"


def _text(value: object) -> str | None:
    return None if isinstance(value, str) else "must be a string"


def _time_s(value: object) -> str | None:
    return None if _is_number(value) and math.isfinite(value) else "must be a finite number of seconds"


def _finite(value: object) -> str | None:
    return None if _is_number(value) and math.isfinite(value) else "must be a finite number"


def _hr_bpm(value: object) -> str | None:
    if _is_whole(value) and 0 <= value <= HR_BPM_MAX:
        return None
    return f"must be a whole number of beats per minute from 0 to {HR_BPM_MAX}"


def _rr_intervals_s(value: object) -> str | None:
    wanted = f"must be a tuple of finite RR intervals above 0 and up to {RR_S_MAX:.0f} s"
    if not isinstance(value, (tuple, list)):
        return wanted
    ok = all(_is_number(rr) and math.isfinite(rr) and 0 < rr <= RR_S_MAX for rr in value)
    return None if ok else wanted


def _sensor_contact(value: object) -> str | None:
    if _is_whole(value) and int(value) in SENSOR_CONTACT_VALUES:
        return None
    return "must be a SensorContact"


def _energy_kj(value: object) -> str | None:
    if _is_whole(value) and 0 <= value <= ENERGY_KJ_MAX:
        return None
    return f"must be a whole number of kJ from 0 to {ENERGY_KJ_MAX}"


def _count(value: object) -> str | None:
    return None if _is_whole(value) and value >= 0 else "must be a whole number, 0 or more"


def _rate(value: object) -> str | None:
    return None if _is_number(value) and math.isfinite(value) and value > 0 else "must be a finite number above 0"


def _flag(value: object) -> str | None:
    return None if isinstance(value, bool) else "must be True or False"


def _payload(value: object) -> str | None:
    if not isinstance(value, dict):
        return "must be a dict"
    try:
        rows.payload_json(value)
    except TypeError as exc:
        return str(exc)
    return None


def _relative_path(value: object) -> str | None:
    if not isinstance(value, (str, PurePath)) or not str(value):
        return "must be a path"
    path = PurePosixPath(value)
    if path.is_absolute() or ".." in path.parts:
        return "must be relative to the data directory"
    return None


def _optional(rule: Rule) -> Rule:
    return lambda value: None if value is None else rule(value)


# -- rules per event type -----------------------------------------------------------------------

FIELD_RULES: dict[type, tuple[tuple[str, Rule], ...]] = {
    HeartRateSample: (("channel", _name), ("t_mono_s", _time_s), ("hr_bpm", _hr_bpm),
                      ("rr_intervals_s", _rr_intervals_s), ("sensor_contact", _sensor_contact),
                      ("energy_expended_kj", _optional(_energy_kj)), ("speed_mps", _optional(_finite)),
                      ("power_w", _optional(_finite)), ("cadence_rpm", _optional(_finite))),
    SignalGap: (("channel", _name), ("start_mono_s", _time_s), ("end_mono_s", _time_s), ("reason", _name)),
    SourceProblem: (("channel", _name), ("t_mono_s", _time_s), ("kind", _name), ("message", _text),
                    ("fatal", _flag)),
    StreamEnded: (("channel", _name), ("t_mono_s", _time_s)),
    Marker: (("t_mono_s", _time_s), ("kind", _name), ("text", _text), ("channel", _optional(_name))),
    FeedbackEvent: (("channel", _name), ("t_mono_s", _time_s), ("model_name", _name), ("model_version", _name),
                    ("kind", _name), ("payload", _payload)),
    ChannelOpened: (("channel", _name), ("display_name", _text), ("t_mono_s", _time_s)),
    VideoSegment: (("path", _relative_path), ("start_mono_s", _time_s), ("end_mono_s", _time_s),
                   ("frame_count", _count), ("fps", _rate), ("codec", _name), ("sha256", _text),
                   ("closed", _flag)),
}


def _ends_after_start(event: SignalGap | VideoSegment) -> str | None:
    if event.end_mono_s >= event.start_mono_s:
        return None
    return "end_mono_s must not be before start_mono_s"


EVENT_RULES: dict[type, Callable[[object], "str | None"]] = {
    SignalGap: _ends_after_start,
    VideoSegment: _ends_after_start,
}
"""Rules across fields, checked once every field is sound."""


def check_storable(event: object) -> None:
    """Raise UnstorableEvent, before anything is written, for an event the store would not keep whole."""
    kind = type(event)
    if kind not in rows.INSERTERS:
        accepted = ", ".join(t.__name__ for t in rows.INSERTERS)
        raise UnstorableEvent(f"the store does not keep {kind.__name__} events; it keeps {accepted}")
    problem = _field_problem(event) or _across_problem(event)
    if problem is not None:
        raise UnstorableEvent(f"a {kind.__name__} cannot be stored: {problem}")


def _field_problem(event: object) -> str | None:
    for field, rule in FIELD_RULES.get(type(event), ()):
        value = getattr(event, field)
        wanted = rule(value)
        if wanted is not None:
            return f"{field} {wanted} (given {_kind_of(value)})"
    return None


def _across_problem(event: object) -> str | None:
    rule = EVENT_RULES.get(type(event))
    return None if rule is None else rule(event)


def _kind_of(value: object) -> str:
    """What was given, by its type only: a value may be a heart rate, which is never shown."""
    if value is None:
        return "None"
    if _is_number(value) and not math.isfinite(value):
        return "a non-finite number"
    return f"a {type(value).__name__}"
