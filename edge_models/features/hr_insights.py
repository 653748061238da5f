"""What the coach reads off a heart-rate forecast: the rep's peak, recovery time, odd responses.

A forecast is heart rate now and at +10/+30/+60 s. Between those points heart rate is taken to
move in straight lines: the model says nothing finer, and nothing beyond +60 s.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from edge_models.features.hr import HORIZONS_S, PLAN_GIVEN_CHANNEL, STATE_CHANNEL, WINDOW_S

FORECAST_PERIOD_S = 5.0  # one forecast per athlete every 5 s of heart rate (live and in the bench's replay)
# Sample times are large floats (seconds of the monotonic clock, e.g. 16330.583085 + k): two
# samples 5 s apart can differ by 4.999999999998, which must still count as 5 s.
_CLOCK_SLACK_S = 1e-6
RECOVERY_STEP_S = 1.0  # recovery time is reported to the second
SETTLED_S = 30  # a forecast is confident only after 30 s in one work/rest state (or with a plan):
# the heart has done most of its change by then


def forecast_due(t_s: float, last_forecast_t_s: float) -> bool:
    """Whether a sample at `t_s` is a forecast period after the last forecast."""
    return t_s - last_forecast_t_s >= FORECAST_PERIOD_S - _CLOCK_SLACK_S


@dataclass(frozen=True)
class HrForecast:
    """Heart rate now and forecast at each horizon, made at monotonic time `t_s`."""

    t_s: float
    hr_now_bpm: float
    hr_ahead_bpm: tuple[float, ...]  # one per HORIZONS_S
    confident: bool = True  # False while warming up (history shorter than the window)
    work_state: float | None = None  # the work/rest state the forecast started from
    plan_given: bool = False  # the forecast knew the coach's plan for the next minute

    def curve(self) -> tuple[np.ndarray, np.ndarray]:
        """(seconds ahead, bpm) from now to the last horizon."""
        return (np.array([0.0, *HORIZONS_S]), np.array([self.hr_now_bpm, *self.hr_ahead_bpm]))

    def at(self, ahead_s: float) -> float:
        ahead, bpm = self.curve()
        return float(np.interp(ahead_s, ahead, bpm))


def make_forecast(t_s: float, hr_now_bpm: float, ahead_bpm, window: np.ndarray,
                  history_s: float) -> HrForecast:
    """A forecast with what makes it trustworthy, read off its (1, WINDOW_S, N_CHANNELS) input:
    confident once the window is full and the athlete has been SETTLED_S in one work/rest state,
    or the coach's plan was given (then the model knew what was coming)."""
    state = window[0, :, STATE_CHANNEL]
    plan_given = bool(window[0, -1, PLAN_GIVEN_CHANNEL])
    settled = bool(np.all(state[-SETTLED_S:] == state[-1]))
    return HrForecast(t_s, hr_now_bpm, tuple(float(v) for v in ahead_bpm),
                      confident=history_s >= WINDOW_S and (settled or plan_given),
                      work_state=float(state[-1]), plan_given=plan_given)


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


BAND_MARGIN = 2.0  # an alarm needs the heart rate beyond twice the held-out 90 % band
CONFIRM_S = 15.0  # and every due forecast beyond it for this long (one stray stretch is no alarm)
QUIET_AFTER_ALARM_S = 120.0  # one alarm per departure: the next may come two minutes later


@dataclass(frozen=True)
class _Due:
    due_s: float
    horizon_index: int
    bpm: float
    work_state: float | None
    plan_given: bool


class ResponseWatch:
    """Keeps recent forecasts and checks each observed sample against those now due.

    An unusual response is one a coach can act on: the forecast was confident (not warming up),
    the athlete's work/rest state is the one the forecast started from unless the forecast knew
    the plan (a work start the model could not know about is no surprise), and heart rate stayed
    beyond BAND_MARGIN times the band at every due forecast for CONFIRM_S. A due forecast that
    does not count (the state changed since) ends a departure: the change explains it.
    """

    def __init__(self, band: ForecastBand, due_tolerance_s: float = 1.0) -> None:
        self._band = band
        self._tolerance_s = due_tolerance_s
        self._pending: deque[_Due] = deque()
        self._outside_since_s: float | None = None
        self._quiet_until_s = -np.inf

    def add_forecast(self, forecast: HrForecast) -> None:
        if not forecast.confident:
            return
        for i, (horizon, bpm) in enumerate(zip(HORIZONS_S, forecast.hr_ahead_bpm)):
            self._pending.append(_Due(forecast.t_s + horizon, i, bpm, forecast.work_state,
                                      forecast.plan_given))

    def observe(self, t_s: float, hr_bpm: float, work_state: float | None = None) -> list[UnusualResponse]:
        """Unusual responses found at this sample (`work_state`: the athlete's state now);
        forecasts that came due are then dropped."""
        found, still = [], deque()
        for due in self._pending:
            if due.due_s > t_s + self._tolerance_s:
                still.append(due)
            elif due.due_s < t_s - self._tolerance_s:
                continue  # came due while there was no heart rate to check
            elif self._counts(due, work_state):
                found += self._check(t_s, hr_bpm, due)
            else:
                self._outside_since_s = None
        self._pending = still
        return found[:1]

    def _counts(self, due: _Due, work_state: float | None) -> bool:
        return due.plan_given or work_state is None or due.work_state is None or \
            work_state == due.work_state

    def _check(self, t_s: float, hr_bpm: float, due: _Due) -> list[UnusualResponse]:
        if not self._outside(due.horizon_index, hr_bpm - due.bpm):
            self._outside_since_s = None
            return []
        if self._outside_since_s is None:
            self._outside_since_s = t_s
        if t_s - self._outside_since_s < CONFIRM_S or t_s < self._quiet_until_s:
            return []
        self._outside_since_s, self._quiet_until_s = None, t_s + QUIET_AFTER_ALARM_S
        return [UnusualResponse(t_s, HORIZONS_S[due.horizon_index], hr_bpm, due.bpm)]

    def _outside(self, horizon_index: int, residual_bpm: float) -> bool:
        low = self._band.low_bpm[horizon_index] * BAND_MARGIN
        high = self._band.high_bpm[horizon_index] * BAND_MARGIN
        return not low <= residual_bpm <= high
