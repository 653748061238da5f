"""What the live screen shows, without Qt: one tile per athlete, the camera's feedback, the marks.

The window feeds every recorder event to `LiveBoard.take` on its own thread and reads the board
when it repaints; nothing here touches the recorder. The board's clock is the recorder's
monotonic clock, injected, so "stale" (no heart rate for `STALE_AFTER_S`) is testable without
waiting.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Literal

import numpy as np

from desktop.analytics.live import LiveAthleteState
from desktop.sources.camera.base import CAMERA_CHANNEL
from desktop.sources.events import (
    RECONNECTING, ChannelOpened, FeedbackEvent, Marker, SignalGap, SourceProblem, StreamEnded,
)
from desktop.sources.heart_rate.base import HeartRateSample

STALE_AFTER_S = 3.0  # no heart rate for this long: the last value is old news, shown greyed
SensorState = Literal["waiting", "connected", "reconnecting", "stale", "lost", "ended"]
# Non-fatal problems that mean the strap's link is being re-made (a source may say so).
RECONNECTING_KINDS = frozenset({RECONNECTING})  # what the BLE source says when a link drops
_INITIAL_CAPACITY = 1024


class SeriesBuffer:
    """A growing (t, value) series in numpy arrays, cheap to append and to plot."""

    def __init__(self) -> None:
        self._t = np.empty(_INITIAL_CAPACITY)
        self._v = np.empty(_INITIAL_CAPACITY)
        self.size = 0

    def append(self, t: float, value: float) -> None:
        if self.size == len(self._t):
            self._t = np.concatenate([self._t, np.empty_like(self._t)])
            self._v = np.concatenate([self._v, np.empty_like(self._v)])
        self._t[self.size], self._v[self.size] = t, value
        self.size += 1

    @property
    def t(self) -> np.ndarray:
        return self._t[:self.size]

    @property
    def values(self) -> np.ndarray:
        return self._v[:self.size]


@dataclass
class AthleteTile:
    """One athlete as the coach sees them."""

    channel: str
    name: str
    hr_max_bpm: float | None = None
    hr_rest_bpm: float | None = None
    analytics: LiveAthleteState = field(default_factory=LiveAthleteState)
    last_hr_bpm: float | None = None
    last_sample_mono_s: float | None = None
    forecast: dict | None = None  # the heart-rate model's latest payload
    unusual: dict | None = None
    reconnecting: bool = False
    lost_reason: str | None = None
    ended: bool = False
    history: SeriesBuffer = field(default_factory=SeriesBuffer)

    def sensor_state(self, now_mono_s: float) -> SensorState:
        if self.lost_reason is not None:
            return "lost"
        if self.ended:
            return "ended"
        if self.reconnecting:
            return "reconnecting"
        if self.last_sample_mono_s is None:
            return "waiting"
        return "stale" if now_mono_s - self.last_sample_mono_s > STALE_AFTER_S else "connected"

    @property
    def zone(self) -> int | None:
        return self.analytics.current_zone

    @property
    def percent_hr_max(self) -> float | None:
        if self.last_hr_bpm is None or not self.hr_max_bpm:
            return None
        return 100.0 * self.last_hr_bpm / self.hr_max_bpm

    @property
    def rmssd_ms(self) -> float | None:
        return self.analytics.rmssd_ms


@dataclass
class CameraFeedback:
    """The camera's latest model output: movement class, phase, reps and joint angles."""

    movement: dict | None = None
    pose: dict | None = None
    movement_t_mono_s: float | None = None


@dataclass(frozen=True)
class TimelineMark:
    t_mono_s: float
    kind: str  # "lap", "note", "work", "rest", "start", "stop"
    text: str = ""


