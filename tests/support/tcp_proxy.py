"""A TCP proxy on loopback that cuts connections where a test says: the network of a field, on demand.

Every byte from the laptop to the service counts against `cut_after_bytes`; when the budget runs
out mid-stream, both sides of that connection are closed at once (the rest of the request never
arrives, the answer never comes back). `cut_answers` cuts a connection as soon as the service
starts to answer, so a request is done on the server but its answer is lost.
"""

from __future__ import annotations

import socket
import threading

BUFFER_BYTES = 64 * 1024
ACCEPT_POLL_S = 0.1  # how often the accept loop looks whether it should stop


class TcpProxy:
    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1"):
        self.upstream = (upstream_host, upstream_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(ACCEPT_POLL_S)
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._budget: int | None = None  # bytes upstream still allowed before the next cut
        self.cut_answers = False
        self.cuts = 0
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._open: set[socket.socket] = set()
        self._acceptor = threading.Thread(target=self._accept_loop, name="tcp-proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cut_after_bytes(self, budget: int | None) -> None:
        """Cut the connection that carries byte number `budget` from now on (None: never cut)."""
        with self._lock:
            self._budget = budget

    def __enter__(self) -> "TcpProxy":
        self._acceptor.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._acceptor.join()
        with self._lock:
            for sock in list(self._open):
                _close(sock)
        for thread in self._threads:
            thread.join(5.0)
        self._listener.close()

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except socket.timeout:
                continue
            self._connect(client)

    def _connect(self, client: socket.socket) -> None:
        try:
            server = socket.create_connection(self.upstream, timeout=5.0)
        except OSError:
            _close(client)  # the service is down: the laptop sees a refused/closed connection
            return
        client.settimeout(None)
        server.settimeout(None)
        with self._lock:
            self._open |= {client, server}
            self._threads = [t for t in self._threads if t.is_alive()]
        pair = (client, server)
        for source, target, upstream in ((client, server, True), (server, client, False)):
            thread = threading.Thread(target=self._pump, args=(source, target, upstream, pair), daemon=True,
                                      name="tcp-proxy-pump")
            self._threads.append(thread)
            thread.start()

    def _pump(self, source: socket.socket, target: socket.socket, upstream: bool, pair) -> None:
        try:
            while data := source.recv(BUFFER_BYTES):
                data, cut = self._allow(data, upstream)
                if data:
                    target.sendall(data)
                if cut:
                    break
        except OSError:
            pass
        for sock in pair:
            _close(sock)
        with self._lock:
            self._open -= set(pair)

    def _allow(self, data: bytes, upstream: bool) -> tuple[bytes, bool]:
        with self._lock:
            if not upstream:
                if self.cut_answers:
                    self.cuts += 1
                    return b"", True
                return data, False
            if self._budget is None:
                return data, False
            if len(data) < self._budget:
                self._budget -= len(data)
                return data, False
            allowed, self._budget = data[:self._budget], None
            self.cuts += 1
            return allowed, True


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
