"""Heart-rate training windows from real recordings, split by recording (never by window).

Windows of one recording overlap and share an athlete and a day: a held-out window must come from a
recording the model never saw, else the score flatters the model.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge_models.features.effort import recording_effort
from edge_models.features.hr import (WINDOW_S, HrWindows, one_hz_grid, recording_windows,
                                     sample_and_hold, without_plan)
from edge_models.features.plan import IntervalPlan, segments_plan
from edge_models.recordings import Recording, read_recording

logger = logging.getLogger(__name__)

TRAIN_STRIDE_S = 2  # one training window every 2 s: neighbours at 1 s are near copies
EVAL_STRIDE_S = 1  # every second of a held-out recording is scored
COLD_START_HISTORIES_S = (20, 40, 60, 90)  # cold-start histories trained and scored (first 2 min)
COLD_TRAIN_STRIDE_S = 10  # one cold-start window every 10 s per history: ~0.8x the full windows
COLD_EVAL_STRIDE_S = 5  # held-out cold-start windows every 5 s per history: ~0.8x the full ones
VALIDATION_FRACTION = 0.2  # the last fifth of each training recording picks the epoch to keep
VALIDATION_GAP_S = 180  # window plus horizon: no fitting window overlaps a validation one
WINDOW_FIELDS = ("inputs", "targets", "hr_now_bpm", "end_s", "in_recovery", "history_s",
                 "in_transition")


@dataclass(frozen=True)
class RecordingWindows:
    """The windows of one recording, with where its effort channel came from."""

    name: str
    effort_source: str  # "power", "speed", "cadence" or "none"
    windows: HrWindows


def windows_of(recording: Recording, stride_s: int,
               cold_stride_s: int | None = None) -> RecordingWindows:
    """Full windows every `stride_s`; with `cold_stride_s`, cold-start windows of every
    COLD_START_HISTORIES_S length too, all in time order (the time-block split relies on it)."""
    effort, source = recording_effort(recording.power_w, recording.speed_mps, recording.cadence_rpm)
    plan = session_plan(recording, effort)
    parts = [recording_windows(recording.time_s, recording.hr_bpm, effort, stride_s, plan=plan)]
    if cold_stride_s is not None:
        parts += [recording_windows(recording.time_s, recording.hr_bpm, effort, cold_stride_s,
                                    history_s=h, plan=plan) for h in COLD_START_HISTORIES_S]
    windows = concat(parts)
    return RecordingWindows(recording.name, source,
                            subset(windows, np.argsort(windows.end_s, kind="stable")))


def session_plan(recording: Recording, effort: np.ndarray | None) -> IntervalPlan:
    """A session's own plan: the device's rest marks where it has them, else the work/rest
    segments of its effort (seconds from the recording's start, like its windows)."""
    grid = one_hz_grid(recording.time_s)
    rest = getattr(recording, "rest_1hz", None)
    if rest is not None:
        return IntervalPlan.from_1hz(1.0 - np.nan_to_num(rest, nan=0.0), t0_s=grid[0])
    if effort is None:
        return IntervalPlan((), ())
    return segments_plan(np.nan_to_num(sample_and_hold(recording.time_s, effort, grid), nan=0.0))


def training_windows(recording: Recording) -> RecordingWindows:
    """What a model trains on: full windows and cold-start windows of one recording, every
    other one without its plan (the model must forecast without one too)."""
    found = windows_of(recording, TRAIN_STRIDE_S, COLD_TRAIN_STRIDE_S)
    inputs = found.windows.inputs.copy()
    inputs[1::2] = without_plan(inputs[1::2])
    return RecordingWindows(found.name, found.effort_source,
                            HrWindows(inputs, *(getattr(found.windows, f) for f in WINDOW_FIELDS[1:])))


def held_out_windows(recording: Recording) -> RecordingWindows:
    """What a model is scored on: every full window, and cold-start windows every 5 s."""
    return windows_of(recording, EVAL_STRIDE_S, COLD_EVAL_STRIDE_S)


def corpus() -> list[Recording]:
    """Every real session we train and score on: the sweat activities and the rowing sessions."""
    from edge_models.assets import source_folder
    from edge_models.recordings import distinct_real_recordings
    from training.rowing import distinct_sessions

    rowing = [s.recording for s in distinct_sessions(source_folder("rowingdata"))]
    return distinct_recordings(distinct_real_recordings()) + rowing


def distinct_recordings(paths: list[Path]) -> list[Recording]:
    """Read each file once per activity: the same ride exported as FIT and TCX counts once."""
    seen: set[object] = set()
    kept = []
    for path in paths:
        recording = read_recording(path)
        key = (recording.start_utc, round(recording.duration_s))
        if key in seen:
            logger.info("%s repeats an activity already read; skipped", path.name)
            continue
        seen.add(key)
        kept.append(recording)
    return kept


def concat(parts: list[HrWindows]) -> HrWindows:
    """One set of windows from several recordings."""
    return HrWindows(*(np.concatenate([getattr(p, f) for p in parts])
                       for f in WINDOW_FIELDS))


@dataclass(frozen=True)
class HrSplit:
    """Training windows and held-out windows from recordings the model never saw."""

    train: HrWindows
    test: HrWindows
    train_names: tuple[str, ...]
    test_names: tuple[str, ...]


def leave_out(recordings: list[Recording], holdout: str) -> HrSplit:
    """Train on every recording but `holdout`, test on `holdout` (a recording name)."""
    names = [r.name for r in recordings]
    if holdout not in names:
        raise ValueError(f"no recording named {holdout!r}; have {names}")
    train = [training_windows(r) for r in recordings if r.name != holdout]
    test = [held_out_windows(r) for r in recordings if r.name == holdout]
    return split_from(train + test, test, holdout)


def split_from(train: list[RecordingWindows], test: list[RecordingWindows], holdout: str) -> HrSplit:
    """The split holding out `holdout` from windows already built (each recording's once)."""
    train = [t for t in train if len(t.windows) and t.name != holdout]
    test = [t for t in test if t.name == holdout]
    return HrSplit(concat([t.windows for t in train]), concat([t.windows for t in test]),
                   tuple(t.name for t in train), (holdout,))


def whole_split(train: list[RecordingWindows], test: list[RecordingWindows]) -> HrSplit:
    """Train on every recording; the "test" side is every recording again (at the held-out stride).

    For a shipped model only: its held-out figures come from the leave-one-out folds."""
    names = tuple(t.name for t in train if len(t.windows))
    return HrSplit(concat([t.windows for t in train if len(t.windows)]),
                   concat([t.windows for t in test if len(t.windows)]), names, names)


def recording_folds(test: list[RecordingWindows]) -> list[str]:
    """Names of the recordings (their held-out windows) that give any full window: each is held
    out once."""
    return [t.name for t in test if (~t.windows.cold_start).any()]


def time_block_split(windows: HrWindows, ends_by_recording: np.ndarray,
                     fraction: float = VALIDATION_FRACTION) -> tuple[np.ndarray, np.ndarray]:
    """(fit, validation) indices: the last `fraction` of each recording's time validates.

    Windows whose history or future reaches into the validation block are dropped from both:
    neighbouring windows overlap, and a shuffled split would score the model on near copies.
    `ends_by_recording` numbers each window's recording (0, 1, ...).
    """
    fit, validation = [], []
    for label in np.unique(ends_by_recording):
        idx = np.flatnonzero(ends_by_recording == label)
        end_s = windows.end_s[idx]
        cut_s = end_s.min() + (1.0 - fraction) * (end_s.max() - end_s.min())
        fit.append(idx[end_s < cut_s - VALIDATION_GAP_S])
        validation.append(idx[end_s >= cut_s])
    return np.concatenate(fit), np.concatenate(validation)


def recording_labels(windows: HrWindows) -> np.ndarray:
    """Which recording each window of a `concat` came from: end_s restarts at each one."""
    return np.concatenate([[0], np.cumsum(np.diff(windows.end_s) < 0)]) if len(windows) else \
        np.zeros(0, dtype=np.int64)


def subset(windows: HrWindows, idx: np.ndarray) -> HrWindows:
    """The windows at `idx`."""
    return HrWindows(*(getattr(windows, f)[idx] for f in WINDOW_FIELDS))


def full_only(windows: HrWindows) -> HrWindows:
    """The windows with a whole WINDOW_S of heart rate (no cold start)."""
    return subset(windows, np.flatnonzero(windows.history_s == WINDOW_S))


def digest(windows: HrWindows) -> str:
    """sha256 over the exact training arrays: the same data gives the same digest."""
    h = hashlib.sha256()
    for array in (windows.inputs, windows.targets):
        h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()
