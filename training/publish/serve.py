"""Serve a repository folder over HTTP on loopback, on a thread: for tests, benches and `make run`.

The cloud service mounts the same folder in production; this is the smallest real server.

    with RepositoryServer(repo_dir) as server:
        server.url  # http://127.0.0.1:<port>/
"""

from __future__ import annotations

import functools
import logging
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

logger = logging.getLogger(__name__)


class QuietHandler(SimpleHTTPRequestHandler):
    """Static files from the repository folder; requests go to the debug log, not stderr."""

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the base class's name)
        logger.debug("%s " + format, self.address_string(), *args)


class RepositoryServer:
    """A ThreadingHTTPServer on 127.0.0.1 (a free port) serving `folder`, until closed."""

    def __init__(self, folder: Path, handler_class: type[SimpleHTTPRequestHandler] = QuietHandler,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        handler = functools.partial(handler_class, directory=str(Path(folder)))
        self._httpd = ThreadingHTTPServer((host, port), handler)
        self._httpd.daemon_threads = False
        self._httpd.block_on_close = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="repository-server", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/"

    def start(self) -> RepositoryServer:
        self._thread.start()
        return self

    def close(self) -> None:
        if self._thread.is_alive():
            self._httpd.shutdown()
            self._thread.join()
        self._httpd.server_close()  # joins the request threads (block_on_close)

    def __enter__(self) -> RepositoryServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()
