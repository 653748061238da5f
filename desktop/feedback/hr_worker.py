"""Live heart-rate feedback: forecasts, the rep's predicted peak, recovery time, odd responses.

The dispatcher hands every heart-rate sample, marker and movement result to `on_event`, which
only enqueues. The worker thread keeps one window per athlete (built by the same feature code as
the training windows) and runs the int8 heart-rate model on LiteRT every few seconds per athlete.

Effort, the model's second input, comes from the best signal present: power, speed or cadence on
the sample (by the training rule itself, `LiveHrWindow.add_measured_effort`), else the coach's
work/rest marks, else the movement model's class (moving = work).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from desktop.sources.events import FeedbackEvent, Marker, Sink
from desktop.sources.heart_rate.base import HeartRateSample
from edge_models.features.hr import HORIZONS_S, WINDOW_S, FeatureError, decode_forecast
from edge_models.features.calibration import UNSURE
from edge_models.features.explain import hr_explanation
from edge_models.features.hr_insights import (FORECAST_PERIOD_S, ForecastBand, ResponseWatch,  # noqa: F401
                                              forecast_due, make_forecast, predicted_rep_peak_bpm, time_to_recover)
from edge_models.features.hr_live import LiveHrWindow
from edge_models.features.plan import IntervalPlan
from edge_models.manifest import ModelManifest
from edge_models.model_store import LiveModelCheck
from edge_models.runtime import ModelRunner

logger = logging.getLogger(__name__)

QUEUE_MAX = 5_000  # samples waiting for the worker; past this, new ones are dropped and counted
RECOVERED_DEFAULT_BPM = 120.0  # "recovered" target when the athlete's resting HR is unknown
RECOVERED_RESERVE_FRACTION = 0.3  # else: resting HR plus 30 % of the heart-rate reserve
# Movement classes that mean the athlete is resting; the team defines its classes, every other
# class the movement model gives counts as work.
RESTING_LABELS = frozenset({"stand", "still", "rest", "idle", "sit", "lie"})
_STOP = object()


@dataclass(frozen=True)
class _PlanChange:
    plan: IntervalPlan | None
    channel: str | None


@dataclass
class _Athlete:
    window: LiveHrWindow = field(default_factory=LiveHrWindow)
    watch: ResponseWatch | None = None
    last_forecast_t_s: float = -np.inf
    effort: float | None = None
    marked: bool = False  # the coach's marks set this athlete's work/rest: the camera defers
    recovered_bpm: float = RECOVERED_DEFAULT_BPM


class HeartRateFeedbackWorker:
    """Runs the heart-rate model per athlete and emits FeedbackEvents on `sink`."""

    def __init__(self, sink: Sink, model_path: Path, manifest: ModelManifest, *,
                 recovered_bpm: dict[str, float] | None = None, clock: Callable[[], float] = time.monotonic,
                 live_check: LiveModelCheck | None = None):
        self._sink = sink
        self._runner = ModelRunner.from_path(model_path)  # a bad model fails here, before recording
        self._manifest = manifest
        self._band = ForecastBand.from_metrics(manifest.metrics["int8"])
        self._recovered_bpm = dict(recovered_bpm or {})
        self._clock = clock
        self._live_check = live_check  # a new model's first runs: a failure switches to the one before
        self._queue: queue.Queue = queue.Queue(maxsize=QUEUE_MAX)
        self._athletes: dict[str, _Athlete] = {}
        self._squad_plan: IntervalPlan | None = None
        self._thread: threading.Thread | None = None
        self.dropped = 0
        self.forecasts = 0
        self.failures = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="hr-feedback", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is None:
            self._runner.close()  # never started
            return
        self._queue.put(_STOP)
        self._thread.join()

    def on_event(self, event: object) -> None:
        """Called on the dispatcher thread: enqueue what matters, never wait."""
        if isinstance(event, (HeartRateSample, Marker)) or (
                isinstance(event, FeedbackEvent) and event.kind == "movement"):
            try:
                self._queue.put_nowait(event)
            except queue.Full:
                self.dropped += 1

    @property
    def squad_plan(self) -> IntervalPlan | None:
        """The plan the forecasts of the whole squad use now (None: forecasts without a plan)."""
        return self._squad_plan

    def set_plan(self, plan: IntervalPlan | None, channel: str | None = None) -> None:
        """The coach's interval plan (a timer's work/rest marks, future ones included) for one
        athlete or, with no channel, the squad; None takes it away. Never waits."""
        try:
            self._queue.put_nowait(_PlanChange(plan, channel))
        except queue.Full:
            self.dropped += 1

    def _run(self) -> None:
        try:
            while (event := self._queue.get()) is not _STOP:
                try:
                    self._on_event(self._runner, event)
                except Exception as exc:  # one bad window must not end forecasts for the session
                    self.failures += 1
                    if self.failures == 1:  # the first with its traceback; the count is in the summary
                        logger.exception("heart-rate feedback failed on a %s", type(event).__name__)
                    if self._live_check is not None:
                        self._switch_to(self._live_check.failed(exc))
        finally:
            self._runner.close()

    def _switch_to(self, model: tuple[Path, ModelManifest] | None) -> bool:
        """Run `model` from now on (the live check rolled the failing one back); on the worker thread."""
        if model is None:
            return False
        path, manifest = model
        old, self._runner = self._runner, ModelRunner.from_path(path)
        old.close()
        self._manifest, self._band = manifest, ForecastBand.from_metrics(manifest.metrics["int8"])
        logger.warning("heart-rate forecasts switched to %s %s", manifest.name, manifest.version)
        return True

    def _on_event(self, runner: ModelRunner, event: object) -> None:
        if isinstance(event, HeartRateSample):
            self._on_sample(runner, event)
        elif isinstance(event, _PlanChange):
            if event.channel is None:
                self._squad_plan = event.plan  # athletes who join later get it too
            for channel in [event.channel] if event.channel else list(self._athletes):
                self._athlete(channel).window.set_plan(event.plan)
        elif isinstance(event, Marker):
            self._on_marker(event)
        else:
            self._on_movement(event)

    def _athlete(self, channel: str) -> _Athlete:
        if channel not in self._athletes:
            self._athletes[channel] = _Athlete(watch=ResponseWatch(self._band),
                                               recovered_bpm=self._recovered_bpm.get(channel, RECOVERED_DEFAULT_BPM))
            self._athletes[channel].window.set_plan(self._squad_plan)
        return self._athletes[channel]

    def _on_sample(self, runner: ModelRunner, sample: HeartRateSample) -> None:
        athlete = self._athlete(sample.channel)
        try:
            is_heart_rate = athlete.window.add_sample(sample.t_mono_s, float(sample.hr_bpm), sample.power_w,
                                                      sample.speed_mps, sample.cadence_rpm)
        except FeatureError as exc:
            logger.debug("sample of %s not used: %s", sample.channel, exc)
            return
        if not is_heart_rate:
            return  # a strap artefact: a hole in the window, never an "unusual response"
        for unusual in athlete.watch.observe(sample.t_mono_s, float(sample.hr_bpm), athlete.window.work_state):
            self._emit(sample.channel, sample.t_mono_s, "unusual_response", {
                "horizon_s": unusual.horizon_s, "observed_bpm": unusual.observed_bpm,
                "forecast_bpm": round(unusual.forecast_bpm, 1)})
        if forecast_due(sample.t_mono_s, athlete.last_forecast_t_s):
            self._forecast(runner, sample.channel, athlete)

    def _on_marker(self, marker: Marker) -> None:
        if marker.kind not in ("work", "rest"):
            return
        channels = [marker.channel] if marker.channel else list(self._athletes)
        for channel in channels:
            athlete = self._athlete(channel)
            athlete.marked = True
            self._set_state_effort(athlete, marker.t_mono_s, 1.0 if marker.kind == "work" else 0.0)

    def _on_movement(self, event: FeedbackEvent) -> None:
        label = event.payload.get("label")
        if label == UNSURE:
            return  # the movement model is not sure: the effort stays as it was
        effort = 0.0 if label in RESTING_LABELS else 1.0
        for athlete in self._athletes.values():
            if athlete.window.measured_channel is None and not athlete.marked:  # measured effort and marks win
                self._set_state_effort(athlete, event.t_mono_s, effort)

    @staticmethod
    def _set_state_effort(athlete: _Athlete, t_s: float, effort: float) -> None:
        if athlete.effort == effort:
            return
        athlete.effort = effort
        try:
            athlete.window.set_effort(t_s, effort)
        except FeatureError:
            pass  # a mark older than the latest effort change: the newer state stands

    def _forecast(self, runner: ModelRunner, channel: str, athlete: _Athlete) -> None:
        window = athlete.window.model_input()
        if window is None:
            return  # not yet 20 s of heart rate since the start or the last hole
        t_s, hr_now = athlete.window.t_last_s, athlete.window.hr_now_bpm
        raw = runner.run(window)
        if self._live_check is not None and self._switch_to(self._live_check.observe(raw)):
            return  # the failing model's output is never shown; the next forecast uses the one before
        ahead = decode_forecast(raw, hr_now)
        warming_up = athlete.window.history_s < WINDOW_S  # padded window: less certain
        forecast = make_forecast(t_s, hr_now, ahead, window, athlete.window.history_s)
        athlete.last_forecast_t_s = t_s
        athlete.watch.add_forecast(forecast)
        recovery = time_to_recover(forecast, athlete.recovered_bpm)
        payload = {f"hr_{h}s_bpm": round(v, 1) for h, v in zip(HORIZONS_S, forecast.hr_ahead_bpm)}
        payload["rep_peak_bpm"] = round(predicted_rep_peak_bpm(forecast), 1)
        payload["recover_to_bpm"] = athlete.recovered_bpm
        payload["recover_in_s"] = recovery.seconds
        payload["history_s"] = round(athlete.window.history_s)
        payload["warming_up"] = warming_up
        payload["explain"] = hr_explanation(runner.run, window[0])  # recent HR, effort, plan, seconds
        self.forecasts += 1
        self._emit(channel, t_s, "hr_forecast", payload)

    def _emit(self, channel: str, t_s: float, kind: str, payload: dict) -> None:
        self._sink(FeedbackEvent(channel, t_s, self._manifest.name, self._manifest.version, kind, payload))


def recovered_target_bpm(hr_rest_bpm: float | None, hr_max_bpm: float | None) -> float:
    """The heart rate at which an athlete counts as recovered for the next rep."""
    if hr_rest_bpm is None or hr_max_bpm is None:
        return RECOVERED_DEFAULT_BPM
    return round(hr_rest_bpm + RECOVERED_RESERVE_FRACTION * (hr_max_bpm - hr_rest_bpm))
