"""The `trackside` command as a coach or a script uses it: real store, real sources."""

from __future__ import annotations

import csv
import json
import subprocess
import sys


from desktop.cli import main
from desktop.errors import EXIT_OK, EXIT_UNUSABLE, EXIT_USAGE
from tests.support.assets import real_asset

COMMAND_TIMEOUT_S = 120  # a recording command that has not ended by then has hung


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def record_fast(capsys, data_dir, *extra):
    """A simulated session that runs as fast as the machine can, so the test needs no waiting."""
    return run(capsys, "record", "--headless", "--hr", "sim:2?speed=inf", "--duration", "90",
               "--data-dir", data_dir, "--no-feedback", *extra)


def test_athletes_are_added_listed_and_their_consent_recorded(capsys, data_dir):
    assert run(capsys, "athletes", "add", "Alice", "--hr-max", 195, "--hr-rest", 50, "--data-dir", data_dir)[0] == 0
    assert run(capsys, "athletes", "add", "Bob", "--hr-max", 188, "--hr-rest", 58, "--no-consent",
               "--data-dir", data_dir)[0] == 0
    code, out, _ = run(capsys, "athletes", "list", "--json", "--data-dir", data_dir)
    listed = {a["name"]: a for a in json.loads(out)}
    assert code == 0 and listed["Alice"]["consent"] and not listed["Bob"]["consent"]
    assert listed["Alice"]["hr_max_bpm"] == 195

    assert run(capsys, "athletes", "consent", "Bob", "yes", "--data-dir", data_dir)[0] == 0
    code, out, _ = run(capsys, "athletes", "list", "--json", "--data-dir", data_dir)
    assert all(a["consent"] for a in json.loads(out))


def test_a_recorded_athlete_can_have_their_heart_rate_erased(capsys, data_dir):
    run(capsys, "athletes", "add", "Alice", "--hr-max", 195, "--hr-rest", 50, "--data-dir", data_dir)
    assert record_fast(capsys, data_dir, "--athlete", "sim-1=Alice")[0] == EXIT_OK
    code, out, _ = run(capsys, "sessions", "list", "--json", "--data-dir", data_dir)
    samples = {c["display_name"]: c["sample_count"] for c in json.loads(out)[0]["channels"]}
    assert samples == {"Alice": 91, "Athlete 2": 91}

    code, out, _ = run(capsys, "athletes", "delete-data", "Alice", "--data-dir", data_dir)
    assert code == 0 and "erased" in out
    code, out, _ = run(capsys, "sessions", "list", "--json", "--data-dir", data_dir)
    samples = {c["display_name"]: c["sample_count"] for c in json.loads(out)[0]["channels"]}
    assert samples == {"Alice": 0, "Athlete 2": 91}


