"""The heart-rate training pipeline on a tiny run: real recordings in, a gated bundle out."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edge_models.features.hr import HORIZONS_S, WINDOW_S
from edge_models.manifest import GoldenSet, load_manifest, verify_model_file
from training.gate import gate_accuracy, gate_mae
from training.hr.dataset import (COLD_START_HISTORIES_S, concat, distinct_recordings,
                                 leave_out, recording_labels, time_block_split, training_windows,
                                 windows_of)
from tests.support.assets import real_asset

pytestmark = pytest.mark.slow  # imports TensorFlow and trains (a few seconds of it)

TINY_WINDOWS = 120  # windows kept for training and for testing in a tiny run


def _recordings():
    return [real_asset(name) for name in ("4801048867.fit", "3173437224.tcx", "activity_4801048867.tcx")]


def test_split_is_by_recording_and_a_repeated_export_counts_once():
    recordings = distinct_recordings(_recordings())
    assert [r.name for r in recordings] == ["4801048867", "3173437224"]  # the TCX twin is dropped
    split = leave_out(recordings, "4801048867")
    assert split.train_names == ("3173437224",) and split.test_names == ("4801048867",)
    with pytest.raises(ValueError, match="no recording"):
        leave_out(recordings, "nonexistent")


def test_validation_block_is_the_end_of_each_recording_and_never_overlaps_fitting():
    parts = [windows_of(r, 2).windows for r in distinct_recordings(_recordings())]
    train = concat(parts)
    labels = recording_labels(train)
    assert [int((labels == i).sum()) for i in range(2)] == [len(p) for p in parts]
    fit, validation = time_block_split(train, labels)
    for label in range(2):
        fit_end = train.end_s[fit][labels[fit] == label]
        val_end = train.end_s[validation][labels[validation] == label]
        assert len(fit_end) and len(val_end)
        # the first validation window's history starts after the last fitting window's future
        assert val_end.min() - WINDOW_S >= fit_end.max() + max(HORIZONS_S)


def test_training_set_holds_cold_start_windows_in_time_order_per_recording():
    recordings = distinct_recordings(_recordings())
    parts = [training_windows(r).windows for r in recordings]
    train = concat(parts)
    assert set(np.unique(train.history_s)) == {*COLD_START_HISTORIES_S, WINDOW_S}
    assert 0.3 < train.cold_start.mean() < 0.6  # a real share, not a token few
    labels = recording_labels(train)  # the time-block split still sees one block per recording
    assert [int((labels == i).sum()) for i in range(len(parts))] == [len(p) for p in parts]
    held_out = leave_out(recordings, "4801048867").test
    assert held_out.cold_start.any() and (~held_out.cold_start).any()


def test_the_network_starts_as_ridge_on_the_last_seconds():
    from training.hr import model as hr_model
    from training.hr.baselines import Ridge

    windows = windows_of(distinct_recordings(_recordings())[0], 30).windows
    ridge = Ridge.fit(windows, pool_s=hr_model.POOL_S)
    network = hr_model.build_trainable(*ridge.as_dense())
    np.testing.assert_allclose(network.predict(windows.inputs, verbose=0), ridge.predict(windows),
                               atol=1e-4)


def test_fitting_twice_with_one_seed_gives_the_same_model():
    from training.hr.fit import fit_forecaster
    from training.tf_setup import seed_everything

    train = windows_of(distinct_recordings(_recordings())[1], 6).windows
    weights = []
    for _ in range(2):
        seed_everything(5)
        model, log = fit_forecaster(train, max_epochs=2)
        weights.append(model.get_weights())
        assert log.validation_mae30[log.best_epoch] == min(log.validation_mae30)  # the best is kept
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)


def test_tiny_run_holds_out_each_recording_and_writes_a_consistent_bundle(tmp_path):
    from training.hr.pipeline import run_hr

    run = run_hr(tmp_path / "run", epochs=1, seed=3, recordings=_recordings(),
                 max_windows=TINY_WINDOWS)
    assert [(f.holdout, f.train_names) for f in run.folds] == [
        ("4801048867", ("3173437224",)), ("3173437224", ("4801048867",))]
    manifest = load_manifest(run.out / "manifest.json")
    verify_model_file(manifest, run.out / "model.tflite")
    for key in ("mae30_bpm", "cold_mae30_bpm"):
        assert manifest.metrics["int8"][key] == pytest.approx(run.scores["int8"][key])
        assert run.scores["float"][key] > 0 and run.scores["persistence"][key] > 0
    assert len(GoldenSet.load(run.out / "golden.npz").inputs) > 0
    report = (run.out / "report.md").read_text()
    assert "Leave one recording out" in report and "Gate:" in report and "Cold start" in report
    assert "cold start" in run.gate.reason
    assert "same filtered windows" in report and "3173437224 " in report  # artefacts counted
    assert all(f"| {f.holdout} |" in report for f in run.folds)
    assert "Speed of int8 against float" in report  # the reader learns why, not just that
    assert json.loads((run.out / "manifest.json").read_text())["input"]["dtype"] == "int8"


def test_gate_lets_a_faithful_int8_model_through_and_stops_a_degraded_one():
    assert gate_mae(5.0, 5.2).passed
    assert not gate_mae(5.0, 5.3).passed  # 6 % worse
    assert gate_accuracy(0.90, 0.895).passed
    failed = gate_accuracy(0.90, 0.88)
    assert not failed.passed and "2.0 points" in failed.reason
