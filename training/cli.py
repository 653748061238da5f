"""`trackside-train movement|hr [--out DIR] [--epochs N] [--seed S]`: train, convert, gate, bundle.

Exit status 0 when the int8 model passed the gate, 1 when it did not (the report says why),
2 on bad arguments.
"""

from __future__ import annotations

import argparse
import logging
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


def _run(args: argparse.Namespace):
    out = args.out or Path("runs") / args.model
    extra = {} if args.epochs is None else {"epochs": args.epochs}
    if args.model == "hr":
        from training.hr.pipeline import run_hr

        return run_hr(out, seed=args.seed, **extra)
    from training.movement.pipeline import run_movement

    return run_movement(out, seed=args.seed, **extra)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = _parser().parse_args(argv)
    result = _run(args)
    print(f"{args.model}: gate {'passed' if result.gate.passed else 'FAILED'}: {result.gate.reason}")
    print(f"{args.model}: report {result.out / 'report.md'}")
    return 0 if result.gate.passed else EXIT_GATE_FAILED


if __name__ == "__main__":
    sys.exit(main())
