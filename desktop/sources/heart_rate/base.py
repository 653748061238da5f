"""Heart-rate samples and the protocol every heart-rate source follows."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from desktop.sources.events import Sink


class SensorContact(enum.IntEnum):
    """Sensor Contact Status of the Heart Rate Measurement flags (bits 1-2)."""

    NOT_SUPPORTED = 0  # the strap cannot tell (flag values 0 and 1)
    NOT_DETECTED = 2  # supported, but the strap is not touching skin
    DETECTED = 3


@dataclass(frozen=True, slots=True)
class HeartRateMeasurement:
    """One decoded Heart Rate Measurement (0x2A37) notification."""

    hr_bpm: int
    sensor_contact: SensorContact
    energy_expended_kj: int | None
    rr_intervals_s: tuple[float, ...]
    rr_dropped: int = 0  # RR intervals in the notification that no heartbeat can have (left out)


@dataclass(frozen=True, slots=True)
class HeartRateSample:
    """A heart-rate reading of one athlete, stamped with the monotonic time it arrived."""

    channel: str
    t_mono_s: float
    hr_bpm: int
    rr_intervals_s: tuple[float, ...] = ()
    sensor_contact: SensorContact = SensorContact.NOT_SUPPORTED
    energy_expended_kj: int | None = None
    speed_mps: float | None = None
    power_w: float | None = None
    cadence_rpm: float | None = None
    rr_dropped: int = 0  # RR intervals the source left out as no heartbeat's (0, or out of range)


class HeartRateSource(Protocol):
    """A producer of heart-rate events: ChannelOpened, HeartRateSample, SignalGap, SourceProblem.

    `start` returns at once; the source works on its own thread and puts events on `sink`.
    `stop` ends that work, records an open gap as closed, and returns when the thread is gone.
    """

    spec: str

    def start(self, sink: Sink) -> None: ...

    def stop(self) -> None: ...
