"""`run_retrain`: one retraining job as one plain function, whatever runs it.

The same function runs in a worker process beside the service and as a Ray task. It builds the
dataset from the team's consented sessions plus the public corpus with the laptop's own feature
code, trains with the training pipeline's pieces (on a GPU when TensorFlow sees one), converts,
and applies the double gate (`training.jobs.gate`). It writes a bundle to `out_dir` either way;
only a SUCCEEDED result may be published.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

import numpy as np

from edge_models.durable import write_file_atomically
from edge_models.manifest import load_manifest, parse_version
from training import bundle
from training.jobs.gate import DoubleGate, FieldComparison, beats_field_accuracy, beats_field_mae, cannot_compare
from training.jobs.sessions import SessionSource, training_sessions
from training.jobs.spec import (REJECTED, SMALL_HR_EPOCHS, SMALL_HR_WINDOWS, SMALL_MOVEMENT_EPOCHS,
                                SUCCEEDED, RetrainResult, RetrainSpec)
from training.jobs.team_data import TeamSplit, hr_recordings, split_sessions
from training.litert_eval import predict_tflite

logger = logging.getLogger(__name__)

GOLDEN_FALLBACK_WINDOWS = 64  # golden inputs from training windows when the team holds none out
JOB_REPORT_FILE = "job_report.md"  # beside the pipeline's report.md: the double gate in numbers

Progress = Callable[[float, str], None]  # (fraction done 0-1, what the job is doing now)


def run_retrain(spec: RetrainSpec, sessions: SessionSource, field_model_dir: Path, out_dir: Path,
                progress: Progress | None = None) -> RetrainResult:
    """Retrain `spec.kind` for `spec.team`; gate it against int8/float and the field model."""
    report = progress or (lambda fraction, message: logger.info("%3.0f %% %s", fraction * 100, message))
    out_dir, field_model_dir = Path(out_dir), Path(field_model_dir)
    report(0.02, f"reading the sessions of team {spec.team}")
    team = split_sessions(training_sessions(sessions, spec.team), spec.seed, spec.held_out_fraction)
    report(0.05, f"{len(team.train)} session(s) to train on, {len(team.held_out)} held out")
    if spec.kind == "hr" and not (team.train or team.held_out):
        raise ValueError(f"team {spec.team} has no session with heart rate of an athlete who consented to training")
    retrain = _retrain_hr if spec.kind == "hr" else _retrain_movement
    return retrain(spec, team, field_model_dir, out_dir, report)


# ------------------------------------------------------------------------------------ heart rate

def _retrain_hr(spec: RetrainSpec, team: TeamSplit, field_dir: Path, out: Path,
                report: Progress) -> RetrainResult:
    from training.hr.baselines import headline
    from training.hr.dataset import concat, corpus, held_out_windows, training_windows
    from training.hr.fit import fit_forecaster
    from training.hr.pipeline import DEFAULT_EPOCHS, convert
    from training.tf_setup import seed_everything, training_device

    team_train = [r for s in team.train for r in hr_recordings(s)]
    team_held = [r for s in team.held_out for r in hr_recordings(s)]
    public = without_copies(corpus(), team_train + team_held)
    parts = [training_windows(r).windows for r in public + team_train]
    every = concat([p for p in parts if len(p)])  # each recording's windows in time order (the validation split)
    train = _evenly(every, SMALL_HR_WINDOWS) if spec.small else every
    held = [held_out_windows(r).windows for r in team_held]
    held_out = concat([w for w in held if len(w)]) if any(len(w) for w in held) else None
    seed_everything(spec.seed)
    device = training_device()
    epochs = SMALL_HR_EPOCHS if spec.small else DEFAULT_EPOCHS
    report(0.10, f"training the heart-rate model on {device}: {len(train)} windows "
                 f"({len(public)} public recordings, {len(team_train)} team channels), {epochs} epochs")
    model, _ = fit_forecaster(train, epochs)
    report(0.70, "converting to float and int8 .tflite")
    float_path, int8_path = convert(model, train, out, spec.seed)
    report(0.85, "gating: int8 against float, new against the field model")
    gate, scores = _hr_gate(spec, held_out, float_path, int8_path, field_dir / bundle.INT8_FILE, headline)
    golden_inputs = held_out.inputs if held_out is not None else train.inputs[:GOLDEN_FALLBACK_WINDOWS]
    _write_bundle(out, "heart_rate", field_dir, golden_inputs, gate, scores, data_digest(train.inputs))
    info = {"public_recordings": len(public), "team_train_sessions": [s.session_id for s in team.train],
            "held_out_sessions": [s.session_id for s in team.held_out], "train_windows": len(train),
            "held_out_windows": 0 if held_out is None else len(held_out), "epochs": epochs}
    return _result(gate, out, device, info, report)


def _hr_gate(spec: RetrainSpec, held_out, float_path: Path, int8_path: Path, field_path: Path,
             headline) -> tuple[DoubleGate, dict]:
    """The double gate, and the new pair's scores on the team's held-out windows (for the manifest)."""
    from training.gate import GateResult, gate_mae

    if held_out is None or not np.any(~held_out.cold_start):
        why = "the team has no held-out session with a full window (two sessions or more are needed)"
        return DoubleGate(GateResult(False, why), cannot_compare("mae30_bpm", why)), {"float": {}, "int8": {}}
    from training.hr.dataset import subset
    from training.hr.pipeline import residual_band

    predicted = {name: predict_tflite(path, held_out.inputs) for name, path in (("float", float_path),
                                                                                ("int8", int8_path))}
    scores = {name: headline(found, held_out) for name, found in predicted.items()}
    full = np.flatnonzero(~held_out.cold_start)  # the laptop's 'unusual response' band, as the pipeline's
    scores["int8"].update(residual_band(predicted["int8"][full], subset(held_out, full)))
    int8_vs_float = gate_mae(scores["float"]["mae30_bpm"], scores["int8"]["mae30_bpm"])
    return DoubleGate(int8_vs_float, _hr_field(spec, held_out, scores, field_path, headline)), scores


def _hr_field(spec: RetrainSpec, held_out, scores: dict, field_path: Path, headline) -> FieldComparison:
    if not field_path.is_file():
        return cannot_compare("mae30_bpm", f"no field model at {field_path}")
    try:
        field_scores = headline(predict_tflite(field_path, held_out.inputs), held_out)
    except ValueError as exc:  # the field model takes other inputs (another feature set)
        return cannot_compare("mae30_bpm", f"the field model cannot read these windows ({exc})")
    return beats_field_mae(scores["int8"]["mae30_bpm"], field_scores["mae30_bpm"], spec.hr_mae_margin)


def without_copies(public: list, team: list) -> list:
    """The public recordings minus any that is one of the team's sessions (the same heart-rate
    series): a held-out team session must never reach training through the public corpus."""
    team_keys = {_hr_key(r) for r in team}
    kept = [r for r in public if _hr_key(r) not in team_keys]
    if len(kept) < len(public):
        logger.info("%d public recording(s) left out: they are the team's own sessions", len(public) - len(kept))
    return kept


def _hr_key(recording) -> bytes:
    hr = recording.hr_bpm[np.isfinite(recording.hr_bpm)]
    return np.round(hr).astype(np.int32).tobytes()


def _evenly(windows, count: int):
    from training.hr.dataset import subset

    idx = np.linspace(0, len(windows) - 1, min(count, len(windows))).astype(int)
    return subset(windows, idx)


# -------------------------------------------------------------------------------------- movement

def _retrain_movement(spec: RetrainSpec, team: TeamSplit, field_dir: Path, out: Path,
                      report: Progress) -> RetrainResult:
    """The movement pipeline as it is (public labelled clips, its held-out clips); the new int8
    model is compared with the field model on those same held-out windows."""
    from training.movement.pipeline import DEFAULT_EPOCHS, run_movement, scores_of
    from training.tf_setup import training_device

    device = training_device()
    epochs = SMALL_MOVEMENT_EPOCHS if spec.small else DEFAULT_EPOCHS
    report(0.10, f"training the movement model on {device}, {epochs} epochs")
    run = run_movement(out, epochs=epochs, seed=spec.seed)
    report(0.85, "gating: int8 against float, new against the field model")
    vs_field = _movement_field(spec, run, field_dir / bundle.INT8_FILE, scores_of)
    gate = DoubleGate(run.gate, vs_field)
    _write_bundle(out, "movement", field_dir, None, gate, run.scores, None)
    info = {"held_out_sources": list(run.split.test_sources), "held_out_windows": len(run.split.test),
            "team_labelled_sessions": sum(1 for s in team.train + team.held_out if s.labels),
            "epochs": epochs}
    return _result(gate, out, device, info, report)


def _movement_field(spec: RetrainSpec, run, field_path: Path, scores_of) -> FieldComparison:
    if not field_path.is_file():
        return cannot_compare("accuracy", f"no field model at {field_path}")
    try:
        field_scores = scores_of(predict_tflite(field_path, run.split.test.inputs), run.split)
    except ValueError as exc:
        return cannot_compare("accuracy", f"the field model cannot read these windows ({exc})")
    return beats_field_accuracy(run.scores["int8"]["accuracy"], field_scores["accuracy"],
                                spec.movement_accuracy_margin)


# ------------------------------------------------------------------------------------- both kinds

def _write_bundle(out: Path, name: str, field_dir: Path, golden_inputs, gate: DoubleGate,
                  metrics: dict, digest: str | None) -> None:
    """Golden file and manifest at one version above the field model's (for the HR model; the
    movement pipeline writes its own), then job_report.md with the double gate's verdict."""
    if golden_inputs is not None:
        bundle.write_golden(out, golden_inputs)
        card = bundle.ModelCard(name=name, kind=name, version=next_version(field_dir))
        if np.isfinite(gate.vs_field.field):
            metrics = {**metrics, "int8": {**metrics["int8"], "field_mae30_bpm": gate.vs_field.field}}
        bundle.write_manifest(out, card, metrics, digest or "")
    report = bundle.RunReport(f"Retraining job: {name}")
    report.add(f"Field model: {field_dir}")
    report.add("")
    report.add(f"## Double gate: {'PASSED' if gate.passed else 'NOT PUBLISHED'}")
    report.add("")
    report.add(gate.reason)
    write_file_atomically(out / JOB_REPORT_FILE, report.text().encode("utf-8"))


def next_version(field_dir: Path) -> str:
    """One minor version above the field model's (1.0.0 when there is none)."""
    path = field_dir / bundle.MANIFEST_FILE
    if not path.is_file():
        return "1.0.0"
    major, minor, _ = parse_version(load_manifest(path).version)
    return f"{major}.{minor + 1}.0"


def data_digest(inputs: np.ndarray) -> str:
    import hashlib

    return hashlib.sha256(np.ascontiguousarray(inputs).tobytes()).hexdigest()


def _result(gate: DoubleGate, out: Path, device: str, info: dict, report: Progress) -> RetrainResult:
    state = SUCCEEDED if gate.passed else REJECTED
    report(1.0, f"{state}: {gate.reason}")
    return RetrainResult(state, out, device, gate.to_dict(), info)
