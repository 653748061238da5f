"""`trackside-train movement` end to end on the real labelled clips (a couple of epochs: quick),
and the label file's rules. These tests import TensorFlow: they live under tests/training."""

from __future__ import annotations

import numpy as np
import pytest

from edge_models.manifest import GoldenSet, load_manifest, verify_model_file
from edge_models.movement_live import LiveMovementClassifier
from tests.support.assets import real_asset
from training.movement.dataset import (LabelFileError, label_set, labelled_windows, read_labels,
                                       split_by_source)
from training.movement.pipeline import DEFAULT_TEST_SOURCES, run_movement

QUICK_EPOCHS = 2  # enough to exercise training, conversion, the gate and the bundle


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    real_asset("demo.mp4")
    out = tmp_path_factory.mktemp("movement")
    return run_movement(out, epochs=QUICK_EPOCHS, seed=0)


def test_a_run_leaves_a_complete_gated_bundle(quick_run):
    out = quick_run.out
    manifest = load_manifest(out / "manifest.json")
    verify_model_file(manifest, out / "model.tflite")
    assert manifest.labels == label_set(read_labels())
    assert manifest.input.dtype == "int8" and manifest.input.shape == (1, 30, 99)
    assert (out / "model.tflite").stat().st_size < 0.35 * (out / "model_float.tflite").stat().st_size
    report = (out / "report.md").read_text()
    assert ("PASSED" if quick_run.gate.passed else "FAILED") in report
    assert quick_run.gate.passed == (quick_run.scores["float"]["accuracy"]
                                     - quick_run.scores["int8"]["accuracy"] <= 0.01)
    assert len(GoldenSet.load(out / "golden.npz").inputs) > 0


def test_the_bundle_runs_live(quick_run):
    with LiveMovementClassifier.from_bundled(quick_run.out) as classifier:
        assert classifier.labels == label_set(read_labels())


def test_held_out_clips_are_never_trained_on(quick_run):
    split = quick_run.split
    assert set(split.test.sources) == set(DEFAULT_TEST_SOURCES)
    assert not set(split.train.sources) & set(split.test.sources)


def test_same_data_and_seed_give_the_same_metrics(quick_run, tmp_path):
    again = run_movement(tmp_path, epochs=QUICK_EPOCHS, seed=0)
    assert again.scores == quick_run.scores


def test_windows_never_straddle_a_change_of_the_followed_person():
    real_asset("demo.mp4")
    ranges = [r for r in read_labels() if r.label == "jump"]  # ends where tracking switches person
    windows = labelled_windows(ranges, label_set(ranges))
    hips = windows.inputs.reshape(len(windows), 30, 33, 3)[:, :, 23, :2]
    assert len(windows) > 0
    assert np.abs(np.diff(hips, axis=1)).max() < 1.5  # torso lengths a frame: one person


def test_a_label_file_with_wrong_columns_or_rows_is_refused(tmp_path):
    bad_columns = tmp_path / "columns.csv"
    bad_columns.write_text("clip,start,end,class\ndemo.mp4,0,1,walk\n")
    with pytest.raises(LabelFileError, match="columns"):
        read_labels(bad_columns)
    bad_row = tmp_path / "row.csv"
    bad_row.write_text("clip,region,start_s,end_s,class,note\ndemo.mp4,,2.0,1.0,walk,\n")
    with pytest.raises(LabelFileError, match="line 2"):
        read_labels(bad_row)


def test_holding_out_a_clip_without_labels_is_refused():
    real_asset("demo.mp4")
    ranges = [r for r in read_labels() if r.clip.endswith("cam01.mp4")]
    windows = labelled_windows(ranges, label_set(ranges))
    with pytest.raises(LabelFileError, match="no labelled windows"):
        split_by_source(windows, label_set(ranges), ("nowhere.mp4",))
