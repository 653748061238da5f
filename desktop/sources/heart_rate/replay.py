"""`replay:FILE[?speed=N]`: a real recorded session played back as if the strap were live.

FIT and TCX activities replay their heart rate (with speed, power and cadence where recorded) at
the recorded times; a pyhrv `.npy` NN series replays its beats as a strap would notify them: once a
second, carrying the RR intervals of the beats that ended in that second, and the heart rate they
give. `speed=1` plays in real time, `speed=k` k times faster, `speed=inf` (or `max`) as fast as
possible with timestamps spaced as recorded. A hole in the recording (no heart rate for more than
`RECORDED_GAP_S`) becomes a `SignalGap`, never filled in.

A damaged file (cut short, bad checksum) replays every sample read before the damage; the source
says what was lost once, right after the channel opens, as a non-fatal `SourceProblem` of kind
`FILE_DAMAGED` (stored with the session, listed in the recording summary). `damage` holds the
same words before the replay starts.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from desktop.sources.events import FILE_DAMAGED, ChannelOpened, Marker, SignalGap, Sink, SourceProblem, StreamEnded
from desktop.sources.heart_rate.base import HeartRateSample, SensorContact
from desktop.sources.paced import PacedSource
from desktop.sources.spec import SpecError, parse_spec
from edge_models.recordings import RecordingError, read_recording, read_rr_series

logger = logging.getLogger(__name__)

RECORDED_GAP_S = 3.0  # more than this without heart rate in the file is a hole, not a slow strap
NOTIFY_PERIOD_S = 1.0  # a strap sends one Heart Rate Measurement about every second
RR_SUFFIX = ".npy"  # pyhrv NN-interval series
ACCEPTED = "replay:FILE.fit|FILE.tcx|FILE.npy[?speed=N|max]"


@dataclass(frozen=True, slots=True)
class _Beat:
    """One notification to replay: its time in the recording and what the strap would say."""

    t_rec_s: float
    hr_bpm: int
    rr_s: tuple[float, ...] = ()
    speed_mps: float | None = None
    power_w: float | None = None
    cadence_rpm: float | None = None


class ReplayHeartRateSource(PacedSource):
    """One athlete's recorded session replayed as a heart-rate source (see the module doc)."""

    def __init__(self, path: str | Path, *, speed: float = 1.0, clock: Callable[[], float] = time.monotonic,
                 channel: str | None = None, start_offset_s: float = 0.0):
        if not speed > 0:
            raise ValueError(f"replay speed must be positive, got {speed!r}")
        self.path = Path(path)
        self.channel = channel or self.path.stem
        super().__init__(speed=speed, clock=clock, thread_name=f"replay-{self.channel}")
        if not start_offset_s >= 0:
            raise ValueError(f"start_offset_s must be >= 0, got {start_offset_s!r}")
        self.spec = f"replay:{self.path}" + ("" if speed == 1.0 else f"?speed={speed}")
        self.channels = [self.channel]
        beats, laps_s, self.damage = _load(self.path)
        self._beats = [b for b in beats if b.t_rec_s >= start_offset_s]
        self._laps_s = [t - start_offset_s for t in laps_s if t > start_offset_s]
        self._offset_s = start_offset_s

    @property
    def sample_count(self) -> int:
        """How many heart-rate samples a full replay delivers."""
        return len(self._beats)

    def _play(self, sink: Sink) -> None:
        t0 = self._clock()
        sink(ChannelOpened(self.channel, self.path.stem, t0))
        if self.damage:
            sink(SourceProblem(self.channel, t0, FILE_DAMAGED, self.damage))
        laps = list(self._laps_s)
        last: tuple[_Beat, float] | None = None
        for beat in self._beats:
            rec_s = beat.t_rec_s - self._offset_s
            t = self._wait_until(t0, rec_s)
            if t is None:
                self._close_open_gap(sink, last)
                return
            while laps and laps[0] <= rec_s:
                sink(Marker(self._stamp(t0, laps.pop(0), t), "lap", "recorded lap", self.channel))
            if last is not None and beat.t_rec_s - last[0].t_rec_s > RECORDED_GAP_S:
                sink(SignalGap(self.channel, last[1], t, "recorded"))
            sink(self._sample(beat, t))
            last = (beat, t)
        sink(StreamEnded(self.channel, last[1] if last else t0))

    def _stamp(self, t0: float, rec_s: float, now: float) -> float:
        return t0 + rec_s if self.flat_out else now

    def _close_open_gap(self, sink: Sink, last: tuple[_Beat, float] | None) -> None:
        """Stopped inside a hole of the recording: record the hole up to now."""
        if last is None or self.flat_out:
            return
        now = self._clock()
        if (now - last[1]) * self._speed > RECORDED_GAP_S:
            sink(SignalGap(self.channel, last[1], now, "stopped"))

    def _sample(self, beat: _Beat, t: float) -> HeartRateSample:
        return HeartRateSample(
            channel=self.channel, t_mono_s=t, hr_bpm=beat.hr_bpm, rr_intervals_s=beat.rr_s,
            sensor_contact=SensorContact.NOT_SUPPORTED, speed_mps=beat.speed_mps,
            power_w=beat.power_w, cadence_rpm=beat.cadence_rpm)


