"""Leave one recording out: every recording is held out once, the rest train a fresh model.

Each fold trains, converts to float and int8 .tflite, and predicts its held-out recording with
both files on LiteRT, next to persistence and ridge fitted on the same training recordings. The
reported figures pool the held-out predictions of every fold, so each recording counts by its
windows; each fold is listed too.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from edge_models.features.hr import HrWindows, without_plan
from training.hr.baselines import Ridge, headline, persistence
from training.hr.dataset import HrSplit, concat
from training.hr.fit import FitLog, fit_forecaster
from training.litert_eval import predict_tflite
from training.tf_setup import seed_everything

logger = logging.getLogger(__name__)

MODELS = ("int8", "float", "persistence", "ridge")  # what every fold scores, in report order
NOPLAN = ("int8", "ridge")  # also scored on the same windows with the plan taken away


@dataclass(frozen=True)
class FoldResult:
    """One held-out recording: its windows and what each model predicted for them."""

    holdout: str
    train_names: tuple[str, ...]
    train_windows: int
    test: HrWindows
    predicted: dict[str, np.ndarray]  # MODELS and "<NOPLAN>_noplan" -> (n, horizons) scaled changes
    fit_log: FitLog

    def scores(self) -> dict[str, dict[str, float]]:
        return scored(self.predicted, self.test)


def scored(predicted: dict[str, np.ndarray], test: HrWindows) -> dict[str, dict[str, float]]:
    """Each model's headline figures; for NOPLAN models also the transition MAE without a plan,
    against persistence on the same windows."""
    scores = {name: headline(predicted[name], test) for name in MODELS}
    for name in NOPLAN:
        scores[name]["transition_noplan_mae30_bpm"] = headline(
            predicted[f"{name}_noplan"], test)["transition_mae30_bpm"]
    scores["persistence"]["transition_noplan_mae30_bpm"] = scores["persistence"]["transition_mae30_bpm"]
    return scores


def run_fold(split: HrSplit, epochs: int, seed: int, convert) -> FoldResult:
    """Train on `split.train`, score on `split.test`. `convert(model, train, folder)` -> paths."""
    seed_everything(seed)
    model, log = fit_forecaster(split.train, epochs)
    with tempfile.TemporaryDirectory(prefix="hr_fold_") as folder:
        float_path, int8_path = convert(model, split.train, Path(folder))
        predicted = {"int8": predict_tflite(int8_path, split.test.inputs),
                     "float": predict_tflite(float_path, split.test.inputs),
                     "int8_noplan": predict_tflite(int8_path, without_plan(split.test.inputs))}
    predicted["persistence"] = persistence(split.test)
    ridge = Ridge.fit(split.train)
    predicted["ridge"] = ridge.predict(split.test)
    predicted["ridge_noplan"] = ridge.predict(replace(split.test, inputs=without_plan(split.test.inputs)))
    logger.info("fold %s: %d training windows, %d held out",
                split.test_names[0], len(split.train), len(split.test))
    return FoldResult(split.test_names[0], split.train_names, len(split.train), split.test,
                      predicted, log)


def pooled(folds: list[FoldResult]) -> tuple[HrWindows, dict[str, np.ndarray]]:
    """Every fold's held-out windows and predictions, end to end."""
    test = concat([f.test for f in folds])
    return test, {name: np.concatenate([f.predicted[name] for f in folds])
                  for name in folds[0].predicted}


def pooled_scores(folds: list[FoldResult]) -> dict[str, dict[str, float]]:
    test, predicted = pooled(folds)
    return scored(predicted, test)
