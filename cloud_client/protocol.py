"""What the laptop and the cloud service say to each other: paths, headers, limits and the bundle format.

Shared by `cloud_client` (the laptop) and `training.service` (the cloud), so the two cannot drift.
Plain Python: no pydantic, so the laptop install needs nothing more than `requests`.

Upload (the semantics of the tus protocol, https://tus.io/protocols/resumable-upload):
  POST  /v1/uploads                {session_id, length, sha256}  -> 201 {upload_id, offset}
  HEAD  /v1/uploads/{id}           -> Upload-Offset, Upload-Length headers
  PATCH /v1/uploads/{id}           Upload-Offset + Upload-Checksum ("crc32 <base64>" or sha256), the bytes
                                   -> 204, the new Upload-Offset; 409 when the offset is not the
                                   server's; 460 when the checksum does not match (offset unmoved)
  POST  /v1/sessions/{id}/commit   {upload_id, sha256} -> the session's answer, naming its sha256
Commit is idempotent like the IETF Idempotency-Key draft: the same session with the same hash gives
the same answer; with another hash a 422; while a commit of it is running a 409.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import zlib
from dataclasses import asdict, dataclass, field
from typing import Any

API_PREFIX = "/v1"
TUS_VERSION = "1.0.0"

HEADER_TUS = "Tus-Resumable"
HEADER_OFFSET = "Upload-Offset"
HEADER_LENGTH = "Upload-Length"
HEADER_CHECKSUM = "Upload-Checksum"
HEADER_CHECKSUM_ALGORITHMS = "Tus-Checksum-Algorithm"
HEADER_IDEMPOTENCY_KEY = "Idempotency-Key"
CHUNK_CONTENT_TYPE = "application/offset+octet-stream"

STATUS_CHECKSUM_MISMATCH = 460  # tus checksum extension: the chunk was refused, the offset did not move

DEFAULT_MAX_UPLOAD_BYTES = 2 * 1024**3  # a session with an hour of MJPG video stays under this
# A PATCH starts at DEFAULT_CHUNK_BYTES and doubles after each chunk taken, up to LARGEST_CHUNK_BYTES:
# a flaky link resends at most a few MB after a cut, a good one pays the per-request cost rarely.
DEFAULT_CHUNK_BYTES = 4 * 1024**2
LARGEST_CHUNK_BYTES = 32 * 1024**2
MAX_CHUNK_BYTES = 64 * 1024**2  # the server refuses a bigger PATCH body (413)
MAX_MANIFEST_BYTES = 64 * 1024**2  # session.json and each athlete part, uncompressed

BUNDLE_FORMAT = "trackside-session-bundle"
BUNDLE_FORMAT_VERSION = 1
MANIFEST_NAME = "session.json"

_SHA256 = re.compile(r"[0-9a-f]{64}")
_SESSION_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_PART_NAME = re.compile(r"(athletes/[0-9a-f-]{36}\.json|video/[A-Za-z0-9_.-]{1,80})")


class ProtocolError(ValueError):
    """A message or a bundle that does not follow this protocol; the text says which field."""


def is_sha256(value: object) -> bool:
    return isinstance(value, str) and _SHA256.fullmatch(value) is not None


def is_session_id(value: object) -> bool:
    return isinstance(value, str) and _SESSION_ID.fullmatch(value) is not None


def _crc32(chunk: bytes) -> bytes:
    return zlib.crc32(chunk).to_bytes(4, "big")


def _sha256(chunk: bytes) -> bytes:
    return hashlib.sha256(chunk).digest()


# The tus checksum extension's algorithms this protocol knows. A chunk's checksum only has to catch
# bytes damaged or mixed up on the way (TLS and the bundle's sha256, checked at commit, do the
# rest), so the laptop sends CRC-32: a tenth of SHA-256's time, which left 200 MB uploads 2x slower.
CHECKSUM_ALGORITHMS = {"crc32": _crc32, "sha256": _sha256}
DEFAULT_CHECKSUM_ALGORITHM = "crc32"


def chunk_checksum(chunk: bytes, algorithm: str = DEFAULT_CHECKSUM_ALGORITHM) -> str:
    """The Upload-Checksum header value for a chunk: algorithm, space, base64 digest."""
    return f"{algorithm} " + base64.b64encode(CHECKSUM_ALGORITHMS[algorithm](chunk)).decode("ascii")


def checksum_matches(header: str | None, chunk: bytes, crc32: int | None = None) -> bool:
    """Whether `chunk` has the Upload-Checksum `header`; `crc32`, if the caller already computed it."""
    algorithm = (header or "").strip().partition(" ")[0]
    if algorithm == "crc32" and crc32 is not None:
        return header.strip() == "crc32 " + base64.b64encode(crc32.to_bytes(4, "big")).decode("ascii")
    return algorithm in CHECKSUM_ALGORITHMS and header.strip() == chunk_checksum(chunk, algorithm)


# -- messages -------------------------------------------------------------------------------

@dataclass(frozen=True)
class UploadCreate:
    session_id: str
    length: int
    sha256: str

    def check(self, max_bytes: int) -> None:
        """ProtocolError for a malformed request; the size cap is the caller's (413, not 422)."""
        _require(is_session_id(self.session_id), "session_id must be a lower-case UUID")
        _require(isinstance(self.length, int) and self.length > 0, "length must be a positive whole number")
        _require(is_sha256(self.sha256), "sha256 must be 64 lower-case hex digits")


