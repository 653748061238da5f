"""A team's laptop store with real recorded sessions, and field models to compare against.

The team's sessions are real rowing sessions (rowingdata's test files, not in the public corpus
the job also trains on), recorded through the real `trackside record` command into a real
store: Ana consented, Ben did not (so the store kept none of his heart rate).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from bench.bench_train import ROWING_SESSIONS, record_rowing_team, rowing_path

TEAM = "harbour-rowing"
REPO_ROOT = Path(__file__).resolve().parents[3]
BUNDLED_HR = REPO_ROOT / "edge_models" / "bundled" / "heart_rate"


@pytest.fixture(scope="session")
def team_store(tmp_path_factory) -> Path:
    """A laptop data folder holding four real recorded sessions of the team."""
    for name, _ in ROWING_SESSIONS:
        if not rowing_path(name).is_file():
            pytest.fail(f"{rowing_path(name)} is missing: the tests need the real rowing sessions "
                        "(`make data`)", pytrace=False)
    return record_rowing_team(tmp_path_factory.mktemp("team") / "laptop")


def perturbed_copy(source_dir: Path, target_dir: Path, bias_offset: int) -> Path:
    """A copy of a model bundle whose int8 model has `bias_offset` added to the int32 biases of its
    fully connected layers: the same model made clearly worse (a field model to beat)."""
    from training.tf_setup import tensorflow_ready

    tensorflow_ready()
    from tensorflow.lite.tools import flatbuffer_utils

    shutil.copytree(source_dir, target_dir)
    path = target_dir / "model.tflite"
    model = flatbuffer_utils.read_model(str(path))
    graph = model.subgraphs[0]
    codes = [flatbuffer_utils.opcode_to_name(model, op.opcodeIndex) for op in graph.operators]
    with_bias = [op for op, code in zip(graph.operators, codes)
                 if code == "FULLY_CONNECTED" and len(op.inputs) > 2 and op.inputs[2] >= 0]  # -1: no bias
    if not with_bias:
        raise ValueError(f"{path} has no fully connected layer with a bias to push off")
    for op in with_bias:
        buffer = model.buffers[graph.tensors[op.inputs[2]].buffer]
        if buffer.data is None:
            continue  # a bias computed at run time: nothing stored to push off
        bias = np.frombuffer(bytes(buffer.data), dtype=np.int32) + np.int32(bias_offset)
        buffer.data = np.frombuffer(bias.tobytes(), dtype=np.uint8)
    flatbuffer_utils.write_model(model, str(path))
    return target_dir


@pytest.fixture(scope="session")
def worse_field_model(tmp_path_factory) -> Path:
    """The bundled heart-rate model with its biases pushed off: clearly worse than any trained model."""
    return perturbed_copy(BUNDLED_HR, tmp_path_factory.mktemp("field") / "heart_rate", bias_offset=30_000)


@pytest.fixture(scope="session")
def passed_job(team_store, worse_field_model, tmp_path_factory):
    """One small heart-rate job of the team against the worse field model (shared: it trains)."""
    from training.jobs.retrain import run_retrain
    from training.jobs.sessions import StoreSessionSource
    from training.jobs.spec import RetrainSpec

    lines: list[tuple[float, str]] = []
    result = run_retrain(RetrainSpec(TEAM, "hr", seed=0, small=True), StoreSessionSource(team_store),
                         worse_field_model, tmp_path_factory.mktemp("runs") / "job-1",
                         lambda fraction, message: lines.append((fraction, message)))
    return result, lines


@pytest.fixture(scope="session")
def local_ray():
    """ONE local single-node Ray for the tests that need it, shut down at the end of the session.

    Session-scoped fixtures start before each test's thread-leak check takes its "before" list,
    so the threads Ray keeps in this process for its whole life are not counted as a test's leak;
    one warm-up task starts the ones Ray only starts on first use.
    """
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": str(REPO_ROOT)}})
    ray.get(ray.remote(lambda: None).remote())
    yield ray
    ray.shutdown()
