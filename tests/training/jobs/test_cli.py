"""`trackside-cloud retrain TEAM --kind ...` as a function of the service's data folder."""

from __future__ import annotations

import pytest

from training.jobs.cli import BUNDLED, EXIT_FAILED, field_model_dir, main


def test_a_job_that_cannot_read_its_sessions_fails_with_one_line_and_exit_3(tmp_path, capsys):
    code = main([str(tmp_path / "service"), "harbour", "--kind", "hr", "--small",
                 "--store", str(tmp_path / "no-laptop")])
    out, err = capsys.readouterr()
    assert code == EXIT_FAILED
    assert "failed" in out and "no Trackside data file" in err and "Traceback" not in err
    assert list((tmp_path / "service" / "jobs").glob("*.json"))  # the record stays for the API


def test_without_a_session_source_it_says_what_to_give(tmp_path):
    with pytest.raises(SystemExit, match="--store"):
        main([str(tmp_path), "harbour", "--kind", "movement"])


def test_the_field_model_is_the_teams_published_one_else_the_bundled_one(tmp_path):
    assert field_model_dir(tmp_path, "harbour", "hr") == BUNDLED / "heart_rate"
    published = tmp_path / "models" / "harbour" / "hr"
    published.mkdir(parents=True)
    (published / "model.tflite").write_bytes(b"int8 model")
    assert field_model_dir(tmp_path, "harbour", "hr") == published


def test_jobs_lists_each_job_with_its_state_and_shows_one_jobs_log(tmp_path, capsys):
    import json

    from training.jobs.cli import show_jobs

    main([str(tmp_path), "harbour", "--kind", "hr", "--store", str(tmp_path / "no-laptop")])
    capsys.readouterr()
    assert show_jobs(tmp_path) == 0
    listed = capsys.readouterr().out
    assert "harbour  hr  failed" in listed
    job_id = listed.split()[0]
    assert show_jobs(tmp_path, job_id, as_json=True) == 0
    [record] = json.loads(capsys.readouterr().out)
    assert record["state"] == "failed" and record["log"][0].startswith("started in process")
    assert show_jobs(tmp_path, "nosuchjob") == EXIT_FAILED
    assert "no job" in capsys.readouterr().err
