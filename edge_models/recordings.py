"""Recorded training sessions read from files: FIT and TCX activities, and RR interval series.

One reader serves both the laptop (the replay heart-rate source) and the cloud (training windows
for the heart-rate model), so both see the same numbers from the same file.

A `Recording` is one athlete's activity as columns over time: seconds from the first sample,
heart rate in beats per minute (NaN where the strap gave nothing), and speed, power and cadence
where the device recorded them. Samples are sorted by time; a second sample at a time already seen
is dropped, so `time_s` is strictly increasing.

Real files are often damaged: a watch whose battery died leaves a FIT file cut short, a crash
leaves a bad checksum or a TCX file that stops mid-XML. Every sample read before the damage is
kept and `Recording.damage` says, in the coach's words, what was lost; only a file with no
readable heart-rate sample at all is a `RecordingError`. TCX is parsed with `defusedxml`,
incrementally, so the trackpoints before a malformed part survive.
"""

from __future__ import annotations

import functools
import logging
import struct
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import defusedxml.ElementTree as SafeET
import fitdecode
import numpy as np
from defusedxml import DefusedXmlException

from edge_models.assets import ASSETS, AssetMissing, asset_path

logger = logging.getLogger(__name__)

SWEAT_PACKAGE_PREFIX = "sweat=="  # the wheel whose example activities are our real recordings
RECORDING_SUFFIXES = (".fit", ".tcx")  # activity files we can read
MIN_VALID_HR_BPM = 1.0  # a strap sends 0 when it has lost contact: not a heart rate
MAX_VALID_HR_BPM = 254.0  # FIT's uint8 invalid value is 255
FIT_RR_INVALID_S = 65.535  # FIT hrv "time" uint16 0xFFFF (in 1/1000 s): padding, not a beat
MS_PER_S = 1000.0  # pyhrv's NN series are in milliseconds
# expat errors that mean "the text stops here": no element / unclosed token / partial character
XML_CUT_SHORT_CODES = (3, 5, 6)
# what a damaged FIT file makes fitdecode raise (struct.error and friends from a garbled header)
FIT_DECODE_FAILURES = (fitdecode.FitError, struct.error, ValueError, KeyError, IndexError, UnicodeDecodeError)


class RecordingError(ValueError):
    """A file cannot be used as a recording: unreadable, corrupt, or without any heart rate."""


class _MalformedValue(ValueError):
    """A value in a file that cannot be read: the file is damaged from there on."""


@dataclass(frozen=True)
class Recording:
    """One athlete's recorded activity, as columns over time from its first sample."""

    name: str  # file stem
    start_utc: datetime | None
    time_s: np.ndarray  # float64, seconds from start, 1 Hz-ish as recorded, strictly increasing
    hr_bpm: np.ndarray  # float64, NaN where missing
    speed_mps: np.ndarray | None  # None when the file has none at all; NaN where missing
    power_w: np.ndarray | None
    cadence_rpm: np.ndarray | None
    rr_s: np.ndarray | None  # RR/beat intervals in s if the file has them (FIT hrv), else None
    lap_starts_s: np.ndarray  # lap start times, seconds from start
    damage: str | None = None  # what a damaged file lost, for the coach; None when the file is whole

    @property
    def duration_s(self) -> float:
        """Seconds from the first to the last sample."""
        return float(self.time_s[-1] - self.time_s[0]) if len(self.time_s) else 0.0


@dataclass(frozen=True)
class _Damage:
    """Where reading stopped in a damaged file."""

    kind: str  # one of the keys of _DAMAGE_WORDS
    detail: str  # the decoder's own words, for the log


_DAMAGE_WORDS = {  # kind -> what the coach reads; {file}, {duration} and {samples} are filled in
    "cut_short": "{file} cut short after {duration}: {samples} samples kept, the rest of the file is unreadable",
    "unreadable_part": "{file} is damaged after {duration}: {samples} samples kept, the rest of the file is "
                       "unreadable",
    "bad_checksum": "{file} has a bad checksum: all {samples} samples ({duration}) kept, some values may be wrong",
    "trailing_data": "{file} has unreadable data after its end: all {samples} samples ({duration}) kept, "
                     "the extra data is ignored",
}


@dataclass
class _Rows:
    """Samples as read, before they become columns: (utc time, field name -> value)."""

    times: list[datetime]
    values: list[dict[str, float | None]]
    lap_starts: list[datetime]
    rr_s: list[float]
    damage: _Damage | None = None
    file_ended: bool = False  # the activity's own end was read (FIT checksum, TCX closing tag)


