"""What each `trackside` subcommand does; `desktop.cli` parses, this module acts."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import signal
import sys
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Callable

from desktop.errors import EXIT_OK, EXIT_UNUSABLE, EXIT_USAGE, CliError
from desktop.recorder import AthleteProfile, Recorder, RecordingSummary
from desktop.sources.events import FeedbackEvent, SourceProblem
from desktop.store import Store, StoreError

logger = logging.getLogger(__name__)


# -- record ---------------------------------------------------------------------------------

def record(args: argparse.Namespace, data_dir: Path) -> int:
    if not args.headless:
        raise CliError("record runs without a window: add --headless, or record in the window with "
                       "`trackside app --hr SPEC`", EXIT_USAGE)
    if not args.hr and not args.camera:
        raise CliError("nothing to record: give at least one --hr SPEC or a --camera SPEC", EXIT_USAGE)
    hr_sources, camera = _open_sources(args)
    athletes = _assigned_athletes(data_dir, args.athlete)
    printer = _FeedbackPrinter(as_json=args.json)
    try:
        recorder = Recorder(data_dir, hr_sources, camera, athletes=athletes, listeners=[printer])
    except ValueError as exc:
        raise CliError(str(exc), EXIT_USAGE) from exc
    if not args.no_feedback:
        from desktop.feedback import attach_feedback

        for reason in attach_feedback(recorder, data_dir, camera=camera is not None):
            print(f"note: {reason}", file=sys.stderr)
    stop = threading.Event()
    with stop_on_signals(stop):
        _start(recorder)
        try:
            recorder.wait(args.duration, stop)
        finally:
            summary = _stop(recorder)
    _print_summary(summary, args.json)
    return _record_exit_code(summary)


def check_app_arguments(args: argparse.Namespace, data_dir: Path) -> None:
    """Before the window opens: every source opens and every athlete exists, or one clear line.

    The sources are let go again at once (the window opens its own); interrupted sessions are
    left as they are, for the window to offer."""
    args.duration = None
    hr_sources, camera = _open_sources(args)
    del hr_sources  # not started: nothing to stop
    if camera is not None:
        camera.stop()  # never started: this releases the device or file
    with Store.open(data_dir) as store:
        for item in args.athlete:
            _athlete_of(store, item)


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


def _start(recorder: Recorder) -> None:
    """Start recording; a part that cannot start is a clear message (the session is kept, closed)."""
    try:
        recorder.start()
    except Exception as exc:
        logger.debug("recording could not start", exc_info=True)
        raise CliError(f"the recording could not start: {type(exc).__name__}: {exc}") from exc


def _stop(recorder: Recorder) -> RecordingSummary:
    try:
        return recorder.stop()
    except StoreError as exc:
        raise CliError(f"session {recorder.session_id} kept as interrupted: {exc}") from exc


def _open_sources(args):
    """Every source opened before recording starts, so a bad spec or file loses nothing."""
    from desktop.sources.camera import CameraUnavailable, open_camera
    from desktop.sources.heart_rate import open_heart_rate_source
    from edge_models.recordings import RecordingError

    try:
        hr_sources = [open_heart_rate_source(spec, duration_s=args.duration) for spec in args.hr]
        camera = open_camera(args.camera) if args.camera else None
    except (RecordingError, CameraUnavailable, OSError) as exc:
        raise CliError(str(exc)) from exc
    except ValueError as exc:  # SpecError and other malformed arguments
        raise CliError(str(exc), EXIT_USAGE) from exc
    return hr_sources, camera


def _assigned_athletes(data_dir: Path, assignments: list[str]) -> dict[str, AthleteProfile]:
    """Who wears which strap; also closes sessions a killed process left open."""
    profiles = {}
    with Store.open(data_dir) as store:
        for session_id in store.recover_interrupted():
            print(f"note: session {session_id} was interrupted; kept what was recorded", file=sys.stderr)
        for item in assignments:
            channel, athlete = _athlete_of(store, item)
            profiles[channel] = AthleteProfile(athlete.id, athlete.name, athlete.hr_max_bpm,
                                               athlete.hr_rest_bpm, athlete.consent)
    return profiles


def _athlete_of(store: Store, assignment: str):
    """`CHANNEL=NAME` -> (channel, the athlete), or a clear refusal."""
    channel, sep, name = assignment.partition("=")
    if not sep or not channel or not name:
        raise CliError(f"--athlete {assignment!r}: expected CHANNEL=NAME, e.g. sim-1=Alice", EXIT_USAGE)
    athlete = store.athlete_by_name(name)
    if athlete is None:
        raise CliError(f"no athlete called {name!r}: add them with `trackside athletes add`")
    return channel, athlete


def _record_exit_code(summary: RecordingSummary) -> int:
    """A recording in which no source delivered anything and one failed is not a success."""
    delivered = any(c.samples for c in summary.channels) or summary.frames_recorded
    return EXIT_UNUSABLE if summary.problems and not delivered else EXIT_OK


class _FeedbackPrinter:
    """Prints problems and model feedback as they arrive (the dispatcher thread calls it).

    Each kind of feedback is printed at most once a second per athlete, so a terminal stays
    readable; everything is stored whatever is printed.
    """

    PRINT_PERIOD_S = 1.0

    def __init__(self, as_json: bool):
        self.as_json = as_json
        self._last_printed: dict[tuple[str, str], float] = {}

    def __call__(self, event: object) -> None:
        if self.as_json:
            return  # the JSON summary is the whole output
        if isinstance(event, SourceProblem) and event.fatal:
            print(f"problem  {event.channel}: {event.message}", flush=True)
        elif isinstance(event, FeedbackEvent) and self._due(event):
            print(f"feedback {event.channel} {event.kind} [{event.model_name} {event.model_version}] "
                  f"{_short(event.payload)}", flush=True)

    def _due(self, event) -> bool:
        key = (event.channel, event.kind)
        if event.t_mono_s - self._last_printed.get(key, -self.PRINT_PERIOD_S) < self.PRINT_PERIOD_S:
            return False
        self._last_printed[key] = event.t_mono_s
        return True


def _short(payload: dict) -> str:
    return " ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}" for k, v in payload.items())


def _print_summary(summary: RecordingSummary, as_json: bool) -> None:
    if as_json:
        print_json(asdict(summary))
        return
    print(f"session  {summary.session_id}  {summary.duration_s:.1f} s")
    for c in summary.channels:
        hr = f"mean {c.mean_hr_bpm:.0f} bpm, max {c.max_hr_bpm} bpm" if c.samples else "no heart rate"
        dropped = f"  {c.rr_dropped} bad RR left out" if c.rr_dropped else ""
        print(f"  {c.display_name:<16} {c.channel:<20} {c.samples:>5} samples {c.rr_intervals:>5} RR  {hr}  "
              f"gaps {c.gaps}  problems {c.problems}{dropped}")
    if summary.feedback_events:
        print(f"  feedback: {summary.feedback_events} events from the on-device models")
    if summary.frames_recorded or summary.video_segments:
        print(f"  video: {summary.frames_recorded} frames in {summary.video_segments} segments, "
              f"{summary.frames_dropped} dropped")
    if summary.events_refused or summary.listener_errors or summary.feedback_failures:
        print(f"  warning: {summary.events_refused} malformed events not stored, {summary.listener_errors} "
              f"display errors, {summary.feedback_failures} feedback failures (see the log)")
    for problem in summary.problems:
        print(f"  problem: {problem}")


# -- sessions -------------------------------------------------------------------------------

def sessions(args: argparse.Namespace, data_dir: Path) -> int:
    if not (data_dir / "trackside.sqlite").exists():
        raise CliError(f"no Trackside data in {data_dir}")
    with Store.open(data_dir) as store:
        if args.action == "list":
            _list_sessions(store, args.json)
        elif args.action == "show":
            _show_session(store, args.session_id, args.json)
        elif args.action == "label":
            _label_session(store, args)
        else:
            _export_session(store, args, data_dir)
    return EXIT_OK


def _print_rows(items: list, as_json: bool, line: Callable[[object], str]) -> None:
    """A list as JSON for a script, or one line per item for a person."""
    if as_json:
        print_json([asdict(item) for item in items])
        return
    for item in items:
        print(line(item))


def _list_sessions(store: Store, as_json: bool) -> None:
    _print_rows(store.list_sessions(), as_json, lambda s: (
        f"{s.id}  {s.started_wall_utc:%Y-%m-%d %H:%M}  {s.duration_s or 0:7.1f} s  "
        f"{s.status:<11} {len(s.channels)} athletes  {s.video_segment_count} video segments"))


def _find_session(store: Store, session_id: str):
    try:
        return store.session(session_id)
    except KeyError as exc:
        raise CliError(str(exc.args[0] if exc.args else exc)) from None


def _show_session(store: Store, session_id: str, as_json: bool) -> None:
    detail = _find_session(store, session_id)
    if as_json:
        print_json(asdict(detail))
        return
    print(f"session   {detail.id}")
    print(f"started   {detail.started_wall_utc:%Y-%m-%d %H:%M:%S} UTC, {detail.duration_s or 0:.1f} s, {detail.status}")
    print(f"sources   {', '.join(detail.hr_specs) or '-'}; camera {detail.camera_spec or '-'}")
    gaps, problems = store.gaps(detail.id), store.problems(detail.id)
    for c in detail.channels:
        n_gaps = sum(g.channel == c.channel for g in gaps)
        print(f"  {c.display_name:<16} {c.channel:<20} {c.sample_count:>6} samples  {n_gaps} gaps")
    kinds = {}
    for event in store.feedback_events(detail.id):
        kinds[event.kind] = kinds.get(event.kind, 0) + 1
    print(f"feedback  {', '.join(f'{k} {n}' for k, n in sorted(kinds.items())) or 'none'}")
    for label in store.labels(detail.id):
        print(f"label     {label.label}: {label.start_mono_s - detail.started_mono_s:.1f}-"
              f"{label.end_mono_s - detail.started_mono_s:.1f} s {label.channel or 'squad'} ({label.labelled_by})")
    print(f"video     {detail.video_segment_count} segments")
    real_problems = [p for p in problems if p.kind != "end_of_stream"]
    for p in real_problems[:20]:
        print(f"problem   {p.channel}: {p.kind}: {p.message}")


def _label_session(store: Store, args: argparse.Namespace) -> None:
    detail = _find_session(store, args.session_id)
    if not 0 <= args.start_s < args.end_s:
        raise CliError("a label needs 0 <= START_S < END_S (seconds from the session's start)", EXIT_USAGE)
    if args.channel and args.channel not in {c.channel for c in detail.channels}:
        raise CliError(f"session {detail.id[:8]} has no channel {args.channel!r}")
    label_id = store.add_label(detail.id, start_mono_s=detail.started_mono_s + args.start_s,
                               end_mono_s=detail.started_mono_s + args.end_s, label=args.label,
                               channel=args.channel)
    print(f"label {label_id}: {args.label} from {args.start_s:g} s to {args.end_s:g} s")


def _export_session(store: Store, args: argparse.Namespace, data_dir: Path) -> None:
    from desktop.export import export_session

    detail = _find_session(store, args.session_id)
    out_dir = Path(args.out).expanduser()
    if out_dir.exists() and not out_dir.is_dir():
        raise CliError(f"--out {out_dir} is a file: give a folder for the exported files")
    written = export_session(store, detail.id, args.format, out_dir)
    if args.json:
        print_json([str(p) for p in written])
    else:
        for path in written:
            print(path)


# -- athletes -------------------------------------------------------------------------------

def athletes(args: argparse.Namespace, data_dir: Path) -> int:
    with Store.open(data_dir) as store:
        if args.action == "add":
            _add_athlete(store, args)
        elif args.action == "list":
            _list_athletes(store, args.json)
        else:
            _change_athlete(store, args)
    return EXIT_OK


def _add_athlete(store: Store, args: argparse.Namespace) -> None:
    if not 30 <= args.hr_rest < args.hr_max <= 250:
        raise CliError("expected 30 <= --hr-rest < --hr-max <= 250 bpm", EXIT_USAGE)
    if store.athlete_by_name(args.name) is not None:
        raise CliError(f"an athlete called {args.name!r} already exists", EXIT_USAGE)
    athlete = store.add_athlete(args.name, args.hr_max, args.hr_rest, consent=not args.no_consent)
    if args.json:
        print_json(asdict(athlete))
    else:
        print(f"added {athlete.name} (id {athlete.id})")


def _list_athletes(store: Store, as_json: bool) -> None:
    _print_rows(store.list_athletes(), as_json, lambda a: (
        f"{a.id:>4}  {a.name:<20} HRmax {a.hr_max_bpm:.0f}  HRrest {a.hr_rest_bpm:.0f}  "
        f"consent record {_yes(a.consent)} cloud {_yes(a.consent_cloud)} training {_yes(a.consent_training)}"))


def _yes(choice: bool) -> str:
    return "yes" if choice else "no"


def _change_athlete(store: Store, args: argparse.Namespace) -> None:
    athlete = store.athlete_by_name(args.name)
    if athlete is None:
        raise CliError(f"no athlete called {args.name!r}")
    if args.action == "consent":
        _change_consent(store, athlete, args)
    else:
        rows = store.delete_athlete_data(athlete.id)
        print(f"{athlete.name}: erased {rows} heart-rate rows")


def _change_consent(store: Store, athlete, args: argparse.Namespace) -> None:
    """`consent NAME yes|no` is consent to record; --record/--cloud/--training set each choice."""
    if args.answer and args.record and args.answer != args.record:
        raise CliError(f"consent {args.answer} and --record {args.record} disagree: give one", 2)
    record = args.record or args.answer
    answers = {"record": record, "cloud": args.cloud, "training": args.training}
    given = {choice: answer == "yes" for choice, answer in answers.items() if answer is not None}
    if not given:
        raise CliError("say yes or no: `athletes consent NAME yes|no` (to record), or --record, --cloud, "
                       "--training yes|no", 2)
    changed = store.set_consent(athlete.id, **given)
    print(f"{changed.name}: consent record {_yes(changed.consent)} cloud {_yes(changed.consent_cloud)} "
          f"training {_yes(changed.consent_training)}")
