"""`trackside`: record sessions, list and export them, manage athletes.

Exit codes: 0 done; 2 bad arguments; 3 a file, device or session that cannot be used.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_UNUSABLE = 3
DEFAULT_DATA_DIR = Path.home() / "Trackside"

logger = logging.getLogger(__name__)


class CliError(Exception):
    """A problem the user can fix; printed without a traceback."""

    def __init__(self, message: str, exit_code: int = EXIT_UNUSABLE):
        super().__init__(message)
        self.exit_code = exit_code


def _data_dir(value: str | None) -> Path:
    return Path(value or os.environ.get("TRACKSIDE_DATA_DIR") or DEFAULT_DATA_DIR).expanduser()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="trackside", description="Trackside: heart rate, pose and "
                                     "movement feedback for coaches at the trackside.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_record(sub)
    _add_sessions(sub)
    _add_athletes(sub)
    from desktop.sync_commands import add_parser as add_sync_parser

    add_sync_parser(sub)
    return parser


def _common(p: argparse.ArgumentParser, json_flag: bool = True) -> None:
    p.add_argument("--data-dir", help="where sessions are stored (default: $TRACKSIDE_DATA_DIR or ~/Trackside)")
    if json_flag:
        p.add_argument("--json", action="store_true", help="machine-readable output")


def _add_record(sub) -> None:
    p = sub.add_parser("record", help="record a session")
    p.add_argument("--headless", action="store_true", help="record without the window, print a summary")
    p.add_argument("--hr", action="append", default=[], metavar="SPEC",
                   help="heart-rate source, repeatable: sim:N, replay:FILE, ble:ADDRESS, ble:any")
    p.add_argument("--camera", metavar="SPEC", help="camera: cv:INDEX, file:PATH, synthetic")
    p.add_argument("--duration", type=float, metavar="S", help="stop after S seconds (default: Ctrl-C "
                   "or when every source has ended)")
    p.add_argument("--athlete", action="append", default=[], metavar="CHANNEL=NAME",
                   help="who wears which strap, e.g. sim-1=Alice (the athlete must exist)")
    p.add_argument("--no-feedback", action="store_true", help="do not run the on-device models")
    _common(p)


def _add_sessions(sub) -> None:
    p = sub.add_parser("sessions", help="list, show and export recorded sessions")
    s = p.add_subparsers(dest="action", required=True)
    _common(s.add_parser("list", help="every session, newest first"))
    show = s.add_parser("show", help="one session in detail")
    show.add_argument("session_id", help="a session id or a unique prefix of one")
    _common(show)
    label = s.add_parser("label", help="label a stretch of a session (a class for training later)")
    label.add_argument("session_id")
    label.add_argument("start_s", type=float, help="seconds from the session's start")
    label.add_argument("end_s", type=float, help="seconds from the session's start")
    label.add_argument("label", help="the class, e.g. sprint, jog, rest")
    label.add_argument("--channel", help="one athlete's channel (default: the whole squad)")
    _common(label)
    export = s.add_parser("export", help="write a session as CSV, TCX or FIT")
    export.add_argument("session_id")
    export.add_argument("--format", choices=("csv", "tcx", "fit"), default="csv")
    export.add_argument("--out", required=True, help="folder for the exported files")
    _common(export)


def _add_athletes(sub) -> None:
    p = sub.add_parser("athletes", help="manage athletes")
    s = p.add_subparsers(dest="action", required=True)
    add = s.add_parser("add", help="add an athlete")
    add.add_argument("name")
    add.add_argument("--hr-max", type=float, required=True, metavar="BPM")
    add.add_argument("--hr-rest", type=float, required=True, metavar="BPM")
    add.add_argument("--no-consent", action="store_true", help="the athlete has not agreed to HR storage")
    _common(add)
    _common(s.add_parser("list", help="every athlete"))
    consent = s.add_parser("consent", help="record an athlete's consent to heart-rate storage")
    consent.add_argument("name")
    consent.add_argument("answer", choices=("yes", "no"))
    _common(consent)
    delete = s.add_parser("delete-data", help="erase an athlete's heart-rate data from every session")
    delete.add_argument("name")
    _common(delete)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from desktop import commands

    from desktop.sync_commands import sync

    handlers = {"record": commands.record, "sessions": commands.sessions, "athletes": commands.athletes, "sync": sync}
    try:
        return handlers[args.command](args, _data_dir(args.data_dir))
    except CliError as exc:
        print(f"trackside: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


@contextlib.contextmanager
def stop_on_signals(stop: threading.Event):
    """While recording, Ctrl-C or SIGTERM end it cleanly: the last batch and segment are kept."""
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def print_json(value) -> None:
    print(json.dumps(value, indent=2, default=str))


if __name__ == "__main__":
    raise SystemExit(main())
