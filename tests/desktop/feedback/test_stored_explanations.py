"""`record --headless` stores an explanation with every heart-rate forecast and movement class."""

from __future__ import annotations

import json

from desktop.cli import main
from desktop.errors import EXIT_OK
from tests.support.assets import real_asset


def test_a_headless_recording_stores_explanations_with_its_feedback(capsys, tmp_path):
    clip = real_asset("demo.mp4")
    code = main(["record", "--headless", "--hr", "sim:1?speed=inf", "--camera", f"file:{clip}",
                 "--duration", "90", "--json", "--data-dir", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == EXIT_OK, err
    from desktop.store import Store

    with Store.open(tmp_path) as store:
        events = store.feedback_events(json.loads(out)["session_id"])
    forecasts = [e.payload for e in events if e.kind == "hr_forecast"]
    movement = [e.payload for e in events if e.kind == "movement"]
    assert forecasts and all({"recent_hr_bpm", "effort_bpm", "plan_bpm", "seconds_ago"} <= set(p["explain"])
                             for p in forecasts)
    assert movement and all({"body_parts", "frames"} <= set(p["explain"]) for p in movement)
