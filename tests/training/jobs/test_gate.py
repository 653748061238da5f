"""The field half of the double gate: the verdict and its numbers."""

from __future__ import annotations

from training.gate import GateResult
from training.jobs.gate import DoubleGate, beats_field_accuracy, beats_field_mae


def test_mae_must_drop_by_the_margin_fixed_beforehand():
    assert beats_field_mae(5.0, 5.2, 0.02).passed  # -3.8 %
    tie = beats_field_mae(5.2, 5.2, 0.02)
    assert not tie.passed and "+0.0 %" in tie.reason and "5.200" in tie.reason and "2.0 %" in tie.reason
    assert not beats_field_mae(5.15, 5.2, 0.02).passed  # -1.0 %: better, not by the margin


def test_accuracy_must_gain_the_margin_in_points():
    assert beats_field_accuracy(0.76, 0.74, 0.01).passed
    short = beats_field_accuracy(0.745, 0.74, 0.01)
    assert not short.passed and "+0.5 points" in short.reason and "+1.0 points" in short.reason


def test_both_gates_must_pass_and_the_reason_names_each():
    int8_ok, int8_bad = GateResult(True, "int8 fine"), GateResult(False, "int8 lost 9 %")
    field_ok = beats_field_mae(5.0, 5.2, 0.02)
    assert DoubleGate(int8_ok, field_ok).passed
    both = DoubleGate(int8_bad, field_ok)
    assert not both.passed and "int8 lost 9 %" in both.reason and "beats" in both.reason
