"""The learning loop's turn-around: from the first recording to the new model active on the laptop.

Prints:
    loop.record_to_update_s     record 3 simulated sessions, label, sync over loopback, a small
                                heart-rate job (CPU or GPU, as TensorFlow sees), gate, publish,
                                and the laptop's update check installing it
    loop.retrain_and_publish_s  the job's share of it (started through the service's API)
    loop.install_s              the laptop's update check, download and smoke test

The steps are tests/e2e/test_learning_loop.py's (tests/support/learning_loop.py), on a worse
field model so the gate passes; a turn that does not end with the new model active fails.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from tests.support.learning_loop import run_loop


def run() -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-loop-") as folder:
        work = Path(folder)
        turn = run_loop(work, work / "laptop")
    if turn.installed_version != turn.published_version or not turn.published_version:
        raise RuntimeError(f"the loop did not end with a new model active: {turn.job}")
    seconds = turn.seconds
    return {"loop.record_to_update_s": seconds["record"] + seconds["sync"] + seconds["retrain_and_publish"]
            + seconds["install"],
            "loop.retrain_and_publish_s": seconds["retrain_and_publish"], "loop.install_s": seconds["install"]}


def main() -> int:
    for name, value in run().items():
        print(f"{name}={value:.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
