"""`trackside-cloud retrain TEAM --kind hr|movement`: run one retraining job and print its verdict.

A plain function on the service's data folder; the service CLI registers it. Layout under the
data folder:

    jobs/<job_id>.json                   the job records (state, progress, log, result)
    runs/<team>/<kind>/<job_id>/         each job's bundle and job_report.md
    models/<team>/<kind>/                the model now in the field (else the bundled model)

Exit status: 0 the new model passed both gates, 1 a gate rejected it (nothing to publish),
3 the job failed, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from training.jobs.records import FAILED, REJECTED, JobRecord
from training.jobs.sessions import SessionSource, StoreSessionSource
from training.jobs.spec import KINDS, RetrainSpec

EXIT_REJECTED = 1
EXIT_FAILED = 3
BUNDLED = Path(__file__).resolve().parents[2] / "edge_models" / "bundled"
BUNDLED_NAMES = {"hr": "heart_rate", "movement": "movement"}
JOB_TIMEOUT_S = 6 * 3600.0  # a full job on CPU takes minutes; this only bounds a stuck worker


def field_model_dir(data_dir: Path, team: str, kind: str) -> Path:
    """The team's model now in the field, or the bundled starter model before any update."""
    published = Path(data_dir) / "models" / team / kind
    return published if (published / "model.tflite").is_file() else BUNDLED / BUNDLED_NAMES[kind]


def add_retrain_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("team", help="the team whose sessions train the model")
    parser.add_argument("--kind", choices=KINDS, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--small", action="store_true", help="a quick job: few epochs, few windows")
    parser.add_argument("--ray-address", default=None,
                        help="run the job on this Ray cluster (e.g. ray://head:10001 or auto)")
    parser.add_argument("--store", type=Path, default=None,
                        help="read the sessions from a laptop's data folder instead of the uploaded ones")


def retrain(data_dir: Path, args: argparse.Namespace, sessions: SessionSource | None = None) -> int:
    """Run the job on a worker process (or Ray), print its progress log and verdict; exit status."""
    return print_outcome(run_job(data_dir, args, sessions))


def run_job(data_dir: Path, args: argparse.Namespace, sessions: SessionSource | None = None) -> JobRecord:
    """Run the job on a worker process (or Ray) and wait for it; its final record."""
    sessions = sessions or _sessions(args)
    spec = RetrainSpec(args.team, args.kind, seed=args.seed, small=args.small)
    runner = _runner(Path(data_dir), args.ray_address)
    try:
        job = runner.submit(spec, sessions, field_model_dir(data_dir, args.team, args.kind),
                            Path(data_dir) / "runs" / args.team / args.kind)
        return runner.wait(job.job_id, JOB_TIMEOUT_S)
    finally:
        runner.close()


def _sessions(args: argparse.Namespace) -> SessionSource:
    if args.store is None:
        raise SystemExit("retrain: no session source yet: give --store DIR (a laptop's data folder)")
    return StoreSessionSource(args.store)


def _runner(data_dir: Path, ray_address: str | None):
    from training.jobs.runners import ProcessJobRunner, RayJobRunner

    jobs = data_dir / "jobs"
    return RayJobRunner(jobs, ray_address) if ray_address else ProcessJobRunner(jobs)


def print_outcome(record: JobRecord) -> int:
    for line in record.log:
        print(f"  {line}")
    print(f"job {record.job_id} ({record.team}, {record.kind}): {record.state}")
    if record.state == FAILED:
        print(f"  {record.error}", file=sys.stderr)
        return EXIT_FAILED
    if record.result:
        print(f"  {record.result['gate']['reason']}")
        print(f"  bundle: {record.result['out_dir']}")
    return EXIT_REJECTED if record.state == REJECTED else 0


def show_jobs(data_dir: Path, job_id: str | None = None, as_json: bool = False) -> int:
    """`trackside-cloud jobs [ID] [--json]`: every job's state and progress, or one job's log."""
    from dataclasses import asdict

    from training.jobs.records import JobBook

    book = JobBook(Path(data_dir) / "jobs")
    try:
        records = [book.get(job_id)] if job_id else book.all()
    except KeyError as exc:
        print(f"jobs: {exc.args[0]}", file=sys.stderr)
        return EXIT_FAILED
    if as_json:
        print(json.dumps([asdict(r) for r in records], indent=1))
        return 0
    for record in records:
        print(f"{record.job_id}  {record.created_utc}  {record.team}  {record.kind}  {record.state}  "
              f"{record.progress * 100:.0f} %")
        for line in record.log if job_id else record.log[-1:]:
            print(f"  {line}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry until the service CLI registers `retrain`: DATA_DIR TEAM --kind ..."""
    parser = argparse.ArgumentParser(prog="trackside-cloud retrain")
    parser.add_argument("data_dir", type=Path)
    add_retrain_arguments(parser)
    args = parser.parse_args(argv)
    return retrain(args.data_dir, args)


if __name__ == "__main__":
    sys.exit(main())
