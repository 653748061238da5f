"""Sync speed: one 200 MB session bundle over loopback, against a plain HTTP PUT of the same bytes.

Prints:
    sync.mb_s              the resumable upload (create, checksummed chunks, commit), MB/s
    sync.overhead_ratio    that upload's time over one plain PUT of the same file to the same server
                           process in the same run (goal: at most 1.5); medians of 5 interleaved rounds
    sync.server_rss_mb     the service process's peak resident memory during the run
    sync.bundle_mb         the bundle's size

The service runs in its own process (`--serve`), with one extra route for the comparison: PUT
/bench/plain streams the body to a file and fsyncs it, as an upload's last chunk is kept.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path, PurePosixPath

from fastapi import Request  # at module level: the route's annotation is resolved from these globals

BUNDLE_VIDEO_BYTES = 200 * 1024**2
WRITE_BLOCK_BYTES = 4 * 1024**2
RSS_SAMPLE_S = 0.05  # how often the server's memory is read
REQUEST_TIMEOUT_S = 300.0
ROUNDS = 5  # a plain PUT and an upload each round; the medians are compared (this machine is shared and noisy)


def serve(data_dir: Path) -> None:
    """The service with the bench's plain PUT route, on a free loopback port (printed)."""
    import uvicorn

    from training.service.core.config import load_settings
    from training.service.main import create_app

    app = create_app(load_settings(data_dir))
    plain = data_dir / "plain-put"

    @app.put("/bench/plain", include_in_schema=False)
    async def plain_put(request: Request) -> dict:
        size = 0
        with plain.open("wb") as out:
            async for piece in request.stream():
                out.write(piece)
                size += len(piece)
            out.flush()
            os.fsync(out.fileno())
        return {"bytes": size}

    from training.service.cli import _announce_port

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    _announce_port(server)
    server.run()


def _record_big_session(laptop: Path) -> str:
    from datetime import datetime, timezone

    from desktop.sources.heart_rate.base import HeartRateSample
    from desktop.store import Store, VideoSegment

    rng = random.Random(0)
    with Store.open(laptop) as store:
        session_id = store.create_session(started_wall_utc=datetime.now(timezone.utc), started_mono_s=0.0,
                                          hr_specs=["sim:1"], camera_spec="synthetic")
        athlete = store.add_athlete("Ana", 190, 50, consent_cloud=True)
        store.add_channel(session_id, "sim-1", "Ana", athlete.id)
        store.write_events(session_id, [HeartRateSample("sim-1", k * 1.0, rng.randint(60, 190)) for k in range(3600)])
        relative = PurePosixPath("video") / session_id / "seg-000000.avi"
        digest = _write_random(laptop / relative, BUNDLE_VIDEO_BYTES)
        store.add_video_segment(session_id, VideoSegment(relative, 0.0, 3600.0, 108000, 30.0, "MJPG", digest))
        store.finish_session(session_id, ended_mono_s=3600.0)
    return session_id


def _write_random(path: Path, size: int) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with path.open("wb") as out:
        for _ in range(size // WRITE_BLOCK_BYTES):
            block = os.urandom(WRITE_BLOCK_BYTES)
            digest.update(block)
            out.write(block)
    return digest.hexdigest()


class _PeakRss:
    def __init__(self, pid: int):
        import psutil

        self._process = psutil.Process(pid)
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak_bytes = max(self.peak_bytes, self._process.memory_info().rss)
            except Exception:  # the process ended
                return
            self._stop.wait(RSS_SAMPLE_S)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _start_server(cloud: Path) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    process = subprocess.Popen([sys.executable, "-m", "bench.bench_sync", "--serve", str(cloud)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = process.stdout.readline()
    return process, "http://" + line.split("http://")[1].strip()


def _enrolled_client(cloud: Path, url: str, team: str):
    """A laptop of a team of its own: the same session is new to each team, so each upload is whole."""
    from cloud_client.client import CloudClient

    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    for args in (["teams", "create", team], ["enrol-code", team]):
        done = subprocess.run([sys.executable, "-m", "training.service.cli", *args, "--data-dir", str(cloud)],
                              capture_output=True, text=True, check=True, timeout=120, env=env)
    with CloudClient(url, allow_http=True) as anonymous:
        token = anonymous.enrol(done.stdout.strip(), "bench laptop")["token"]
    return CloudClient(url, token, allow_http=True)


def _timed_put(url: str, path: Path) -> float:
    import requests

    with path.open("rb") as body:
        started = time.perf_counter()
        requests.put(url + "/bench/plain", data=body, timeout=REQUEST_TIMEOUT_S).raise_for_status()
        return time.perf_counter() - started


def _timed_upload(client, session_id: str, bundle) -> float:
    started = time.perf_counter()
    answer = client.upload_bundle(session_id, bundle.path, bundle.sha256)
    elapsed = time.perf_counter() - started
    if answer["sha256"] != bundle.sha256:
        raise RuntimeError(f"the cloud answered with another hash: {answer}")
    return elapsed


def run() -> dict[str, float]:
    from desktop.store import Store
    from desktop.sync.bundle import build_bundle

    with tempfile.TemporaryDirectory(prefix="trackside-bench-sync-") as tmp:
        laptop, cloud = Path(tmp) / "laptop", Path(tmp) / "cloud"
        session_id = _record_big_session(laptop)
        with Store.open(laptop) as store:
            bundle = build_bundle(store, session_id)
        server, url = _start_server(cloud)
        rss = _PeakRss(server.pid)
        put_s, upload_s = [], []
        try:
            for round_number in range(ROUNDS):  # interleaved, so both see the same load on a shared machine
                with _enrolled_client(cloud, url, f"Bench{round_number}") as client:
                    put_s.append(_timed_put(url, bundle.path))
                    upload_s.append(_timed_upload(client, session_id, bundle))
        finally:
            rss.stop()
            server.terminate()
            server.wait(60)
            server.stdout.close()
    megabytes = bundle.size_bytes / 1e6
    print(f"rounds: plain PUT {put_s} s, upload {upload_s} s", file=sys.stderr)
    upload, put = statistics.median(upload_s), statistics.median(put_s)
    return {"sync.mb_s": megabytes / upload, "sync.overhead_ratio": upload / put,
            "sync.server_rss_mb": rss.peak_bytes / 1e6, "sync.bundle_mb": megabytes}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve)
        return 0
    for name, value in run().items():
        print(f"{name}={value:.3f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
