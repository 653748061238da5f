"""A live tally of one athlete's session, fed one sample at a time by the recorder or the UI.

It answers what the coach's screen shows: the current zone, time in each zone so far, TRIMP so
far, mean and peak HR, and RMSSD over the last beats. It credits time exactly as the whole-session
functions do (`time_in_zones_s`, `trimp_banister`, `trimp_edwards`), so the live number and the
report agree. Without the athlete's HRmax there are no zones and no TRIMP (None), only HR and HRV;
without the resting HR there is no Banister TRIMP.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Literal, Sequence

import numpy as np

from desktop.analytics.hrv import rmssd_ms
from desktop.analytics.trimp import EDWARDS_ZONES, S_PER_MIN, banister_weight, heart_rate_reserve_fraction
from desktop.analytics.zones import DEFAULT_MAX_STEP_S, AthleteProfile, ZoneModel, zone_of
from desktop.sources.heart_rate.base import HeartRateSample

logger = logging.getLogger(__name__)

DEFAULT_RMSSD_BEATS = 30  # RMSSD over the last 30 beats: about half a minute at rest


class LiveAthleteState:
    """Running zone, time-in-zone, TRIMP, mean/max HR and RMSSD of one athlete (see the module doc)."""

    def __init__(self, hr_max_bpm: float | None = None, hr_rest_bpm: float | None = None, *,
                 sex: Literal["male", "female"] = "male", zone_model: ZoneModel = ZoneModel(),
                 max_step_s: float = DEFAULT_MAX_STEP_S, rmssd_beats: int = DEFAULT_RMSSD_BEATS):
        self.profile = None if hr_max_bpm is None else AthleteProfile(hr_max_bpm, hr_rest_bpm, sex)
        self._bounds_bpm = None if self.profile is None else zone_model.bounds_bpm(self.profile)
        self._edwards_bounds_bpm = None if self.profile is None else EDWARDS_ZONES.bounds_bpm(self.profile)
        self._max_step_s = max_step_s
        self._zone_s = np.zeros(zone_model.zone_count + 1)
        self._edwards = 0.0
        self._banister = 0.0
        self._last: tuple[float, float] | None = None  # (t_s, hr_bpm) of the last sample
        self._hr_sum_bpm, self._hr_count, self._hr_max_seen = 0.0, 0, None
        self._beats: deque[tuple[float, bool]] = deque(maxlen=rmssd_beats)  # (RR s, first after a gap)
        self._gap_pending = False
        self.dropped_samples = 0  # samples that came with a time not after the last one

    @classmethod
    def for_profile(cls, profile: AthleteProfile, zone_model: ZoneModel = ZoneModel(), **options) -> LiveAthleteState:
        return cls(profile.hr_max_bpm, profile.hr_rest_bpm, sex=profile.sex, zone_model=zone_model, **options)

    def add(self, sample: HeartRateSample) -> None:
        """Take one heart-rate sample as a source delivered it."""
        self.add_sample(sample.t_mono_s, sample.hr_bpm, sample.rr_intervals_s)

    def add_sample(self, t_s: float, hr_bpm: float | None, rr_s: Sequence[float] = ()) -> None:
        """Take one sample; the time since the previous sample is credited to that sample's zone."""
        if self._last is not None and t_s <= self._last[0]:
            self.dropped_samples += 1
            logger.debug("sample out of order dropped (%d so far)", self.dropped_samples)
            return
        if self._last is not None:
            self._credit(t_s - self._last[0], self._last[1])
        self._last = (t_s, float("nan") if hr_bpm is None else float(hr_bpm))
        if hr_bpm is not None:
            self._tally(hr_bpm)
        for rr in rr_s:
            self._beats.append((float(rr), self._gap_pending))
            self._gap_pending = False

    def add_gap(self) -> None:
        """The signal was lost: credit nothing up to the next sample, and no RR difference across it."""
        if self._last is not None:
            self._last = (self._last[0], float("nan"))
        self._gap_pending = True

    def _tally(self, hr_bpm: float) -> None:
        self._hr_sum_bpm += hr_bpm
        self._hr_count += 1
        self._hr_max_seen = hr_bpm if self._hr_max_seen is None else max(self._hr_max_seen, hr_bpm)

    def _credit(self, step_s: float, hr_bpm: float) -> None:
        if self.profile is None or step_s > self._max_step_s or not np.isfinite(hr_bpm):
            return
        self._zone_s[zone_of(hr_bpm, self._bounds_bpm)] += step_s
        self._edwards += step_s / S_PER_MIN * zone_of(hr_bpm, self._edwards_bounds_bpm)
        if self.profile.hr_rest_bpm is not None:
            hrr = heart_rate_reserve_fraction(hr_bpm, self.profile)
            self._banister += step_s / S_PER_MIN * float(banister_weight(hrr, self.profile.sex))

    @property
    def hr_bpm(self) -> float | None:
        """The last heart rate, None before the first sample or after a gap."""
        if self._last is None or not np.isfinite(self._last[1]):
            return None
        return self._last[1]

    @property
    def mean_hr_bpm(self) -> float | None:
        """Mean of the heart-rate samples so far (each sample counts once)."""
        return self._hr_sum_bpm / self._hr_count if self._hr_count else None

    @property
    def max_hr_bpm(self) -> float | None:
        return self._hr_max_seen

    @property
    def current_zone(self) -> int | None:
        """Zone of the last heart rate (0 below zone 1); None without HR or without HRmax."""
        hr = self.hr_bpm
        return None if hr is None or self._bounds_bpm is None else zone_of(hr, self._bounds_bpm)

    @property
    def time_in_zones_s(self) -> np.ndarray | None:
        """Seconds so far below zone 1 (index 0) and in each zone (index k); None without HRmax."""
        return None if self.profile is None else self._zone_s.copy()

    @property
    def trimp_banister(self) -> float | None:
        """Banister TRIMP so far; None when HRmax or resting HR is unknown."""
        return None if self.profile is None or self.profile.hr_rest_bpm is None else self._banister

    @property
    def trimp_edwards(self) -> float | None:
        """Edwards TRIMP so far; None when HRmax is unknown."""
        return None if self.profile is None else self._edwards

    @property
    def rmssd_ms(self) -> float | None:
        """RMSSD (ms) over the last beats, after artifact filtering; None with too few clean beats."""
        series: list[float] = []
        for i, (rr, after_gap) in enumerate(self._beats):
            if after_gap and i > 0:
                series.append(float("nan"))  # a separator the artifact filter drops
            series.append(rr)
        return rmssd_ms(np.array(series, dtype=np.float64))
