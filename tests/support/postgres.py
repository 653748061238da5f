"""A real PostgreSQL for tests: Debian's server binaries, a cluster in a temp folder, as an unprivileged user.

`initdb` and `pg_ctl` refuse to run as root and Debian keeps them in /usr/lib/postgresql/<v>/bin,
not on PATH: they are found there and run as `nobody` (when the tests run as root) in a folder
that user owns. The cluster listens on loopback only, on a free port, with trust authentication
for local connections (nothing outside this machine can reach it).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg
import pytest

UNPRIVILEGED_USER = "nobody"
START_TIMEOUT_S = 60


class PostgresUnavailable(RuntimeError):
    pass


def server_bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise PostgresUnavailable("PostgreSQL server binaries not found (apt-get install postgresql)")
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresCluster:
    """initdb + pg_ctl start on enter, pg_ctl stop and the folder removed on exit."""

    def __init__(self) -> None:
        self.bin = server_bin_dir()
        self.port = _free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="trackside-pg-"))
        self.data = self.folder / "data"
        self._as_root = os.geteuid() == 0

    def _run(self, *args: str) -> None:
        cmd = [str(a) for a in args]
        if self._as_root:
            cmd = ["runuser", "-u", UNPRIVILEGED_USER, "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=START_TIMEOUT_S)
        if done.returncode != 0:
            raise PostgresUnavailable(f"{args[0]} failed: {done.stderr.strip()[-500:]}")

    def __enter__(self) -> "PostgresCluster":
        if self._as_root:
            shutil.chown(self.folder, UNPRIVILEGED_USER)
        self._run(self.bin / "initdb", "-D", self.data, "-U", "trackside", "--auth=trust", "-E", "UTF8", "--no-sync")
        options = f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.folder} " \
                  "-c fsync=off -c max_connections=200"
        self._run(self.bin / "pg_ctl", "-D", self.data, "-o", options, "-l", self.folder / "log", "-w",
                  "-t", str(START_TIMEOUT_S), "start")
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._run(self.bin / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def admin_url(self, database: str = "postgres") -> str:
        return f"postgresql://trackside@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh empty database; its SQLAlchemy URL (psycopg 3)."""
        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.admin_url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.admin_url(name)


@contextlib.contextmanager
def running_cluster():
    """A PostgreSQL cluster for a test fixture; one that cannot start fails the tests that need it
    (`make test` installs Debian's postgresql: a machine without it must not pass by skipping)."""
    try:
        with PostgresCluster() as cluster:
            yield cluster
    except PostgresUnavailable as exc:
        pytest.fail(f"PostgreSQL could not start: {exc} (`make test` installs it)", pytrace=False)
