"""`trackside-train movement|hr [--out DIR] [--epochs N] [--seed S]`: train, convert, gate, bundle.

The run is built in `<out>.staging` and replaces `<out>` only when the int8 model passed the gate,
so `make models` never ships a rejected model. Exit status 0 when it passed, 1 when it did not (the
rejected run and its report are kept in `<out>.rejected`), 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
from pathlib import Path

logger = logging.getLogger(__name__)

EXIT_GATE_FAILED = 1  # the int8 model lost too much against float: nothing to publish


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="trackside-train", description=__doc__.splitlines()[0])
    parser.add_argument("model", choices=["movement", "hr"], help="which model to train")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: runs/<model>)")
    parser.add_argument("--epochs", type=int, default=None, help="training epochs")
    parser.add_argument("--seed", type=int, default=0, help="random seed (same seed, same model)")
    return parser


def _run(args: argparse.Namespace, out: Path):
    extra = {} if args.epochs is None else {"epochs": args.epochs}
    if args.model == "hr":
        from training.hr.pipeline import run_hr

        return run_hr(out, seed=args.seed, **extra)
    from training.movement.pipeline import run_movement

    return run_movement(out, seed=args.seed, **extra)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = _parser().parse_args(argv)
    out = (args.out or Path("runs") / args.model).resolve()
    staging = out.with_name(out.name + ".staging")
    shutil.rmtree(staging, ignore_errors=True)
    result = _run(args, staging)
    print(f"{args.model}: gate {'passed' if result.gate.passed else 'FAILED'}: {result.gate.reason}")
    if not result.gate.passed:
        rejected = _replace_dir(staging, out.with_name(out.name + ".rejected"))
        print(f"{args.model}: {out} left as it was; the rejected run and its report: {rejected}")
        return EXIT_GATE_FAILED
    _replace_dir(staging, out)
    print(f"{args.model}: report {out / 'report.md'}")
    return 0


def _replace_dir(source: Path, target: Path) -> Path:
    """Put a finished run at `target`, replacing what was there only once the run is whole."""
    old = target.with_name(target.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    source.rename(target)
    shutil.rmtree(old, ignore_errors=True)
    return target


if __name__ == "__main__":
    sys.exit(main())
