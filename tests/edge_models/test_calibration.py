"""Honest movement probabilities: temperature scaling, "unsure", and a label that holds."""

from __future__ import annotations

import numpy as np

from edge_models.features.calibration import (UNSURE, SteadyLabel, calibrated,
                                              expected_calibration_error, fit_temperature,
                                              label_changes, unsure_threshold)


def _overconfident(n: int = 400, seed: int = 0):
    """Always 0.99 sure, right only 70 % of the time: today's movement softmax in miniature."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 4, n)
    said = np.where(rng.random(n) < 0.7, truth, (truth + 1) % 4)
    probs = np.full((n, 4), 0.01 / 3)
    probs[np.arange(n), said] = 0.99
    return probs, truth


def test_temperature_scaling_makes_an_overconfident_model_honest():
    probs, truth = _overconfident()
    t = fit_temperature(probs, truth)
    assert t > 1.0  # softened
    fitted = calibrated(probs, t)
    assert abs(fitted.max(axis=1).mean() - 0.7) < 0.05  # confidence now near the accuracy
    assert expected_calibration_error(fitted, truth) < 0.1 < expected_calibration_error(probs, truth)
    np.testing.assert_array_equal(fitted.argmax(axis=1), probs.argmax(axis=1))  # same classes


def test_unsure_threshold_keeps_only_what_is_right_often_enough():
    probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.6, 0.4], [0.55, 0.45]])
    truth = np.array([0, 0, 1, 1])
    assert unsure_threshold(probs, truth, 0.8) == 0.8
    assert unsure_threshold(probs, np.array([1, 1, 1, 1]), 0.8) == 1.0  # never sure enough


def test_the_label_changes_only_once_a_new_class_has_held():
    steady = SteadyLabel(unsure_below=0.5, hold_s=0.5)
    runs = [("walk", 0.9), ("jump", 0.9), ("walk", 0.9), ("jump", 0.9), ("jump", 0.9),
            ("jump", 0.9), ("jump", 0.9), ("jump", 0.9), ("jump", 0.9), ("lunge", 0.3)] + [("lunge", 0.3)] * 6
    shown = [steady.update(label, p, 0.1 * k) for k, (label, p) in enumerate(runs)]
    assert shown[:4] == ["walk"] * 4  # a flicker is not shown
    assert shown[8] == "jump"  # jump held from 0.3 s to 0.8 s
    assert shown[-1] == UNSURE  # a weak class reads as unsure once that has held
    assert label_changes(shown) == 2
