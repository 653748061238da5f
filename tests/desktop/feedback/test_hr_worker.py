"""Heart-rate forecasts from the shipped int8 model, fed the way the recorder feeds them."""

from __future__ import annotations

import math
import threading

import pytest

from desktop.feedback.hr_worker import FORECAST_PERIOD_S, HeartRateFeedbackWorker
from desktop.feedback.models import BUNDLED_MODELS_DIR, model_store
from desktop.sources.events import FeedbackEvent, Marker
from desktop.sources.heart_rate.base import HeartRateSample
from desktop.sources.heart_rate.simulated import SimulatedHeartRateSource
from tests.support.waiting import wait_until

WAIT_S = 60.0  # generous: the machine is shared


class Collector(list):
    def __init__(self):
        super().__init__()
        self.lock = threading.Lock()

    def __call__(self, event):
        with self.lock:
            self.append(event)

    def of(self, kind):
        with self.lock:
            return [e for e in self if isinstance(e, FeedbackEvent) and e.kind == kind]


@pytest.fixture
def worker_and_sink(tmp_path):
    path, manifest = model_store(tmp_path).active("heart_rate")  # nothing installed: the bundled model
    sink = Collector()
    worker = HeartRateFeedbackWorker(sink, path, manifest, recovered_bpm={"sim-1": 110.0})
    worker.start()
    yield worker, sink, manifest
    worker.stop()


def simulated_session(duration_s: float, started_at_s: float | None = None) -> list:
    events = []
    clock = {} if started_at_s is None else {"clock": lambda: started_at_s}
    source = SimulatedHeartRateSource(1, speed=math.inf, duration_s=duration_s, **clock)
    source.start(events.append)
    source.stop()
    return [e for e in events if isinstance(e, (HeartRateSample, Marker))]


def test_forecasts_start_after_twenty_seconds_and_come_every_few_seconds(worker_and_sink):
    worker, sink, manifest = worker_and_sink
    for event in simulated_session(199):  # warm-up, one 40 s work bout, most of a rest
        worker.on_event(event)
    wait_until(lambda: len(sink.of("hr_forecast")) >= 30, WAIT_S, "forecasts for 200 s of heart rate")
    forecasts = sink.of("hr_forecast")
    first = forecasts[0]
    assert first.payload["history_s"] == 20 and first.payload["warming_up"]
    assert not forecasts[-1].payload["warming_up"]
    gaps = [round(b.t_mono_s - a.t_mono_s, 6) for a, b in zip(forecasts, forecasts[1:])]  # clock floats
    assert min(gaps) >= FORECAST_PERIOD_S
    assert {(e.model_name, e.model_version) for e in forecasts} == {(manifest.name, manifest.version)}
    for f in forecasts:
        p = f.payload
        assert all(40 < p[k] < 220 for k in ("hr_10s_bpm", "hr_30s_bpm", "hr_60s_bpm", "rep_peak_bpm"))
        assert p["recover_in_s"] is None or 0 <= p["recover_in_s"] <= 60
        assert set(p["explain"]) == {"recent_hr_bpm", "effort_bpm", "plan_bpm", "seconds_ago", "block_bpm"}
    assert any(abs(f.payload["explain"]["recent_hr_bpm"]) > 0 for f in forecasts)


def test_a_forecast_comes_every_five_seconds_whatever_the_clock_reads(worker_and_sink):
    """At 16330.583085 s of the monotonic clock, samples 5 s apart differ by a hair under 5.0 in
    floating point: that must not push the forecast to the next sample (every 6 s)."""
    worker, sink, _ = worker_and_sink
    session = simulated_session(120, started_at_s=16330.583085)
    for event in session:
        worker.on_event(event)
    last_s = max(e.t_mono_s for e in session if isinstance(e, HeartRateSample))
    wait_until(lambda: any(f.t_mono_s >= last_s - FORECAST_PERIOD_S for f in sink.of("hr_forecast")), WAIT_S,
               "forecasts up to the end of 120 s of heart rate")
    times = [f.t_mono_s for f in sink.of("hr_forecast")]
    assert {round(b - a, 6) for a, b in zip(times, times[1:])} == {FORECAST_PERIOD_S}