_CHANNELS = ("hr_bpm", "speed_mps", "power_w", "cadence_rpm")


def read_recording(path: Path) -> Recording:
    """Read a FIT or TCX activity; raise `RecordingError` saying why a file cannot be used."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in RECORDING_SUFFIXES:
        raise RecordingError(f"{path.name}: not a FIT or TCX file (suffix {suffix!r})")
    if not path.is_file():
        raise RecordingError(f"{path}: no such file")
    rows = _read_fit(path) if suffix == ".fit" else _read_tcx(path)
    recording = _to_recording(path, rows)
    if recording.damage:
        logger.info("%s (%s)", recording.damage, rows.damage.detail)
    return recording


def read_rr_series(path: Path) -> np.ndarray:
    """Read a pyhrv NN-interval series (.npy, milliseconds) as RR intervals in seconds."""
    path = Path(path)
    try:
        raw = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise RecordingError(f"{path.name}: not a readable .npy RR series ({exc})") from exc
    if raw.ndim != 1 or raw.size == 0 or not np.issubdtype(raw.dtype, np.number):
        raise RecordingError(f"{path.name}: expected a non-empty 1-D series of RR intervals in ms")
    rr_s = raw.astype(np.float64) / MS_PER_S
    if not np.all(np.isfinite(rr_s)) or np.any(rr_s <= 0):
        raise RecordingError(f"{path.name}: RR intervals must be finite and positive")
    return rr_s


def real_recordings() -> list[Path]:
    """The fetched real FIT/TCX activities that carry heart rate, longest first.

    Three of the TCX files are the same activities as three FIT files (same start, same samples);
    use `distinct_real_recordings` where a duplicate would leak between training and test sets.
    """
    return [path for path, _ in _summaries()]


def distinct_real_recordings() -> list[Path]:
    """`real_recordings` with each activity once (the FIT file where both FIT and TCX exist)."""
    seen: set[datetime | None] = set()
    distinct = []
    for path, start_utc in _summaries():
        if start_utc not in seen:
            seen.add(start_utc)
            distinct.append(path)
    return distinct


def _summaries() -> list[tuple[Path, datetime | None]]:
    """(path, start) of the fetched recordings with heart rate, longest first, FIT before TCX."""
    found = []
    for path in _fetched_sweat_files():
        stat = path.stat()
        summary = _cached_summary(str(path), stat.st_mtime_ns, stat.st_size)
        if summary is not None:
            found.append((summary[0], path.suffix.lower() != ".fit", path.name, path, summary[1]))
    found.sort(key=lambda row: (-row[0], row[1], row[2]))
    return [(row[3], row[4]) for row in found]


def _fetched_sweat_files() -> list[Path]:
    paths = []
    for asset in ASSETS:
        if asset.package.startswith(SWEAT_PACKAGE_PREFIX) and asset.name.endswith(RECORDING_SUFFIXES):
            try:
                paths.append(asset_path(asset.member))
            except AssetMissing:
                logger.info("recording %s not fetched; skipped", asset.name)
    return paths


@functools.lru_cache(maxsize=64)
def _cached_summary(path: str, mtime_ns: int, size: int) -> tuple[float, datetime | None] | None:
    """(duration, start) of a recording with heart rate, None without; keyed on the file's identity."""
    try:
        recording = read_recording(Path(path))
    except RecordingError as exc:
        logger.info("recording %s skipped: %s", Path(path).name, exc)
        return None
    return recording.duration_s, recording.start_utc


# ---------------------------------------------------------------------------------------- FIT

def _read_fit(path: Path) -> _Rows:
    """Every message up to the first damage; what stopped the reading is kept in `rows.damage`."""
    rows = _Rows([], [], [], [])
    frames_read = 0
    try:
        with fitdecode.FitReader(path, check_crc=fitdecode.CrcCheck.RAISE) as reader:
            for frame in reader:
                frames_read += 1
                if isinstance(frame, fitdecode.FitDataMessage):
                    _take_fit_message(frame, rows)
                rows.file_ended = rows.file_ended or isinstance(frame, fitdecode.FitCRC)
    except OSError as exc:
        raise RecordingError(f"{path.name}: cannot read ({exc})") from exc
    except FIT_DECODE_FAILURES as exc:
        rows.damage = _Damage(_fit_damage_kind(exc, rows.file_ended), f"{type(exc).__name__}: {exc}")
        if not frames_read:
            logger.info("%s: no FIT header (%s)", path.name, rows.damage.detail)
            raise RecordingError(f"{path.name}: not a readable FIT file, its header is damaged or missing") from exc
    return rows


