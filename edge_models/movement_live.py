"""Live movement feedback: what the athlete is doing over the last second, its phase, its reps.

Fed one pose per camera frame (None when nobody is found), it keeps the last second or so of
landmarks, builds the model input with the very function that built the training windows
(`movement_input`), runs the int8 movement model on LiteRT at most every RUN_PERIOD_S, and counts
reps from the phase (measured on the window by default; the model's phase head on request):

- phase: "still", "rising" or "falling" (the hips' vertical movement at the end of the window);
- a rep is a rising stretch and a falling stretch, in either order (a hop: up, down; a squat or
  a lunge: down, up); a stretch counts only when the model gives it at least ENTER_PROBABILITY,
  and the same stretch seen in several runs still counts once (hysteresis).

    classifier = LiveMovementClassifier.from_bundled()
    feedback = classifier.update(pose, t_mono_s)
    # {"label", "class", "probability", "phase", "set_of", "reps", "explain"} | None: "label" is
    # what the coach reads ("unsure", or a class that has held: features.calibration), "class"
    # the model's best class now, "probability" calibrated; reps of the current set of `set_of`;
    # "explain": the body parts and frames the class rests on (features.explain)
"""

from __future__ import annotations

import logging
import math
from collections import deque
from pathlib import Path

import numpy as np

from edge_models.features import movement as mv
from edge_models.features.calibration import SteadyLabel, calibrated
from edge_models.features.explain import movement_explanation
from edge_models.features.hr import FeatureError
from edge_models.manifest import ModelManifest, load_manifest
from edge_models.model_store import BUNDLED_MODELS_DIR, LiveModelCheck, ModelStore
from edge_models.runtime import ModelRunner, RunnerOptions

logger = logging.getLogger(__name__)

BUNDLED_DIR = BUNDLED_MODELS_DIR / "movement"
RUN_PERIOD_S = 0.1  # the model runs at most 10 times a second: fast enough to see each hop
KEEP_S = mv.WINDOW_FRAMES / mv.FRAME_RATE_HZ + 2 * mv.FRAME_HOLD_S  # one window plus hold slack
NUM_THREADS = 1  # the movement model is tiny; the pose model needs the other cores
ENTER_PROBABILITY = 0.6  # a phase starts when the model gives it at least 60 %
LANDMARK_ROWS = mv.NUM_LANDMARKS  # 33 body landmarks a pose
# Where the phase comes from. "landmarks": measured on the window itself with the very rule that
# labels the training windows (exact, costs nothing). "model": the model's phase head, which on
# today's tiny data misses a rise that starts from rest (see the bundled report): not yet trusted.
PHASE_FROM = "landmarks"
SET_CHANGE_RUNS = 5  # a new class must win 5 runs in a row (~0.5 s) before reps start afresh


class SetTracker:
    """Reps belong to a set of one movement: the count starts afresh when the class changes.

    A new class counts as a change once it has won SET_CHANGE_RUNS model runs in a row, so one
    stray window (a walk step read as a lunge) does not throw the count away.
    """

    def __init__(self, change_runs: int = SET_CHANGE_RUNS) -> None:
        self._change_runs = change_runs
        self.label: str | None = None
        self._candidate: str | None = None
        self._candidate_runs = 0

    def new_set(self, label: str) -> bool:
        """Feed the class of one run; True when a new set (of another movement) has begun."""
        if label == self.label:
            self._candidate, self._candidate_runs = None, 0
            return False
        self._candidate_runs = self._candidate_runs + 1 if label == self._candidate else 1
        self._candidate = label
        if self.label is not None and self._candidate_runs < self._change_runs:
            return False
        self.label, self._candidate, self._candidate_runs = label, None, 0
        return True

    def reset(self) -> None:
        self.label, self._candidate, self._candidate_runs = None, None, 0


class RepCounter:
    """Counts reps from phase probabilities: one rep each time the hips have both risen and
    fallen (a hop: up then down; a squat or lunge: down then up), whichever comes first."""

    def __init__(self, enter_probability: float = ENTER_PROBABILITY) -> None:
        self._enter = enter_probability
        self.reps = 0
        self._stretch = "still"  # the stretch the hips are in; "still" predictions do not end it
        self._seen: set[str] = set()  # stretches entered since the last rep

    def update(self, phase_probabilities: dict[str, float]) -> int:
        """Feed one prediction; returns the reps so far."""
        for phase in ("rising", "falling"):
            if phase_probabilities.get(phase, 0.0) >= self._enter and phase != self._stretch:
                self._stretch = phase
                self._seen.add(phase)
        if self._seen == {"rising", "falling"}:
            self.reps += 1
            self._seen.clear()
        return self.reps

    def reset(self) -> None:
        self.reps, self._stretch = 0, "still"
        self._seen.clear()


