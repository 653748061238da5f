"""`trackside record --headless --hr replay:FILE` on damaged real files: keep, warn, exit 0."""

from __future__ import annotations

from desktop.cli import main
from desktop.errors import EXIT_OK, EXIT_UNUSABLE
from desktop.sources.events import FILE_DAMAGED
from desktop.store import Store
from edge_models.recordings import read_recording
from tests.support.assets import real_asset


def record(capsys, data_dir, path) -> tuple[int, str, str]:
    code = main(["record", "--headless", "--hr", f"replay:{path}?speed=max", "--no-feedback",
                 "--data-dir", str(data_dir)])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_ride_cut_short_is_recorded_up_to_the_cut_with_a_warning(capsys, data_dir, tmp_path):
    cut = tmp_path / "ride.fit"
    whole = real_asset("4078723797.fit").read_bytes()
    cut.write_bytes(whole[:len(whole) * 3 // 5])
    kept = read_recording(cut)
    code, out, err = record(capsys, data_dir, cut)
    assert code == EXIT_OK, err
    assert f"problem: ride: {kept.damage}" in out  # the recording summary says what was lost
    assert "ride.fit cut short after 1 h 23 min: " in kept.damage
    with Store.open(data_dir) as store:
        [session] = store.list_sessions()
        problems = [p for p in store.problems(session.id) if p.kind == FILE_DAMAGED]
        stored_hr = [s.hr_bpm for s in store.hr_samples(session.id, "ride")]
    assert [p.message for p in problems] == [kept.damage] and not problems[0].fatal  # kept with the session
    assert stored_hr == [int(h) for h in kept.hr_bpm[kept.hr_bpm == kept.hr_bpm]]


def test_a_file_with_no_readable_sample_is_one_clear_line_and_exit_3(capsys, data_dir, tmp_path):
    headless = tmp_path / "dead.fit"
    headless.write_bytes(b"JUNK" + real_asset("4078723797.fit").read_bytes()[4:2000])
    code, out, err = record(capsys, data_dir, headless)
    assert code == EXIT_UNUSABLE
    assert err.startswith("trackside: dead.fit: not a readable FIT file") and err.count("\n") == 1
    assert "Traceback" not in err and out == ""
