"""`trackside-cloud`: run the service, create teams, hand out enrolment codes, revoke devices.

    trackside-cloud serve --data-dir DIR [--host 127.0.0.1] [--port 8765] [--database-url URL]
    trackside-cloud teams create NAME     trackside-cloud teams list
    trackside-cloud enrol-code TEAM       (prints a one-time code for `trackside sync enrol`)
    trackside-cloud devices list TEAM     trackside-cloud devices revoke DEVICE_ID
    trackside-cloud init                  (the update repository and its keys; the root key apart)
    trackside-cloud publish BUNDLE_DIR    (an accepted model into the update repository)
    trackside-cloud retrain TEAM --kind hr|movement [--small] [--ray-address A]
    trackside-cloud jobs [ID] [--json]

The update repository is served read-only at <service url>/updates/; a laptop trusts it through
the repository's root.json (<data-dir>/updates-repo/metadata/root.json), installed beside its
enrolment. One repository per service (see training/service/learning.py).

Every command takes --data-dir and --database-url (or TRACKSIDE_CLOUD_DATA_DIR / _DATABASE_URL).
Exit codes: 0 done, 2 bad arguments, 3 something that cannot be used (no such team, ...).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from dataclasses import replace

DEFAULT_HOST = "127.0.0.1"  # loopback: a laptop's embedded service is not on the network unless asked
DEFAULT_PORT = 8765
EXIT_USAGE, EXIT_UNUSABLE = 2, 3
LOOP_COMMANDS = ("init", "publish", "retrain", "jobs")

logger = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="trackside-cloud", description=__doc__.splitlines()[0])
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", help="blobs, uploads and (by default) the SQLite database")
    common.add_argument("--database-url", help="e.g. postgresql://user@host/db (default: SQLite in --data-dir)")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", parents=[common], help="run the service")
    serve.add_argument("--host", default=DEFAULT_HOST)
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 picks a free port (printed)")
    serve.add_argument("--workers", type=int, default=1, help="processes (PostgreSQL only)")
    serve.add_argument("--auto-retrain-after", type=int, default=None, metavar="N",
                       help="start a heart-rate job by itself after N new labelled sessions of a team (default: never)")
    serve.add_argument("--small-jobs", action="store_true", help="jobs started by themselves are small and quick")
    teams = sub.add_parser("teams", help="create and list teams").add_subparsers(dest="action", required=True)
    teams.add_parser("create", parents=[common]).add_argument("name")
    teams.add_parser("list", parents=[common])
    sub.add_parser("enrol-code", parents=[common], help="a one-time code to enrol a laptop").add_argument("team")
    devices = sub.add_parser("devices", help="list and revoke devices").add_subparsers(dest="action", required=True)
    devices.add_parser("list", parents=[common]).add_argument("team")
    devices.add_parser("revoke", parents=[common]).add_argument("device_id")
    sub.add_parser("init", parents=[common], help="create the update repository and its keys")
    publish = sub.add_parser("publish", parents=[common], help="publish an accepted model bundle")
    publish.add_argument("bundle_dir", help="a bundle folder (model.tflite, manifest.json, golden.npz)")
    publish.add_argument("--team", help="accepted for the record: one repository serves the service's teams")
    from training.jobs.cli import add_retrain_arguments

    add_retrain_arguments(sub.add_parser("retrain", parents=[common], help="run one retraining job now"))
    jobs = sub.add_parser("jobs", parents=[common], help="the retraining jobs, or one job's log")
    jobs.add_argument("job_id", nargs="?")
    jobs.add_argument("--json", action="store_true")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    from training.service.core.config import load_settings

    try:
        settings = load_settings(args.data_dir, args.database_url)
    except ValueError as exc:
        print(f"trackside-cloud: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.command == "serve":
        return _serve(settings, args)
    if args.command in LOOP_COMMANDS:
        return _learning_loop(settings, args)
    try:
        return _admin(settings, args)
    except (LookupError, ValueError) as exc:
        print(f"trackside-cloud: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE


def _serve(settings, args) -> int:
    import uvicorn

    from training.service.main import create_app

    if args.auto_retrain_after is not None:  # the environment carries it to --workers processes too
        os.environ["TRACKSIDE_CLOUD_AUTO_RETRAIN_AFTER"] = str(args.auto_retrain_after)
        os.environ["TRACKSIDE_CLOUD_AUTO_RETRAIN_SMALL"] = "1" if args.small_jobs else "0"
        settings = replace(settings, auto_retrain_after=args.auto_retrain_after, auto_retrain_small=args.small_jobs)
    if args.workers > 1:
        return _serve_workers(settings, args)
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host=args.host, port=args.port, log_level="warning",
                                           timeout_graceful_shutdown=5))
    _announce_port(server)
    server.run()
    return 0


def _serve_workers(settings, args) -> int:
    """Several processes on one PostgreSQL and one blob folder (uvicorn's workers; migrated here first)."""
    import os

    import uvicorn

    from training.service.core.config import ENV_PREFIX
    from training.service.db import make_engine, migrate

    if settings.database_url.startswith("sqlite"):
        print("trackside-cloud: several workers need PostgreSQL (--database-url)", file=sys.stderr)
        return EXIT_USAGE
    engine = make_engine(settings.database_url)
    migrate(engine)
    engine.dispose()
    os.environ[ENV_PREFIX + "DATA_DIR"] = str(settings.data_dir)
    os.environ[ENV_PREFIX + "DATABASE_URL"] = settings.database_url
    uvicorn.run("training.service.main:app_from_env", factory=True, host=args.host, port=args.port,
                workers=args.workers, log_level="warning")
    return 0


def _announce_port(server) -> None:
    """Print the bound address once the socket is listening (what a caller with --port 0 waits for)."""
    startup = server.startup

    async def startup_then_print(sockets=None):
        await startup(sockets=sockets)
        for listener in server.servers:
            for sock in listener.sockets:
                host, port = sock.getsockname()[:2]
                print(f"serving http://{host}:{port}", flush=True)

    server.startup = startup_then_print


def _learning_loop(settings, args) -> int:
    """The update repository and the retraining jobs (training/service/learning.py)."""
    from pathlib import Path

    from training.jobs import cli as jobs_cli
    from training.service import learning

    data_dir = Path(settings.data_dir)
    if args.command == "init":
        data_dir.mkdir(parents=True, exist_ok=True)
        return learning.init_updates(data_dir)
    if args.command == "publish":
        return learning.publish_bundle(data_dir, Path(args.bundle_dir))
    if args.command == "jobs":
        return jobs_cli.show_jobs(data_dir, args.job_id, as_json=args.json)
    sessions = None if args.store else learning.ServiceSessionSource(settings.database_url, settings.blob_dir)
    record = jobs_cli.run_job(data_dir, args, sessions=sessions)
    status = jobs_cli.print_outcome(record)
    if status == 0:
        version = learning.publish_if_passed(data_dir, record)
        print(f"  published {version}" if version else "  not published: no update repository "
              "(`trackside-cloud init`)")
    return status


def _admin(settings, args) -> int:
    from training.service import crud
    from training.service.db import make_engine, migrate, session_factory

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url)
    migrate(engine)
    with session_factory(engine).begin() as db:
        if args.command == "teams" and args.action == "create":
            print(f"team {crud.create_team(db, args.name).name} created")
        elif args.command == "teams":
            for team in db.scalars(crud.select(crud.Team).order_by(crud.Team.name)):
                print(team.name)
        elif args.command == "enrol-code":
            print(crud.new_enrol_code(db, crud.team_by_name(db, args.team), settings.enrol_code_ttl_s))
        elif args.action == "list":
            for device in crud.list_devices(db, crud.team_by_name(db, args.team).id):
                state = "revoked" if device.revoked_utc else "active"
                print(f"{device.id}  {device.name:<24} {state}")
        else:
            print(f"device {crud.revoke_device(db, args.device_id).id} revoked")
    engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
