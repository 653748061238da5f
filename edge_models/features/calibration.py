"""Honest movement probabilities and a steady label, the same rules in training and on the laptop.

- `calibrated(probabilities, temperature)`: temperature scaling of the model's class probabilities
  (their logs are the logits up to a constant; LiteRT's int8 output is clipped at 1/256 first, so
  a 0.0 stays finite). The temperature is fitted on held-out clips (`fit_temperature`).
- `expected_calibration_error`: the gap between confidence and accuracy, over ECE_BINS bins.
- `SteadyLabel`: what the coach reads: "unsure" while the calibrated probability is below the
  threshold chosen on held-out data, and a new label only once it has held for `hold_s`.
"""

from __future__ import annotations

import numpy as np

PROBABILITY_FLOOR = 1.0 / 256  # an int8 softmax output has this resolution: 0 means "below it"
TEMPERATURES = np.exp(np.linspace(np.log(0.5), np.log(20.0), 60))  # searched, 0.5 to 20
ECE_BINS = 10
UNSURE = "unsure"


def calibrated(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """Class probabilities (..., classes) softened (T > 1) or sharpened (T < 1)."""
    logits = np.log(np.clip(np.asarray(probabilities, dtype=np.float64), PROBABILITY_FLOOR, 1.0))
    scaled = logits / temperature
    scaled -= scaled.max(axis=-1, keepdims=True)
    e = np.exp(scaled)
    return e / e.sum(axis=-1, keepdims=True)


def negative_log_likelihood(probabilities: np.ndarray, truth: np.ndarray) -> float:
    p = np.clip(probabilities[np.arange(len(truth)), truth], 1e-12, 1.0)
    return float(-np.log(p).mean())


def fit_temperature(probabilities: np.ndarray, truth: np.ndarray) -> float:
    """The temperature with the lowest held-out negative log-likelihood."""
    losses = [negative_log_likelihood(calibrated(probabilities, t), truth) for t in TEMPERATURES]
    return float(TEMPERATURES[int(np.argmin(losses))])


def expected_calibration_error(probabilities: np.ndarray, truth: np.ndarray) -> float:
    """Mean |accuracy - confidence| over confidence bins, weighted by the windows in each."""
    confidence = probabilities.max(axis=-1)
    correct = probabilities.argmax(axis=-1) == truth
    bins = np.minimum((confidence * ECE_BINS).astype(int), ECE_BINS - 1)
    return float(sum(abs(correct[bins == b].mean() - confidence[bins == b].mean()) * np.mean(bins == b)
                     for b in range(ECE_BINS) if np.any(bins == b)))


def unsure_threshold(probabilities: np.ndarray, truth: np.ndarray, accuracy_goal: float) -> float:
    """The lowest calibrated probability above which held-out labels are right at least
    `accuracy_goal` of the time (1.0: never sure enough on this data)."""
    confidence = probabilities.max(axis=-1)
    correct = probabilities.argmax(axis=-1) == truth
    for threshold in np.unique(np.r_[0.0, confidence]):
        kept = confidence >= threshold
        if kept.any() and correct[kept].mean() >= accuracy_goal:
            return float(threshold)
    return 1.0


class SteadyLabel:
    """The label shown: "unsure" below `unsure_below`, else a class once it held `hold_s`."""

    def __init__(self, unsure_below: float, hold_s: float) -> None:
        self._unsure_below = unsure_below
        self._hold_s = hold_s
        self.shown: str | None = None
        self._candidate: str | None = None
        self._since_s = 0.0

    def update(self, label: str, probability: float, t_s: float) -> str:
        """The label to show after one model run at time `t_s`."""
        seen = label if probability >= self._unsure_below else UNSURE
        if seen != self._candidate:
            self._candidate, self._since_s = seen, t_s
        if self.shown is None or (seen != self.shown and t_s - self._since_s >= self._hold_s):
            self.shown = seen
        return self.shown


def label_changes(labels: list[str]) -> int:
    """How often the shown label changes along a run of model outputs."""
    return sum(a != b for a, b in zip(labels, labels[1:]))
