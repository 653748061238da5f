"""`make bench`: every benchmark, each in its own process, printing `name=value` lines.

Each benchmark compares what it measures within one run (ratios), since these machines are shared
and noisy. A benchmark that fails is reported as `<module>.failed=1` and the others still run.
"""

from __future__ import annotations

import subprocess
import sys

BENCHMARKS = ("bench.bench_pose", "bench.bench_models", "bench.bench_forecast", "bench.bench_pipeline", "bench.bench_ui",
              "bench.bench_train", "bench.bench_sync", "bench.bench_loop")
BENCH_TIMEOUT_S = 900  # one benchmark that has not finished by then is reported as failed


def main() -> int:
    failed = 0
    for module in BENCHMARKS:
        try:
            done = subprocess.run([sys.executable, "-m", module], capture_output=True, text=True,
                                  timeout=BENCH_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            done = None
        if done is None or done.returncode != 0:
            failed += 1
            print(f"{module}.failed=1", flush=True)
            if done is not None:
                print(done.stderr[-2000:], file=sys.stderr)
            continue
        for line in done.stdout.splitlines():
            if "=" in line and " " not in line.strip():
                print(line.strip(), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
