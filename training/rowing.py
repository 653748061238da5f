"""Real rowing sessions from rowingdata's `testdata/` folder (its data, not its code).

The folder holds stroke logs of many ergometers and boat computers (Concept2 via PainSled and
ErgData, RowPro, SpeedCoach, BoatCoach, CrewNerd, SmartRow, RP3 ...), each in its own CSV
dialect, and some TCX files. This reader takes only what the heart-rate model needs: time, heart
rate, power, speed, stroke rate, and the device's own work/rest marks where it has them (a workout
state or interval-type column). A header row is found by its heart-rate column; columns are found
by name; times may be seconds, clock strings (h:mm:ss.t) or ISO dates.

Most devices log once a stroke (every 2-4 s), not once a second like a strap: heart rate and
effort are brought to 1 Hz by linear interpolation over gaps of at most MAX_GAP_S (a longer gap
stays a hole), so a rowing session looks to the features like a strap's 1 Hz recording.

One copy of each session: the folder holds several exports of the same row (rowingdata's own
`*_o.csv`, split parts, renamed copies); a session whose heart-rate trace repeats one already read
is skipped (`distinct_sessions`).
"""

from __future__ import annotations

import csv
import io
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from edge_models.recordings import Recording, RecordingError, read_recording

logger = logging.getLogger(__name__)

MAX_GAP_S = 10.0  # per-stroke samples further apart than this leave a hole, not a straight line
MIN_SESSION_S = 300.0  # shorter logs give too few windows (two minutes of history + one ahead)
MIN_HR_SHARE = 0.8  # of the session's seconds with a plausible heart rate; else no strap was worn
MS_STEP_MIN = 100.0  # a median step between strokes above this is in milliseconds, not seconds
RESET_S = 5.0  # time going back by more than this is a new piece's clock, not a glitch
MAX_POWER_W = 3000.0  # above this a power value is a device's "invalid" (65535), not a rower
HR_RANGE_BPM = (40.0, 230.0)  # a rowing heart rate; 0 or 255 is a device's "no strap"
EXPORT_SUFFIXES = ("_o.csv", "_out.csv", "_data.csv")  # rowingdata's own conversions of a file
SAME_ROW_LENGTH_SHARE = 0.1  # exports of one session last within 10 % of each other
SAME_ROW_MAX_SHIFT_S = 60  # and may start up to a minute apart
SAME_HR_BPM = 2.0  # median heart-rate difference of two exports of one session
SKIPPED_FILES = ("summary", "cumvalues", "part1", "part2")  # summaries and split copies

_COLUMNS = {  # what we need -> patterns of header names, tried in order (lower case)
    "time": (r"^elapsedtime \(sec\)$", r"^total elapsed time", r"^time \(sec", r"^time \[seconds\]$",
             r"^timestamp \(sec\)$", r"^second \(#\)$", r"^datetime$", r"^date$", r"^time$",
             r"^timestamp$", r"^elapsed time$", r"^total time since start", r"^elapsedtime$",
             r"^time\(sec\)$", r"^timestamp\(s\)$"),
    "hr": (r"hrcur", r"heart ?rate", r"^hr( \(bpm\))?$", r"^pulse$", r"heartrate"),
    "power": (r"^power \(watts\)$", r"^actual power", r"^stroke\.?watts$", r"^power$", r"^watts$",
              r"^strokepower$", r"^power \(w"),
    "speed": (r"^speed \(m/se?c?\)$", r"^speed \(m/s\)$", r"^speed \(gps\)$", r"^speed$", r"gps ?speed", r"^speed \[m"),
    "stroke_rate": (r"^cadence \(st", r"^stroke ?rate", r"^rate$", r"^spm", r"^rating$",
                    r"stroke rate \(spm\)", r"strokespermin"),
    "rest": (r"^workout state$", r"^intervaltype$", r"^workoutstate$"),
}


@dataclass(frozen=True)
class RowingRecording(Recording):
    """A rowing session as a Recording, with the device's own rest marks where it has them."""

    rest_1hz: np.ndarray | None = None  # 1 rest, 0 work at each second; None: no marks


@dataclass(frozen=True)
class RowingSession:
    """One rowing session at 1 Hz, as a Recording, with where it came from."""

    recording: Recording
    file: str
    rest_1hz: np.ndarray | None  # the device's own rest marks per second (1 rest, 0 work), if any


