"""A small retraining job on the team's real sessions: both verdicts of the double gate.

Passed: against a field model made clearly worse (the bundled model with its biases pushed off).
Rejected: against the very model the first job produced (same seed, same data): equal is not
better by the margin, so nothing is published, and the job says why in numbers.
"""

from __future__ import annotations

import json
import re

import pytest

from edge_models.manifest import load_manifest, verify_model_file
from training.jobs.retrain import JOB_REPORT_FILE, run_retrain
from training.jobs.sessions import StoreSessionSource
from training.jobs.spec import REJECTED, SUCCEEDED, RetrainSpec, SpecError
from tests.training.jobs.conftest import BUNDLED_HR, TEAM

pytestmark = pytest.mark.slow  # trains (small jobs: a few epochs on a subset of windows)


def test_a_model_that_beats_the_field_model_by_the_margin_passes(passed_job):
    result, lines = passed_job
    assert result.state == SUCCEEDED, result.gate["reason"]
    vs_field = result.gate["vs_field"]
    assert vs_field["new"] <= vs_field["field"] * (1 - 0.02)
    assert vs_field["margin"] == 0.02 and "beats the required 2.0 % cut" in vs_field["reason"]
    assert result.gate["int8_vs_float"]["passed"]
    assert result.data["held_out_sessions"] and not set(result.data["held_out_sessions"]) & set(
        result.data["team_train_sessions"])
    fractions = [f for f, _ in lines]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any("training the heart-rate model on CPU" in m or "on GPU" in m for _, m in lines)
    manifest = load_manifest(result.out_dir / "manifest.json")
    verify_model_file(manifest, result.out_dir / "model.tflite")
    major, minor, _ = load_manifest(BUNDLED_HR / "manifest.json").version.split(".")
    assert manifest.version == f"{major}.{int(minor) + 1}.0"  # one above the field model's
    assert "band_low_30s_bpm" in manifest.metrics["int8"]  # what laptops need to show unusual responses
    assert manifest.metrics["int8"]["mae30_bpm"] == pytest.approx(vs_field["new"])
    assert "PASSED" in (result.out_dir / JOB_REPORT_FILE).read_text()


def test_the_same_model_as_the_field_model_is_rejected_with_numbers(passed_job, team_store, tmp_path):
    first, _ = passed_job
    result = run_retrain(RetrainSpec(TEAM, "hr", seed=0, small=True), StoreSessionSource(team_store),
                         first.out_dir, tmp_path / "job-2")
    assert result.state == REJECTED
    vs_field = result.gate["vs_field"]
    assert not vs_field["passed"]
    assert vs_field["new"] == pytest.approx(vs_field["field"], rel=0.01)
    numbers = re.findall(r"\d+\.\d+", vs_field["reason"])
    assert len(numbers) >= 4  # both MAEs, the change and the margin, in the reason itself
    assert "NOT PUBLISHED" in (result.out_dir / JOB_REPORT_FILE).read_text()
    json.dumps(result.to_dict())  # the record a runner persists


def test_a_spec_that_cannot_run_is_refused_before_any_work():
    with pytest.raises(SpecError, match="kind"):
        RetrainSpec(TEAM, "sprint")
    with pytest.raises(SpecError, match="margin"):
        RetrainSpec(TEAM, "hr", hr_mae_margin=1.5)


def test_a_movement_job_is_gated_against_the_field_model_on_the_same_held_out_clips(team_store, tmp_path):
    from training.jobs.cli import BUNDLED

    spec = RetrainSpec(TEAM, "movement", seed=0, small=True)
    result = run_retrain(spec, StoreSessionSource(team_store), BUNDLED / "movement", tmp_path / "mv")
    vs_field = result.gate["vs_field"]
    assert vs_field["metric"] == "accuracy" and vs_field["margin"] == 0.01
    manifest = load_manifest(result.out_dir / "manifest.json")
    assert vs_field["new"] == pytest.approx(manifest.metrics["int8"]["accuracy"])
    beats = vs_field["new"] >= vs_field["field"] + 0.01 - 1e-9
    assert vs_field["passed"] == beats
    assert (result.state == SUCCEEDED) == (beats and result.gate["int8_vs_float"]["passed"])
    assert f"{vs_field['new']:.3f}" in vs_field["reason"] and f"{vs_field['field']:.3f}" in vs_field["reason"]
