"""`trackside`: record sessions, list and export them, manage athletes.

Exit codes: 0 done; 2 bad arguments; 3 a file, device or session that cannot be used.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
from pathlib import Path

import platformdirs

from desktop.errors import EXIT_USAGE, exit_code_of, one_line, user_error_types

APP_NAME = "Trackside"  # the default data folder is this app's user data folder (platformdirs)

logger = logging.getLogger(__name__)


def _data_dir(value: str | None) -> Path:
    """--data-dir, else $TRACKSIDE_DATA_DIR, else the platform's user data folder for Trackside."""
    return Path(value or os.environ.get("TRACKSIDE_DATA_DIR") or default_data_dir()).expanduser()


def default_data_dir() -> Path:
    """The platform's user data folder for Trackside (platformdirs).

    ~/.local/share/Trackside (or $XDG_DATA_HOME/Trackside) on Linux, ~/Library/Application
    Support/Trackside on macOS, %LOCALAPPDATA%\\Trackside on Windows.
    """
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="trackside", description="Trackside: heart rate, pose and "
                                     "movement feedback for coaches at the trackside.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command")  # no subcommand: open the window
    _add_app(sub)
    _add_record(sub)
    _add_sessions(sub)
    _add_athletes(sub)
    from desktop.sync_commands import add_parser as add_sync_parser

    add_sync_parser(sub)
    return parser


def _common(p: argparse.ArgumentParser, json_flag: bool = True) -> None:
    p.add_argument("--data-dir", help="where sessions are stored (default: $TRACKSIDE_DATA_DIR, else the "
                   "user data folder, e.g. ~/.local/share/Trackside)")
    if json_flag:
        p.add_argument("--json", action="store_true", help="machine-readable output")


def _add_app(sub) -> None:
    p = sub.add_parser("app", help="open the Trackside window (the default), recording at once from any sources given")
    p.add_argument("--hr", action="append", default=[], metavar="SPEC",
                   help="heart-rate source, repeatable: sim:N, replay:FILE, ble:ADDRESS, ble:any")
    p.add_argument("--camera", metavar="SPEC", help="camera: cv:INDEX, file:PATH[?loop=1], synthetic")
    p.add_argument("--athlete", action="append", default=[], metavar="CHANNEL=NAME",
                   help="who wears which strap, e.g. sim-1=Alice (the athlete must exist)")
    p.add_argument("--no-feedback", action="store_true", help="do not run the on-device models")
    p.add_argument("--embedded-cloud", action="store_true",
                   help="run the team's cloud service on this computer (127.0.0.1 only) beside the window, enrol "
                        "this laptop with it and send each session when it stops (needs the cloud's packages)")
    _common(p, json_flag=False)


def _open_app(args: argparse.Namespace, data_dir: Path) -> int:
    """The window; Qt is imported only here, so the headless commands never load it."""
    from desktop.commands import check_app_arguments
    from desktop.ui.app import main as app_main

    check_app_arguments(args, data_dir)

    args.data_dir = data_dir
    return app_main(args)


def _add_record(sub) -> None:
    p = sub.add_parser("record", help="record a session")
    p.add_argument("--headless", action="store_true", help="record without the window, print a summary")
    p.add_argument("--hr", action="append", default=[], metavar="SPEC",
                   help="heart-rate source, repeatable: sim:N, replay:FILE, ble:ADDRESS, ble:any")
    p.add_argument("--camera", metavar="SPEC", help="camera: cv:INDEX, file:PATH, synthetic")
    p.add_argument("--duration", type=_seconds, metavar="S", help="stop after S seconds (default: Ctrl-C "
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
    label.add_argument("start_s", type=_number, help="seconds from the session's start")
    label.add_argument("end_s", type=_number, help="seconds from the session's start")
    label.add_argument("label", type=_name, help="the class, e.g. sprint, jog, rest")
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
    add.add_argument("name", type=_name)
    add.add_argument("--hr-max", type=_number, required=True, metavar="BPM")
    add.add_argument("--hr-rest", type=_number, required=True, metavar="BPM")
    add.add_argument("--no-consent", action="store_true", help="the athlete has not agreed to HR storage")
    _common(add)
    _common(s.add_parser("list", help="every athlete"))
    consent = s.add_parser("consent", help="record an athlete's consent: to record heart rate, to send it "
                           "to the team's cloud, to use it for training (each a separate choice)")
    consent.add_argument("name", type=_name)
    consent.add_argument("answer", nargs="?", choices=("yes", "no"), help="consent to record heart rate")
    for choice, meaning in (("record", "record heart rate (same as ANSWER)"),
                            ("cloud", "send sessions to the team's cloud"), ("training", "use data for training")):
        consent.add_argument(f"--{choice}", choices=("yes", "no"), help=f"consent to {meaning}")
    _common(consent)
    delete = s.add_parser("delete-data", help="erase an athlete's heart-rate data from every session")
    delete.add_argument("name", type=_name)
    _common(delete)


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad command line is one line on stderr (with where to find help), exit 2."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see `{self.prog} --help`)\n")


def _seconds(text: str) -> float:
    """A positive, finite number of seconds."""
    value = _number(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def _number(text: str) -> float:
    """A finite number (argparse's float also takes 'nan' and 'inf')."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _name(text: str) -> str:
    """A name that is not blank."""
    if not text.strip():
        raise argparse.ArgumentTypeError("a name cannot be blank")
    return text.strip()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command is None:
        args = build_parser().parse_args([*(argv if argv is not None else sys.argv[1:]), "app"])
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not args.verbose:  # OpenCV's own warnings (a camera it cannot open) would repeat our one line
        os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
    from desktop import commands

    from desktop.sync_commands import sync

    handlers = {"app": _open_app, "record": commands.record, "sessions": commands.sessions,
                "athletes": commands.athletes, "sync": sync}
    try:
        return handlers[args.command](args, _data_dir(args.data_dir))
    except KeyboardInterrupt:
        return 130
    except user_error_types() as exc:  # the one place a user's error becomes a line and an exit code
        logger.debug("the command failed", exc_info=True)
        print(f"trackside: {one_line(exc)}", file=sys.stderr)
        return exit_code_of(exc)


if __name__ == "__main__":
    raise SystemExit(main())
