"""The laptop's one way to the team's cloud service (requests), and everything that can go wrong on it.

Exceptions (catch `CloudError` for all of them):

    CloudError
    ├── InsecureServerAddress   an http:// address that is not loopback, or http without allow_http
    ├── CloudUnreachable        no answer: connection refused or cut, DNS, a timeout (try again later)
    │   └── UntrustedServer     the server's TLS certificate is not trusted (never retried silently)
    ├── ServerFailed            a 5xx: the service failed (try again later)
    ├── Refused                 a 4xx the service chose; `.status` and `.code` say which
    │   ├── NotEnrolled         401/403: no token, an unknown one, or a revoked one
    │   ├── SessionConflict     the cloud holds this session with other content (422 session_conflict)
    │   └── BundleRefused       413/422 for the bundle itself: too large or malformed (a 422
    │                           'upload_corrupt', bytes lost on the server, is a plain Refused: send again)
    └── HashMismatch            the service's answer names another hash than the one sent

Every request has an explicit (connect, read) timeout; TLS verification is always on (a CA file
may be given for a private service, never `verify=False`); plain http only to a loopback address
and only when the caller asked for it with `allow_http=True`.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

import requests

from cloud_client.protocol import (API_PREFIX, CHUNK_CONTENT_TYPE, DEFAULT_CHUNK_BYTES, HEADER_CHECKSUM, LARGEST_CHUNK_BYTES,
                                   HEADER_OFFSET, HEADER_TUS, STATUS_CHECKSUM_MISMATCH, TUS_VERSION, chunk_checksum)

logger = logging.getLogger(__name__)

MAX_STALLED_CHUNKS = 3  # chunks in a row the server refused to take (checksum, offset); then give up this try


class CloudError(Exception):
    """Anything that kept a request to the cloud service from doing what was asked."""


class InsecureServerAddress(CloudError, ValueError):
    """The address would send the token in the clear (http:// to another machine)."""


class CloudUnreachable(CloudError):
    """No answer came: the network, the server being down, or a timeout. Trying later may work."""


class UntrustedServer(CloudUnreachable):
    """The server's TLS certificate could not be verified: it may not be the team's service."""


class ServerFailed(CloudError):
    """The service answered with a 5xx. Trying later may work."""


class Refused(CloudError):
    """The service refused the request (4xx); `status` and `code` (e.g. 'offset_mismatch') say why."""

    def __init__(self, message: str, status: int, code: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.headers = status, code, headers or {}


class NotEnrolled(Refused):
    """The service does not accept this laptop's token (never enrolled, or revoked)."""


class SessionConflict(Refused):
    """The cloud holds this session with other content."""


class BundleRefused(Refused):
    """The bundle itself was refused: too large (413) or not a valid bundle (422)."""


class HashMismatch(CloudError):
    """The service's answer names a different hash than the bundle the laptop sent."""


@dataclass(frozen=True)
class Timeouts:
    connect_s: float = 5.0  # a reachable service accepts a connection within this
    read_s: float = 60.0  # the longest answer: committing a 2 GB bundle checks its hash (~30 s here)

    def pair(self) -> tuple[float, float]:
        return (self.connect_s, self.read_s)


def check_server_address(url: str, *, allow_http: bool = False) -> str:
    """The base URL without a trailing slash; InsecureServerAddress when it would leak the token."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InsecureServerAddress(f"{url!r} is not an https:// address of a server")
    if parts.scheme == "http":
        if not _is_loopback(parts.hostname):
            raise InsecureServerAddress(f"{url}: plain http is allowed only to this computer (loopback); "
                                        "use https://")
        if not allow_http:
            raise InsecureServerAddress(f"{url}: plain http must be asked for explicitly (--allow-http)")
    return url.strip().rstrip("/")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class CloudClient:
    """One enrolled laptop talking to one service. Thread-safe only if each thread has its own."""

    def __init__(self, base_url: str, token: str | None = None, *, allow_http: bool = False,
                 timeouts: Timeouts = Timeouts(), ca_file: Path | None = None,
                 session: requests.Session | None = None):
        self.base_url = check_server_address(base_url, allow_http=allow_http)
        self._token = token
        self._timeouts = timeouts
        self._verify: str | bool = str(ca_file) if ca_file is not None else True
        self._http = session or requests.Session()
        self._http.trust_env = False  # no proxy or CA bundle from the environment changes where tokens go

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "CloudClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the one I/O seam ---------------------------------------------------------------------

    def _request(self, method: str, path: str, *, json: object = None, data: bytes | None = None,
                 headers: dict[str, str] | None = None, ok: tuple[int, ...] = (200,)) -> requests.Response:
        all_headers = {HEADER_TUS: TUS_VERSION, **(headers or {})}
        if self._token is not None:
            all_headers["Authorization"] = f"Bearer {self._token}"
        try:
            response = self._http.request(method, self.base_url + API_PREFIX + path, json=json, data=data,
                                          headers=all_headers, timeout=self._timeouts.pair(), verify=self._verify,
                                          allow_redirects=False)
        except requests.exceptions.SSLError as exc:
            raise UntrustedServer(f"{self.base_url}: its TLS certificate is not trusted ({_reason(exc)})") from None
        except requests.exceptions.RequestException as exc:
            raise CloudUnreachable(f"{self.base_url} did not answer ({type(exc).__name__}): check the address "
                                   "and the network") from None
        if response.status_code not in ok:
            raise _refusal(response)
        return response

    # -- enrolment ----------------------------------------------------------------------------

    def enrol(self, code: str, device_name: str) -> dict:
        """Spend a one-time code: {device_id, team, token}. The token is shown only this once."""
        return self._request("POST", "/enrol", json={"code": code, "device_name": device_name}).json()

    # -- upload (tus semantics) -----------------------------------------------------------------

    def create_upload(self, session_id: str, length: int, sha256: str) -> dict:
        body = {"session_id": session_id, "length": length, "sha256": sha256}
        return self._request("POST", "/uploads", json=body, ok=(200, 201)).json()

    def upload_offset(self, upload_id: str) -> int:
        response = self._request("HEAD", f"/uploads/{upload_id}")
        return int(response.headers[HEADER_OFFSET])

    def send_chunk(self, upload_id: str, offset: int, chunk: bytes, checksum: str | None = None) -> int:
        """Send bytes at `offset` (with their Upload-Checksum, computed here unless given); the server's new offset."""
        headers = {HEADER_OFFSET: str(offset), HEADER_CHECKSUM: checksum or chunk_checksum(chunk),
                   "Content-Type": CHUNK_CONTENT_TYPE}
        response = self._request("PATCH", f"/uploads/{upload_id}", data=chunk, headers=headers, ok=(204,))
        return int(response.headers[HEADER_OFFSET])

    def commit(self, session_id: str, upload_id: str, sha256: str) -> dict:
        body = {"upload_id": upload_id, "sha256": sha256}
        answer = self._request("POST", f"/sessions/{session_id}/commit", json=body,
                               headers={"Idempotency-Key": f"{session_id}:{sha256}"}).json()
        return _same_hash(answer, sha256)

    def upload_bundle(self, session_id: str, path: Path, sha256: str, *, chunk_bytes: int = DEFAULT_CHUNK_BYTES,
                      largest_chunk_bytes: int = LARGEST_CHUNK_BYTES,
                      progress: Callable[[int, int], None] | None = None) -> dict:
        """Send a bundle from wherever the server has it up to, then commit; the answer names `sha256`.

        Each call resumes: the server says how much it holds (a replayed create finds the same
        upload), and only the rest is sent. Chunks start at `chunk_bytes` and double after each one
        taken, up to `largest_chunk_bytes`. A cut connection raises CloudUnreachable; call again.
        """
        length = Path(path).stat().st_size
        created = self.create_upload(session_id, length, sha256)
        if created.get("committed"):
            return _same_hash(created["committed"], sha256)
        upload_id = created["upload_id"]
        offset, stalls = self.upload_offset(upload_id), 0
        with _ChunkReader(path) as reader:
            while offset < length:
                chunk, checksum = reader.get(offset, chunk_bytes)
                grown = min(2 * chunk_bytes, max(chunk_bytes, largest_chunk_bytes))
                reader.read_ahead(offset + len(chunk), grown)  # while this chunk is on the wire
                sent_from, offset = offset, self._send_or_resync(upload_id, offset, chunk, checksum)
                stalls = stalls + 1 if offset <= sent_from else 0
                if stalls > MAX_STALLED_CHUNKS:
                    raise CloudUnreachable(f"upload {upload_id} makes no progress at byte {offset}")
                chunk_bytes = chunk_bytes if stalls else grown
                if progress is not None:
                    progress(offset, length)
        return self.commit(session_id, upload_id, sha256)

    def _send_or_resync(self, upload_id: str, offset: int, chunk: bytes, checksum: str | None = None) -> int:
        """The server's offset after sending `chunk`; on 409 or a checksum refusal, the server's offset."""
        try:
            return self.send_chunk(upload_id, offset, chunk, checksum)
        except Refused as exc:
            if exc.status not in (409, STATUS_CHECKSUM_MISMATCH) or HEADER_OFFSET not in exc.headers:
                raise
            logger.info("upload %s: the server is at %s, not %d; going on from there", upload_id,
                        exc.headers[HEADER_OFFSET], offset)
            return int(exc.headers[HEADER_OFFSET])

    # -- after the session: labels and deletion ----------------------------------------------------

    def put_labels(self, session_id: str, version: int, labels: list[dict]) -> dict:
        return self._request("PUT", f"/sessions/{session_id}/labels",
                             json={"version": version, "labels": labels}).json()

    def request_deletion(self, request_id: str, athlete_ref: str) -> dict:
        return self._request("POST", "/deletions", json={"request_id": request_id, "athlete_ref": athlete_ref}).json()

    def sessions(self) -> list[dict]:
        return self._request("GET", "/sessions").json()

    def session(self, session_id: str) -> dict:
        return self._request("GET", f"/sessions/{session_id}").json()

    def health(self) -> dict:
        return self._request("GET", "/health").json()


class _ChunkReader:
    """Reads and checksums the next chunk on a helper thread while the current one is on the wire."""

    def __init__(self, path: Path):
        self._file = Path(path).open("rb")
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chunk-reader")
        self._ahead: tuple[int, int, Future] | None = None

    def _read(self, offset: int, size: int) -> tuple[bytes, str]:
        self._file.seek(offset)  # only the helper thread touches the file
        chunk = self._file.read(size)
        return chunk, chunk_checksum(chunk)

    def get(self, offset: int, size: int) -> tuple[bytes, str]:
        ahead, self._ahead = self._ahead, None
        if ahead is not None and ahead[:2] == (offset, size):
            return ahead[2].result()
        return self._pool.submit(self._read, offset, size).result()

    def read_ahead(self, offset: int, size: int) -> None:
        self._ahead = (offset, size, self._pool.submit(self._read, offset, size))

    def __enter__(self) -> "_ChunkReader":
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True)
        self._file.close()


def file_sha256(path: Path, block_bytes: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as source:
        while block := source.read(block_bytes):
            digest.update(block)
    return digest.hexdigest()


def _same_hash(answer: dict, sha256: str) -> dict:
    if answer.get("sha256") != sha256:
        raise HashMismatch(f"the cloud answered with sha256 {answer.get('sha256')!r}, not the {sha256} sent")
    return answer


def _refusal(response: requests.Response) -> CloudError:
    try:
        body = response.json()
        code, detail = str(body.get("error", "")), str(body.get("detail", ""))
    except ValueError:
        code, detail = "", ""
    status = response.status_code
    message = f"the cloud service answered {status}: {detail or response.reason}"
    if status >= 500:
        return ServerFailed(message)
    kind = Refused
    if status in (401, 403):
        kind = NotEnrolled
    elif code == "session_conflict":
        kind = SessionConflict
    elif status == 413 or code == "bad_bundle":
        kind = BundleRefused
    return kind(message, status, code, response.headers)


def _reason(exc: Exception) -> str:
    text = str(exc)
    return "certificate verify failed" if "CERTIFICATE_VERIFY_FAILED" in text else type(exc).__name__
