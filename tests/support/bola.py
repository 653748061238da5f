"""Broken object-level authorisation, looked for: every endpoint, team A's token, team B's objects.

The walk reads the routes from the app itself, so an endpoint added later is walked too (and one
with a path parameter the walk does not know fails it). Each route with a path parameter is tried
with every id team B owns, of every kind; the answer must be 403 or 404. Lists must not show B's.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field

import requests

from cloud_client.protocol import API_PREFIX, CHUNK_CONTENT_TYPE, chunk_checksum

REQUEST_TIMEOUT_S = 10.0
ALLOWED = (403, 404)


@dataclass
class TeamObjects:
    """What one team owns, as its own device created it."""

    token: str
    device_id: str
    session_ids: list[str] = field(default_factory=list)
    sha256s: list[str] = field(default_factory=list)
    upload_ids: list[str] = field(default_factory=list)
    request_ids: list[str] = field(default_factory=list)
    athlete_refs: list[str] = field(default_factory=list)
    job_ids: list[str] = field(default_factory=list)
    team: str | None = None

    def every_id(self) -> list[str]:
        return [self.device_id, *self.session_ids, *self.upload_ids, *self.request_ids, *self.athlete_refs,
                *self.job_ids, *([self.team] if self.team else [])]


@dataclass(frozen=True)
class Check:
    method: str
    path: str
    status: int

    @property
    def leaked(self) -> bool:
        return self.status not in ALLOWED


def _walkable_routes(app) -> list[tuple[str, str]]:
    """(method, path) of every operation with a path parameter, as the app's OpenAPI schema lists them."""
    found = []
    for path, operations in app.openapi()["paths"].items():
        if path.startswith(API_PREFIX) and "{" in path:
            found += [(method.upper(), path) for method in operations]
    return found


def _request(method: str, path: str, object_id: str, victim: TeamObjects) -> dict:
    """Headers and body that would succeed for the victim's own device (so only the team check stops it)."""
    chunk = b"x" * 16
    if method == "PATCH":
        return {"data": chunk, "headers": {"Upload-Offset": "0", "Upload-Checksum": chunk_checksum(chunk),
                                           "Content-Type": CHUNK_CONTENT_TYPE}}
    if path.endswith("/commit"):
        upload_id = victim.upload_ids[0] if victim.upload_ids else object_id
        return {"json": {"upload_id": upload_id, "sha256": victim.sha256s[0] if victim.sha256s else "0" * 64}}
    if path.endswith("/retrain"):
        return {"params": {"kind": "hr", "small": "true"}}
    if method == "PUT" and path.endswith("/labels"):
        return {"json": {"version": 99, "labels": [{"start_mono_s": 1, "end_mono_s": 2, "label": "x"}]}}
    return {}


def walk(app, base_url: str, attacker_token: str, victim: TeamObjects) -> list[Check]:
    """Every (route, victim id) pair, tried with the attacker's token."""
    checks = []
    auth = {"Authorization": f"Bearer {attacker_token}"}
    with requests.Session() as http:
        for method, template in _walkable_routes(app):
            name = template[template.index("{") + 1:template.index("}")]
            for object_id in victim.every_id():
                path = template.replace("{" + name + "}", object_id)
                extra = _request(method, template, object_id, victim)
                headers = {**auth, **extra.pop("headers", {})}
                response = http.request(method, base_url + path, headers=headers, timeout=REQUEST_TIMEOUT_S, **extra)
                checks.append(Check(method, path, response.status_code))
        checks += _body_references(http, base_url, auth, victim)
        checks += _lists(http, base_url, auth, victim)
    return checks


def _body_references(http, base_url: str, auth: dict, victim: TeamObjects) -> list[Check]:
    """Objects named in a body, not a path: the victim's deletion request id, its upload id in a commit."""
    checks = []
    for request_id in victim.request_ids:
        body = {"request_id": request_id, "athlete_ref": victim.athlete_refs[0] if victim.athlete_refs
                else str(uuid.uuid4())}
        response = http.post(base_url + API_PREFIX + "/deletions", json=body, headers=auth, timeout=REQUEST_TIMEOUT_S)
        checks.append(Check("POST", "/deletions(request_id)", response.status_code))
    for upload_id, sha256 in zip(victim.upload_ids, victim.sha256s):
        own_session = str(uuid.uuid4())
        response = http.post(base_url + API_PREFIX + f"/sessions/{own_session}/commit", headers=auth,
                             json={"upload_id": upload_id, "sha256": sha256}, timeout=REQUEST_TIMEOUT_S)
        checks.append(Check("POST", "/sessions/{own}/commit(upload_id)", response.status_code))
    return checks


def _lists(http, base_url: str, auth: dict, victim: TeamObjects) -> list[Check]:
    """A list of the attacker's own team that shows a victim's object counts as a leak (status 200)."""
    checks = []
    for path, key, owned in (("/sessions", "session_id", victim.session_ids), ("/devices", "device_id",
                                                                                [victim.device_id])):
        listed = {item[key] for item in http.get(base_url + API_PREFIX + path, headers=auth,
                                                 timeout=REQUEST_TIMEOUT_S).json()}
        checks.append(Check("GET", path, 200 if listed & set(owned) else 404))
    return checks


def fake_sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def populate(client, token: str, device_id: str, bundles: list[tuple[str, object]], athlete_ref_to_erase: str,
             open_upload: tuple[str, int, str]) -> TeamObjects:
    """Give a team committed sessions (with labels), an open upload and a confirmed deletion.

    `bundles` is [(session_id, BuiltBundle)]; `open_upload` is (session_id, length, sha256) of an
    upload left half-way.
    """
    owned = TeamObjects(token=token, device_id=device_id)
    for session_id, built in bundles:
        client.upload_bundle(session_id, built.path, built.sha256)
        client.put_labels(session_id, 1, [{"start_mono_s": 1.0, "end_mono_s": 2.0, "label": "sprint"}])
        owned.session_ids.append(session_id)
        owned.sha256s.append(built.sha256)
        owned.athlete_refs += list(built.athlete_refs)
    session_id, length, sha256 = open_upload
    upload_id = client.create_upload(session_id, length, sha256)["upload_id"]
    client.send_chunk(upload_id, 0, b"y" * min(length, 10))
    owned.upload_ids.append(upload_id)
    request_id = str(uuid.uuid4())
    client.request_deletion(request_id, athlete_ref_to_erase)
    owned.request_ids.append(request_id)
    return owned
