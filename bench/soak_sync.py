"""Soak of the cloud sync: cut connections, a killed service, other teams' tokens, bad uploads.

Prints (through bench.soak):
    soak.sync_cuts / soak.sync_lost / soak.sync_duplicates     connections cut mid-sync (SQLite service,
                                                               killed -9 and restarted every 10th pass);
                                                               sessions lost and sessions/parts doubled (0, 0)
    soak.sync_pg_cuts / _lost / _duplicates                    the same on PostgreSQL
    soak.bola_checks / soak.bola_leaks                         (endpoint, other team's object) pairs tried; leaks (0)
    soak.bad_uploads / soak.bad_upload_5xx                     malformed, oversized, wrong-hash, wrong-offset
                                                               and replayed requests; answers 5xx (0)
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import tempfile
import uuid
import zipfile
from pathlib import Path

import requests

from cloud_client.protocol import CHUNK_CONTENT_TYPE, MAX_CHUNK_BYTES, chunk_checksum
from tests.support.bola import fake_sha256, populate, walk
from tests.support.cloud import ServiceProcess, ServiceThread, settings_for
from tests.support.sync_faults import SyncFaultRig

logger = logging.getLogger(__name__)

CUTS = 100  # connections cut per database
KILL_EVERY = 10  # every 10th cut pass also kills the service and starts it again
SOAK_LEASE_ENV = {"TRACKSIDE_CLOUD_COMMIT_LEASE_S": "2"}  # a killed commit is taken over quickly
REQUEST_TIMEOUT_S = 30.0


def run_sync_soak(cuts: int = CUTS) -> dict[str, float]:
    for name in ("desktop.sync", "cloud_client"):  # every cut is a retry warning: expected here, not news
        logging.getLogger(name).setLevel(logging.ERROR)
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="trackside-sync-soak-") as tmp:
        figures.update(_cut_soak(Path(tmp) / "sqlite", None, cuts, "soak.sync"))
        figures.update(_postgres_cut_soak(Path(tmp) / "pg", cuts))
        with ServiceThread(settings_for(Path(tmp) / "attacks", max_upload_bytes=8 * 1024**2)) as service:
            figures.update(_bola_soak(service, Path(tmp) / "bola"))
            figures.update(_bad_upload_soak(service, Path(tmp) / "bad"))
    return figures


def sync_sound(figures: dict[str, float]) -> bool:
    return (figures["soak.sync_cuts"] >= CUTS and figures["soak.sync_pg_cuts"] >= CUTS
            and figures["soak.bola_checks"] >= 50 and all(
                figures[name] == 0 for name in ("soak.sync_lost", "soak.sync_duplicates", "soak.sync_pg_lost",
                                                "soak.sync_pg_duplicates", "soak.bola_leaks", "soak.bad_upload_5xx")))


def _cut_soak(folder: Path, database_url: str | None, cuts: int, prefix: str) -> dict[str, float]:
    service = ServiceProcess(folder / "cloud", database_url, extra_env=SOAK_LEASE_ENV).start()

    def kill_and_restart() -> None:
        service.kill()
        service.start()

    try:
        with SyncFaultRig(folder / "laptop", service, seed=len(prefix)) as rig:
            rig.run_cuts(cuts, kill=kill_and_restart, kill_every=KILL_EVERY)
            rig.finish()
            result = rig.count_damage()
    finally:
        service.kill()
    return {f"{prefix}_cuts": result.cuts, f"{prefix}_lost": result.lost, f"{prefix}_duplicates": result.duplicates,
            f"{prefix}_sessions": result.sessions, f"{prefix}_kills": result.kills}


def _postgres_cut_soak(folder: Path, cuts: int) -> dict[str, float]:
    from tests.support.postgres import PostgresCluster

    with PostgresCluster() as cluster:
        return _cut_soak(folder, cluster.new_database(), cuts, "soak.sync_pg")


# -- other teams' tokens --------------------------------------------------------------------------

def _enrolled(service, team: str):
    from cloud_client.client import CloudClient

    with CloudClient(service.url, allow_http=True) as anonymous:
        answer = anonymous.enrol(service.enrol_code(team), f"{team} soak laptop")
    return CloudClient(service.url, answer["token"], allow_http=True), answer


def _bundles(folder: Path, count: int):
    import random

    from desktop.store import Store
    from desktop.sync.bundle import build_bundle
    from tests.support.sync_faults import record_with_video

    made = []
    with Store.open(folder) as store:
        for i in range(count):
            session_id = record_with_video(store, random.Random(i), names=(f"A{i}", f"B{i}"))
            made.append((session_id, build_bundle(store, session_id)))
    return made


def _bola_soak(service, folder: Path) -> dict[str, float]:
    attacker, attacker_answer = _enrolled(service, "Lions")
    victim_client, victim_answer = _enrolled(service, "Tigers")
    with attacker, victim_client:
        bundles = _bundles(folder, 3)
        victim = populate(victim_client, victim_answer["token"], victim_answer["device_id"], bundles,
                          athlete_ref_to_erase=bundles[-1][1].athlete_refs[0],
                          open_upload=(str(uuid.uuid4()), 1000, fake_sha256("open")))
        checks = walk(service.app, service.url, attacker_answer["token"], victim)
    leaks = [c for c in checks if c.leaked]
    for leak in leaks:
        logger.error("BOLA leak: %s %s answered %d", leak.method, leak.path, leak.status)
    return {"soak.bola_checks": len(checks), "soak.bola_leaks": len(leaks)}


# -- bad uploads ------------------------------------------------------------------------------------

def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as bundle:
        for name, data in members.items():
            bundle.writestr(name, data)
    return out.getvalue()


_MANIFEST_HEAD = {"format": "trackside-session-bundle", "format_version": 1}
MALFORMED_BUNDLES = {
    "not-zip": b"\x00" * 300,
    "empty-zip": _zip({}),
    "bad-json": _zip({"session.json": b"{"}),
    "json-list": _zip({"session.json": b"[]"}),
    "no-session": _zip({"session.json": json.dumps(_MANIFEST_HEAD).encode()}),
    "traversal": _zip({"session.json": b"{}", "../../etc/passwd": b"x"}),
    "wrong-version": _zip({"session.json": json.dumps({**_MANIFEST_HEAD, "format_version": 99}).encode()}),
    "truncated-zip": _zip({"session.json": b"{}" * 100})[:-30],
}


class _BadUploads:
    """Sends bad requests of every kind the issue names and counts the 5xx answers."""

    def __init__(self, service, token: str):
        self.url = service.url + "/v1"
        self.auth = {"Authorization": f"Bearer {token}"}
        self.cap = service.settings.max_upload_bytes
        self.http = requests.Session()
        self.sent = 0
        self.failures_5xx = 0

    def send(self, method: str, path: str, **kw) -> requests.Response:
        headers = {**self.auth, **kw.pop("headers", {})}
        response = self.http.request(method, self.url + path, headers=headers, timeout=REQUEST_TIMEOUT_S, **kw)
        self.sent += 1
        if response.status_code >= 500:
            self.failures_5xx += 1
            logger.error("%s %s answered %d", method, path, response.status_code)
        return response

    def create(self, session_id: str, payload: bytes, sha256: str | None = None) -> str:
        body = {"session_id": session_id, "length": len(payload), "sha256": sha256 or hashlib.sha256(payload).hexdigest()}
        return self.send("POST", "/uploads", json=body).json().get("upload_id")

    def chunk(self, upload_id: str, offset: int, data: bytes, checksum: str | None = None):
        headers = {"Upload-Offset": str(offset), "Upload-Checksum": checksum or chunk_checksum(data),
                   "Content-Type": CHUNK_CONTENT_TYPE}
        return self.send("PATCH", f"/uploads/{upload_id}", data=data, headers=headers)

    def commit(self, session_id: str, upload_id: str, sha256: str):
        return self.send("POST", f"/sessions/{session_id}/commit", json={"upload_id": upload_id, "sha256": sha256})


def _bad_upload_soak(service, folder: Path) -> dict[str, float]:
    client, answer = _enrolled(service, "Lions")
    client.close()
    bad = _BadUploads(service, answer["token"])
    _malformed(bad)
    _oversized(bad)
    _wrong_hashes_offsets_and_replays(bad, _bundles(folder, 1)[0])
    bad.http.close()
    return {"soak.bad_uploads": bad.sent, "soak.bad_upload_5xx": bad.failures_5xx}


def _malformed(bad: _BadUploads) -> None:
    for payload in MALFORMED_BUNDLES.values():
        session_id = str(uuid.uuid4())
        upload_id = bad.create(session_id, payload)
        bad.chunk(upload_id, 0, payload)
        bad.commit(session_id, upload_id, hashlib.sha256(payload).hexdigest())
    for body in ({}, {"session_id": "not-a-uuid", "length": 10, "sha256": "0" * 64},
                 {"session_id": str(uuid.uuid4()), "length": -1, "sha256": "0" * 64},
                 {"session_id": str(uuid.uuid4()), "length": 10, "sha256": "XYZ"}):
        bad.send("POST", "/uploads", json=body)
    bad.send("POST", "/uploads", data=b"{not json", headers={"Content-Type": "application/json"})
    bad.send("PATCH", f"/uploads/{uuid.uuid4()}", data=b"x")  # no offset, no checksum
    bad.send("PUT", f"/sessions/{uuid.uuid4()}/labels", json={"version": "one", "labels": "none"})
    bad.send("POST", "/deletions", json={"request_id": "short", "athlete_ref": 5})


def _oversized(bad: _BadUploads) -> None:
    bad.send("POST", "/uploads", json={"session_id": str(uuid.uuid4()), "length": bad.cap + 1, "sha256": "0" * 64})
    upload_id = bad.create(str(uuid.uuid4()), b"x" * 100)
    bad.chunk(upload_id, 0, b"x" * 101)  # past the declared length
    bad.send("PATCH", f"/uploads/{upload_id}", data=b"x" * 10,  # a declared body over the chunk cap
             headers={"Upload-Offset": "0", "Upload-Checksum": chunk_checksum(b"x" * 10),
                      "Content-Type": CHUNK_CONTENT_TYPE, "Content-Length": str(MAX_CHUNK_BYTES + 1)})


def _wrong_hashes_offsets_and_replays(bad: _BadUploads, bundle) -> None:
    session_id, built = bundle
    payload = built.path.read_bytes()
    half = len(payload) // 2
    wrong = bad.create(str(uuid.uuid4()), payload, sha256=fake_sha256("other bytes"))
    bad.chunk(wrong, 0, payload)
    bad.commit(session_id, wrong, fake_sha256("other bytes"))  # the bytes do not hash to what was announced
    upload_id = bad.create(session_id, payload)
    bad.chunk(upload_id, 0, payload[:half], checksum=chunk_checksum(b"other"))  # a bad chunk checksum
    bad.chunk(upload_id, 7, payload[7:half])  # the wrong offset
    for _ in range(2):  # the same chunk, replayed
        bad.chunk(upload_id, 0, payload[:half])
    bad.commit(session_id, upload_id, built.sha256)  # not complete yet
    bad.chunk(upload_id, half, payload[half:])
    for _ in range(3):  # the same create and commit, replayed
        bad.create(session_id, payload)
        bad.commit(session_id, upload_id, built.sha256)
    bad.commit(session_id, upload_id, fake_sha256("another hash"))
    bad.commit(str(uuid.uuid4()), upload_id, built.sha256)  # the upload named for another session
