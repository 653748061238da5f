"""The heart-rate training pipeline on a tiny run: real recordings in, a gated bundle out."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edge_models.manifest import GoldenSet, load_manifest, verify_model_file
from training.gate import gate_accuracy, gate_mae
from training.hr.dataset import distinct_recordings, leave_out
from tests.support.assets import real_asset

pytestmark = pytest.mark.slow  # imports TensorFlow and trains (a few seconds of it)

TINY_WINDOWS = 160  # windows kept for training and for testing in a tiny run


def _recordings():
    return [real_asset(name) for name in ("4801048867.fit", "3173437224.tcx", "activity_4801048867.tcx")]


def test_split_is_by_recording_and_a_repeated_export_counts_once():
    recordings = distinct_recordings(_recordings())
    assert [r.name for r in recordings] == ["4801048867", "3173437224"]  # the TCX twin is dropped
    split = leave_out(recordings, "4801048867")
    assert split.train_names == ("3173437224",) and split.test_names == ("4801048867",)
    with pytest.raises(ValueError, match="no recording"):
        leave_out(recordings, "nonexistent")


def test_tiny_run_writes_a_consistent_bundle_and_repeats_exactly(tmp_path):
    from training.hr.pipeline import run_hr

    runs = [run_hr(tmp_path / f"run{i}", epochs=1, seed=3, holdout="4801048867",
                   recordings=_recordings(), max_windows=TINY_WINDOWS) for i in range(2)]
    assert runs[0].scores == runs[1].scores  # same seed, same data: same model, same metrics
    out = runs[0].out
    manifest = load_manifest(out / "manifest.json")
    verify_model_file(manifest, out / "model.tflite")
    assert manifest.metrics["int8"]["mae30_bpm"] == pytest.approx(runs[0].scores["int8"]["mae30_bpm"])
    assert len(GoldenSet.load(out / "golden.npz").inputs) > 0
    report = (out / "report.md").read_text()
    assert "persistence" in report and "Gate:" in report
    assert json.loads((out / "manifest.json").read_text())["input"]["dtype"] == "int8"
    assert (out / "model_float.tflite").stat().st_size > (out / "model.tflite").stat().st_size


def test_gate_lets_a_faithful_int8_model_through_and_stops_a_degraded_one():
    assert gate_mae(5.0, 5.2).passed
    assert not gate_mae(5.0, 5.3).passed  # 6 % worse
    assert gate_accuracy(0.90, 0.895).passed
    failed = gate_accuracy(0.90, 0.88)
    assert not failed.passed and "2.0 points" in failed.reason
