"""The accuracy gate: an int8 model ships only if it keeps (nearly all) of its float model's skill.

Published int8 conversions range from a few points lost to collapse, so every run is gated on
held-out data, and a run that fails exits non-zero with the reason in its report.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_ACCURACY_DROP = 0.01  # movement: int8 may lose at most 1 accuracy point against float
MAX_MAE_INCREASE = 0.05  # heart rate: int8 MAE may be at most 5 % (relative) above float


@dataclass(frozen=True)
class GateResult:
    passed: bool
    reason: str


def gate_accuracy(acc_float: float, acc_int8: float) -> GateResult:
    drop = acc_float - acc_int8
    passed = drop <= MAX_ACCURACY_DROP
    verdict = "within" if passed else "beyond"
    return GateResult(passed, f"int8 accuracy {acc_int8:.3f} vs float {acc_float:.3f}: drop "
                              f"{drop * 100:.1f} points, {verdict} the {MAX_ACCURACY_DROP * 100:.0f}-point limit")


def gate_mae(mae_float: float, mae_int8: float) -> GateResult:
    increase = mae_int8 / mae_float - 1.0 if mae_float > 0 else float("inf")
    passed = increase <= MAX_MAE_INCREASE
    verdict = "within" if passed else "beyond"
    return GateResult(passed, f"int8 MAE {mae_int8:.2f} bpm vs float {mae_float:.2f} bpm: "
                              f"{increase * 100:+.1f} %, {verdict} the {MAX_MAE_INCREASE * 100:.0f} % limit")
