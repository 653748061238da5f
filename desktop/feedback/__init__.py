"""Live feedback from the on-device models, beside a recording.

`attach_feedback` adds the workers a session can use to a Recorder: heart-rate forecasts for
every strap, pose (and movement once a movement model is present) on the camera. A model that is
absent or broken turns that feedback off with a clear reason; it never stops the recording.
"""

from __future__ import annotations

import logging
from pathlib import Path

from desktop.feedback.hr_worker import HeartRateFeedbackWorker, recovered_target_bpm
from desktop.feedback.models import active_model
from desktop.feedback.video_worker import VideoFeedbackWorker
from edge_models.assets import AssetMissing
from edge_models.model_store import LiveFailureHandler, LiveModelCheck, ModelStoreError
from edge_models.runtime import ModelFileError

logger = logging.getLogger(__name__)

_MODEL_PROBLEMS = (ModelStoreError, ModelFileError, AssetMissing, ValueError, OSError)


def attach_feedback(recorder, data_dir: Path, *, camera: bool, on_pose=None,
                    on_live_failure: LiveFailureHandler | None = None) -> list[str]:
    """Add the feedback workers to `recorder`; returns why any feedback is off (empty: all on).

    `on_pose` (see desktop.feedback.video_worker.PoseListener) is told of every pose found.
    With `on_live_failure` (cloud_client.updates.ModelUpdates.report_live_failure), each model's
    first live runs are watched: an error or a non-finite output rolls it back mid-session.
    """
    reasons = []
    try:
        recorder.add_worker(_heart_rate_worker(recorder, data_dir, on_live_failure))
    except _MODEL_PROBLEMS as exc:
        reasons.append(f"heart-rate forecasts off: {exc}")
    if camera:
        movement = None
        try:
            movement = _movement_tracker(data_dir, on_live_failure)
            recorder.add_worker(VideoFeedbackWorker(recorder.post, movement=movement, on_pose=on_pose))
        except _MODEL_PROBLEMS as exc:
            if movement is not None:
                movement.close()  # pose could not load: the movement model has nothing to run on
            reasons.append(f"pose and movement off: {exc}")
    for reason in reasons:
        logger.warning("%s", reason)
    return reasons


def _heart_rate_worker(recorder, data_dir: Path, on_live_failure: LiveFailureHandler | None) -> HeartRateFeedbackWorker:
    path, manifest = active_model(data_dir, "heart_rate")
    targets = {channel: recovered_target_bpm(p.hr_rest_bpm, p.hr_max_bpm)
               for channel, p in recorder.athletes.items()}
    return HeartRateFeedbackWorker(recorder.post, path, manifest, recovered_bpm=targets,
                                   live_check=_live_check("heart_rate", manifest.version, on_live_failure))


def _live_check(kind: str, version: str, on_live_failure: LiveFailureHandler | None) -> LiveModelCheck | None:
    return None if on_live_failure is None else LiveModelCheck(kind, version, on_live_failure)


def _movement_tracker(data_dir: Path, on_live_failure: LiveFailureHandler | None = None):
    """The movement classifier on the active movement model, or None while there is none."""
    try:
        from edge_models.movement_live import LiveMovementClassifier
    except ImportError:
        return None
    try:
        path, manifest = active_model(data_dir, "movement")
    except ModelStoreError as exc:
        logger.warning("movement feedback off: %s", exc)
        return None
    return LiveMovementClassifier(path, manifest,
                                  live_check=_live_check("movement", manifest.version, on_live_failure))
