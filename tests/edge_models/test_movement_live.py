"""Live movement feedback on real clip landmarks and on synthetic up-down movement, on LiteRT
(no TensorFlow here): the class a coach sees, the reps counted, and bad input survived."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from edge_models.features.hr import FeatureError
from edge_models.model_store import ModelStore
from edge_models.manifest import load_manifest
from edge_models.movement_live import (BUNDLED_DIR, RUN_PERIOD_S, LiveMovementClassifier,
                                       RepCounter)
from tests.support.assets import real_asset

FPS = 30.0  # a laptop camera
LUNGE_CLIP = "Demo_SinglePerson/videos/cam04.mp4"  # the camera the shipped model never saw
STANDING_CLIP = "Demo_SinglePerson/videos/cam01.mp4"  # frame 0: the athlete stands upright
CYCLES = 5  # up-down cycles in the synthetic sets
AMPLITUDE_TORSO = 0.5  # hips travel half a torso length each way: a small hop or a shallow squat
PERIOD_S = 1.0  # one cycle a second


def _clip_poses(name: str, region=(0.0, 0.0, 1.0, 1.0)):
    real_asset(name.split("/")[-1] if "/" not in name else name)
    from training.movement.clips import clip_poses  # numpy + LiteRT only: no TensorFlow

    return clip_poses(name, region)


def _pose(landmarks: np.ndarray) -> SimpleNamespace:
    return SimpleNamespace(landmarks=landmarks)  # what the classifier reads of a PoseResult


def _feed(classifier: LiveMovementClassifier, t_s: np.ndarray, landmarks: np.ndarray) -> list[dict]:
    out = []
    for t, pose in zip(t_s, landmarks):
        present = np.all(np.isfinite(pose[:, :2]))
        result = classifier.update(_pose(pose) if present else None, float(t))
        if result is not None:
            out.append(result)
    return out


@pytest.fixture
def classifier():
    with LiveMovementClassifier.from_bundled() as c:
        yield c


def test_held_out_lunge_camera_is_called_a_lunge_more_often_than_chance(classifier):
    poses = _clip_poses(LUNGE_CLIP)
    labels = [r["label"] for r in _feed(classifier, poses.t_s, poses.landmarks)]
    assert labels, "a 1.7 s clip gives at least one full window"
    assert labels.count("lunge") / len(labels) > 1 / len(classifier.labels)


def test_held_out_walker_is_called_walking_more_often_than_chance(classifier):
    poses = _clip_poses("demo.mp4", (0.0, 0.45, 1.0, 1.0)).between(1.55, 6.70)  # the labelled walk
    labels = [r["label"] for r in _feed(classifier, poses.t_s, poses.landmarks)]
    assert labels.count("walk") / len(labels) > 1 / len(classifier.labels)


def _up_down(first_move: float) -> tuple[np.ndarray, np.ndarray]:
    """A real standing pose moved up and down CYCLES times (first_move -1: up first, +1: down)."""
    base = _clip_poses(STANDING_CLIP).landmarks[0]
    torso_px = np.linalg.norm((base[11, :2] + base[12, :2]) / 2 - (base[23, :2] + base[24, :2]) / 2)
    still_s = 1.0  # a second of standing first fills the window
    t_s = np.arange(int((still_s + CYCLES * PERIOD_S + still_s) * FPS)) / FPS
    moving = np.clip(t_s - still_s, 0, CYCLES * PERIOD_S)
    offset_px = first_move * AMPLITUDE_TORSO * torso_px * 0.5 * (1 - np.cos(2 * np.pi * moving / PERIOD_S))
    poses = np.repeat(base[None], len(t_s), axis=0)
    poses[:, :, 1] += offset_px[:, None]
    return t_s, poses


@pytest.mark.parametrize("first_move", [-1.0, 1.0], ids=["hops", "squats"])
def test_reps_counted_on_up_down_movement_equal_the_cycles(classifier, first_move):
    results = _feed(classifier, *_up_down(first_move))
    assert results[-1]["reps"] == CYCLES
    assert {"rising", "falling"} <= {r["phase"] for r in results}


def test_standing_still_counts_no_reps(classifier):
    t_s, poses = _up_down(0.0)
    results = _feed(classifier, t_s, poses)
    assert results and results[-1]["reps"] == 0


def test_the_model_runs_at_most_every_run_period(classifier):
    t_s, poses = _up_down(-1.0)
    results = _feed(classifier, t_s, poses)
    assert len(results) <= (t_s[-1] - t_s[0]) / RUN_PERIOD_S + 1
    assert all(set(r) == {"label", "class", "probability", "phase", "set_of", "reps", "explain"}
               for r in results)
    assert all(set(r["explain"]) == {"body_parts", "frames", "frames_drop"} for r in results)


def test_no_feedback_until_a_second_of_poses_then_none_during_a_gap(classifier):
    t_s, poses = _up_down(0.0)
    poses[45:75] = np.nan  # the athlete leaves the frame for a second
    answered_at = [t for t, p in zip(t_s, poses)
                   if classifier.update(_pose(p) if np.isfinite(p[0, 0]) else None, float(t))]
    assert min(answered_at) >= 0.75  # 80 % of a one-second window is needed
    assert not [t for t in answered_at if 1.7 < t < 2.3]  # the gap leaves too few poses
    assert max(answered_at) > 3.0  # and feedback comes back once the athlete returns


def test_a_malformed_pose_is_refused_and_the_history_kept(classifier):
    t_s, poses = _up_down(0.0)
    _feed(classifier, t_s[:40], poses[:40])
    with pytest.raises(FeatureError, match="33 landmarks"):
        classifier.update(_pose(np.zeros((17, 5))), float(t_s[40]))
    with pytest.raises(FeatureError, match="finite"):
        classifier.update(None, float("nan"))
    later = 40 + int(2 * RUN_PERIOD_S * FPS)  # past the run period: the model may run again
    assert classifier.update(_pose(poses[later]), float(t_s[later])) is not None  # history intact


def test_time_going_backwards_starts_afresh_without_raising(classifier):
    t_s, poses = _up_down(-1.0)
    assert _feed(classifier, t_s, poses)[-1]["reps"] == CYCLES
    assert classifier.update(_pose(poses[0]), 0.0) is None  # a replay restarted: no window yet
    assert _feed(classifier, t_s, poses)[-1]["reps"] == CYCLES  # counted from zero again


def test_another_person_taking_over_clears_the_history(classifier):
    t_s, poses = _up_down(0.0)
    poses[40:, :, 0] += 900.0  # the estimator jumps to someone across the frame
    answered_at = [t for t, p in zip(t_s, poses) if classifier.update(_pose(p), float(t))]
    assert not [t for t in answered_at if 40 / FPS <= t < 40 / FPS + 0.75]


def test_rep_counter_needs_a_confident_rise_and_fall_and_counts_each_once():
    counter = RepCounter()
    wobble = {"still": 0.5, "rising": 0.45, "falling": 0.05}
    for _ in range(5):
        counter.update(wobble)
    assert counter.reps == 0
    for phase in ("rising", "rising", "falling", "falling", "falling", "rising", "falling"):
        counter.update({phase: 0.9})
    assert counter.reps == 2


def test_the_store_hands_out_the_bundled_model_until_an_update(tmp_path):
    store = ModelStore(tmp_path / "models", bundled_dir=BUNDLED_DIR.parent)
    with LiveMovementClassifier.from_store(store) as classifier:
        bundled = load_manifest(BUNDLED_DIR / "manifest.json")
        assert (classifier.model_name, classifier.model_version) == ("movement", bundled.version)
        assert "lunge" in classifier.labels


def test_reps_start_afresh_only_when_another_movement_holds():
    from edge_models.movement_live import SetTracker

    sets = SetTracker(change_runs=3)
    assert sets.new_set("jumping_jack")  # the first class starts the first set
    stray = ["jumping_jack", "walk", "jumping_jack", "walk", "walk", "jumping_jack"]
    assert not any(sets.new_set(label) for label in stray)  # no class other than the set's held 3 runs
    assert [sets.new_set(label) for label in ["walk", "walk", "walk"]] == [False, False, True]
    assert sets.label == "walk"
