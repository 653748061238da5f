"""`trackside-train` publishes a run only when its int8 model passed the gate."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from training import cli
from training.gate import GateResult


@dataclass
class _Run:
    gate: GateResult
    out: Path


def _fake_training(passed: bool):
    """Stands in for the TensorFlow run (tested in test_*_pipeline.py): writes a bundle, gated."""
    def run(args, out: Path):
        out.mkdir(parents=True)
        (out / "model.tflite").write_bytes(b"new model")
        (out / "report.md").write_text("gate verdict")
        return _Run(GateResult(passed=passed, reason="int8 vs float"), out)
    return run


@pytest.fixture
def shipped(tmp_path):
    folder = tmp_path / "heart_rate"
    folder.mkdir()
    (folder / "model.tflite").write_bytes(b"model in the field")
    return folder


def test_a_rejected_model_never_replaces_the_shipped_one(monkeypatch, shipped):
    monkeypatch.setattr(cli, "_run", _fake_training(passed=False))
    assert cli.main(["hr", "--out", str(shipped)]) == cli.EXIT_GATE_FAILED
    assert (shipped / "model.tflite").read_bytes() == b"model in the field"
    rejected = shipped.with_name("heart_rate.rejected")
    assert (rejected / "report.md").read_text() == "gate verdict"
    assert not shipped.with_name("heart_rate.staging").exists()


def test_a_model_that_passed_replaces_the_shipped_one_whole(monkeypatch, shipped):
    monkeypatch.setattr(cli, "_run", _fake_training(passed=True))
    assert cli.main(["hr", "--out", str(shipped)]) == 0
    assert (shipped / "model.tflite").read_bytes() == b"new model"
    assert sorted(p.name for p in shipped.parent.iterdir()) == ["heart_rate"]
