"""Heart-rate zones and the time an athlete spent in each.

A zone model is a list of lower bounds, as fractions either of maximal heart rate (%HRmax) or of
heart-rate reserve (Karvonen: HRrest + fraction x (HRmax - HRrest)). Zone k (1-based) runs from
its lower bound up to the next one; the top zone has no upper bound; zone 0 is "below zone 1".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

DEFAULT_LOWER_FRACTIONS = (0.50, 0.60, 0.70, 0.80, 0.90)  # the common 5-zone model: Z1 50-60 %, ..., Z5 90-100 %
DEFAULT_MAX_STEP_S = 5.0  # between two samples further apart than this, no time is credited to any zone

BOUND_DECIMALS = 6  # 0.7 x 170 must be 119 bpm, not 118.99999999999999, so 119 bpm is in its zone
Basis = Literal["hrmax", "reserve"]


class ZoneError(ValueError):
    """A zone model or athlete profile that cannot give zones (e.g. HRrest missing for Karvonen)."""


@dataclass(frozen=True)
class AthleteProfile:
    """What zones and TRIMP need to know about an athlete."""

    hr_max_bpm: float
    hr_rest_bpm: float | None = None
    sex: Literal["male", "female"] = "male"  # selects Banister's TRIMP weighting


@dataclass(frozen=True)
class ZoneModel:
    """Zone lower bounds as fractions of HRmax (`basis="hrmax"`) or of HR reserve (`"reserve"`)."""

    lower_fractions: tuple[float, ...] = DEFAULT_LOWER_FRACTIONS
    basis: Basis = "hrmax"

    def __post_init__(self):
        fractions = self.lower_fractions
        if not fractions or any(b <= a for a, b in zip(fractions, fractions[1:])):
            raise ZoneError(f"zone bounds must be strictly increasing, got {fractions}")
        if self.basis not in ("hrmax", "reserve"):
            raise ZoneError(f"zone basis must be 'hrmax' or 'reserve', got {self.basis!r}")

    @property
    def zone_count(self) -> int:
        return len(self.lower_fractions)

    def bounds_bpm(self, profile: AthleteProfile) -> np.ndarray:
        """Lower bound of each zone in beats per minute for this athlete."""
        fractions = np.asarray(self.lower_fractions, dtype=np.float64)
        if self.basis == "hrmax":
            bounds = fractions * profile.hr_max_bpm
        elif profile.hr_rest_bpm is None:
            raise ZoneError("Karvonen (reserve) zones need the athlete's resting HR")
        else:
            bounds = profile.hr_rest_bpm + fractions * (profile.hr_max_bpm - profile.hr_rest_bpm)
        return np.round(bounds, BOUND_DECIMALS)


def zone_of(hr_bpm: float, bounds_bpm: np.ndarray) -> int:
    """The zone (1..N) a heart rate falls in; 0 below zone 1 or when there is no heart rate."""
    if not np.isfinite(hr_bpm):
        return 0
    return int(np.searchsorted(bounds_bpm, hr_bpm, side="right"))


def time_in_zones_s(t_s: np.ndarray, hr_bpm: np.ndarray, bounds_bpm: np.ndarray,
                    max_step_s: float = DEFAULT_MAX_STEP_S) -> np.ndarray:
    """Seconds spent in each zone: index 0 is below zone 1, index k is zone k.

    Each sample holds until the next one: the interval between samples i and i+1 is credited to
    the zone of sample i. An interval longer than `max_step_s`, or starting at a missing (NaN)
    heart rate, is a gap and credits nothing.
    """
    hr_held, step_s = credited_steps(t_s, hr_bpm, max_step_s)
    totals = np.zeros(len(bounds_bpm) + 1, dtype=np.float64)
    np.add.at(totals, np.searchsorted(bounds_bpm, hr_held, side="right"), step_s)
    return totals


def credited_steps(t_s: np.ndarray, hr_bpm: np.ndarray, max_step_s: float) -> tuple[np.ndarray, np.ndarray]:
    """The (HR, seconds) pairs that count: each sample held until the next, gaps left out."""
    t_s, hr_bpm = _checked(t_s, hr_bpm)
    if len(t_s) < 2:
        return np.empty(0), np.empty(0)
    step_s = np.diff(t_s)
    credited = (step_s <= max_step_s) & np.isfinite(hr_bpm[:-1])
    return hr_bpm[:-1][credited], step_s[credited]


def _checked(t_s, hr_bpm) -> tuple[np.ndarray, np.ndarray]:
    t_s = np.asarray(t_s, dtype=np.float64)
    hr_bpm = np.asarray(hr_bpm, dtype=np.float64)
    if t_s.shape != hr_bpm.shape or t_s.ndim != 1:
        raise ValueError(f"times and heart rates must be 1-D and the same length, got {t_s.shape} and {hr_bpm.shape}")
    if np.any(np.diff(t_s) <= 0):
        raise ValueError("sample times must be strictly increasing")
    return t_s, hr_bpm