class LiveBoard:
    """Every athlete's tile, the camera's feedback and the session's marks."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic,
                 profiles: dict[str, tuple[str, float | None, float | None]] | None = None):
        self.clock = clock
        self._profiles = dict(profiles or {})  # channel -> (name, HRmax, HRrest) from the store
        self.tiles: dict[str, AthleteTile] = {}
        self.camera = CameraFeedback()
        self.marks: list[TimelineMark] = []
        self.started_mono_s: float | None = None
        self.version = 0  # goes up with every change: views repaint only when it moved

    def take(self, event: object) -> None:
        """One recorder event (on the window's thread)."""
        handler = _HANDLERS.get(type(event))
        if handler is not None:
            handler(self, event)
            self.version += 1

    def tiles_in_order(self) -> list[AthleteTile]:
        return [self.tiles[c] for c in sorted(self.tiles)]

    def _tile(self, channel: str, name: str | None = None) -> AthleteTile:
        if channel not in self.tiles:
            known_name, hr_max, hr_rest = self._profiles.get(channel, (name or channel, None, None))
            hr_max = hr_max or _default_hr_max(channel)
            self.tiles[channel] = AthleteTile(channel, known_name, hr_max, hr_rest,
                                              LiveAthleteState(hr_max_bpm=hr_max, hr_rest_bpm=hr_rest))
        return self.tiles[channel]

    def _opened(self, event: ChannelOpened) -> None:
        if event.channel != CAMERA_CHANNEL:
            self._tile(event.channel, event.display_name).name = self._profiles.get(
                event.channel, (event.display_name,))[0]

    def _sample(self, sample: HeartRateSample) -> None:
        tile = self._tile(sample.channel)
        tile.analytics.add(sample)
        tile.last_sample_mono_s = sample.t_mono_s
        tile.reconnecting = False
        if sample.hr_bpm:
            tile.last_hr_bpm = float(sample.hr_bpm)
            tile.history.append(sample.t_mono_s, float(sample.hr_bpm))

    def _gap(self, gap: SignalGap) -> None:
        if gap.channel in self.tiles:
            self.tiles[gap.channel].analytics.add_gap()

    def _problem(self, problem: SourceProblem) -> None:
        if problem.channel == CAMERA_CHANNEL or problem.channel not in self.tiles:
            return
        tile = self.tiles[problem.channel]
        if problem.fatal:
            tile.lost_reason = problem.message
        elif problem.kind in RECONNECTING_KINDS:
            tile.reconnecting = True

    def _ended(self, event: StreamEnded) -> None:
        if event.channel in self.tiles:
            self.tiles[event.channel].ended = True

    def _feedback(self, event: FeedbackEvent) -> None:
        if event.channel == CAMERA_CHANNEL:
            if event.kind == "movement":
                self.camera.movement, self.camera.movement_t_mono_s = dict(event.payload), event.t_mono_s
            elif event.kind == "pose":
                self.camera.pose = dict(event.payload)
        elif event.kind == "hr_forecast":
            self._tile(event.channel).forecast = dict(event.payload)
        elif event.kind == "unusual_response":
            self._tile(event.channel).unusual = dict(event.payload)

    def _marker(self, marker: Marker) -> None:
        if marker.kind in ("work", "rest") and self.marks and self.marks[-1].kind == marker.kind \
                and abs(self.marks[-1].t_mono_s - marker.t_mono_s) < 1e-6:
            return  # the same change marked for each athlete: one line on the chart
        self.marks.append(TimelineMark(marker.t_mono_s, marker.kind, marker.text))


_HANDLERS: dict[type, Callable[[LiveBoard, object], None]] = {
    ChannelOpened: LiveBoard._opened, HeartRateSample: LiveBoard._sample, SignalGap: LiveBoard._gap,
    SourceProblem: LiveBoard._problem, StreamEnded: LiveBoard._ended, FeedbackEvent: LiveBoard._feedback,
    Marker: LiveBoard._marker,
}


def _default_hr_max(channel: str) -> float | None:
    """Zones need HRmax; a strap with no athlete assigned gets none (no zone shown, never a guess)."""
    return None
