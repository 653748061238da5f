"""Simulated athletes whose heart rate and RR intervals follow a work/rest schedule.

For demos and tests without straps. Each athlete's HR moves towards a target set by the current
effort with first-order kinetics (faster on the way up than on the way down, as real HR does),
and RR intervals carry beat-to-beat variability that shrinks as HR rises.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from desktop.sources.events import ChannelOpened, Marker, Sink, StreamEnded
from desktop.sources.heart_rate.base import HeartRateSample, SensorContact
from desktop.sources.paced import PacedSource

logger = logging.getLogger(__name__)

SAMPLE_PERIOD_S = 1.0  # straps notify about once a second
WORK_S = 40.0  # default interval: 40 s of work ...
REST_S = 50.0  # ... then 50 s of rest
WARMUP_S = 20.0  # easy effort before the first work interval
ONSET_TAU_S = 18.0  # time constant of the HR rise at work onset
RECOVERY_TAU_S = 45.0  # time constant of the HR fall in recovery
RMSSD_AT_REST_S = 0.045  # beat-to-beat variability at rest, shrinking towards HRmax


@dataclass(frozen=True)
class SimulatedAthlete:
    name: str
    hr_rest_bpm: float
    hr_max_bpm: float
    work_intensity: float  # fraction of heart-rate reserve reached in a work interval


def squad(count: int, seed: int = 0, first_number: int = 1) -> list[SimulatedAthlete]:
    """A reproducible squad of `count` athletes with varied fitness, numbered from `first_number`."""
    rng = np.random.default_rng(seed)
    return [
        SimulatedAthlete(
            name=f"Athlete {first_number + i}",
            hr_rest_bpm=float(rng.uniform(48, 64)),
            hr_max_bpm=float(rng.uniform(182, 200)),
            work_intensity=float(rng.uniform(0.75, 0.92)),
        )
        for i in range(count)
    ]


def effort_at(elapsed_s: float) -> float:
    """The schedule: fraction of work intensity asked of the squad at `elapsed_s`."""
    if elapsed_s < WARMUP_S:
        return 0.3
    phase_s = (elapsed_s - WARMUP_S) % (WORK_S + REST_S)
    return 1.0 if phase_s < WORK_S else 0.0


class _AthleteModel:
    """One athlete's HR state, stepped once a sample period."""

    def __init__(self, athlete: SimulatedAthlete, rng: np.random.Generator):
        self.athlete = athlete
        self.rng = rng
        self.hr_bpm = athlete.hr_rest_bpm + 5.0
        self.beat_phase_s = 0.0  # time since the last beat, carried across samples

    def step(self, elapsed_s: float) -> tuple[int, tuple[float, ...]]:
        a = self.athlete
        target = a.hr_rest_bpm + effort_at(elapsed_s) * a.work_intensity * (a.hr_max_bpm - a.hr_rest_bpm)
        tau_s = ONSET_TAU_S if target > self.hr_bpm else RECOVERY_TAU_S
        self.hr_bpm += (target - self.hr_bpm) * (1.0 - math.exp(-SAMPLE_PERIOD_S / tau_s))
        self.hr_bpm += float(self.rng.normal(0.0, 0.6))
        return round(self.hr_bpm), self._beats_in_period()

    def _beats_in_period(self) -> tuple[float, ...]:
        """RR intervals of the beats that fall in this sample period."""
        reserve = (self.hr_bpm - self.athlete.hr_rest_bpm) / (self.athlete.hr_max_bpm - self.athlete.hr_rest_bpm)
        spread_s = RMSSD_AT_REST_S * max(0.15, 1.0 - reserve) / math.sqrt(2.0)
        rr_intervals = []
        t = self.beat_phase_s
        while True:
            rr_s = max(0.28, 60.0 / self.hr_bpm + float(self.rng.normal(0.0, spread_s)))
            if t + rr_s > SAMPLE_PERIOD_S:
                break
            t += rr_s
            rr_intervals.append(round(rr_s * 1024) / 1024)  # the strap's 1/1024 s resolution
        self.beat_phase_s = t - SAMPLE_PERIOD_S
        return tuple(rr_intervals)


class SimulatedHeartRateSource(PacedSource):
    """`sim:N`: N simulated athletes, one sample each per second.

    `speed=1` runs in real time; a larger speed compresses time; `speed=inf` emits as fast as
    possible with timestamps spaced as if in real time. `duration_s` ends the stream (None: endless).
    """

    def __init__(self, count: int, *, speed: float = 1.0, seed: int = 0, duration_s: float | None = None,
                 first_number: int = 1, clock: Callable[[], float] = time.monotonic):
        if count < 1:
            raise ValueError("sim needs at least one athlete, e.g. sim:3")
        super().__init__(speed=speed, clock=clock, thread_name="sim-hr")
        self.spec = f"sim:{count}" + ("" if first_number == 1 else f"?first={first_number}")
        self.athletes = squad(count, seed, first_number)
        self.channels = [f"sim-{first_number + i}" for i in range(count)]
        self._models = [_AthleteModel(a, np.random.default_rng(seed * 1000 + i)) for i, a in enumerate(self.athletes)]
        self._duration_s = duration_s

    def channel_of(self, index: int) -> str:
        return self.channels[index]

    def _play(self, sink: Sink) -> None:
        t0 = self._clock()
        for i, athlete in enumerate(self.athletes):
            sink(ChannelOpened(self.channel_of(i), athlete.name, t0))
        step = 0
        while not self._stop.is_set():
            elapsed_s = step * SAMPLE_PERIOD_S
            if self._duration_s is not None and elapsed_s > self._duration_s:
                break
            t = self._wait_until(t0, elapsed_s)
            if t is None:
                return
            self._mark_schedule(sink, t, elapsed_s)
            for i, model in enumerate(self._models):
                hr_bpm, rr = model.step(elapsed_s)
                sink(HeartRateSample(self.channel_of(i), t, hr_bpm, rr, SensorContact.DETECTED))
            step += 1
        for i in range(len(self.athletes)):
            sink(StreamEnded(self.channel_of(i), self._clock()))

    @staticmethod
    def _mark_schedule(sink: Sink, t: float, elapsed_s: float) -> None:
        """The coach's interval marks: 'work' and 'rest' where the schedule changes."""
        effort = effort_at(elapsed_s)
        if effort in (0.0, 1.0) and effort_at(elapsed_s - SAMPLE_PERIOD_S) != effort:
            sink(Marker(t, "work" if effort == 1.0 else "rest", "simulated schedule"))
