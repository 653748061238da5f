"""Training load: TRIMP after Banister and after Edwards.

Banister: sum over time of minutes x HRr x a x e^(b x HRr), where HRr = (HR - HRrest) /
(HRmax - HRrest), clipped to 0..1. Weighting a=0.64, b=1.92 for men (Banister's original, the
default) and a=0.86, b=1.67 for women.

Edwards: minutes in each of the five %HRmax zones (50-60, 60-70, 70-80, 80-90, 90-100 %) times the
zone's number, 1 to 5. Time below 50 % counts nothing; time at or above HRmax counts in zone 5.
"""

from __future__ import annotations


import numpy as np

from desktop.analytics.zones import (
    DEFAULT_MAX_STEP_S,
    AthleteProfile,
    ZoneError,
    ZoneModel,
    credited_steps,
    time_in_zones_s,
)

BANISTER_WEIGHTING = {  # sex -> (a, b) in a x e^(b x HRr)
    "male": (0.64, 1.92),
    "female": (0.86, 1.67),
}
EDWARDS_ZONES = ZoneModel((0.50, 0.60, 0.70, 0.80, 0.90), "hrmax")  # Edwards' five zones, weights 1..5
S_PER_MIN = 60.0


def heart_rate_reserve_fraction(hr_bpm, profile: AthleteProfile) -> np.ndarray:
    """HRr: where a heart rate sits between rest (0) and maximum (1), clipped to that range."""
    if profile.hr_rest_bpm is None:
        raise ZoneError("Banister TRIMP needs the athlete's resting HR")
    reserve_bpm = profile.hr_max_bpm - profile.hr_rest_bpm
    if reserve_bpm <= 0:
        raise ZoneError("HRmax must be above resting HR")
    return np.clip((np.asarray(hr_bpm, dtype=np.float64) - profile.hr_rest_bpm) / reserve_bpm, 0.0, 1.0)


def banister_weight(hrr: np.ndarray | float, sex: str = "male") -> np.ndarray:
    """TRIMP per minute at a given HRr: HRr x a x e^(b x HRr)."""
    if sex not in BANISTER_WEIGHTING:
        raise ZoneError(f"Banister weighting is defined for {sorted(BANISTER_WEIGHTING)}, not {sex!r}")
    a, b = BANISTER_WEIGHTING[sex]
    return np.asarray(hrr) * a * np.exp(b * np.asarray(hrr))


def trimp_banister(t_s, hr_bpm, profile: AthleteProfile, max_step_s: float = DEFAULT_MAX_STEP_S) -> float:
    """Banister TRIMP of a session; each sample holds until the next, gaps credit nothing."""
    hr_held, step_s = credited_steps(t_s, hr_bpm, max_step_s)
    if not len(step_s):
        return 0.0
    weight = banister_weight(heart_rate_reserve_fraction(hr_held, profile), profile.sex)
    return float(np.sum(step_s / S_PER_MIN * weight))


def trimp_edwards(t_s, hr_bpm, hr_max_bpm: float, max_step_s: float = DEFAULT_MAX_STEP_S) -> float:
    """Edwards TRIMP: zone-weighted minutes, zone 1 (50-60 % HRmax) x1 to zone 5 (90 %+) x5."""
    seconds = time_in_zones_s(t_s, hr_bpm, EDWARDS_ZONES.bounds_bpm(AthleteProfile(hr_max_bpm)), max_step_s)
    weights = np.arange(len(seconds), dtype=np.float64)  # zone 0 (below 50 %) weighs nothing
    return float(np.sum(seconds / S_PER_MIN * weights))


__all__ = ["trimp_banister", "trimp_edwards", "banister_weight", "heart_rate_reserve_fraction",
           "BANISTER_WEIGHTING", "EDWARDS_ZONES"]
