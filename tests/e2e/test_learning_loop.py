"""The learning loop end to end: record -> label -> sync -> retrain -> double gate -> publish ->
the laptop installs it -> the next recording's forecasts come from the new model.

Everything real (tests/support/learning_loop.py): the `trackside` command with simulated straps
(`sim:2`) and the synthetic camera, the laptop store, the sync over loopback to the real
service, the job in the service's spawned worker (a small heart-rate job on CPU), the TUF
repository the service serves, and the laptop's update client started by the window's sync.
The field model is made clearly worse first, so the gate's verdict is known: the new model must
beat it by the margin.
"""

from __future__ import annotations

import pytest

from desktop.feedback.models import update_state
from tests.support.learning_loop import run_loop

pytestmark = pytest.mark.slow  # trains a small model (about a minute on two shared cores)


def test_a_labelled_synced_session_retrains_and_the_next_recording_uses_the_new_model(tmp_path, data_dir):
    run = run_loop(tmp_path, data_dir)

    assert run.synced  # every recorded session is in the team's cloud
    assert run.job["state"] == "succeeded", run.job  # both gates passed, in numbers
    assert "beats" in run.job["gate"] and run.job["published"]["kind"] == "heart_rate"
    assert run.published_version != run.bundled_version
    assert run.installed_version == run.published_version
    assert update_state(data_dir).get("heart_rate").active_version == run.published_version
    assert run.forecast_versions and set(run.forecast_versions) == {run.published_version}
