"""The starter models shipped with the app: each file is what its manifest says, runs on LiteRT
(no TensorFlow here) and gives the outputs recorded when it was published."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edge_models.features.effort import recording_effort
from edge_models.features.hr import (COLD_START_MIN_S, HORIZONS_S, HR_SCALE_BPM, HrWindows)
from edge_models.features.hr_insights import ForecastBand
from edge_models.manifest import GoldenSet, load_manifest, verify_model_file
from edge_models.model_store import BUNDLED_MODELS_DIR
from edge_models.recordings import read_recording
from edge_models.runtime import ModelRunner, RunnerOptions
from tests.support.assets import real_asset

BUNDLED = BUNDLED_MODELS_DIR
SHIPPED = ["heart_rate", "movement"]
HR_CHECK = "4801048867.fit"  # a real ride the heart-rate manifest carries a score for (seen in training)
MAE_REPRODUCE_RTOL = 1e-3  # the same windows on the same file: the same error, to rounding


def _bundle(name: str):
    folder = BUNDLED / name
    manifest = load_manifest(folder / "manifest.json")
    return folder, manifest


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_model_is_the_file_its_manifest_describes(name):
    folder, manifest = _bundle(name)
    verify_model_file(manifest, folder / "model.tflite")
    with ModelRunner.create_from_options(RunnerOptions(folder / "model.tflite")) as runner:
        spec = runner.input_specs[0]
    assert (spec.name, spec.shape, spec.dtype.name) == (
        manifest.input.name, manifest.input.shape, manifest.input.dtype)
    assert manifest.metrics["int8"] and manifest.metrics["float"]


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_model_reproduces_its_golden_outputs(name):
    folder, manifest = _bundle(name)
    golden = GoldenSet.load(folder / manifest.golden_file)
    expected = next(iter(golden.outputs.values()))
    with ModelRunner.create_from_options(RunnerOptions(folder / "model.tflite")) as runner:
        got = np.stack([runner.run(x[None, ...])[0] for x in golden.inputs])
    np.testing.assert_allclose(got, expected, atol=manifest.golden_atol)
    assert np.ptp(expected, axis=0).max() > 0  # the golden inputs really tell models apart


def test_heart_rate_model_scores_on_a_real_ride_what_its_manifest_claims():
    folder, manifest = _bundle("heart_rate")
    mae30_bpm = _mae30_bpm(folder, real_asset(HR_CHECK))
    assert mae30_bpm == pytest.approx(manifest.metrics["int8"]["seen_check_mae30_bpm"],
                                      rel=MAE_REPRODUCE_RTOL)


def test_heart_rate_model_scores_cold_starts_on_a_real_ride_as_its_manifest_claims():
    from training.hr.dataset import held_out_windows  # numpy only: the pipeline's own windows

    folder, manifest = _bundle("heart_rate")
    windows = held_out_windows(read_recording(real_asset(HR_CHECK))).windows
    cold = windows.cold_start
    assert cold.any() and (~cold).any()
    mae30_bpm = _windows_mae30_bpm(folder, windows, cold)
    assert mae30_bpm == pytest.approx(manifest.metrics["int8"]["seen_check_cold_mae30_bpm"],
                                      rel=MAE_REPRODUCE_RTOL)


@pytest.mark.parametrize("key", ["mae30_bpm", "cold_mae30_bpm"])
def test_heart_rate_manifest_figures_are_held_out_and_not_flattered(key):
    _, manifest = _bundle("heart_rate")
    int8 = manifest.metrics["int8"]
    # leave-one-recording-out error is the honest one: above the shipped model's error on data it saw
    assert int8[key] > int8[f"seen_{key}"]
    assert abs(int8[key] / manifest.metrics["float"][key] - 1.0) <= 0.05  # the gate


def test_heart_rate_manifest_carries_a_usable_forecast_band():
    _, manifest = _bundle("heart_rate")
    band = ForecastBand.from_metrics(manifest.metrics["int8"])
    assert all(low < 0 < high for low, high in zip(band.low_bpm, band.high_bpm))
    assert band.high_bpm[-1] - band.low_bpm[-1] > band.high_bpm[0] - band.low_bpm[0]  # wider later


LIVE_CHECK_S = 1500  # seconds of the real ride replayed through the live path
UNUSUAL_MAX = 2  # alarms a coach can trust: at most a couple in 25 minutes of a real ride


def test_live_forecasts_on_a_real_ride_feed_the_coachs_insights():
    from edge_models.features.effort import work_rest_state
    from edge_models.features.hr import decode_forecast
    from edge_models.features.hr_insights import (ResponseWatch, make_forecast,
                                                  time_to_recover)
    from edge_models.features.hr_live import LiveHrWindow

    folder, manifest = _bundle("heart_rate")
    ride = read_recording(real_asset(HR_CHECK))
    effort, _ = recording_effort(ride.power_w, ride.speed_mps, ride.cadence_rpm)
    state = work_rest_state(effort)  # what the coach's marks would say: work 1, rest 0
    live, watch = LiveHrWindow(), ResponseWatch(ForecastBand.from_metrics(manifest.metrics["int8"]))
    forecasts, unusual = 0, 0
    with ModelRunner.create_from_options(RunnerOptions(folder / "model.tflite", num_threads=1)) as runner:
        for t, hr, work in zip(ride.time_s[:LIVE_CHECK_S], ride.hr_bpm[:LIVE_CHECK_S], state):
            if not np.isfinite(hr):
                continue
            live.set_effort(t, float(work))
            live.add_hr(t, hr)
            unusual += len(watch.observe(t, hr, live.work_state))
            window = live.model_input()
            if window is None:
                continue
            ahead = decode_forecast(runner.run(window)[0], hr)
            forecast = make_forecast(t, hr, ahead, window, live.history_s)
            watch.add_forecast(forecast)
            forecasts += 1
            eta = time_to_recover(forecast, hr + 1.0)
            assert eta.seconds == 0.0  # already at or below a target above now
    assert forecasts > LIVE_CHECK_S // 2
    assert unusual <= UNUSUAL_MAX


FIRST_SECONDS_S = 20  # the check: 20 s of a real ride, then forecasts from the model
FIRST_FORECAST_SPAN_BPM = 40.0  # a first forecast farther than this from now would be nonsense


def test_twenty_seconds_of_a_real_ride_give_forecasts():
    from edge_models.features.hr import decode_forecast
    from edge_models.features.hr_live import LiveHrWindow

    folder, _ = _bundle("heart_rate")
    ride = read_recording(real_asset(HR_CHECK))
    live, forecasts = LiveHrWindow(), []
    with ModelRunner.create_from_options(RunnerOptions(folder / "model.tflite", num_threads=1)) as runner:
        for t, hr in zip(ride.time_s[:FIRST_SECONDS_S], ride.hr_bpm[:FIRST_SECONDS_S]):
            live.add_hr(t, hr)
            window = live.model_input()
            if window is not None:
                forecasts.append(decode_forecast(runner.run(window)[0], hr))
    assert len(forecasts) == FIRST_SECONDS_S - COLD_START_MIN_S + 1  # one a second from the 20th
    assert live.history_s == FIRST_SECONDS_S  # the desktop shows it as warming up
    assert np.all(np.abs(forecasts[-1] - live.hr_now_bpm) < FIRST_FORECAST_SPAN_BPM)


HR_ARTEFACT_RUN = "3173437224.tcx"  # a real run whose strap jumps 150 -> 58 bpm in its first 10 min
ARTEFACT_REPLAY_S = 700  # seconds of it replayed: every artefact the rule finds lies before


def test_strap_artefacts_of_a_real_run_never_reach_the_coachs_forecast():
    from edge_models.features.hr import artefact_mask, decode_forecast
    from edge_models.features.hr_live import LiveHrWindow

    folder, _ = _bundle("heart_rate")
    run = read_recording(real_asset(HR_ARTEFACT_RUN))
    keep = np.isfinite(run.hr_bpm) & (run.time_s < ARTEFACT_REPLAY_S)
    artefact = artefact_mask(run.time_s[keep], run.hr_bpm[keep])
    live, checked = LiveHrWindow(), 0
    with ModelRunner.create_from_options(RunnerOptions(folder / "model.tflite", num_threads=1)) as runner:
        for t, hr, bad in zip(run.time_s[keep], run.hr_bpm[keep], artefact):
            assert live.add_hr(t, hr) != bad
            window = live.model_input()
            if bad and window is not None:
                ahead = decode_forecast(runner.run(window)[0], live.hr_now_bpm)
                assert live.hr_now_bpm != hr  # the forecast starts from the last real heart rate
                assert np.all(np.abs(ahead - live.hr_now_bpm) < FIRST_FORECAST_SPAN_BPM)
                checked += 1
    assert checked > 0 and live.artefact_count == artefact.sum()


def _mae30_bpm(folder: Path, recording_path: Path) -> float:
    from training.hr.dataset import held_out_windows  # numpy only: the pipeline's own windows

    windows = held_out_windows(read_recording(recording_path)).windows  # with the ride's own plan
    return _windows_mae30_bpm(folder, windows, ~windows.cold_start)


def _windows_mae30_bpm(folder: Path, windows: HrWindows, mask: np.ndarray) -> float:
    with ModelRunner.create_from_options(RunnerOptions(folder / "model.tflite", num_threads=1)) as runner:
        predicted = np.stack([runner.run(x[None, ...])[0] for x in windows.inputs[mask]])
    error = np.abs(predicted - windows.targets[mask])[:, HORIZONS_S.index(30)]
    return float(error.mean() * HR_SCALE_BPM)


def test_movement_manifest_carries_the_calibration_chosen_on_held_out_clips():
    _, manifest = _bundle("movement")
    int8 = manifest.metrics["int8"]
    assert int8["temperature"] > 1.0  # the raw softmax is overconfident: calibration softens it
    assert 0.0 < int8["unsure_below"] < 1.0 and 0.0 <= int8["label_hold_s"] <= 1.0
    assert int8["ece_calibrated_in_sample"] < int8["ece_raw"]
