"""Benchmarks of the shipped models: `name=value` lines, recomputed from the shipped files.

Speed: each shipped int8 model against its own float twin (`model_float.tflite`), both in the
app's LiteRT runner (`ModelRunner.run`, output dequantization included) with the same thread
count, on the same real windows (the bundle's golden inputs), timed in alternating rounds of one
run (median ms): `edge.<model>_int8_ms`, `_float_ms`, `_int8_speedup` (float ms / int8 ms) and
`_size_ratio` (int8 bytes / float bytes). Each model gets the windows in its own input type; turning a float
window into int8 (numpy, in the runner, when a caller hands it float32) is timed alone as
`edge.<model>_quantize_ms`: a caller that passes float32 to the int8 model pays int8_ms plus it.

Accuracy: every figure is recomputed here by running the shipped files on LiteRT, one window at a
time, with the training code's own windows and scoring, then compared with the metrics the
manifest declares; a difference beyond rounding ends the benchmark with an error (exit 1).

- movement: the held-out clips the training run held out, scored as training scored them.
- heart rate: the manifest's held-out figures come from leave-one-recording-out fold models that
  are not shipped, so they cannot be recomputed from the shipped file. What can is recomputed and
  checked: the shipped model on every window of the real recordings (`seen_*`, it trained on
  them) and on the check ride (`seen_check_*`). Persistence and the ridge autoregressive model
  (`ar`) are recomputed on the leave-one-recording-out folds as before.

Nothing here imports TensorFlow.
"""

from __future__ import annotations

import logging
import math
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np

from edge_models.manifest import GoldenSet, ModelManifest, load_manifest
from edge_models.model_store import BUNDLED_MODELS_DIR
from edge_models.runtime import ModelRunner, RunnerOptions, quantize
from training.litert_eval import predict_tflite

logger = logging.getLogger(__name__)

BUNDLED = BUNDLED_MODELS_DIR
ENGINES = {"int8": "model.tflite", "float": "model_float.tflite"}  # manifest metric group -> file
SPEED_THREADS = 1  # the same for both twins: one window at a time on one core, as in training's eval
SPEED_ROUNDS = 1000  # alternating int8 / float rounds of one run each
WARMUP_RUNS = 20  # untimed runs of each twin first (allocation, weight packing)
METRIC_RTOL = 1e-3  # recomputed vs declared: the same files on the same windows agree to rounding
METRIC_ATOL = 1e-6


class MetricMismatch(Exception):
    """A recomputed accuracy figure is not what the shipped manifest declares."""


# -- speed ---------------------------------------------------------------------------------

def interleaved_ms(runs: dict[str, Callable[[np.ndarray], object]], inputs: dict[str, np.ndarray],
                   rounds: int = SPEED_ROUNDS) -> dict[str, float]:
    """Median ms of one run of each callable, timed in alternating rounds on the same windows.

    Round i runs every callable once on window i (each in its own `inputs` form), in an order that
    flips every round, so a noisy neighbour or a clock change falls on all of them alike; the
    median keeps a run that the scheduler interrupted from standing for the typical one.
    """
    times_s = {name: np.empty(rounds) for name in runs}
    names = list(runs)
    for i in range(rounds):
        for name in names if i % 2 == 0 else reversed(names):
            window = inputs[name][i % len(inputs[name])][None, ...]
            start = time.perf_counter()
            runs[name](window)
            times_s[name][i] = time.perf_counter() - start
    return {name: 1000.0 * float(np.median(t)) for name, t in times_s.items()}


def model_inputs(runner: ModelRunner, windows: np.ndarray) -> np.ndarray:
    """The windows in the model's own input type: quantized once for an int8 model, else float32.

    The runner passes a tensor's own dtype through untouched, so the timed call is the model (and
    the runner around it); the quantization of a float window is timed on its own line.
    """
    spec = runner.input_specs[0]
    return quantize(windows, spec) if spec.is_quantized else windows


def speed_lines(name: str) -> dict[str, float]:
    """int8 against its float twin: ms each, speed-up, size ratio, and input quantization ms."""
    folder = BUNDLED / name
    manifest = load_manifest(folder / "manifest.json")
    windows = GoldenSet.load(folder / manifest.golden_file).inputs.astype(np.float32)
    paths = {engine: folder / file for engine, file in ENGINES.items()}
    runners = {engine: ModelRunner.create_from_options(
        RunnerOptions(path, num_threads=SPEED_THREADS, warmup_runs=WARMUP_RUNS))
        for engine, path in paths.items()}
    try:
        spec = runners["int8"].input_specs[0]
        runs = {**{engine: r.run for engine, r in runners.items()}, "quantize": lambda w: quantize(w, spec)}
        inputs = {**{engine: model_inputs(r, windows) for engine, r in runners.items()}, "quantize": windows}
        ms = interleaved_ms(runs, inputs)
    finally:
        for runner in runners.values():
            runner.close()
    return {f"edge.{name}_int8_ms": ms["int8"], f"edge.{name}_float_ms": ms["float"],
            f"edge.{name}_int8_speedup": ms["float"] / ms["int8"],
            f"edge.{name}_size_ratio": paths["int8"].stat().st_size / paths["float"].stat().st_size,
            f"edge.{name}_quantize_ms": ms["quantize"]}


# -- accuracy: recomputed, then held against the manifest -----------------------------------

