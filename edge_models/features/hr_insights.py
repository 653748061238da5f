"""What the coach reads off a heart-rate forecast: the rep's peak, recovery time, odd responses.

A forecast is heart rate now and at +10/+30/+60 s. Between those points heart rate is taken to
move in straight lines: the model says nothing finer, and nothing beyond +60 s.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from edge_models.features.hr import HORIZONS_S

RECOVERY_STEP_S = 1.0  # recovery time is reported to the second


@dataclass(frozen=True)
class HrForecast:
    """Heart rate now and forecast at each horizon, made at monotonic time `t_s`."""

    t_s: float
    hr_now_bpm: float
    hr_ahead_bpm: tuple[float, ...]  # one per HORIZONS_S

    def curve(self) -> tuple[np.ndarray, np.ndarray]:
        """(seconds ahead, bpm) from now to the last horizon."""
        return (np.array([0.0, *HORIZONS_S]), np.array([self.hr_now_bpm, *self.hr_ahead_bpm]))

    def at(self, ahead_s: float) -> float:
        ahead, bpm = self.curve()
        return float(np.interp(ahead_s, ahead, bpm))


def predicted_rep_peak_bpm(forecast: HrForecast, rep_remaining_s: float | None = None) -> float:
    """Highest heart rate expected before the current rep ends (or within the forecast)."""
    horizon_s = max(HORIZONS_S) if rep_remaining_s is None else min(rep_remaining_s, max(HORIZONS_S))
    ahead, bpm = forecast.curve()
    inside = bpm[ahead <= horizon_s]
    return float(max(inside.max(), forecast.at(max(horizon_s, 0.0))))


@dataclass(frozen=True)
class RecoveryEta:
    """When heart rate is forecast to reach the target: `seconds`, or None beyond the forecast."""

    seconds: float | None
    beyond_forecast: bool


def time_to_recover(forecast: HrForecast, target_bpm: float) -> RecoveryEta:
    """Seconds until the forecast first reaches `target_bpm` or below."""
    ahead = np.arange(0.0, max(HORIZONS_S) + RECOVERY_STEP_S, RECOVERY_STEP_S)
    bpm = np.array([forecast.at(a) for a in ahead])
    reached = np.flatnonzero(bpm <= target_bpm)
    if reached.size == 0:
        return RecoveryEta(None, beyond_forecast=True)
    return RecoveryEta(float(ahead[reached[0]]), beyond_forecast=False)


@dataclass(frozen=True)
class ForecastBand:
    """How far observed heart rate may stray from a forecast before it is unusual, per horizon.

    The bounds are quantiles of (observed - forecast) on held-out recordings, stored in the model's
    manifest as int8 metrics `band_low_<h>s_bpm` and `band_high_<h>s_bpm`.
    """

    low_bpm: tuple[float, ...]
    high_bpm: tuple[float, ...]

    @classmethod
    def from_metrics(cls, metrics: dict[str, float]) -> ForecastBand:
        try:
            low = tuple(float(metrics[f"band_low_{h}s_bpm"]) for h in HORIZONS_S)
            high = tuple(float(metrics[f"band_high_{h}s_bpm"]) for h in HORIZONS_S)
        except KeyError as exc:
            raise ValueError(f"the model's metrics carry no forecast band ({exc})") from exc
        return cls(low, high)


@dataclass(frozen=True)
class UnusualResponse:
    """Observed heart rate left the band around what was forecast for this moment."""

    t_s: float
    horizon_s: int
    observed_bpm: float
    forecast_bpm: float


class ResponseWatch:
    """Keeps recent forecasts and checks each observed sample against those now due."""

    def __init__(self, band: ForecastBand, due_tolerance_s: float = 1.0) -> None:
        self._band = band
        self._tolerance_s = due_tolerance_s
        self._pending: deque[tuple[float, int, float]] = deque()  # (due time, horizon index, bpm)

    def add_forecast(self, forecast: HrForecast) -> None:
        for i, (horizon, bpm) in enumerate(zip(HORIZONS_S, forecast.hr_ahead_bpm)):
            self._pending.append((forecast.t_s + horizon, i, bpm))

    def observe(self, t_s: float, hr_bpm: float) -> list[UnusualResponse]:
        """Unusual responses found at this sample; forecasts that came due are then dropped."""
        found = []
        still = deque()
        for due_s, i, bpm in self._pending:
            if due_s > t_s + self._tolerance_s:
                still.append((due_s, i, bpm))
            elif due_s >= t_s - self._tolerance_s and self._outside(i, hr_bpm - bpm):
                found.append(UnusualResponse(t_s, HORIZONS_S[i], hr_bpm, bpm))
        self._pending = still
        return found

    def _outside(self, horizon_index: int, residual_bpm: float) -> bool:
        return not self._band.low_bpm[horizon_index] <= residual_bpm <= self._band.high_bpm[horizon_index]
