"""Calibration of the movement model on held-out clips: temperature, "unsure" threshold, label hold.

Every choice is made on the held-out clips (never the training ones). The ECE after calibration
is cross-fitted: each held-out clip is cut in two halves in time, and the windows of each half are
scored with the temperature fitted on the other halves of every held-out clip, so the calibrated
figure is not scored on the data that chose it. (Fitting on one clip and scoring another does not
work here: each held-out clip shows one class, one always right and one right two times in three.)
The shipped temperature is then fitted on all held-out windows.
"""

from __future__ import annotations

import numpy as np

from edge_models.features.calibration import (SteadyLabel, calibrated, expected_calibration_error,
                                              fit_temperature, label_changes, unsure_threshold)
from edge_models.features.movement import FRAME_RATE_HZ

UNSURE_ACCURACY_GOAL = 0.8  # a class is shown when held-out labels above its probability are right 80 %
HOLDS_S = (0.0, 0.2, 0.3, 0.5, 0.7, 1.0)  # label hold times tried on the held-out clips
RUN_EVERY_FRAMES = 3  # the live classifier runs at most every 0.1 s: every third 30 fps window


def calibration_metrics(probabilities: np.ndarray, truth: np.ndarray, sources: np.ndarray) -> dict[str, float]:
    """ece_raw, ece_calibrated (cross-fitted), ece_calibrated_in_sample (scored on the windows
    that chose the temperature: flattering), temperature, unsure_below, label_hold_s."""
    cross = np.zeros_like(probabilities, dtype=np.float64)
    halves = _second_half(sources)
    for half in (False, True):
        mine = halves == half
        cross[mine] = calibrated(probabilities[mine], fit_temperature(probabilities[~mine], truth[~mine]))
    temperature = fit_temperature(probabilities, truth)
    shipped = calibrated(probabilities, temperature)
    unsure_below = unsure_threshold(shipped, truth, UNSURE_ACCURACY_GOAL)
    return {"ece_raw": expected_calibration_error(probabilities, truth),
            "ece_calibrated": expected_calibration_error(cross, truth),
            "ece_calibrated_in_sample": expected_calibration_error(shipped, truth),
            "temperature": temperature, "unsure_below": unsure_below,
            "label_hold_s": _label_hold_s(shipped, truth, sources, unsure_below)}


def _second_half(sources: np.ndarray) -> np.ndarray:
    """True for the windows in the later half of their clip (windows are in time order)."""
    out = np.zeros(len(sources), dtype=bool)
    for source in np.unique(sources):
        idx = np.flatnonzero(sources == source)
        out[idx[len(idx) // 2:]] = True
    return out


def _label_hold_s(probabilities: np.ndarray, truth: np.ndarray, sources: np.ndarray,
                  unsure_below: float) -> float:
    """The shortest hold whose shown labels change least on the held-out clips (each one class,
    its windows in time order)."""
    changes = {hold: sum(_changes(probabilities[sources == s], hold, unsure_below)
                         for s in np.unique(sources)) for hold in HOLDS_S}
    fewest = min(changes.values())
    return float(min(h for h, c in changes.items() if c == fewest))


def _changes(probabilities: np.ndarray, hold_s: float, unsure_below: float) -> int:
    steady, shown = SteadyLabel(unsure_below, hold_s), []
    for k in range(0, len(probabilities), RUN_EVERY_FRAMES):
        best = int(np.argmax(probabilities[k]))
        shown.append(steady.update(str(best), float(probabilities[k, best]), k / FRAME_RATE_HZ))
    return label_changes(shown)