def test_sessions_are_shown_and_exported_in_every_format(capsys, data_dir, tmp_path):
    record_fast(capsys, data_dir)
    session_id = json.loads(run(capsys, "sessions", "list", "--json", "--data-dir", data_dir)[1])[0]["id"]
    code, out, _ = run(capsys, "sessions", "show", session_id[:8], "--data-dir", data_dir)
    assert code == 0 and session_id in out and "sim-1" in out

    out_dir = tmp_path / "export"
    for fmt in ("csv", "tcx", "fit"):
        code, out, _ = run(capsys, "sessions", "export", session_id[:8], "--format", fmt, "--out", out_dir,
                           "--data-dir", data_dir)
        assert code == 0, fmt
    with open(next(out_dir.glob("*.csv")), newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 * 91
    assert len(list(out_dir.glob("*.tcx"))) == 1 and len(list(out_dir.glob("*.fit"))) == 2


def test_the_coach_labels_a_stretch_of_a_session(capsys, data_dir):
    record_fast(capsys, data_dir)
    session_id = json.loads(run(capsys, "sessions", "list", "--json", "--data-dir", data_dir)[1])[0]["id"]
    code, out, _ = run(capsys, "sessions", "label", session_id[:8], 20, 60, "interval", "--channel", "sim-1",
                       "--data-dir", data_dir)
    assert code == 0
    code, out, _ = run(capsys, "sessions", "show", session_id, "--data-dir", data_dir)
    assert "interval: 20.0-60.0 s sim-1 (coach)" in out
    code, _, err = run(capsys, "sessions", "label", session_id, 60, 20, "backwards", "--data-dir", data_dir)
    assert code == EXIT_USAGE and "START_S < END_S" in err
    code, _, err = run(capsys, "sessions", "label", session_id, 1, 2, "x", "--channel", "sim-9", "--data-dir", data_dir)
    assert code == EXIT_UNUSABLE and "sim-9" in err


def test_an_unreadable_recording_file_is_refused_before_anything_is_recorded(capsys, data_dir, tmp_path):
    broken = tmp_path / "broken.fit"
    broken.write_bytes(b"\x0e\x10garbage that is not a FIT file")
    code, _, err = run(capsys, "record", "--headless", "--hr", f"replay:{broken}", "--data-dir", data_dir)
    assert code == EXIT_UNUSABLE and "broken.fit" in err
    assert len(err.strip().splitlines()) == 1  # one clear line, nothing else
    from desktop.store import Store

    with Store.open(data_dir) as store:  # nothing was recorded: no session, not even an empty one
        assert store.list_sessions() == []


def test_the_headless_recording_of_the_issue_runs_without_tensorflow(data_dir):
    """`record --headless --hr sim:3 --camera synthetic --duration 10`, with feedback, then list."""
    script = (
        "import sys\n"
        "from desktop.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "assert 'tensorflow' not in sys.modules, 'the laptop must not load TensorFlow'\n"
        "sys.exit(code)\n")
    done = subprocess.run([sys.executable, "-c", script, "record", "--headless", "--hr", "sim:3", "--camera",
                           "synthetic", "--duration", "10", "--data-dir", str(data_dir)],
                          capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S)
    assert done.returncode == 0, done.stderr
    assert "feedback camera pose" in done.stdout

    listed = subprocess.run([sys.executable, "-m", "desktop.cli", "sessions", "list", "--json", "--data-dir",
                             str(data_dir)], capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S)
    (session,) = json.loads(listed.stdout)
    athletes = session["channels"]
    assert [c["channel"] for c in athletes] == ["sim-1", "sim-2", "sim-3"]
    assert all(c["sample_count"] >= 9 for c in athletes)
    assert session["video_segment_count"] >= 4


def test_a_real_ride_and_a_real_clip_give_pose_movement_and_heart_rate_feedback(capsys, data_dir):
    """The issue's command as written: real speed, 20 s."""
    ride, clip = real_asset("4078723797.fit"), real_asset("demo.mp4")
    code, out, err = run(capsys, "record", "--headless", "--hr", f"replay:{ride}", "--camera", f"file:{clip}",
                         "--duration", "20", "--json", "--data-dir", data_dir)
    assert code == EXIT_OK, err
    summary = json.loads(out)
    (ride_channel,) = summary["channels"]
    assert 18 <= ride_channel["samples"] <= 21  # one a second of the real ride
    # the clip has 230 frames; under load the video writer may drop some, and says so
    assert summary["frames_recorded"] + summary["frames_dropped"] == 230
    assert summary["frames_recorded"] > 100 and summary["video_segments"] >= 2

    from desktop.store import Store

    with Store.open(data_dir) as store:
        kinds = {e.kind for e in store.feedback_events(summary["session_id"])}
    assert {"pose", "movement", "hr_forecast"} <= kinds


def test_missing_pose_models_turn_pose_off_with_a_reason_and_heart_rate_is_recorded(capsys, data_dir, monkeypatch):
    monkeypatch.setenv("TRACKSIDE_DATA", str(data_dir / "no-assets"))  # the pose models are not there
    code, out, err = run(capsys, "record", "--headless", "--hr", "sim:1?speed=inf", "--camera", "synthetic",
                         "--duration", "5", "--data-dir", data_dir)
    assert code == EXIT_OK  # pose is off, with a reason; heart rate is recorded
    assert "pose and movement off" in err and "make data" in err
    summary = json.loads(run(capsys, "sessions", "list", "--json", "--data-dir", data_dir)[1])
    assert summary[0]["status"] == "completed" and summary[0]["channels"][0]["sample_count"] == 6
