"""`trackside-train movement`: labelled clips -> CNN -> float and int8 .tflite -> gate -> bundle."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import numpy as np

from edge_models.features.movement import PHASES
from edge_models.durable import write_file_atomically
from edge_models.manifest import load_manifest, save_manifest
from training import bundle
from training.convert import mirror_weights, representative, to_float_tflite, to_int8_tflite
from training.gate import GateResult, gate_accuracy
from training.litert_eval import predict_tflite
from training.movement import model as movement_model
from training.movement.calibrate import UNSURE_ACCURACY_GOAL, calibration_metrics
from training.movement.dataset import (LABELS_CSV, MovementSplit, augment, digest, label_set,
                                       labelled_windows, read_labels, split_by_source)
from training.tf_setup import seed_everything, training_device

logger = logging.getLogger(__name__)

# Held out whole: one camera of the lab lunge, and the woman walking across the demo clip.
DEFAULT_TEST_SOURCES = ("Demo_SinglePerson/videos/cam04.mp4", "demo.mp4@0.0 0.45 1.0 1.0")
DEFAULT_EPOCHS = 40  # ~1 s an epoch on 2 CPU cores for ~2,000 augmented windows
AUGMENTED_COPIES = 4  # random variants of each (and each mirrored) training window
MODEL_VERSION = "1.1.0"  # .1: calibrated probabilities, "unsure", a label that holds


@dataclass(frozen=True)
class MovementRun:
    """What one movement training run measured, and whether the gate let it through."""

    scores: dict[str, dict[str, float]]  # "int8", "float", "majority" -> accuracy, phase_accuracy
    gate: GateResult
    out: Path
    split: MovementSplit


def train_keras(split: MovementSplit, epochs: int, seed: int):
    train = augment(split.train, AUGMENTED_COPIES, np.random.default_rng(seed))
    model = movement_model.build(_keras(), len(split.labels))
    heads = movement_model.training_view(model)
    heads.fit(train.inputs, [train.classes, train.phases], epochs=epochs,
              batch_size=movement_model.BATCH_SIZE, shuffle=True, verbose=0,
              sample_weight=_balanced(train.classes))
    logger.info("trained on %d windows (%d before augmentation) for %d epochs (seed %d)",
                len(train), len(split.train), epochs, seed)
    return model, train


def _keras():
    import keras

    return keras


def _balanced(classes: np.ndarray) -> np.ndarray:
    """Per-window weights so every class counts the same in the loss, however many windows."""
    counts = np.bincount(classes)
    return (len(classes) / (len(counts) * counts[classes])).astype(np.float32)


def convert(model, train_inputs: np.ndarray, num_classes: int, out: Path, seed: int) -> tuple[Path, Path]:
    legacy = mirror_weights(model, partial(movement_model.build_legacy_batch1, num_classes))
    int8 = to_int8_tflite(legacy, representative(train_inputs, seed))
    return bundle.write_models(out, to_float_tflite(legacy), int8)


def scores_of(outputs: np.ndarray, split: MovementSplit) -> dict[str, float]:
    class_probs, phase_probs = movement_model.split_outputs(outputs, len(split.labels))
    test = split.test
    return {"accuracy": float(np.mean(class_probs.argmax(axis=1) == test.classes)),
            "phase_accuracy": float(np.mean(phase_probs.argmax(axis=1) == test.phases)),
            **{f"recall_{name}": _recall(class_probs, test.classes, i)
               for i, name in enumerate(split.labels) if np.any(test.classes == i)}}


def _recall(class_probs: np.ndarray, truth: np.ndarray, index: int) -> float:
    mine = truth == index
    return float(np.mean(class_probs[mine].argmax(axis=1) == index))


def majority_scores(split: MovementSplit) -> dict[str, float]:
    """The baseline: always the training set's most common class and phase."""
    test = split.test
    return {"accuracy": float(np.mean(test.classes == np.bincount(split.train.classes).argmax())),
            "phase_accuracy": float(np.mean(test.phases == np.bincount(split.train.phases).argmax()))}


def run_movement(out: Path, epochs: int = DEFAULT_EPOCHS, seed: int = 0,
                 labels_csv: Path = LABELS_CSV,
                 test_sources: tuple[str, ...] = DEFAULT_TEST_SOURCES) -> MovementRun:
    """Train, convert, evaluate, gate and write the bundle to `out`."""
    seed_everything(seed)
    device = training_device()
    ranges = read_labels(labels_csv)
    labels = label_set(ranges)
    split = split_by_source(labelled_windows(ranges, labels), labels, test_sources)
    model, train = train_keras(split, epochs, seed)
    float_path, int8_path = convert(model, train.inputs, len(labels), out, seed)
    int8_out = predict_tflite(int8_path, split.test.inputs)
    scores = {"int8": scores_of(int8_out, split),
              "float": scores_of(predict_tflite(float_path, split.test.inputs), split),
              "majority": majority_scores(split)}
    class_probs, _ = movement_model.split_outputs(int8_out, len(labels))
    calibration = calibration_metrics(class_probs, split.test.classes, split.test.sources)
    gate = gate_accuracy(scores["float"]["accuracy"], scores["int8"]["accuracy"])
    bundle.write_golden(out, split.test.inputs)
    card = bundle.ModelCard(name="movement", kind="movement", version=MODEL_VERSION, labels=labels)
    bundle.write_manifest(out, card, {"float": scores["float"], "int8": {**scores["int8"], **calibration}},
                          digest(train))
    report = _report(split, scores, device, epochs, seed, len(train))
    _calibration_report(report, calibration)
    bundle.write_report(out, report, gate)
    return MovementRun(scores, gate, out, split)


