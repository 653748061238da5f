"""Where jobs run: the same job function in a worker process beside the service, and on Ray."""

from __future__ import annotations

import os
import re

import pytest

from training.jobs.records import FAILED, QUEUED, SUCCEEDED
from training.jobs.runners import ProcessJobRunner, RayJobRunner
from training.jobs.sessions import StoreSessionSource
from training.jobs.spec import RetrainSpec
from tests.training.jobs.conftest import TEAM

pytestmark = pytest.mark.slow  # each runs one small training job in another process
JOB_TIMEOUT_S = 600.0  # a small job takes about a minute on two shared cores


def _worker_pid(record) -> int:
    return int(re.search(r"started in process (\d+)", record.log[0]).group(1))


def test_a_job_runs_in_a_worker_process_and_reports_state_progress_and_log(team_store, worse_field_model,
                                                                            tmp_path):
    runner = ProcessJobRunner(tmp_path / "jobs")
    try:
        job = runner.submit(RetrainSpec(TEAM, "hr", small=True), StoreSessionSource(team_store),
                            worse_field_model, tmp_path / "runs")
        assert job.state == QUEUED
        record = runner.wait(job.job_id, JOB_TIMEOUT_S)
    finally:
        runner.close()
    assert record.state == SUCCEEDED, record.error or record.log
    assert _worker_pid(record) != os.getpid()
    assert record.progress == 1.0 and any("training the heart-rate model" in line for line in record.log)
    assert record.result["gate"]["passed"] and (tmp_path / "runs" / job.job_id / "model.tflite").is_file()
    assert runner.book.get(job.job_id) == record  # persisted: another process reads the same


def test_a_job_that_fails_says_why_and_the_runner_goes_on(worse_field_model, tmp_path):
    runner = ProcessJobRunner(tmp_path / "jobs")
    try:
        job = runner.submit(RetrainSpec(TEAM, "hr", small=True), StoreSessionSource(tmp_path / "nowhere"),
                            worse_field_model, tmp_path / "runs")
        record = runner.wait(job.job_id, JOB_TIMEOUT_S)
    finally:
        runner.close()
    assert record.state == FAILED and "no Trackside data file" in record.error


def test_the_same_job_runs_as_a_ray_task(local_ray, team_store, worse_field_model, tmp_path):
    runner = RayJobRunner(tmp_path / "jobs")
    assert runner.resources() == {"num_gpus": 0, "num_cpus": 1}  # this machine has no GPU
    job = runner.submit(RetrainSpec(TEAM, "hr", small=True), StoreSessionSource(team_store),
                        worse_field_model, tmp_path / "runs")
    record = runner.wait(job.job_id, JOB_TIMEOUT_S)
    runner.close()
    assert record.state == SUCCEEDED, record.error or record.log
    assert _worker_pid(record) != os.getpid()
    assert record.result["gate"]["passed"]
