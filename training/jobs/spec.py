"""What a retraining job is asked to do (`RetrainSpec`) and what it gives back (`RetrainResult`).

Both are plain, picklable values: they cross into a worker process or a Ray task and back.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

KINDS = ("hr", "movement")
SUCCEEDED = "succeeded"  # trained, passed both gates: ready to publish
REJECTED = "rejected"  # trained, but a gate said no: not published, the reason in numbers
DEFAULT_HR_MAE_MARGIN = 0.02  # the new HR model's MAE must be at least 2 % below the field model's
DEFAULT_MOVEMENT_ACCURACY_MARGIN = 0.01  # the new movement model must gain at least 1 point
DEFAULT_HELD_OUT_FRACTION = 0.25  # share of the team's sessions held out (by a seeded hash)
SMALL_HR_EPOCHS = 2  # a small job (tests, benchmarks): a couple of epochs ...
SMALL_HR_WINDOWS = 1500  # ... on at most this many evenly spaced training windows
SMALL_MOVEMENT_EPOCHS = 3


class SpecError(ValueError):
    """A job asked for something that cannot run (unknown kind, margin out of range)."""


@dataclass(frozen=True)
class RetrainSpec:
    team: str
    kind: str  # "hr" or "movement"
    seed: int = 0
    small: bool = False  # few epochs on a subset of windows: for tests and benchmarks
    hr_mae_margin: float = DEFAULT_HR_MAE_MARGIN
    movement_accuracy_margin: float = DEFAULT_MOVEMENT_ACCURACY_MARGIN
    held_out_fraction: float = DEFAULT_HELD_OUT_FRACTION

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise SpecError(f"kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if not self.team.strip():
            raise SpecError("a job needs a team")
        for name in ("hr_mae_margin", "movement_accuracy_margin"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise SpecError(f"{name} must be in [0, 1), got {getattr(self, name)}")
        if not 0.0 < self.held_out_fraction < 1.0:
            raise SpecError(f"held_out_fraction must be in (0, 1), got {self.held_out_fraction}")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class RetrainResult:
    """What a finished job measured and decided. `gate` is `DoubleGate.to_dict()`."""

    state: str  # SUCCEEDED or REJECTED
    out_dir: Path
    device: str  # "GPU" or "CPU": where TensorFlow trained
    gate: dict
    data: dict = field(default_factory=dict)  # sessions and windows used, held-out ids

    @property
    def published_ok(self) -> bool:
        return self.state == SUCCEEDED

    def to_dict(self) -> dict:
        return {**asdict(self), "out_dir": str(self.out_dir)}
