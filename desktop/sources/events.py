"""Events every source emits onto the recorder's queue.

Each event carries the monotonic time at which it was observed, taken where it arrived (the
notification callback, the frame grab), never later. A source never raises into the recorder: a
fault becomes a `SourceProblem` and the recording goes on with the other sources.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True, slots=True)
class ChannelOpened:
    """A stream of samples from one athlete (one strap, one replayed file) has started."""

    channel: str  # stable key: a BLE address, "sim-1", a replay file's stem
    display_name: str
    t_mono_s: float


@dataclass(frozen=True, slots=True)
class SignalGap:
    """A time range in which a channel delivered nothing. Gaps are recorded, never filled."""

    channel: str
    start_mono_s: float
    end_mono_s: float
    reason: str  # "watchdog", "disconnected", "stopped"


@dataclass(frozen=True, slots=True)
class SourceProblem:
    """Something went wrong in a source; `fatal` means this channel will deliver nothing more."""

    channel: str
    t_mono_s: float
    kind: str  # "malformed_packet", "device_absent", "file_unreadable", "camera_lost", FILE_DAMAGED, ...
    message: str
    fatal: bool = False


FILE_DAMAGED = "file_damaged"  # a replayed file was damaged: what was kept and lost, said once at the start
RECONNECTING = "reconnecting"  # a strap's link dropped and the source is reaching it again (not fatal)


Sink = Callable[[object], None]
"""Where a source puts its events. It must be cheap and thread-safe (a queue's put)."""


@dataclass(frozen=True, slots=True)
class StreamEnded:
    """A finite source (a replayed file, a video file) has delivered its last sample."""

    channel: str
    t_mono_s: float


@dataclass(frozen=True, slots=True)
class Marker:
    """A mark the coach or a rule put on the session timeline: a lap, work or rest start, a note."""

    t_mono_s: float
    kind: str  # "lap", "work", "rest", "note"
    text: str = ""
    channel: str | None = None  # None: the whole squad


@dataclass(frozen=True, slots=True)
class FeedbackEvent:
    """What a model told the coach, kept with the model that said it."""

    channel: str
    t_mono_s: float
    model_name: str
    model_version: str
    kind: str  # "pose", "movement", "hr_forecast", "unusual_response", ...
    payload: dict
