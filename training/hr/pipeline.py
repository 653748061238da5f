"""`trackside-train hr`: real recordings -> LSTM -> float and int8 .tflite -> gate -> bundle."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge_models.features.hr import HORIZONS_S, HR_SCALE_BPM, HrWindows
from edge_models.recordings import real_recordings
from training import bundle
from training.convert import mirror_weights, representative, to_float_tflite, to_int8_tflite
from training.gate import GateResult, gate_mae
from training.hr import model as hr_model
from training.hr.baselines import Ridge, headline, persistence
from training.hr.dataset import HrSplit, digest, distinct_recordings, leave_out
from training.litert_eval import predict_tflite
from training.tf_setup import seed_everything, training_device

logger = logging.getLogger(__name__)

DEFAULT_HOLDOUT = "4801048867"  # the 86-min ride (speed as effort): neither the longest nor the run
DEFAULT_EPOCHS = 12  # ~3 s an epoch on 2 CPU cores for the full training set
BAND_QUANTILES = (0.05, 0.95)  # the forecast band: 90 % of held-out residuals fall inside
MODEL_VERSION = "1.0.0"


@dataclass(frozen=True)
class HrRun:
    """What one heart-rate training run measured, and whether the gate let it through."""

    scores: dict[str, dict[str, float]]  # "int8", "float", "persistence", "ridge" -> headline
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


def train_keras(split: HrSplit, epochs: int, seed: int):
    model = hr_model.build_trainable()
    model.fit(split.train.inputs, split.train.targets, epochs=epochs,
              batch_size=hr_model.BATCH_SIZE, shuffle=True, verbose=0)
    logger.info("trained on %d windows for %d epochs (seed %d)", len(split.train), epochs, seed)
    return model


def convert(model, split: HrSplit, out: Path, seed: int) -> tuple[Path, Path]:
    legacy = mirror_weights(model, hr_model.build_legacy_batch1)
    int8 = to_int8_tflite(legacy, representative(split.train.inputs, seed))
    return bundle.write_models(out, to_float_tflite(legacy), int8)


def score_all(split: HrSplit, float_path: Path, int8_path: Path) -> tuple[dict, np.ndarray]:
    test = split.test
    int8_pred = predict_tflite(int8_path, test.inputs)
    scores = {
        "int8": headline(int8_pred, test),
        "float": headline(predict_tflite(float_path, test.inputs), test),
        "persistence": headline(persistence(test), test),
        "ridge": headline(Ridge.fit(split.train).predict(test), test),
    }
    return scores, int8_pred


def run_hr(out: Path, epochs: int = DEFAULT_EPOCHS, seed: int = 0,
           holdout: str = DEFAULT_HOLDOUT, recordings: list[Path] | None = None,
           max_windows: int | None = None) -> HrRun:
    """Train, convert, evaluate, gate and write the bundle to `out`."""
    seed_everything(seed)
    device = training_device()
    split = _split(recordings, holdout, max_windows)
    model = train_keras(split, epochs, seed)
    float_path, int8_path = convert(model, split, out, seed)
    scores, int8_pred = score_all(split, float_path, int8_path)
    gate = gate_mae(scores["float"]["mae30_bpm"], scores["int8"]["mae30_bpm"])
    metrics = {"float": scores["float"], "int8": {**scores["int8"], **residual_band(int8_pred, split.test)}}
    bundle.write_golden(out, split.test.inputs)
    card = bundle.ModelCard(name="heart_rate", kind="heart_rate", version=MODEL_VERSION)
    bundle.write_manifest(out, card, metrics, digest(split.train))
    bundle.write_report(out, _report(split, scores, device, epochs, seed), gate)
    return HrRun(scores, gate, out)


def _split(recordings: list[Path] | None, holdout: str, max_windows: int | None) -> HrSplit:
    split = leave_out(distinct_recordings(recordings or real_recordings()), holdout)
    if max_windows is None:
        return split
    return HrSplit(_first(split.train, max_windows), _first(split.test, max_windows),
                   split.train_names, split.test_names)


def _first(windows: HrWindows, count: int) -> HrWindows:
    """Evenly spaced windows, for a quick run: `count` of them at most."""
    idx = np.linspace(0, len(windows) - 1, min(count, len(windows))).astype(int)
    return HrWindows(windows.inputs[idx], windows.targets[idx], windows.hr_now_bpm[idx],
                     windows.end_s[idx], windows.in_recovery[idx])


def _report(split: HrSplit, scores: dict, device: str, epochs: int, seed: int) -> bundle.RunReport:
    report = bundle.RunReport("Heart-rate forecaster: training run")
    report.add(f"Trained on {device}, {epochs} epochs, seed {seed}.")
    report.add(f"Training recordings: {', '.join(split.train_names)} ({len(split.train)} windows).")
    report.add(f"Held-out recording: {', '.join(split.test_names)} ({len(split.test)} windows, "
               f"{int(split.test.in_recovery.sum())} in recovery).")
    report.add("")
    report.add("MAE in bpm on the held-out recording (rec_mae30: first 60 s after a work-to-rest drop):")
    report.add("")
    report.table(scores, fmt="{:.2f}")
    persistence30 = scores["persistence"]["mae30_bpm"]
    rec30 = scores["persistence"]["rec_mae30_bpm"]
    report.add("")
    for name in ("int8", "float", "ridge"):
        report.add(f"- {name}: {scores[name]['mae30_bpm'] / persistence30:.2f} of persistence at +30 s, "
                   f"{scores[name]['rec_mae30_bpm'] / rec30:.2f} in recovery")
    return report