def _report(split: MovementSplit, scores: dict, device: str, epochs: int, seed: int,
            augmented: int) -> bundle.RunReport:
    report = bundle.RunReport("Movement classifier: training run")
    report.add(f"Trained on {device}, {epochs} epochs, seed {seed}.")
    report.add(f"Classes (from the label file): {', '.join(split.labels)}. Phases: {', '.join(PHASES)}.")
    report.add(f"Training windows: {len(split.train)} real (1 s each, from "
               f"{len(set(split.train.sources))} clip sources), {augmented} after augmentation.")
    report.add(f"Held-out sources (never trained on): {', '.join(split.test_sources)} "
               f"({len(split.test)} windows; classes present: "
               f"{', '.join(sorted({split.labels[c] for c in split.test.classes}))}).")
    report.add("")
    report.add("The data is tiny: one 7.7 s outdoor clip and four 1.7 s camera views of one lab "
               "lunge. Held-out accuracy covers only the classes that have a second source; "
               "jumping_jack and jump exist once and are never tested on unseen footage. The held-out "
               "lunge camera (cam04) films the same lunge as the training cameras from another angle: "
               "its recall measures robustness to the viewpoint, not to a new athlete or rep. The "
               "softmax is overconfident (probability near 1.0 even when wrong), so the live "
               "probability is no measure of certainty yet.")
    report.add("phase_accuracy is dominated by 'still' windows (see majority); the phase head "
               "misses rises that start from rest on synthetic hops, so the live classifier counts "
               "reps from the phase measured on the window (edge_models.movement_live.PHASE_FROM).")
    report.add("")
    report.table(scores)
    return report


def calibrate_bundle(folder: Path, labels_csv: Path = LABELS_CSV,
                     test_sources: tuple[str, ...] = DEFAULT_TEST_SOURCES) -> dict[str, float]:
    """Calibrate a shipped movement model without retraining it: its int8 outputs on the held-out
    clips give the temperature, "unsure" threshold and label hold, added to its manifest and
    report (the model file, its hashes and golden outputs stay as they are)."""
    ranges = read_labels(labels_csv)
    labels = label_set(ranges)
    split = split_by_source(labelled_windows(ranges, labels), labels, test_sources)
    class_probs, _ = movement_model.split_outputs(
        predict_tflite(folder / bundle.INT8_FILE, split.test.inputs), len(labels))
    calibration = calibration_metrics(class_probs, split.test.classes, split.test.sources)
    manifest = load_manifest(folder / "manifest.json")
    metrics = {**manifest.metrics, "int8": {**manifest.metrics["int8"], **calibration}}
    save_manifest(replace(manifest, metrics=metrics, version=MODEL_VERSION), folder / "manifest.json")
    report = bundle.RunReport("")
    _calibration_report(report, calibration)
    report.add(f"(Added to the shipped weights without retraining: manifest {MODEL_VERSION}.)")
    text = (folder / bundle.REPORT_FILE).read_text(encoding="utf-8").rstrip("\n")
    write_file_atomically(folder / bundle.REPORT_FILE, "\n".join([text, *report.lines, ""]).encode("utf-8"))
    return calibration


def _calibration_report(report: bundle.RunReport, c: dict[str, float]) -> None:
    report.add("")
    report.add("## Calibration (held-out clips only)")
    report.add("")
    report.add(f"Temperature {c['temperature']:.2f} (fitted on the held-out windows' negative "
               f"log-likelihood). Expected calibration error: raw {c['ece_raw']:.3f}, calibrated "
               f"{c['ece_calibrated']:.3f} cross-fitted (each half of each held-out clip scored with "
               f"the temperature fitted on the other halves), {c['ece_calibrated_in_sample']:.3f} "
               f"in sample (scored on the windows that chose it: flattering). The cross-fitted "
               f"figure is the honest one: with two held-out clips of one class each, a "
               f"temperature does not carry from one stretch of a clip to the next. \"unsure\" below a calibrated probability of "
               f"{c['unsure_below']:.2f} (held-out labels above it right at least "
               f"{UNSURE_ACCURACY_GOAL:.0%} of the time); a new label is shown once it has held "
               f"{c['label_hold_s']:.1f} s (the shortest hold with the fewest changes on the "
               f"held-out clips). Two held-out sources of one class each: these choices rest on "
               f"very little data and say so.")
