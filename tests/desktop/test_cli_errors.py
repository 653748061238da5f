"""Every `trackside` command, given bad input, as a coach's shell runs it: a real process.

Each bad input must end with exit 2 (bad arguments) or 3 (a file, device or session that cannot be
used), exactly one line on stderr, nothing on stdout, no traceback, and nothing on disk changed.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from desktop.cli import build_parser, main
from desktop.errors import EXIT_UNUSABLE, EXIT_USAGE
from desktop.store import DB_NAME
from tests.support.trackside import trackside_command, trackside_env

COMMAND_TIMEOUT_S = 60  # a refused command answers in about a second; one still running has hung
NEWER_SCHEMA_VERSION = 99  # a data file from a Trackside far newer than this one


def run_trackside(argv: list[str], launcher: str = "module") -> subprocess.CompletedProcess:
    return subprocess.run([*trackside_command(launcher), *argv], capture_output=True, text=True,
                          timeout=COMMAND_TIMEOUT_S, env=trackside_env())


@pytest.fixture(scope="module")
def places(tmp_path_factory) -> dict[str, str]:
    """A data folder with an athlete, a session with heart rate and one with video only; a damaged
    data file, one from a newer Trackside, and a plain file where a folder is expected."""
    root = tmp_path_factory.mktemp("cli-errors")
    data = root / "data"
    assert main(["athletes", "add", "Alice", "--hr-max", "195", "--hr-rest", "50", "--data-dir", str(data)]) == 0
    assert main(["record", "--headless", "--hr", "sim:1?speed=inf", "--duration", "20", "--no-feedback",
                 "--data-dir", str(data)]) == 0
    assert main(["record", "--headless", "--camera", "synthetic", "--duration", "0.5", "--no-feedback",
                 "--data-dir", str(data)]) == 0
    with contextlib.closing(sqlite3.connect(data / DB_NAME)) as conn:
        started = dict(conn.execute(
            """SELECT s.id, COUNT(c.channel) FROM sessions s LEFT JOIN session_channels c ON c.session_id = s.id
               GROUP BY s.id"""))
    (root / "damaged").mkdir()
    (root / "damaged" / DB_NAME).write_bytes(b"not a database, whatever its name says " * 100)
    (root / "newer").mkdir()
    shutil.copyfile(data / DB_NAME, root / "newer" / DB_NAME)
    with contextlib.closing(sqlite3.connect(root / "newer" / DB_NAME)) as conn:  # closed: nothing left in a WAL
        conn.execute(f"PRAGMA user_version = {NEWER_SCHEMA_VERSION}")
    for folder in ("damaged", "newer"):  # private, as Trackside makes them: no warning that they were not
        (root / folder).chmod(0o700)
        (root / folder / DB_NAME).chmod(0o600)
    (root / "a-file").write_text("a file, not a folder")
    return {"data": str(data), "damaged": str(root / "damaged"), "newer": str(root / "newer"),
            "file": str(root / "a-file"), "empty": str(root / "nothing-here"), "out": str(root / "exports"),
            "hr_session": next(s for s, n in started.items() if n), "video_session": next(
                s for s, n in started.items() if not n)}


def fingerprint(places: dict[str, str]) -> dict[str, str]:
    """What is on disk in the prepared places (the video of the data folder aside)."""
    files = [Path(places[k]) / DB_NAME for k in ("data", "damaged", "newer")] + [Path(places["file"])]
    return {str(f): hashlib.sha256(f.read_bytes()).hexdigest() for f in files}


BAD_INPUTS = [
    # (argv, exit code, words the one line on stderr must hold); {name} is a place prepared above
    (["coach"], EXIT_USAGE, "invalid choice: 'coach'"),
    # app (checked before the window opens)
    (["app", "--hr", "nope:1"], EXIT_USAGE, "nope:1"),
    (["app", "--hr", "replay:{file}"], EXIT_UNUSABLE, "a-file"),
    (["app", "--camera", "file:{empty}/clip.mp4"], EXIT_UNUSABLE, "clip.mp4"),
    (["app", "--hr", "sim:1", "--athlete", "Alice"], EXIT_USAGE, "CHANNEL=NAME"),
    (["app", "--hr", "sim:1", "--athlete", "sim-1=Nobody", "--data-dir", "{data}"], EXIT_UNUSABLE, "Nobody"),
    # sync (no network needed to refuse these)
    (["sync", "enrol", "ftp://cloud.example.org", "ABC", "--data-dir", "{data}"], EXIT_USAGE, "ftp://"),
    (["sync", "status", "--data-dir", "{damaged}"], EXIT_UNUSABLE, "not a database"),
    (["sync", "now", "--data-dir", "{empty}"], EXIT_UNUSABLE, "no Trackside data"),
    (["sync", "trust-root", "{file}", "--data-dir", "{data}"], EXIT_UNUSABLE, "a-file"),
    # record
    (["record", "--hr", "sim:1"], EXIT_USAGE, "--headless"),
    (["record", "--headless"], EXIT_USAGE, "nothing to record"),
    (["record", "--headless", "--hr", "nope:1"], EXIT_USAGE, "nope:1"),
    (["record", "--headless", "--hr", "sim:x"], EXIT_USAGE, "number of athletes"),
    (["record", "--headless", "--hr", "sim:1", "--duration", "-5"], EXIT_USAGE, "positive number of seconds"),
    (["record", "--headless", "--hr", "sim:1", "--duration", "soon"], EXIT_USAGE, "expected a number"),
    (["record", "--headless", "--hr", "sim:1", "--camera", "webcam"], EXIT_USAGE, "webcam"),
    (["record", "--headless", "--hr", "sim:1", "--athlete", "Alice"], EXIT_USAGE, "CHANNEL=NAME"),
    (["record", "--headless", "--hr", "sim:2", "--hr", "sim:1"], EXIT_USAGE, "sim-1"),
    (["record", "--headless", "--hr", "replay:/no/such/ride.fit"], EXIT_UNUSABLE, "ride.fit"),
    (["record", "--headless", "--hr", "sim:1", "--camera", "cv:99"], EXIT_UNUSABLE, "cv:99"),
    (["record", "--headless", "--hr", "sim:1", "--athlete", "sim-1=Nobody"], EXIT_UNUSABLE, "Nobody"),
    (["record", "--headless", "--hr", "sim:1", "--data-dir", "{damaged}"], EXIT_UNUSABLE, "not a database"),
    (["record", "--headless", "--hr", "sim:1", "--data-dir", "{newer}"], EXIT_UNUSABLE, "schema version 99"),
    (["record", "--headless", "--hr", "sim:1", "--data-dir", "{file}"], EXIT_UNUSABLE, "not a folder"),
    # sessions list
    (["sessions"], EXIT_USAGE, "required: action"),
    (["sessions", "list", "--data-dir", "{empty}"], EXIT_UNUSABLE, "no Trackside data"),
    (["sessions", "list", "--data-dir", "{damaged}"], EXIT_UNUSABLE, "not a database"),
    (["sessions", "list", "--data-dir", "{newer}"], EXIT_UNUSABLE, "update Trackside"),
    # sessions show
    (["sessions", "show"], EXIT_USAGE, "required: session_id"),
    (["sessions", "show", "zzz"], EXIT_UNUSABLE, "'zzz' is not a session id"),
    (["sessions", "show", "{hr_session}", "--data-dir", "{newer}"], EXIT_UNUSABLE, "schema version 99"),
    # sessions export
    (["sessions", "export", "{hr_session}"], EXIT_USAGE, "required: --out"),
    (["sessions", "export", "{hr_session}", "--format", "gpx", "--out", "{out}"], EXIT_USAGE, "'gpx'"),
    (["sessions", "export", "zzz", "--out", "{out}"], EXIT_UNUSABLE, "not a session id"),
    (["sessions", "export", "{hr_session}", "--out", "{file}"], EXIT_UNUSABLE, "is a file"),
    (["sessions", "export", "{video_session}", "--format", "fit", "--out", "{out}"], EXIT_UNUSABLE,
     "no heart rate to export"),
    (["sessions", "export", "{hr_session}", "--out", "{out}", "--data-dir", "{damaged}"], EXIT_UNUSABLE,
     "not a database"),
    # sessions label
    (["sessions", "label", "{hr_session}", "60", "20", "backwards"], EXIT_USAGE, "START_S < END_S"),
    (["sessions", "label", "{hr_session}", "1", "2", "  "], EXIT_USAGE, "blank"),
    (["sessions", "label", "{hr_session}", "1", "inf", "sprint"], EXIT_USAGE, "finite"),
    (["sessions", "label", "{hr_session}", "one", "2", "sprint"], EXIT_USAGE, "expected a number"),
    (["sessions", "label", "{hr_session}", "1", "2", "sprint", "--channel", "sim-9"], EXIT_UNUSABLE, "sim-9"),
    (["sessions", "label", "zzz", "1", "2", "sprint"], EXIT_UNUSABLE, "not a session id"),
    # athletes add
    (["athletes"], EXIT_USAGE, "required: action"),
    (["athletes", "add", "  ", "--hr-max", "190", "--hr-rest", "50"], EXIT_USAGE, "blank"),
    (["athletes", "add", "Zed", "--hr-max", "120", "--hr-rest", "130"], EXIT_USAGE, "hr-rest"),
    (["athletes", "add", "Zed", "--hr-max", "fast", "--hr-rest", "50"], EXIT_USAGE, "expected a number"),
    (["athletes", "add", "Zed", "--hr-rest", "50"], EXIT_USAGE, "required: --hr-max"),
    (["athletes", "add", "Alice", "--hr-max", "190", "--hr-rest", "50"], EXIT_USAGE, "already exists"),
    (["athletes", "add", "Zed", "--hr-max", "190", "--hr-rest", "50", "--data-dir", "{newer}"], EXIT_UNUSABLE,
     "schema version 99"),
    # athletes list
    (["athletes", "list", "--data-dir", "{damaged}"], EXIT_UNUSABLE, "not a database"),
    (["athletes", "list", "--data-dir", "{file}"], EXIT_UNUSABLE, "not a folder"),
    # athletes consent
    (["athletes", "consent", "Nobody", "yes"], EXIT_UNUSABLE, "Nobody"),
    (["athletes", "consent", "Alice", "maybe"], EXIT_USAGE, "'maybe'"),
    (["athletes", "consent", "", "no"], EXIT_USAGE, "blank"),
    # athletes delete-data
    (["athletes", "delete-data", "Nobody"], EXIT_UNUSABLE, "Nobody"),
    (["athletes", "delete-data", " "], EXIT_USAGE, "blank"),
    (["athletes", "delete-data", "Alice", "--data-dir", "{newer}"], EXIT_UNUSABLE, "schema version 99"),
]


def with_places(argv: list[str], places: dict[str, str]) -> list[str]:
    """The argv with its places filled in, and the prepared data folder unless it names another."""
    argv = [a.format(**places) for a in argv]
    if argv[:1] in (["record"], ["sessions"], ["athletes"]) and len(argv) > 1 and "--data-dir" not in argv:
        argv += ["--data-dir", places["data"]]
    return argv


def assert_refused_cleanly(done: subprocess.CompletedProcess, code: int, words: str) -> None:
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == code, done.stderr
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert words in done.stderr and done.stderr.startswith("trackside"), done.stderr
    assert done.stdout == ""


@pytest.mark.parametrize("argv, code, words", BAD_INPUTS, ids=[" ".join(a) or "nothing" for a, *_ in BAD_INPUTS])
def test_a_bad_input_is_one_clear_line_and_an_exit_code(places, argv, code, words):
    before = fingerprint(places)
    done = run_trackside(with_places(argv, places))
    assert_refused_cleanly(done, code, words)
    assert fingerprint(places) == before  # nothing changed on disk, nothing lost
    assert not Path(places["out"]).exists()


def commands_of(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    """Every command and subcommand the parser knows, e.g. ('sessions', 'export')."""
    found = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found |= commands_of(sub, (*prefix, name)) or {(*prefix, name)}
    return found


def test_every_command_has_bad_inputs_in_the_table():
    tested = {tuple(argv[:2]) if argv[:1] not in (["record"], ["app"]) else tuple(argv[:1]) for argv, *_ in BAD_INPUTS}
    assert commands_of(build_parser()) - tested == set()


@pytest.mark.parametrize("argv, code, words", [
    (["athletes", "consent", "Nobody", "yes"], EXIT_UNUSABLE, "Nobody"),  # raised by the commands module
    (["sessions", "list", "--data-dir", "{damaged}"], EXIT_UNUSABLE, "not a database"),  # by the store
    (["record", "--headless", "--hr", "sim:1", "--duration", "0"], EXIT_USAGE, "positive"),  # by argparse
])
def test_the_installed_trackside_command_refuses_cleanly_too(places, argv, code, words):
    assert_refused_cleanly(run_trackside(with_places(argv, places), launcher="entry_point"), code, words)