def open_replay_source(spec_rest: str, **kw) -> ReplayHeartRateSource:
    """Build a replay source from what follows `replay:` in a spec, e.g. `ride.fit?speed=10`."""
    parsed = parse_spec(f"replay:{spec_rest}", ACCEPTED)
    if not parsed.target:
        raise SpecError(f"replay:{spec_rest!r} names no file; accepted: {ACCEPTED}")
    unknown = set(parsed.options) - {"speed"}
    if unknown:
        raise SpecError(f"replay: unknown option(s) {sorted(unknown)}; accepted: {ACCEPTED}")
    return ReplayHeartRateSource(parsed.target, speed=parsed.float_option("speed", 1.0), **kw)


# ------------------------------------------------------------------------------ what to replay

def _load(path: Path) -> tuple[list[_Beat], list[float], str | None]:
    """The notifications to replay, the recorded lap starts and what a damaged file lost.

    RecordingError when nothing in the file can be replayed.
    """
    if path.suffix.lower() == RR_SUFFIX:
        return _beats_from_rr(read_rr_series(path)), [], None
    recording = read_recording(path)
    return _beats_from_recording(recording), [float(t) for t in recording.lap_starts_s], recording.damage


def _beats_from_recording(recording) -> list[_Beat]:
    beats = []
    for i in np.flatnonzero(np.isfinite(recording.hr_bpm)):
        beats.append(_Beat(
            t_rec_s=float(recording.time_s[i]), hr_bpm=int(round(recording.hr_bpm[i])),
            speed_mps=_at(recording.speed_mps, i), power_w=_at(recording.power_w, i),
            cadence_rpm=_at(recording.cadence_rpm, i)))
    return beats


def _at(column: np.ndarray | None, i: int) -> float | None:
    if column is None or not np.isfinite(column[i]):
        return None
    return float(column[i])


def _beats_from_rr(rr_s: np.ndarray) -> list[_Beat]:
    """Group beats into one notification a second, as a strap does; HR from those beats' RR."""
    beat_end_s = np.cumsum(rr_s)
    period = np.ceil(beat_end_s / NOTIFY_PERIOD_S).astype(int)  # notification that carries each beat
    beats: list[_Beat] = []
    last_rr: tuple[float, ...] = (float(rr_s[0]),)
    for n in range(1, int(period[-1]) + 1):
        carried = tuple(float(rr) for rr in rr_s[period == n])
        basis = carried or last_rr  # no beat ended this second: the strap repeats its last HR
        hr_bpm = int(round(60.0 / (sum(basis) / len(basis))))
        beats.append(_Beat(t_rec_s=n * NOTIFY_PERIOD_S, hr_bpm=hr_bpm, rr_s=carried))
        last_rr = basis
    return beats


__all__ = ["ReplayHeartRateSource", "open_replay_source", "RecordingError", "RECORDED_GAP_S"]