def mismatches(recomputed: dict[str, dict[str, float]], declared: dict[str, dict[str, float]],
               rtol: float = METRIC_RTOL, atol: float = METRIC_ATOL) -> tuple[list[str], int]:
    """(one line per declared figure the recomputation contradicts, how many figures were compared).

    Only figures present on both sides are compared: a manifest may declare figures that cannot
    be recomputed from the shipped file (the caller checks that enough were compared).
    """
    problems, compared = [], 0
    for engine, figures in recomputed.items():
        for key, value in sorted(figures.items()):
            if key not in declared.get(engine, {}):
                continue
            compared += 1
            claimed = float(declared[engine][key])
            if not math.isclose(value, claimed, rel_tol=rtol, abs_tol=atol):
                problems.append(f"{engine} {key}: recomputed {value:.6g}, manifest says {claimed:.6g}")
    return problems, compared


def check_against_manifest(name: str, recomputed: dict[str, dict[str, float]], manifest: ModelManifest) -> None:
    """Raise MetricMismatch when a recomputed figure differs, or when nothing could be compared."""
    problems, compared = mismatches(recomputed, manifest.metrics)
    if compared == 0:
        raise MetricMismatch(f"{name}: no figure of its manifest could be recomputed from the shipped files")
    if problems:
        raise MetricMismatch(f"{name}: the shipped files do not score what the manifest declares: "
                             + "; ".join(problems))
    logger.info("%s: %d manifest figures recomputed and matched", name, compared)


def _per_engine(folder: Path, score: Callable[[np.ndarray], dict[str, float]],
                inputs: np.ndarray, prefix: str = "") -> dict[str, dict[str, float]]:
    """Each shipped file run on LiteRT over `inputs`, scored, keys prefixed as the manifest has them."""
    return {engine: {prefix + k: v for k, v in score(predict_tflite(folder / file, inputs)).items()}
            for engine, file in ENGINES.items()}


def _merge(*parts: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    merged: dict[str, dict[str, float]] = {}
    for part in parts:
        for engine, figures in part.items():
            merged.setdefault(engine, {}).update(figures)
    return merged


def hr_recomputed(folder: Path) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """(the shipped pair's figures keyed as in the manifest, baseline lines), on the very corpus
    and windows the training run used (`training.hr.pipeline.run_hr`)."""
    from training.hr.baselines import Ridge, headline, persistence
    from training.hr.dataset import (concat, corpus, held_out_windows, recording_folds, split_from,
                                     training_windows, whole_split)
    from training.hr.pipeline import CHECK_RECORDING

    recordings = corpus()
    train_parts = [training_windows(r) for r in recordings]
    test_parts = [held_out_windows(r) for r in recordings]
    seen = whole_split(train_parts, test_parts).test
    parts = [_per_engine(folder, lambda p: headline(p, seen), seen.inputs, "seen_")]
    for check in (t.windows for t in test_parts if t.name == CHECK_RECORDING):
        parts.append(_per_engine(folder, lambda p: headline(p, check), check.inputs, "seen_check_"))
    splits = [split_from(train_parts, test_parts, name) for name in recording_folds(test_parts)]  # as run_hr
    held_out = concat([s.test for s in splits])
    baselines = {"persistence": headline(persistence(held_out), held_out),
                 "ar": headline(np.concatenate([Ridge.fit(s.train).predict(s.test) for s in splits]), held_out),
                 "seen_persistence": headline(persistence(seen), seen)}
    return _merge(*parts), baselines


def hr_lines(folder: Path = BUNDLED / "heart_rate") -> dict[str, float]:
    manifest = load_manifest(folder / "manifest.json")
    recomputed, baselines = hr_recomputed(folder)
    check_against_manifest("heart_rate", recomputed, manifest)
    lines = {}
    for key in ("mae30_bpm", "rec_mae30_bpm"):
        line = key.removesuffix("_bpm")
        for engine in ENGINES:
            lines[f"hr.seen_{line}_{engine}"] = recomputed[engine][f"seen_{key}"]
        lines[f"hr.seen_{line}_persistence"] = baselines["seen_persistence"][key]
        lines[f"hr.{line}_persistence"] = baselines["persistence"][key]
        lines[f"hr.{line}_ar"] = baselines["ar"][key]
    return lines


def movement_recomputed(folder: Path, manifest: ModelManifest) -> dict[str, dict[str, float]]:
    """The shipped pair on the clips the training run held out, scored as training scored them."""
    from training.movement.dataset import label_set, labelled_windows, read_labels, split_by_source
    from training.movement.pipeline import DEFAULT_TEST_SOURCES, scores_of

    ranges = read_labels()
    labels = tuple(manifest.labels)
    if label_set(ranges) != labels:
        raise MetricMismatch(f"movement: the label file's classes {label_set(ranges)} are not the "
                             f"shipped model's {labels}")
    split = split_by_source(labelled_windows(ranges, labels), labels, DEFAULT_TEST_SOURCES)
    return _per_engine(folder, lambda p: scores_of(p, split), split.test.inputs)


def movement_lines(folder: Path = BUNDLED / "movement") -> dict[str, float]:
    manifest = load_manifest(folder / "manifest.json")
    recomputed = movement_recomputed(folder, manifest)
    check_against_manifest("movement", recomputed, manifest)
    return {f"movement.acc_{engine}": recomputed[engine]["accuracy"] for engine in ENGINES}


def main() -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    lines = {**speed_lines("heart_rate"), **speed_lines("movement")}
    try:
        lines.update({**hr_lines(), **movement_lines()})
    except MetricMismatch as exc:
        for name, value in lines.items():
            print(f"{name}={value:.4g}")
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for name, value in lines.items():
        print(f"{name}={value:.4g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