def read_rowing_file(path: Path) -> RowingSession:
    """One file of the folder as a 1 Hz session; RecordingError when it cannot serve."""
    path = Path(path)
    if path.suffix.lower() == ".tcx":
        return _from_recording(read_recording(path), path.name)
    header, rows = _table(path)
    columns = {need: _find(header, patterns) for need, patterns in _COLUMNS.items()}
    if columns["time"] is None or columns["hr"] is None:
        raise RecordingError(f"{path.name}: no time or heart-rate column")
    time_s = _times(rows, columns["time"])
    values = {need: _numbers(rows, columns[need]) for need in ("hr", "power", "speed", "stroke_rate")}
    rest = _rest_marks(rows, columns["rest"])
    return _session(path.name, time_s, values, rest)


def _table(path: Path) -> tuple[list[str], list[list[str]]]:
    """The header row with time and heart rate that heads the most rows (a file may also hold
    summary tables), and those rows."""
    lines = path.read_bytes().decode("utf-8-sig", errors="replace").splitlines()
    found = [(i, cells, d) for i, (cells, d) in enumerate(map(_cells, lines))
             if _find(cells, _COLUMNS["hr"]) is not None and _find(cells, _COLUMNS["time"]) is not None]
    if not found:
        raise RecordingError(f"{path.name}: no header row with time and heart rate")
    tables = []
    for k, (i, cells, delimiter) in enumerate(found):
        end = found[k + 1][0] if k + 1 < len(found) else len(lines)
        rows = list(csv.reader(io.StringIO("\n".join(lines[i + 1:end])), delimiter=delimiter))
        tables.append((cells, [r for r in rows if len(r) >= max(2, len(cells) // 2)]))
    return max(tables, key=lambda table: len(table[1]))


def _cells(line: str) -> tuple[list[str], str]:
    delimiter = ";" if line.count(";") > line.count(",") else ","
    return [c.strip().strip('"').lower() for c in next(csv.reader([line], delimiter=delimiter), [])], delimiter


def _find(header: list[str], patterns: tuple[str, ...]) -> int | None:
    for pattern in patterns:
        for i, name in enumerate(header):
            if re.search(pattern, name.strip()):
                return i
    return None


def _numbers(rows: list[list[str]], column: int | None) -> np.ndarray | None:
    if column is None:
        return None
    return np.array([_number(r[column]) if column < len(r) else np.nan for r in rows])


def _number(text: str) -> float:
    try:
        return float(text.strip().replace(",", ".")) if text.strip() else np.nan
    except ValueError:
        return np.nan


def _times(rows: list[list[str]], column: int) -> np.ndarray:
    cells = [r[column].strip() if column < len(r) else "" for r in rows]
    parsed = np.array([_seconds(c) for c in cells])
    if np.isfinite(parsed).sum() < 0.5 * len(cells):
        raise RecordingError("times not readable")
    steps = np.diff(parsed[np.isfinite(parsed)])
    if np.median(steps[steps > 0]) > MS_STEP_MIN:  # milliseconds (epoch or elapsed)
        parsed = parsed / 1000.0
    return _without_resets(parsed)


def _without_resets(time_s: np.ndarray) -> np.ndarray:
    """Times that restart at each interval (some ergometers log time within the piece) made
    continuous: each restart continues from where the last piece ended."""
    out, offset, last = time_s.copy(), 0.0, -np.inf
    for i, t in enumerate(time_s):
        if not np.isfinite(t):
            continue
        if t + offset < last - RESET_S:
            offset = last - t
        out[i] = t + offset
        last = out[i]
    return out


def _seconds(text: str) -> float:
    if not text:
        return np.nan
    value = _number(text) if ":" not in text else np.nan
    if np.isfinite(value):
        return value
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        pass
    parts = text.split(":")
    try:
        return sum(float(p) * 60 ** i for i, p in enumerate(reversed(parts)))
    except ValueError:
        return np.nan


def _rest_marks(rows: list[list[str]], column: int | None) -> np.ndarray | None:
    if column is None:
        return None
    words = [r[column].strip().lower() if column < len(r) else "" for r in rows]
    if not any("rest" in w for w in words):
        return None
    return np.array([1.0 if "rest" in w else 0.0 for w in words])


def _session(name: str, time_s: np.ndarray, values: dict[str, np.ndarray | None],
             rest: np.ndarray | None) -> RowingSession:
    ok = np.isfinite(time_s)
    order = np.argsort(time_s[ok], kind="stable")
    t = time_s[ok][order]
    t = t - t[0]
    grid = np.arange(0.0, np.floor(t[-1]) + 1.0)
    hr = values["hr"][ok][order]
    hr = np.where((hr >= HR_RANGE_BPM[0]) & (hr <= HR_RANGE_BPM[1]), hr, np.nan)
    if values["power"] is not None:
        values["power"] = np.where(values["power"] <= MAX_POWER_W, values["power"], np.nan)
    one_hz = {k: None if v is None else _to_1hz(t, v[ok][order], grid) for k, v in values.items()}
    rest_1hz = None if rest is None else _to_1hz(t, rest[ok][order], grid, step=True)
    one_hz["hr"] = _to_1hz(t, hr, grid)
    recording = RowingRecording(name=Path(name).stem, start_utc=None, time_s=grid, hr_bpm=one_hz["hr"],
                                speed_mps=one_hz["speed"], power_w=one_hz["power"],
                                cadence_rpm=one_hz["stroke_rate"], rr_s=None,
                                lap_starts_s=np.zeros(0), rest_1hz=rest_1hz)
    return _checked(RowingSession(recording, name, rest_1hz))


def _to_1hz(t: np.ndarray, v: np.ndarray, grid: np.ndarray, step: bool = False) -> np.ndarray:
    """Values at each whole second: linear between samples at most MAX_GAP_S apart (the last one
    before with `step`), NaN in longer gaps and outside the samples."""
    ok = np.isfinite(v)
    t, v = t[ok], v[ok]
    if t.size < 2:
        return np.full(grid.size, np.nan)
    t, first = np.unique(t, return_index=True)
    v = v[first]
    after = np.clip(np.searchsorted(t, grid, side="left"), 1, t.size - 1)
    gap = t[after] - t[after - 1]
    inside = (grid >= t[0]) & (grid <= t[-1]) & (gap <= MAX_GAP_S)
    out = (v[np.searchsorted(t, grid, side="right") - 1] if step else np.interp(grid, t, v))
    return np.where(inside, out, np.nan)


def _from_recording(recording: Recording, name: str) -> RowingSession:
    t = recording.time_s
    grid = np.arange(0.0, np.floor(t[-1]) + 1.0)
    columns = {k: None if getattr(recording, k) is None else _to_1hz(t, getattr(recording, k), grid)
               for k in ("hr_bpm", "speed_mps", "power_w", "cadence_rpm")}
    hr = columns["hr_bpm"]
    columns["hr_bpm"] = np.where((hr >= HR_RANGE_BPM[0]) & (hr <= HR_RANGE_BPM[1]), hr, np.nan)
    return _checked(RowingSession(RowingRecording(
        name=recording.name, start_utc=recording.start_utc, time_s=grid, rr_s=None,
        lap_starts_s=recording.lap_starts_s, **columns), name, None))


def _checked(session: RowingSession) -> RowingSession:
    recording = session.recording
    if recording.duration_s < MIN_SESSION_S:
        raise RecordingError(f"{session.file}: {recording.duration_s:.0f} s, too short")
    if np.isfinite(recording.hr_bpm).mean() < MIN_HR_SHARE:
        raise RecordingError(f"{session.file}: heart rate in too few seconds")
    return session


def rowing_files(folder: Path) -> list[Path]:
    """The session files of the folder, originals before rowingdata's own exports; no summaries."""
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".csv", ".tcx")
                   and not any(s in p.name.lower() for s in SKIPPED_FILES))
    # an export is read after every original: it counts only when its original is not here
    return sorted(files, key=lambda p: p.name.lower().endswith(EXPORT_SUFFIXES))


def distinct_sessions(folder: Path) -> list[RowingSession]:
    """Every usable session of the folder, each once."""
    kept: list[RowingSession] = []
    for path in rowing_files(folder):
        try:
            session = read_rowing_file(path)
        except (RecordingError, ValueError, IndexError) as exc:  # a dialect this reader skips
            logger.info("%s not used: %s", path.name, exc)
            continue
        twin = next((k.file for k in kept if _same_row(k.recording, session.recording)), None)
        if twin:
            logger.info("%s repeats %s; skipped", path.name, twin)
            continue
        kept.append(session)
    return kept


def _same_row(a: Recording, b: Recording) -> bool:
    """Two exports of one session: about as long, with the same heart-rate trace at some shift of
    at most SAME_ROW_MAX_SHIFT_S (exports cut the first strokes differently)."""
    if abs(a.duration_s - b.duration_s) > SAME_ROW_LENGTH_SHARE * max(a.duration_s, b.duration_s):
        return False
    return any(_same_trace(a.hr_bpm, b.hr_bpm, shift)
               for shift in range(-SAME_ROW_MAX_SHIFT_S, SAME_ROW_MAX_SHIFT_S + 1))


def _same_trace(a: np.ndarray, b: np.ndarray, shift: int) -> bool:
    a, b = (a[shift:], b) if shift >= 0 else (a, b[-shift:])
    n = min(a.size, b.size)
    both = np.isfinite(a[:n]) & np.isfinite(b[:n])
    return bool(both.sum() > 60 and np.median(np.abs(a[:n][both] - b[:n][both])) <= SAME_HR_BPM)