def test_the_rep_peak_rises_above_now_in_work_and_stays_at_now_in_rest(worker_and_sink):
    """Early in a work bout the model expects heart rate to climb; in a rest, nothing higher is ahead."""
    worker, sink, _ = worker_and_sink
    session = simulated_session(400)  # warm-up, then work 40 s / rest 50 s bouts
    for event in session:
        worker.on_event(event)
    last_s = max(e.t_mono_s for e in session if isinstance(e, HeartRateSample))
    wait_until(lambda: any(f.t_mono_s >= last_s - 2 * FORECAST_PERIOD_S for f in sink.of("hr_forecast")), WAIT_S,
               "forecasts up to the end of 400 s of heart rate")
    hr_at = {round(e.t_mono_s): e.hr_bpm for e in session if isinstance(e, HeartRateSample)}
    marks = [(m.t_mono_s, m.kind) for m in session if isinstance(m, Marker)]

    def rise_bpm(start_s: float, end_s: float) -> list[float]:  # predicted peak over now, in a stretch
        return [f.payload["rep_peak_bpm"] - hr_at[round(f.t_mono_s)] for f in sink.of("hr_forecast")
                if start_s <= f.t_mono_s <= end_s and round(f.t_mono_s) in hr_at]

    in_work = [r for t, kind in marks if kind == "work" for r in rise_bpm(t + 5, t + 25)]
    # early in a rest heart rate only falls; later the next bout (50 s after the rest starts) comes in reach
    in_rest = [r for t, kind in marks if kind == "rest" for r in rise_bpm(t + 5, t + 20)]
    assert len(in_work) >= 10 and len(in_rest) >= 8
    assert sum(r >= 3.0 for r in in_work) >= 0.8 * len(in_work)  # a climb of 3 bpm or more is expected
    assert sum(r <= 1.0 for r in in_rest) >= 0.8 * len(in_rest)  # no higher heart rate is expected


def test_a_heart_rate_that_leaves_the_forecast_band_is_called_unusual(worker_and_sink):
    worker, sink, _ = worker_and_sink
    session = simulated_session(195)  # past the warm-up, 45 s into a rest: confident forecasts
    for event in session:
        worker.on_event(event)
    wait_until(lambda: sink.of("hr_forecast"), WAIT_S, "a first forecast")
    last = max(e.t_mono_s for e in session if isinstance(e, HeartRateSample))
    for k in range(1, 70):  # a sudden, sustained 60 bpm jump that no forecast expected
        worker.on_event(HeartRateSample("sim-1", last + k, 175))
    jumped = lambda: [e.payload for e in sink.of("unusual_response") if e.t_mono_s > last]  # noqa: E731
    wait_until(jumped, WAIT_S, "an unusual response after the jump")
    unusual = jumped()[0]
    assert unusual["observed_bpm"] == 175 and unusual["observed_bpm"] - unusual["forecast_bpm"] > 20


def test_a_broken_model_file_is_refused_before_recording(tmp_path):
    bad = tmp_path / "model.tflite"
    bad.write_bytes(b"not a model")
    _, manifest = model_store(tmp_path).active("heart_rate")
    with pytest.raises(Exception, match="model"):
        HeartRateFeedbackWorker(lambda e: None, bad, manifest)


def test_the_bundled_model_is_the_one_shipped_with_the_app(tmp_path):
    path, _ = model_store(tmp_path).active("heart_rate")
    assert path.parent == BUNDLED_MODELS_DIR / "heart_rate"


def test_a_simulated_athletes_work_starts_raise_no_alarm(worker_and_sink):
    worker, sink, _ = worker_and_sink
    session = simulated_session(600)  # several work bouts, each a rise no rest forecast expected
    for event in session:
        worker.on_event(event)
    last = max(e.t_mono_s for e in session if isinstance(e, HeartRateSample))
    done = lambda: sink.of("hr_forecast") and sink.of("hr_forecast")[-1].t_mono_s >= last - FORECAST_PERIOD_S  # noqa: E731
    wait_until(done, WAIT_S, "forecasts up to the session's end")
    assert len(sink.of("hr_forecast")) > 50
    assert sum(isinstance(e, Marker) and e.kind == "work" for e in session) >= 3
    assert sink.of("unusual_response") == []


def test_the_coachs_plan_reaches_the_forecast(worker_and_sink):
    from edge_models.features.plan import IntervalPlan

    worker, sink, _ = worker_and_sink
    session = simulated_session(200)
    start = min(e.t_mono_s for e in session if isinstance(e, HeartRateSample))
    worker.set_plan(IntervalPlan.from_marks([(start, "rest"), (start + 150, "work")]))
    for event in session:
        worker.on_event(event)
    wait_until(lambda: len(sink.of("hr_forecast")) >= 30, WAIT_S, "forecasts for 200 s")
    planned = [f.payload["explain"]["plan_bpm"] for f in sink.of("hr_forecast")]
    assert any(p != 0.0 for p in planned)  # the planned work start moved some forecast
