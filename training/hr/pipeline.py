"""`trackside-train hr`: real recordings -> leave-one-out figures -> shipped model -> gate -> bundle.

1. Leave one recording out: each recording with windows is held out once (`training.hr.loo`).
   The pooled held-out figures are the model's figures: manifest metrics, report, forecast band.
2. The shipped model trains the same way on every recording (more athletes beat a held-out
   score nobody can check), is converted, and checked against its float twin on all windows.
3. The gate: int8 within 5 % of float, on the pooled held-out windows and on the shipped pair,
   for full windows and for cold-start windows (a session's first two minutes) alike.

Every figure is given twice: full windows (120 s of heart rate) and cold-start windows, built by
the live path's own padding rule from COLD_START_HISTORIES_S seconds of history.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge_models.features.hr import HORIZONS_S, HR_SCALE_BPM, HrWindows, artefact_mask
from edge_models.recordings import Recording
from training import bundle
from training.convert import mirror_weights, representative, to_float_tflite, to_int8_tflite
from training.gate import GateResult, gate_mae
from training.hr import model as hr_model
from training.hr.baselines import headline
from training.hr.dataset import (HrSplit, corpus, digest, distinct_recordings, held_out_windows,
                                 recording_folds, split_from, subset, training_windows, whole_split)
from training.hr.fit import fit_forecaster
from training.hr.loo import FoldResult, pooled, pooled_scores, run_fold
from training.hr.report import hr_report
from training.litert_eval import predict_tflite
from training.tf_setup import seed_everything, training_device

logger = logging.getLogger(__name__)

DEFAULT_EPOCHS = 12  # at most; early stopping on the time-block validation usually ends sooner
BAND_QUANTILES = (0.05, 0.95)  # the forecast band: 90 % of held-out residuals fall inside
CHECK_RECORDING = "4801048867"  # re-scored by the bundled-model test: a real ride, in training
MODEL_VERSION = "3.0.0"  # 3: the interval plan as input, rowing sessions, one effort rule, pooled head
FOLD_MAX_TRAIN_WINDOWS = 30_000  # each leave-one-out fold trains on at most this many (evenly
# spaced) windows: 38 folds on two cores; the shipped model trains on all of them


@dataclass(frozen=True)
class HrRun:
    """What one heart-rate training run measured, and whether the gate let it through."""

    scores: dict[str, dict[str, float]]  # pooled held-out: "int8", "float", "persistence", "ridge"
    folds: list[FoldResult]
    seen_scores: dict[str, dict[str, float]]  # the shipped pair on every window: "int8", "float"
    gate: GateResult
    out: Path


def residual_band(predicted: np.ndarray, windows: HrWindows) -> dict[str, float]:
    """Quantiles of (observed - forecast) in bpm per horizon: the 'unusual response' band."""
    residual_bpm = (windows.targets - predicted) * HR_SCALE_BPM
    band = {}
    for i, horizon in enumerate(HORIZONS_S):
        low, high = np.quantile(residual_bpm[:, i], BAND_QUANTILES)
        band[f"band_low_{horizon}s_bpm"] = float(low)
        band[f"band_high_{horizon}s_bpm"] = float(high)
    return band


def convert(model, train: HrWindows, out: Path, seed: int) -> tuple[Path, Path]:
    legacy = mirror_weights(model, hr_model.build_legacy_batch1)
    int8 = to_int8_tflite(legacy, representative(train.inputs, seed))
    return bundle.write_models(out, to_float_tflite(legacy), int8)


def run_hr(out: Path, epochs: int = DEFAULT_EPOCHS, seed: int = 0,
           recordings: list[Path] | None = None, max_windows: int | None = None) -> HrRun:
    """Leave-one-out figures, then train, convert, gate and write the shipped bundle to `out`."""
    seed_everything(seed)
    device = training_device()
    recs = distinct_recordings(recordings) if recordings else corpus()
    fold_cap = min(max_windows or FOLD_MAX_TRAIN_WINDOWS, FOLD_MAX_TRAIN_WINDOWS)
    train_parts = [training_windows(r) for r in recs]
    test_parts = [held_out_windows(r) for r in recs]
    folds = []
    for name in recording_folds(test_parts):
        split = split_from(train_parts, test_parts, name)
        split = HrSplit(_first(split.train, fold_cap), _first(split.test, max_windows or len(split.test)),
                        split.train_names, split.test_names)
        folds.append(run_fold(split, epochs, seed, lambda m, train, folder: convert(m, train, folder, seed)))
    shipped = _trim(whole_split(train_parts, test_parts), max_windows)
    seed_everything(seed)
    model, log = fit_forecaster(shipped.train, epochs)
    float_path, int8_path = convert(model, shipped.train, out, seed)
    seen = {"int8": headline(predict_tflite(int8_path, shipped.test.inputs), shipped.test),
            "float": headline(predict_tflite(float_path, shipped.test.inputs), shipped.test)}
    scores = pooled_scores(folds)
    gate = _gate(scores, seen)
    seen["int8"].update(_check_recording(recs, int8_path))
    _write_bundle(out, shipped, folds, scores, seen)
    artefacts = {r.name: int(artefact_mask(r.time_s, r.hr_bpm).sum()) for r in recs}
    bundle.write_report(out, hr_report(shipped, folds, scores, seen, log, device, epochs, seed,
                                       out, artefacts), gate)
    return HrRun(scores, folds, seen, gate, out)


def _gate(scores: dict, seen: dict) -> GateResult:
    """Held-out (pooled folds) and shipped (every window) int8 within the limit of float, on
    full windows and on cold-start windows."""
    checks = {f"{side}, {kind}": gate_mae(figures["float"][key], figures["int8"][key])
              for side, figures in (("held out (leave one recording out, pooled)", scores),
                                    ("shipped model on every window", seen))
              for kind, key in (("full windows", "mae30_bpm"), ("cold start", "cold_mae30_bpm"))}
    return GateResult(all(c.passed for c in checks.values()),
                      "; ".join(f"{name}: {c.reason}" for name, c in checks.items()))


def _check_recording(recs: list[Recording], int8_path: Path) -> dict[str, float]:
    """The shipped int8 model's MAE at +30 s on CHECK_RECORDING, for a test to reproduce."""
    found = [r for r in recs if r.name == CHECK_RECORDING]
    if not found:
        return {}
    windows = held_out_windows(found[0]).windows
    scores = headline(predict_tflite(int8_path, windows.inputs), windows)
    return {"check_mae30_bpm": scores["mae30_bpm"], "check_cold_mae30_bpm": scores["cold_mae30_bpm"]}


