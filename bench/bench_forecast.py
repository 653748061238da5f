"""Where the heart-rate forecast helps, and how often it raises an alarm, on real sessions.

- `hr.*_ratio`, `hr.*_bpm`, `hr.sessions`: leave one session out, int8 on LiteRT against
  persistence and ridge on the same windows, as the training run measured them (each fold's model
  exists only inside that run; the manifest keeps its pooled figures). Windows: all full windows;
  transition windows (first minute after a planned work/rest change); the same transition windows
  with the plan taken away.
- `hr.unusual_per_hour`: every real session replayed sample by sample through the live window and
  the shipped int8 model (a forecast every FORECAST_PERIOD_S, as the desktop worker does), the
  "unusual response" rule checking each sample; alarms per hour of session, without a plan
  (`hr.unusual_per_hour`) and with each session's own plan (`hr.unusual_per_hour_plan`).
- `movement.ece_raw`, `movement.ece_calibrated`: expected calibration error of the movement
  classes on the held-out clips, before and after temperature scaling (training run, cross-fitted);
  `movement.label_changes_per_min`: the label the coach reads, live over the Sports2D demo clip's
  poses, beside `movement.true_changes_per_min` from its hand labels.
"""

from __future__ import annotations

import logging
from types import SimpleNamespace

import numpy as np

from edge_models.features.effort import recording_effort
from edge_models.features.hr import FeatureError, decode_forecast
from edge_models.features.hr_insights import ForecastBand, ResponseWatch, forecast_due, make_forecast
from edge_models.features.hr_live import LiveHrWindow
from edge_models.features.plan import IntervalPlan
from edge_models.manifest import load_manifest
from edge_models.model_store import BUNDLED_MODELS_DIR
from edge_models.recordings import Recording
from edge_models.runtime import ModelRunner, RunnerOptions

logger = logging.getLogger(__name__)

S_PER_HOUR = 3600.0
RATIOS = {"hr.mae30_ratio": "mae30_bpm", "hr.transition_mae30_ratio": "transition_mae30_bpm",
          "hr.transition_noplan_mae30_ratio": "transition_noplan_mae30_bpm"}


def held_out_lines(metrics: dict[str, float]) -> dict[str, float]:
    """The leave-one-session-out figures the training run measured (int8 on LiteRT)."""
    lines = {"hr.sessions": metrics["sessions"]}
    for line, key in RATIOS.items():
        lines[line] = metrics[key] / metrics[f"persistence_{key}"]
        for model, prefix in (("int8", ""), ("persistence", "persistence_"), ("ridge", "ridge_")):
            lines[f"hr.{model}_{key}"] = metrics[f"{prefix}{key}"]
    return lines


def replay_alarms(recording: Recording, runner: ModelRunner, band: ForecastBand,
                  plan: IntervalPlan | None) -> int:
    """Unusual-response alarms over one session replayed through the live path."""
    live, watch, alarms, last_forecast_s = LiveHrWindow(), ResponseWatch(band), 0, -np.inf
    live.set_plan(plan)
    channels = [recording.power_w, recording.speed_mps, recording.cadence_rpm]
    for i in np.flatnonzero(np.isfinite(recording.hr_bpm)):
        t, hr = float(recording.time_s[i]), float(recording.hr_bpm[i])
        try:
            if not live.add_sample(t, hr, *(_at(c, i) for c in channels)):
                continue
        except FeatureError:
            continue
        alarms += len(watch.observe(t, hr, live.work_state))
        if forecast_due(t, last_forecast_s) and (window := live.model_input()) is not None:
            last_forecast_s = t
            ahead = decode_forecast(runner.run(window), live.hr_now_bpm)
            watch.add_forecast(make_forecast(t, live.hr_now_bpm, ahead, window, live.history_s))
    return alarms


def _at(column: np.ndarray | None, i: int) -> float | None:
    return None if column is None or not np.isfinite(column[i]) else float(column[i])


def alarm_lines(folder=BUNDLED_MODELS_DIR / "heart_rate") -> dict[str, float]:
    from training.hr.dataset import corpus, session_plan  # numpy readers of the real sessions

    manifest = load_manifest(folder / "manifest.json")
    band = ForecastBand.from_metrics(manifest.metrics["int8"])
    recordings = corpus()
    hours = sum(r.duration_s for r in recordings) / S_PER_HOUR
    counts = {"hr.unusual_per_hour": 0, "hr.unusual_per_hour_plan": 0}
    options = RunnerOptions(folder / "model.tflite", num_threads=1)
    with ModelRunner.create_from_options(options) as runner:
        for recording in recordings:
            effort, _ = recording_effort(recording.power_w, recording.speed_mps, recording.cadence_rpm)
            counts["hr.unusual_per_hour"] += replay_alarms(recording, runner, band, None)
            counts["hr.unusual_per_hour_plan"] += replay_alarms(
                recording, runner, band, session_plan(recording, effort))
    return {"hr.session_hours": hours, **{k: v / hours for k, v in counts.items()}}


SPORTS2D_CLIP = "demo.mp4"  # the Sports2D demo: hand labels in training/data/movement_labels.csv


def movement_lines(folder=BUNDLED_MODELS_DIR / "movement") -> dict[str, float]:
    """Calibration error before and after (held-out clips, from the training run), and how often
    the label the coach reads changes on the Sports2D clip, beside its hand labels' changes."""
    from edge_models.features.calibration import label_changes
    from edge_models.movement_live import LiveMovementClassifier
    from training.movement.clips import clip_poses
    from training.movement.dataset import read_labels

    metrics = load_manifest(folder / "manifest.json").metrics["int8"]
    poses = clip_poses(SPORTS2D_CLIP)
    shown = []
    with LiveMovementClassifier.from_bundled(folder) as classifier:
        for t, row in zip(poses.t_s, poses.landmarks):
            found = np.isfinite(row[0, 0])
            feedback = classifier.update(SimpleNamespace(landmarks=row) if found else None, float(t))
            if feedback is not None:
                shown.append(feedback["label"])
    truth = [r.label for r in read_labels() if r.clip == SPORTS2D_CLIP and r.source == r.clip]
    minutes = poses.duration_s / 60.0
    return {"movement.ece_raw": metrics["ece_raw"], "movement.ece_calibrated": metrics["ece_calibrated"],
            "movement.ece_calibrated_in_sample": metrics["ece_calibrated_in_sample"],
            "movement.label_changes_per_min": label_changes(shown) / minutes,
            "movement.true_changes_per_min": label_changes(truth) / minutes}


def main() -> int:
    manifest = load_manifest(BUNDLED_MODELS_DIR / "heart_rate" / "manifest.json")
    lines = {**held_out_lines(manifest.metrics["int8"]), **alarm_lines(), **movement_lines()}
    for name, value in lines.items():
        print(f"{name}={value:.4g}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
