"""Explanations are faithful: what they rank highest moves the model more than what they rank
lowest, on real windows and the shipped LiteRT models."""

from __future__ import annotations

import numpy as np

from edge_models.features.explain import (BODY_PARTS, FRAME_BLOCK, HR_BLOCK_S, hr_block_occlusion,
                                          hr_explanation, hr_occlusions, movement_explanation,
                                          movement_occlusions)
from edge_models.features.effort import recording_effort
from edge_models.features.hr import HORIZONS_S, HR_SCALE_BPM, recording_windows
from edge_models.features.plan import IntervalPlan
from edge_models.manifest import GoldenSet, load_manifest
from edge_models.model_store import BUNDLED_MODELS_DIR
from edge_models.recordings import read_recording
from edge_models.runtime import ModelRunner, RunnerOptions
from tests.support.assets import real_asset

REAL_RIDE = "4078723797.fit"  # intervals on power: recent heart rate and effort both matter
WINDOWS_CHECKED = 40  # spread over the ride's first hour
HALFWAY = 0.5  # the check's perturbation: each input moved halfway to what the explanation removes


def _runner(kind: str) -> ModelRunner:
    return ModelRunner.create_from_options(RunnerOptions(BUNDLED_MODELS_DIR / kind / "model.tflite",
                                                         num_threads=1))


def _halfway(window: np.ndarray, occluded: np.ndarray) -> np.ndarray:
    return window + HALFWAY * (occluded - window)


def _ride_windows() -> np.ndarray:
    ride = read_recording(real_asset(REAL_RIDE))
    effort, _ = recording_effort(ride.power_w, ride.speed_mps, ride.cadence_rpm)
    plan = IntervalPlan.from_1hz((np.nan_to_num(effort) > 0.5).astype(float))
    windows = recording_windows(ride.time_s, ride.hr_bpm, effort, stride_s=60, plan=plan).inputs
    return windows[np.linspace(0, min(len(windows), 60) - 1, WINDOWS_CHECKED).astype(int)]


def test_heart_rate_explanations_rank_inputs_by_how_much_they_move_the_forecast():
    h30 = HORIZONS_S.index(30)
    moved = {"top": [], "bottom": []}
    with _runner("heart_rate") as runner:
        def forecast(w):
            return float(runner.run(w[None])[0][h30] * HR_SCALE_BPM)

        for window in _ride_windows():
            why = hr_explanation(runner.run, window)
            groups = {k: abs(why[f"{k}_bpm"]) for k in ("recent_hr", "effort", "plan")}
            ranked = sorted(groups, key=groups.get)
            occluded = hr_occlusions(window)
            base = forecast(window)
            moved["top"].append(abs(base - forecast(_halfway(window, occluded[ranked[-1]]))))
            moved["bottom"].append(abs(base - forecast(_halfway(window, occluded[ranked[0]]))))
            block = (120 - why["seconds_ago"][0]) // HR_BLOCK_S
            others = [abs(base - forecast(hr_block_occlusion(window, b))) for b in range(120 // HR_BLOCK_S)]
            assert why["block_bpm"] == round(max(others), 1) == round(others[block], 1)
    assert np.mean(moved["top"]) > np.mean(moved["bottom"])
    assert max(moved["top"]) > 0.5  # the explanation names something that matters, in bpm


def test_movement_explanations_name_the_body_parts_and_frames_the_class_rests_on():
    folder = BUNDLED_MODELS_DIR / "movement"
    golden = GoldenSet.load(folder / load_manifest(folder / "manifest.json").golden_file)
    labels = load_manifest(folder / "manifest.json").labels
    top_drop, bottom_drop = [], []
    with _runner("movement") as runner:
        for window in golden.inputs:  # real held-out windows of the demo clips
            out = runner.run(window[None])[0]
            best = int(np.argmax(out[:len(labels)]))
            why = movement_explanation(runner.run, window, best)
            assert set(why["body_parts"]) <= set(BODY_PARTS) and len(why["body_parts"]) == 3
            assert why["frames"][1] - why["frames"][0] == FRAME_BLOCK
            parts, _ = movement_occlusions(window)
            full = {k: out[best] - runner.run(parts[k][None])[0][best] for k in parts}
            ranked = sorted(parts, key=full.get)
            assert max(why["body_parts"].values()) == round(float(full[ranked[-1]]), 3)
            half = {k: out[best] - runner.run(_halfway(window, parts[k])[None])[0][best]
                    for k in (ranked[0], ranked[-1])}
            top_drop.append(half[ranked[-1]])
            bottom_drop.append(half[ranked[0]])
    assert np.mean(top_drop) > np.mean(bottom_drop)