def _write_bundle(out: Path, shipped: HrSplit, folds: list[FoldResult], scores: dict,
                  seen: dict) -> None:
    test, predicted = pooled(folds)
    full = np.flatnonzero(~test.cold_start)  # the band is for full windows, as before
    int8 = {**scores["int8"], **residual_band(predicted["int8"][full], subset(test, full)),
            **{f"seen_{k}": v for k, v in seen["int8"].items()},
            **{f"persistence_{k}": v for k, v in scores["persistence"].items()},
            **{f"ridge_{k}": v for k, v in scores["ridge"].items()},
            "sessions": float(len(folds))}
    bundle.write_golden(out, shipped.test.inputs)
    card = bundle.ModelCard(name="heart_rate", kind="heart_rate", version=MODEL_VERSION)
    bundle.write_manifest(out, card, {"float": scores["float"], "int8": int8}, digest(shipped.train))


def _trim(split: HrSplit, max_windows: int | None) -> HrSplit:
    """For a quick run: at most `max_windows` evenly spaced windows on each side."""
    if max_windows is None:
        return split
    return HrSplit(_first(split.train, max_windows), _first(split.test, max_windows),
                   split.train_names, split.test_names)


def _first(windows: HrWindows, count: int) -> HrWindows:
    idx = np.linspace(0, len(windows) - 1, min(count, len(windows))).astype(int)
    return subset(windows, idx)