def _fit_damage_kind(exc: Exception, file_ended: bool) -> str:
    if file_ended:
        return "trailing_data"
    if isinstance(exc, fitdecode.FitCRCError):
        return "bad_checksum"
    return "cut_short" if isinstance(exc, fitdecode.FitEOFError) else "unreadable_part"


def _take_fit_message(message: fitdecode.FitDataMessage, rows: _Rows) -> None:
    if message.name == "record":
        timestamp = _fit_value(message, "timestamp")
        if isinstance(timestamp, datetime):
            rows.times.append(timestamp)
            rows.values.append(_fit_record_values(message))
    elif message.name == "lap":
        start = _fit_value(message, "start_time")
        if isinstance(start, datetime):
            rows.lap_starts.append(start)
    elif message.name == "hrv":
        rows.rr_s.extend(_fit_hrv_times_s(message))


def _fit_value(message: fitdecode.FitDataMessage, name: str):
    return message.get_value(name, fallback=None) if message.has_field(name) else None


def _fit_record_values(message: fitdecode.FitDataMessage) -> dict[str, float | None]:
    speed = _fit_value(message, "enhanced_speed")
    if speed is None:
        speed = _fit_value(message, "speed")
    return {
        "hr_bpm": _number(_fit_value(message, "heart_rate")),
        "speed_mps": _number(speed),
        "power_w": _number(_fit_value(message, "power")),
        "cadence_rpm": _number(_fit_value(message, "cadence")),
    }


def _fit_hrv_times_s(message: fitdecode.FitDataMessage) -> list[float]:
    value = _fit_value(message, "time")
    values = value if isinstance(value, (tuple, list)) else (value,)
    return [float(v) for v in values if v is not None and 0 < float(v) < FIT_RR_INVALID_S]


def _number(value) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------------------------------- TCX

def _local(tag: str) -> str:
    """An XML tag without its namespace: TCX files spell namespaces in several ways."""
    return tag.rsplit("}", 1)[-1]


def _read_tcx(path: Path) -> _Rows:
    """Every Trackpoint up to the first malformed part, read as the XML streams in (defusedxml)."""
    rows = _Rows([], [], [], [])
    try:
        _read_tcx_events(path, rows)
    except OSError as exc:
        raise RecordingError(f"{path.name}: cannot read ({exc})") from exc
    except DefusedXmlException as exc:
        raise RecordingError(f"{path.name}: refused, the XML declares entities or a DTD ({exc!r})") from exc
    except ET.ParseError as exc:
        _tcx_damage(path, rows, _Damage(_xml_damage_kind(exc.code, rows.file_ended), f"XML error at line {exc.position[0]}: {exc}"))
    except _MalformedValue as exc:
        _tcx_damage(path, rows, _Damage("unreadable_part", str(exc)))
    return rows


def _xml_damage_kind(code: int, file_ended: bool) -> str:
    if file_ended:  # e.g. expat's "junk after document element": the activity itself is whole
        return "trailing_data"
    return "cut_short" if code in XML_CUT_SHORT_CODES else "unreadable_part"


def _tcx_damage(path: Path, rows: _Rows, damage: _Damage) -> None:
    rows.damage = damage
    if not rows.times:
        raise RecordingError(f"{path.name}: not a readable TCX file, no trackpoint before the damage "
                             f"({damage.detail})")


def _read_tcx_events(path: Path, rows: _Rows) -> None:
    root_seen = False
    for event, element in SafeET.iterparse(path, events=("start", "end")):
        name = _local(element.tag)
        if not root_seen:
            if name != "TrainingCenterDatabase":
                raise RecordingError(f"{path.name}: not a TCX file (root element {name})")
            root_seen = True
        elif event == "start" and name == "Lap" and element.get("StartTime"):
            rows.lap_starts.append(_parse_tcx_time(path, element.get("StartTime")))
        elif event == "end" and name == "Trackpoint":
            _take_trackpoint(path, element, rows)
            element.clear()  # a long ride need not stay in memory as a tree
        elif event == "end" and name == "TrainingCenterDatabase":
            rows.file_ended = True


