"""`make run`'s cloud: the service on loopback beside the app, this laptop enrolled, a sync after each session.

Qt-free; the app calls it like this:

    with LocalCloudSync.start(data_dir) as cloud:   # starts `trackside-cloud serve`, enrols if needed
        ... record ...
        cloud.session_finished()                     # a sync pass now, in the background
    # leaving the block runs a last pass (bounded) and stops the service

The service runs as its own process (`python -m training.service.cli serve`), so the app never
imports the service (nor needs its packages unless this is used). It keeps its data in
`<data_dir>/embedded-cloud` and listens on 127.0.0.1 only, on a fixed port so the enrolment stays
valid from one run to the next.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from desktop.store import Store
from desktop.sync.credentials import TokenStore
from desktop.sync.engine import BackgroundSync, SyncEngine, SyncReport, enrol

logger = logging.getLogger(__name__)

EMBEDDED_DIR_NAME = "embedded-cloud"
EMBEDDED_PORT = 8765  # fixed, so the laptop's enrolment (address and token) works again next run
EMBEDDED_TEAM = "Trackside"
AUTO_RETRAIN_AFTER = 1  # the demo's cloud retrains (a small job) after each newly labelled session
START_TIMEOUT_S = 60.0  # migrations and imports on a slow laptop
LAST_SYNC_TIMEOUT_S = 120.0  # the pass when the app closes: a session of a few hundred MB on loopback
ADMIN_TIMEOUT_S = 60.0


class EmbeddedCloudError(RuntimeError):
    """The embedded service could not start (its packages missing, the port taken): the words say which."""


@dataclass
class EmbeddedCloud:
    process: subprocess.Popen
    url: str
    cloud_dir: Path

    def admin(self, *args: str) -> subprocess.CompletedProcess:
        """A `trackside-cloud` admin command on this service's data."""
        return subprocess.run([sys.executable, "-m", "training.service.cli", *args, "--data-dir", str(self.cloud_dir)],
                              capture_output=True, text=True, timeout=ADMIN_TIMEOUT_S)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


def start_embedded_cloud(data_dir: Path, *, port: int = EMBEDDED_PORT) -> EmbeddedCloud:
    """`trackside-cloud serve` on 127.0.0.1:`port` with its data in `<data_dir>/embedded-cloud`."""
    cloud_dir = Path(data_dir) / EMBEDDED_DIR_NAME
    cloud_dir.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "training.service.cli", "serve", "--data-dir", str(cloud_dir), "--host",
               "127.0.0.1", "--port", str(port), "--auto-retrain-after", str(AUTO_RETRAIN_AFTER), "--small-jobs"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    line = process.stdout.readline()  # "serving http://127.0.0.1:PORT" once it listens; "" if it died
    if "serving http://" not in line:
        error = process.stderr.read()[-800:] if process.poll() is not None else "no answer"
        process.kill()
        process.wait()
        raise EmbeddedCloudError(f"the embedded cloud service did not start: {error.strip()}")
    process.stderr.close()  # its log is not needed beside the app's
    return EmbeddedCloud(process, line.split("serving ", 1)[1].strip(), cloud_dir)


def enrol_with(cloud: EmbeddedCloud, data_dir: Path, team: str = EMBEDDED_TEAM) -> dict | None:
    """Enrol this laptop with the embedded service unless it already is; the enrolment, or None if kept."""
    with Store.open(data_dir) as store:
        server = store.sync_server()
    if server is not None and server.url == cloud.url and TokenStore(data_dir).load(server.device_id):
        return None
    cloud.admin("teams", "create", team)  # "already exists" on later runs: fine
    code = cloud.admin("enrol-code", team)
    if code.returncode != 0:
        raise EmbeddedCloudError(f"no enrolment code from the embedded service: {code.stderr.strip()[-300:]}")
    return enrol(data_dir, cloud.url, code.stdout.strip(), allow_http=True, device_name="this laptop")


def trust_embedded_root(cloud: EmbeddedCloud, data_dir: Path) -> Path:
    """The embedded service's update repository (made on first use), and its root of trust copied
    into this laptop's data folder through the file system: never fetched over the network."""
    from desktop.sync.model_updates import trust_root, trusted_root_path

    root = cloud.cloud_dir / "updates-repo" / "metadata" / "root.json"
    if not root.is_file():
        made = cloud.admin("init")
        if made.returncode != 0:
            raise EmbeddedCloudError(f"the embedded update repository was not made: {made.stderr.strip()[-300:]}")
    kept = trusted_root_path(data_dir)
    return kept if kept.is_file() else trust_root(data_dir, root)


class LocalCloudSync:
    """The embedded service, this laptop enrolled with it, and a background sync; see the module doc."""

    def __init__(self, cloud: EmbeddedCloud, data_dir: Path, *, interval_s: float = 60.0):
        self.cloud = cloud
        self.data_dir = Path(data_dir)
        self.background = BackgroundSync(SyncEngine(self.data_dir), interval_s=interval_s).start()

    @classmethod
    def start(cls, data_dir: Path, *, port: int = EMBEDDED_PORT, interval_s: float = 60.0) -> "LocalCloudSync":
        cloud = start_embedded_cloud(data_dir, port=port)
        try:
            enrol_with(cloud, data_dir)
            trust_embedded_root(cloud, data_dir)
        except Exception:
            cloud.stop()
            raise
        return cls(cloud, data_dir, interval_s=interval_s)

    def session_finished(self) -> None:
        """A session was stopped: send it now (in the background)."""
        self.background.sync_now()

    def close(self, timeout_s: float = LAST_SYNC_TIMEOUT_S) -> SyncReport | None:
        """A last pass (bounded by `timeout_s`), then the sync thread and the service stop."""
        self.background.sync_now()
        self.background.wait_idle(timeout_s)
        report = self.background.last_report
        self.background.stop()
        self.cloud.stop()
        return report

    def __enter__(self) -> "LocalCloudSync":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
