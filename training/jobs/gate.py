"""The double gate of a retraining job: int8 against float (`training.gate`, as every training run)
AND the new model against the model now in the field, both int8 on LiteRT, on the team's held-out
sessions. The margin is fixed in the job's spec before the job starts; the verdict says why in
numbers: both metrics, the margin and the outcome.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from training.gate import GateResult


@dataclass(frozen=True)
class FieldComparison:
    """New model against the field model on the same held-out windows, both int8 on LiteRT."""

    metric: str  # "mae30_bpm" (lower is better) or "accuracy" (higher is better)
    new: float
    field: float
    margin: float  # relative MAE cut (0.02 = 2 % lower) or accuracy points as a fraction (0.01)
    passed: bool
    reason: str


def beats_field_mae(new_mae: float, field_mae: float, margin: float) -> FieldComparison:
    """Passed when the new MAE is at least `margin` (relative) below the field model's."""
    needed = field_mae * (1.0 - margin)
    change = new_mae / field_mae - 1.0 if field_mae > 0 else float("inf")
    passed = new_mae <= needed
    verdict = "beats" if passed else "does not beat"
    return FieldComparison("mae30_bpm", new_mae, field_mae, margin, passed,
                           f"new int8 MAE {new_mae:.3f} bpm vs field int8 {field_mae:.3f} bpm on the "
                           f"team's held-out sessions: {change * 100:+.1f} %, {verdict} the required "
                           f"{margin * 100:.1f} % cut (needs <= {needed:.3f} bpm)")


def beats_field_accuracy(new_accuracy: float, field_accuracy: float, margin: float) -> FieldComparison:
    """Passed when the new accuracy is at least `margin` (a fraction: 0.01 = 1 point) higher."""
    gain = new_accuracy - field_accuracy
    passed = gain >= margin - 1e-12
    verdict = "beats" if passed else "does not beat"
    return FieldComparison("accuracy", new_accuracy, field_accuracy, margin, passed,
                           f"new int8 accuracy {new_accuracy:.3f} vs field int8 {field_accuracy:.3f} "
                           f"on held-out data: {gain * 100:+.1f} points, {verdict} the required "
                           f"+{margin * 100:.1f} points")


def cannot_compare(metric: str, why: str) -> FieldComparison:
    """No comparison is possible (no held-out windows, another input shape): never published."""
    nan = float("nan")
    return FieldComparison(metric, nan, nan, nan, False, f"not compared with the field model: {why}")


@dataclass(frozen=True)
class DoubleGate:
    int8_vs_float: GateResult
    vs_field: FieldComparison

    @property
    def passed(self) -> bool:
        return self.int8_vs_float.passed and self.vs_field.passed

    @property
    def reason(self) -> str:
        return (f"int8 vs float: {'passed' if self.int8_vs_float.passed else 'FAILED'}: "
                f"{self.int8_vs_float.reason}. Against the field model: "
                f"{'passed' if self.vs_field.passed else 'FAILED'}: {self.vs_field.reason}")

    def to_dict(self) -> dict:
        return {"passed": self.passed, "reason": self.reason,
                "int8_vs_float": asdict(self.int8_vs_float), "vs_field": asdict(self.vs_field)}