@dataclass(frozen=True)
class SessionAnswer:
    """The service's word that a session is in the cloud: the laptop checks `sha256` against its own."""

    session_id: str
    sha256: str
    committed_utc: str
    athletes: int
    video_parts: int


@dataclass(frozen=True)
class LabelRecord:
    """The coach's labels of a synced session, as one small versioned record (replaced by a higher version)."""

    session_id: str
    version: int
    labels: list[dict[str, Any]] = field(default_factory=list)

    def sha256(self) -> str:
        return hashlib.sha256(canonical_json({"version": self.version, "labels": self.labels})).hexdigest()


@dataclass(frozen=True)
class DeletionRequest:
    """Erase one athlete's data from the team's cloud: database rows, blobs, future training sets."""

    request_id: str
    athlete_ref: str


def to_json(message: object) -> dict[str, Any]:
    return asdict(message)


def canonical_json(value: object) -> bytes:
    """The one byte form of a JSON value: sorted keys, no spaces; the same input, the same bytes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False).encode("utf-8")


# -- the session bundle ---------------------------------------------------------------------
# A zip with fixed timestamps: session.json (the manifest), athletes/<ref>.json (one part per
# athlete who allows the cloud) and video/<segment> (only where every athlete on it allows it).

_SESSION_KEYS = {"id": str, "started_wall_utc": str, "started_mono_s": (int, float), "status": str}
_ATHLETE_KEYS = {"ref": str, "channel": str, "display_name": str, "part": str, "sha256": str}
_VIDEO_KEYS = {"part": str, "sha256": str, "bytes": int, "start_mono_s": (int, float),
               "end_mono_s": (int, float), "frame_count": int, "fps": (int, float), "codec": str}
_LABEL_KEYS = {"start_mono_s": (int, float), "end_mono_s": (int, float), "label": str}
_MARK_KEYS = {"t_mono_s": (int, float), "kind": str}
_PART_KEYS = {"channel": str, "samples": dict, "rr": dict, "gaps": list, "feedback": list}


def check_manifest(manifest: object, session_id: str) -> dict[str, Any]:
    """The manifest if it is one of `session_id`; ProtocolError naming the first thing wrong."""
    _require(isinstance(manifest, dict), "session.json must be a JSON object")
    _require(manifest.get("format") == BUNDLE_FORMAT, f"format must be {BUNDLE_FORMAT!r}")
    _require(manifest.get("format_version") == BUNDLE_FORMAT_VERSION,
             f"format_version must be {BUNDLE_FORMAT_VERSION}")
    _check_fields(manifest.get("session"), _SESSION_KEYS, "session")
    _require(manifest["session"]["id"] == session_id, "the bundle is of another session")
    for name, keys in (("athletes", _ATHLETE_KEYS), ("video", _VIDEO_KEYS), ("labels", _LABEL_KEYS),
                       ("marks", _MARK_KEYS)):
        items = manifest.get(name)
        _require(isinstance(items, list), f"{name} must be a list")
        for i, item in enumerate(items):
            _check_fields(item, keys, f"{name}[{i}]")
    for i, athlete in enumerate(manifest["athletes"]):  # each athlete's own answer: may the cloud train on it
        _require(isinstance(athlete.get("training"), bool), f"athletes[{i}].training is missing or not true/false")
    _check_parts(manifest)
    return manifest


def check_labels(labels: object) -> list[dict[str, Any]]:
    _require(isinstance(labels, list), "labels must be a list")
    for i, item in enumerate(labels):
        _check_fields(item, _LABEL_KEYS, f"labels[{i}]")
        _require(item["end_mono_s"] > item["start_mono_s"], f"labels[{i}] must end after it starts")
    return labels


def check_athlete_part(part: object) -> dict[str, Any]:
    _check_fields(part, _PART_KEYS, "athlete part")
    for column in ("t_mono_s", "hr_bpm"):
        _require(isinstance(part["samples"].get(column), list), f"samples.{column} must be a list")
    _require(len(part["samples"]["t_mono_s"]) == len(part["samples"]["hr_bpm"]),
             "samples.t_mono_s and samples.hr_bpm differ in length")
    return part


def _check_parts(manifest: dict[str, Any]) -> None:
    parts = [a["part"] for a in manifest["athletes"]] + [v["part"] for v in manifest["video"]]
    _require(len(set(parts)) == len(parts), "a part is named twice")
    refs = [a["ref"] for a in manifest["athletes"]]
    _require(len(set(refs)) == len(refs), "an athlete is listed twice")
    for entry in manifest["athletes"] + manifest["video"]:
        _require(_PART_NAME.fullmatch(entry["part"]) is not None, f"bad part name {entry['part']!r}")
        _require(is_sha256(entry["sha256"]), f"{entry['part']}: sha256 must be 64 lower-case hex digits")
    for athlete in manifest["athletes"]:
        _require(athlete["part"] == f"athletes/{athlete['ref']}.json", "an athlete part is misnamed")


def _check_fields(item: object, keys: dict[str, type | tuple], where: str) -> None:
    _require(isinstance(item, dict), f"{where} must be a JSON object")
    for key, kind in keys.items():
        value = item.get(key)
        ok = isinstance(value, kind) and not isinstance(value, bool)
        _require(ok, f"{where}.{key} is missing or not a {getattr(kind, '__name__', 'number')}")


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ProtocolError(message)
