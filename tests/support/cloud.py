"""The real cloud service for tests: uvicorn on a loopback port chosen by the OS, in a thread or a process.

Also what a test needs to act as the team's admin (create a team, hand out a code) and to record a
small real session into a laptop store.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import uvicorn

from desktop.sources.events import Marker
from desktop.sources.heart_rate.base import HeartRateSample
from desktop.store import Store
from tests.support.waiting import wait_until
from training.service import crud
from training.service.core.config import Settings, load_settings
from training.service.main import create_app

START_TIMEOUT_S = 30.0  # the service starts in about a second; a busy shared machine may take longer
STOP_TIMEOUT_S = 15.0


class ServiceThread:
    """The service app on uvicorn in a thread of the test process (a real socket, real HTTP)."""

    def __init__(self, settings: Settings, app=None):
        self.settings = settings
        self.app = app or create_app(settings)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=0, log_level="warning", lifespan="on",
                                timeout_graceful_shutdown=2)
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self.server.run, name="cloud-service", daemon=True)

    def __enter__(self) -> "ServiceThread":
        self._thread.start()
        wait_until(lambda: self.server.started or not self._thread.is_alive(), START_TIMEOUT_S, "the service to start")
        if not self.server.started:
            raise RuntimeError("the cloud service did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self._thread.join(STOP_TIMEOUT_S)

    @property
    def port(self) -> int:
        return self.server.servers[0].sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def enrol_code(self, team: str) -> str:
        return admin_enrol_code(self.app.state.make_db, team, self.settings)


class ServiceProcess:
    """`trackside-cloud serve` in a child process, so a test can kill it (-9) and start it again."""

    def __init__(self, data_dir: Path, database_url: str | None = None, port: int = 0, extra_env=None):
        self.data_dir, self.database_url, self._port = Path(data_dir), database_url, port
        self._extra_env = extra_env or {}
        self.process: subprocess.Popen | None = None
        self.port: int | None = None

    def start(self) -> "ServiceProcess":
        cmd = [sys.executable, "-m", "training.service.cli", "serve", "--data-dir", str(self.data_dir),
               "--port", str(self._port)]
        if self.database_url:
            cmd += ["--database-url", self.database_url]
        env = {**os.environ, "PYTHONPATH": os.getcwd(), **self._extra_env}
        self.process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
        line = self.process.stdout.readline()  # "serving http://127.0.0.1:PORT", or nothing if it died
        found = re.search(r"serving http://[\d.]+:(\d+)", line)
        if found is None:
            self.kill()
            raise RuntimeError(f"the cloud service did not start: {line!r}")
        self.port = self._port = int(found.group(1))
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def enrol_code(self, team: str) -> str:
        """`trackside-cloud teams create TEAM` (if new) and `enrol-code TEAM`, as an administrator would."""
        base = [sys.executable, "-m", "training.service.cli"]
        where = ["--data-dir", str(self.data_dir)] + (["--database-url", self.database_url] if self.database_url else [])
        subprocess.run(base + ["teams", "create", team] + where, capture_output=True, timeout=60)
        done = subprocess.run(base + ["enrol-code", team] + where, capture_output=True, text=True, timeout=60,
                              check=True)
        return done.stdout.strip()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
        if self.process is not None:
            self.process.wait(STOP_TIMEOUT_S)
            self.process.stdout.close()

    def __enter__(self) -> "ServiceProcess":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.kill()


def settings_for(data_dir: Path, database_url: str | None = None, **overrides) -> Settings:
    from dataclasses import replace

    return replace(load_settings(data_dir, database_url), **overrides)


def admin_enrol_code(make_db, team: str, settings: Settings) -> str:
    """What `trackside-cloud teams create` and `enrol-code` do: the team (made if new) and a fresh code."""
    with make_db.begin() as db:
        try:
            found = crud.team_by_name(db, team)
        except crud.NotFound:
            found = crud.create_team(db, team)
        return crud.new_enrol_code(db, found, settings.enrol_code_ttl_s)


@dataclass
class RecordedSession:
    session_id: str
    athletes: dict[str, int]  # channel -> athlete id


def record_session(store: Store, *, athletes: dict[str, bool], samples: int = 30, seed: int = 0) -> RecordedSession:
    """A finished session with one channel per athlete name (consent as given), heart rate, RR and a lap mark."""
    session_id = store.create_session(started_wall_utc=datetime.now(timezone.utc), started_mono_s=100.0,
                                      hr_specs=["sim:%d" % len(athletes)], camera_spec=None)
    ids = {}
    for i, (name, consent) in enumerate(athletes.items(), start=1):
        athlete = store.athlete_by_name(name) or store.add_athlete(
            name, 190, 50, consent=consent, consent_cloud=consent, consent_training=consent)
        channel = f"sim-{i}"
        store.add_channel(session_id, channel, name, athlete.id)
        ids[channel] = athlete.id
        events = [HeartRateSample(channel, 100.0 + k, 120 + (k * 7 + seed) % 40, (0.5 + 0.001 * k,))
                  for k in range(samples)]
        store.write_events(session_id, events)
    store.write_events(session_id, [Marker(110.0, "lap")])
    store.finish_session(session_id, ended_mono_s=100.0 + samples)
    return RecordedSession(session_id, ids)
