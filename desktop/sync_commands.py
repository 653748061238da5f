"""`trackside sync enrol|status|now|trust-root`: connect this laptop to the team's cloud and send what waits.

`trust-root FILE` installs the team's update root (root.json from the administrator, beside the
enrolment code): without it this laptop installs no model update (never trusted on first use).

All three work with no network: `status` reads only the local store; `now` says what it could
not send and why, and keeps it for later.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import asdict
from pathlib import Path

from desktop.commands import print_json
from desktop.errors import EXIT_OK, EXIT_UNUSABLE, CliError

logger = logging.getLogger(__name__)


def add_parser(sub) -> None:
    p = sub.add_parser("sync", help="send sessions to the team's cloud")
    s = p.add_subparsers(dest="action", required=True)
    enrol = s.add_parser("enrol", help="connect this laptop to the team's cloud with a one-time code")
    enrol.add_argument("url", help="the service's address, e.g. https://cloud.example.org")
    enrol.add_argument("code", help="the one-time code from your administrator (trackside-cloud enrol-code TEAM)")
    enrol.add_argument("--allow-http", action="store_true", help="allow plain http (only to this computer)")
    enrol.add_argument("--device-name", help="how the team sees this laptop (default: its host name)")
    status = s.add_parser("status", help="what waits to be sent, and the last sync")
    now = s.add_parser("now", help="send what waits, now")
    trust = s.add_parser("trust-root", help="install the team's update root (root.json from your administrator)")
    trust.add_argument("file", type=Path, help="the team's root.json (the cloud's updates-repo/metadata/root.json)")
    for one in (enrol, status, now, trust):
        one.add_argument("--data-dir", help="where sessions are stored (default: $TRACKSIDE_DATA_DIR, else the "
                         "user data folder, e.g. ~/.local/share/Trackside)")
        one.add_argument("--json", action="store_true", help="machine-readable output")


def sync(args: argparse.Namespace, data_dir: Path) -> int:
    from desktop.store import StoreError

    handlers = {"enrol": _enrol, "status": _status, "now": _now, "trust-root": _trust_root}
    try:
        return handlers[args.action](args, data_dir)
    except StoreError as exc:
        raise CliError(str(exc)) from None


def _enrol(args: argparse.Namespace, data_dir: Path) -> int:
    from cloud_client.client import CloudError, InsecureServerAddress, NotEnrolled
    from desktop.sync.engine import enrol

    try:
        enrolled = enrol(data_dir, args.url, args.code, allow_http=args.allow_http, device_name=args.device_name)
    except InsecureServerAddress as exc:
        raise CliError(str(exc), 2) from None
    except NotEnrolled:
        raise CliError("the code was not accepted: it is unknown, already used or expired; ask for a new one") from None
    except CloudError as exc:
        raise CliError(f"could not enrol: {exc}") from None
    if args.json:
        print_json(enrolled)
    else:
        print(f"enrolled with team {enrolled['team']} at {enrolled['url']} (token kept in {enrolled['token_kept_in']})")
    return EXIT_OK


def _trust_root(args: argparse.Namespace, data_dir: Path) -> int:
    from desktop.sync.model_updates import RootFileError, trust_root

    try:
        kept = trust_root(data_dir, args.file)
    except RootFileError as exc:
        raise CliError(str(exc)) from None
    if args.json:
        print_json({"trusted_root": str(kept)})
    else:
        print(f"model updates from the team's cloud are now checked against {kept}")
    return EXIT_OK


def _status(args: argparse.Namespace, data_dir: Path) -> int:
    from desktop.sync.state import read_status

    status = read_status(data_dir)
    if args.json:
        print_json(asdict(status) | {"summary": status.summary})
        return EXIT_OK
    where = f"team {status.team} at {status.server_url}" if status.enrolled else "not enrolled"
    last = f"{status.last_sync_utc:%Y-%m-%d %H:%M} UTC" if status.last_sync_utc else "never"
    print(f"cloud     {where}")
    print(f"status    {status.summary}; last sent {last}")
    for line in status.outbox:
        progress = f" {line.progress:.0%}" if line.progress else ""
        print(f"  {line.what:<44} {line.state}{progress}" + (f"  ({line.problem})" if line.problem else ""))
    return EXIT_OK


def _now(args: argparse.Namespace, data_dir: Path) -> int:
    from desktop.store import Store
    from desktop.sync.engine import SyncEngine

    if not data_dir.exists():
        raise CliError(f"no Trackside data in {data_dir}")
    with Store.open(data_dir) as store:
        store.retry_failed()  # the coach asked: what waited for them is tried again
    report = SyncEngine(data_dir).run_once()
    if args.json:
        print_json(asdict(report))
    else:
        print(f"sent {len(report.sent)} item(s)" + (f"; {len(report.failed)} kept for later" if report.failed else ""))
        if report.stopped:
            print(f"stopped: {report.stopped}")
    return EXIT_UNUSABLE if report.stopped else EXIT_OK