class LiveMovementClassifier:
    """The movement model on one athlete's live pose stream (a `MovementTracker`)."""

    def __init__(self, model_path: Path, manifest: ModelManifest, run_period_s: float = RUN_PERIOD_S,
                 phase_from: str = PHASE_FROM, live_check: LiveModelCheck | None = None) -> None:
        if phase_from not in ("landmarks", "model"):
            raise ValueError(f"phase_from is 'landmarks' or 'model', got {phase_from!r}")
        self._phase_from = phase_from
        if not manifest.labels:
            raise ValueError("the movement manifest carries no labels")
        self.model_name = manifest.name
        self.model_version = manifest.version
        self.labels = tuple(manifest.labels)
        self._runner = ModelRunner.create_from_options(RunnerOptions(model_path, num_threads=NUM_THREADS))
        self._live_check = live_check  # a new model's first runs: a failure switches to the one before
        self._run_period_s = run_period_s
        self._poses: deque[tuple[float, np.ndarray]] = deque()
        self._last_run_s = -math.inf
        self.reps = RepCounter()
        self.sets = SetTracker()
        self._calibrate(manifest)

    def _calibrate(self, manifest: ModelManifest) -> None:
        """The model's own temperature, "unsure" threshold and hold time, chosen on held-out clips."""
        calibration = manifest.metrics.get("int8", {})
        self._temperature = float(calibration.get("temperature", 1.0))
        self._steady = (float(calibration.get("unsure_below", 0.0)),
                        float(calibration.get("label_hold_s", 0.0)))
        self.shown = SteadyLabel(*self._steady)

    @classmethod
    def from_bundled(cls, folder: Path = BUNDLED_DIR) -> LiveMovementClassifier:
        return cls(folder / "model.tflite", load_manifest(folder / "manifest.json"))

    @classmethod
    def from_store(cls, store: ModelStore, kind: str = "movement") -> LiveMovementClassifier:
        """The store's active movement model (the bundled one until an update is installed)."""
        return cls(*store.active(kind))

    def update(self, pose, t_mono_s: float) -> dict | None:
        """One camera frame's pose (None: nobody found). Returns feedback when the model ran."""
        if not math.isfinite(t_mono_s):
            raise FeatureError("a pose needs a finite time")
        if self._poses and t_mono_s < self._poses[-1][0]:
            logger.info("pose time went backwards: starting the movement history afresh")
            self.reset()
        if pose is not None:
            self._add(_landmarks_of(pose), t_mono_s)
        return self._maybe_run(t_mono_s)

    def reset(self) -> None:
        """Forget the pose history and the rep count (a new athlete, a new set)."""
        self._poses.clear()
        self._last_run_s = -math.inf
        self.reps.reset()
        self.sets.reset()
        self.shown = SteadyLabel(*self._steady)

    def close(self) -> None:
        self._runner.close()

    def __enter__(self) -> LiveMovementClassifier:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _add(self, landmarks: np.ndarray, t_mono_s: float) -> None:
        if self._poses and _another_person(self._poses[-1][1], landmarks):
            logger.info("the followed person changed: movement history cleared")
            self._poses.clear()
        self._poses.append((t_mono_s, landmarks))
        while self._poses and self._poses[0][0] < t_mono_s - KEEP_S:
            self._poses.popleft()

    def _maybe_run(self, t_mono_s: float) -> dict | None:
        if t_mono_s - self._last_run_s < self._run_period_s or not self._poses:
            return None
        t_s = np.array([t for t, _ in self._poses])
        window = mv.movement_input(t_s, np.stack([p for _, p in self._poses]), t_mono_s)
        if window is None:
            return None
        self._last_run_s = t_mono_s
        output = self._run_model(window)
        return None if output is None else self._feedback(window, output, t_mono_s)

    def _run_model(self, window: np.ndarray) -> np.ndarray | None:
        """The model's output, or None when the live check just switched to the model before."""
        check = self._live_check
        try:
            output = np.asarray(self._runner.run(window[None, ...]))[0]
        except Exception as exc:
            if check is None or not self._switch_to(check.failed(exc)):
                raise
            return None
        return None if check is not None and self._switch_to(check.observe(output)) else output

    def _switch_to(self, model: tuple[Path, ModelManifest] | None) -> bool:
        if model is None:
            return False
        path, manifest = model
        old, self._runner = self._runner, ModelRunner.create_from_options(
            RunnerOptions(path, num_threads=NUM_THREADS))
        old.close()
        self.model_name, self.model_version, self.labels = manifest.name, manifest.version, tuple(manifest.labels)
        self._calibrate(manifest)  # the model switched to brings its own calibration
        logger.warning("movement feedback switched to %s %s", manifest.name, manifest.version)
        return True

    def _feedback(self, window: np.ndarray, output: np.ndarray, t_mono_s: float) -> dict:
        classes = calibrated(output[:len(self.labels)], self._temperature)
        model_phases = output[len(self.labels):]
        best = int(np.argmax(classes))
        phases = self._phase_probabilities(window, model_phases)
        if self.sets.new_set(self.labels[best]):
            self.reps.reset()
        reps = self.reps.update(phases)
        shown = self.shown.update(self.labels[best], float(classes[best]), t_mono_s)
        return {"label": shown, "class": self.labels[best], "probability": round(float(classes[best]), 3),
                "phase": max(phases, key=phases.get), "set_of": self.sets.label, "reps": reps,
                "explain": movement_explanation(self._runner.run, window, best)}

    def _phase_probabilities(self, window: np.ndarray, model_phases: np.ndarray) -> dict[str, float]:
        if self._phase_from == "model":
            return dict(zip(mv.PHASES, (float(p) for p in model_phases)))
        measured = mv.PHASES[mv.phase_index(mv.unflatten(window))]
        return {phase: float(phase == measured) for phase in mv.PHASES}


def _landmarks_of(pose) -> np.ndarray:
    landmarks = np.asarray(pose.landmarks, dtype=np.float64)
    if landmarks.ndim != 2 or landmarks.shape[0] != LANDMARK_ROWS or landmarks.shape[1] < 4:
        raise FeatureError(f"a pose has {LANDMARK_ROWS} landmarks x (x, y, z, visibility, ...), "
                           f"got {landmarks.shape}")
    return landmarks


def _another_person(before: np.ndarray, now: np.ndarray) -> bool:
    return len(mv.track_starts(np.stack([before, now]))) > 1