def _take_trackpoint(path: Path, point: ET.Element, rows: _Rows) -> None:
    fields = {_local(child.tag): child for child in point}
    if "Time" not in fields or not (fields["Time"].text or "").strip():
        return
    rows.times.append(_parse_tcx_time(path, fields["Time"].text))
    extension = {_local(e.tag): e.text for e in point.iter() if _local(e.tag) in ("Speed", "Watts", "RunCadence")}
    hr_element = fields.get("HeartRateBpm")
    hr_text = None if hr_element is None else _child_text(hr_element, "Value")
    cadence_element = fields.get("Cadence")
    cadence = cadence_element.text if cadence_element is not None else extension.get("RunCadence")
    rows.values.append({
        "hr_bpm": _number(hr_text),
        "speed_mps": _number(extension.get("Speed")),
        "power_w": _number(extension.get("Watts")),
        "cadence_rpm": _number(cadence),
    })


def _child_text(element: ET.Element, name: str) -> str | None:
    for child in element:
        if _local(child.tag) == name:
            return child.text
    return None


def _parse_tcx_time(path: Path, text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise _MalformedValue(f"{path.name}: bad time {text!r} in TCX file") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


# ------------------------------------------------------------------------------------ columns

def _to_recording(path: Path, rows: _Rows) -> Recording:
    order = _increasing_order(rows.times)
    if not order:
        raise RecordingError(f"{path.name}: no timestamped samples{_before_damage(rows)}")
    start = rows.times[order[0]]
    time_s = np.array([(rows.times[i] - start).total_seconds() for i in order], dtype=np.float64)
    columns = {key: _column([rows.values[i].get(key) for i in order]) for key in _CHANNELS}
    hr_bpm = _clean_hr(columns["hr_bpm"])
    if hr_bpm is None or not np.any(np.isfinite(hr_bpm)):
        raise RecordingError(f"{path.name}: the file has no heart rate{_before_damage(rows)}")
    laps = sorted({(lap - start).total_seconds() for lap in rows.lap_starts})
    return Recording(
        name=path.stem,
        start_utc=start.astimezone(timezone.utc),
        time_s=time_s,
        hr_bpm=hr_bpm,
        speed_mps=columns["speed_mps"],
        power_w=columns["power_w"],
        cadence_rpm=columns["cadence_rpm"],
        rr_s=np.array(rows.rr_s, dtype=np.float64) if rows.rr_s else None,
        lap_starts_s=np.array(laps, dtype=np.float64),
        damage=_damage_words(path, rows.damage, time_s, hr_bpm),
    )


def _before_damage(rows: _Rows) -> str:
    return "" if rows.damage is None else f" before the damage ({rows.damage.detail})"


def _damage_words(path: Path, damage: _Damage | None, time_s: np.ndarray, hr_bpm: np.ndarray) -> str | None:
    """What the coach reads about a damaged file, e.g. 'ride.fit cut short after 3 h 58 min: ...'."""
    if damage is None:
        return None
    with_hr = np.isfinite(hr_bpm)
    kept_s = float(time_s[with_hr][-1]) if np.any(with_hr) else 0.0
    return _DAMAGE_WORDS[damage.kind].format(
        file=path.name, duration=spoken_duration(kept_s), samples=spoken_count(int(np.sum(with_hr))))


def spoken_duration(seconds: float) -> str:
    """A duration as a coach says it: '3 h 58 min', '12 min 5 s', '45 s'."""
    whole_s = int(round(seconds))
    hours, rest_s = divmod(whole_s, 3600)
    minutes, secs = divmod(rest_s, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def spoken_count(count: int) -> str:
    """A count with spaces between thousands, as printed for people: 14 391."""
    return f"{count:,}".replace(",", " ")


def _increasing_order(times: list[datetime]) -> list[int]:
    """Indices of samples sorted by time, keeping the first sample at each time."""
    order = sorted(range(len(times)), key=lambda i: times[i])
    kept: list[int] = []
    for i in order:
        if not kept or times[i] > times[kept[-1]]:
            kept.append(i)
    return kept


def _column(values: list[float | None]) -> np.ndarray | None:
    """A float64 column with NaN for missing values; None when no value is present at all."""
    if all(v is None for v in values):
        return None
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def _clean_hr(hr_bpm: np.ndarray | None) -> np.ndarray | None:
    if hr_bpm is None:
        return None
    valid = (hr_bpm >= MIN_VALID_HR_BPM) & (hr_bpm <= MAX_VALID_HR_BPM)
    return np.where(valid, hr_bpm, np.nan)
