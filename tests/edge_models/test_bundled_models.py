"""The starter models shipped with the app: each file is what its manifest says, runs on LiteRT
(no TensorFlow here) and gives the outputs recorded when it was published."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edge_models.features.hr import (HORIZONS_S, HR_SCALE_BPM, effort_from_channels,
                                     recording_windows)
from edge_models.features.hr_insights import ForecastBand
from edge_models.manifest import GoldenSet, load_manifest, verify_model_file
from edge_models.recordings import read_recording
from edge_models.runtime import ModelRunner, RunnerOptions
from tests.support.assets import real_asset

BUNDLED = Path(__file__).resolve().parents[2] / "edge_models" / "bundled"
SHIPPED = ["heart_rate", "movement"]
HR_HELD_OUT = "4801048867.fit"  # the recording the shipped heart-rate model never saw
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


def test_heart_rate_model_scores_on_its_held_out_recording_what_its_manifest_claims():
    folder, manifest = _bundle("heart_rate")
    mae30_bpm = _held_out_mae30_bpm(folder, real_asset(HR_HELD_OUT))
    assert mae30_bpm == pytest.approx(manifest.metrics["int8"]["mae30_bpm"], rel=MAE_REPRODUCE_RTOL)


def test_heart_rate_manifest_carries_a_usable_forecast_band():
    _, manifest = _bundle("heart_rate")
    band = ForecastBand.from_metrics(manifest.metrics["int8"])
    assert all(low < 0 < high for low, high in zip(band.low_bpm, band.high_bpm))
    assert band.high_bpm[-1] - band.low_bpm[-1] > band.high_bpm[0] - band.low_bpm[0]  # wider later


def _held_out_mae30_bpm(folder: Path, recording_path: Path) -> float:
    recording = read_recording(recording_path)
    effort, _ = effort_from_channels(recording.power_w, recording.speed_mps, recording.cadence_rpm)
    windows = recording_windows(recording.time_s, recording.hr_bpm, effort)
    with ModelRunner.create_from_options(RunnerOptions(folder / "model.tflite", num_threads=1)) as runner:
        predicted = np.stack([runner.run(x[None, ...])[0] for x in windows.inputs])
    return float(np.abs(predicted - windows.targets)[:, HORIZONS_S.index(30)].mean() * HR_SCALE_BPM)


def test_movement_model_scores_on_its_held_out_clips_what_its_manifest_claims():
    real_asset("demo.mp4")
    from training.movement.dataset import label_set, labelled_windows, read_labels  # no TensorFlow
    from training.movement.pipeline import DEFAULT_TEST_SOURCES

    folder, manifest = _bundle("movement")
    ranges = read_labels()
    assert manifest.labels == label_set(ranges)  # the classes come from the label file
    held_out = [r for r in ranges if r.source in DEFAULT_TEST_SOURCES]
    windows = labelled_windows(held_out, manifest.labels)
    with ModelRunner.create_from_options(RunnerOptions(folder / "model.tflite", num_threads=1)) as runner:
        classes = np.stack([runner.run(x[None, ...])[0] for x in windows.inputs])[:, :len(manifest.labels)]
    accuracy = float(np.mean(classes.argmax(axis=1) == windows.classes))
    assert accuracy == pytest.approx(manifest.metrics["int8"]["accuracy"], abs=1e-9)
    assert accuracy > 1 / len(manifest.labels)  # better than guessing


def test_running_shipped_models_needs_no_tensorflow():
    import sys

    assert "tensorflow" not in sys.modules  # the laptop runs these on LiteRT alone
