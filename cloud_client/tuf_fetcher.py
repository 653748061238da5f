"""TUF's downloads over `requests`, the laptop's HTTP library: explicit timeouts, TLS verified.

ngclient caps every download at the length signed metadata allows and verifies it afterwards;
this fetcher adds what belongs to the transport: a connect and a read timeout, certificate
verification always on, no redirects, and plain http only to this machine (loopback).
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterator
from urllib.parse import urlsplit

import requests
from tuf.api import exceptions
from tuf.ngclient.fetcher import FetcherInterface

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 20.0  # the longest silence between two chunks
CHUNK_BYTES = 64 * 1024
LOOPBACK_NAMES = ("localhost",)


class InsecureUrlError(ValueError):
    """An update URL that is neither https nor http on loopback."""


def check_update_url(url: str) -> str:
    """Return `url` if it is https, or http to this machine; else raise InsecureUrlError."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return url
    if parts.scheme == "http" and _is_loopback(parts.hostname or ""):
        return url
    raise InsecureUrlError(f"updates need https (plain http only to this machine), got {url!r}")


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class RequestsFetcher(FetcherInterface):
    """ngclient's FetcherInterface on a requests.Session."""

    def __init__(self, connect_timeout_s: float = CONNECT_TIMEOUT_S, read_timeout_s: float = READ_TIMEOUT_S,
                 user_agent: str = "trackside") -> None:
        self._timeout = (connect_timeout_s, read_timeout_s)
        self._session = requests.Session()
        self._session.verify = True
        self._session.trust_env = False  # no proxy or CA bundle taken from the environment
        self._session.headers["User-Agent"] = user_agent
        self._responses: list[requests.Response] = []  # closed by close(), even if a download was abandoned

    def close(self) -> None:
        """Hang up every response (a refused download may not have been read to its end)."""
        for response in self._responses:
            response.close()
        self._responses.clear()
        self._session.close()

    def _fetch(self, url: str) -> Iterator[bytes]:
        check_update_url(url)
        try:
            response = self._session.get(url, stream=True, timeout=self._timeout, allow_redirects=False)
        except requests.Timeout as exc:
            raise exceptions.SlowRetrievalError(f"{url}: no answer in {self._timeout[0]} s") from exc
        self._responses.append(response)
        if response.status_code != 200:
            response.close()
            raise exceptions.DownloadHTTPError(f"{url}: HTTP {response.status_code}", response.status_code)
        return self._chunks(response)

    def _chunks(self, response: requests.Response) -> Iterator[bytes]:
        try:
            yield from response.iter_content(CHUNK_BYTES)
        except requests.exceptions.ConnectionError as exc:  # a read timeout mid-body lands here
            raise exceptions.SlowRetrievalError(f"{response.url}: {exc}") from exc
        finally:
            response.close()
