"""A finished session as one content-addressed bundle (a zip with fixed timestamps; see cloud_client.protocol).

Only athletes whose consent allows the cloud are in it (`cloud_allowed`); the video, and the pose
and movement feedback drawn from it, only when every athlete on the session allows it (a camera
sees everyone). The same store content always gives the same bytes, so the same hash.
"""

from __future__ import annotations

import hashlib
import math
import os
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

from cloud_client.client import file_sha256
from cloud_client.protocol import BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION, MANIFEST_NAME, canonical_json
from desktop.sources.camera.base import CAMERA_CHANNEL
from desktop.store import Athlete, Store

OUTBOX_DIR_NAME = "outbox"
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # zip's earliest date: the bytes do not depend on when they were built
_COPY_BLOCK_BYTES = 1 << 20
_USER_ONLY_FILE = 0o600
_USER_ONLY_DIR = 0o700


def cloud_allowed(athlete: Athlete | None) -> bool:
    """Whether this athlete's data may go to the team's cloud: their own answer to that question,
    separate from their consent to record (and to training, which travels with their part)."""
    return athlete is not None and athlete.consent_cloud


@dataclass(frozen=True)
class BuiltBundle:
    path: Path
    sha256: str
    size_bytes: int
    athlete_refs: tuple[str, ...]
    video_parts: int


def build_bundle(store: Store, session_id: str) -> BuiltBundle:
    """Write the session's bundle into the outbox folder (user-only file) and name it by its hash."""
    folder = store.data_dir / OUTBOX_DIR_NAME
    folder.mkdir(mode=_USER_ONLY_DIR, exist_ok=True)
    detail = store.session(session_id)
    athletes = {a.id: a for a in store.list_athletes()}
    allowed = [c for c in detail.channels if cloud_allowed(athletes.get(c.athlete_id))]
    everyone = bool(detail.channels) and len(allowed) == len(detail.channels)
    parts = {f"athletes/{store.athlete_ref(c.athlete_id, create=True)}.json": _athlete_part(store, detail.id, c.channel)
             for c in allowed}
    manifest = _manifest(store, detail, allowed, parts, everyone)
    temp = folder / f".{detail.id}.partial"
    _write_zip(temp, manifest, parts, _video_files(store, detail.id) if everyone else [])
    sha256 = file_sha256(temp)
    final = folder / f"{detail.id}-{sha256[:16]}.zip"
    os.replace(temp, final)
    refs = tuple(a["ref"] for a in manifest["athletes"])
    return BuiltBundle(final, sha256, final.stat().st_size, refs, len(manifest["video"]))


def _manifest(store: Store, detail, allowed, parts: dict[str, bytes], everyone: bool) -> dict:
    consent_training = {a.id: a.consent_training for a in store.list_athletes()}
    channels = {c.channel for c in allowed} | ({CAMERA_CHANNEL} if everyone else set())
    athletes = []
    for c in allowed:
        name = f"athletes/{store.athlete_ref(c.athlete_id)}.json"
        athletes.append({"ref": store.athlete_ref(c.athlete_id), "channel": c.channel, "display_name": c.display_name,
                         "part": name, "sha256": hashlib.sha256(parts[name]).hexdigest(),
                         "training": bool(consent_training.get(c.athlete_id))})  # may the cloud train on it
    segments = store.video_segments(detail.id) if everyone else []
    return {
        "format": BUNDLE_FORMAT, "format_version": BUNDLE_FORMAT_VERSION,
        "session": {"id": detail.id, "started_wall_utc": detail.started_wall_utc.isoformat(),
                    "started_mono_s": detail.started_mono_s, "ended_mono_s": detail.ended_mono_s,
                    "status": detail.status, "note": detail.note},
        "athletes": athletes,
        "marks": [_finite(asdict(m)) for m in store.markers(detail.id) if m.channel is None or m.channel in channels],
        "labels": [label_json(lab) for lab in store.labels(detail.id) if lab.channel is None or lab.channel in channels],
        "video": [{"part": f"video/{Path(s.path).name}", "sha256": s.sha256, "bytes": store.segment_file(s).stat().st_size,
                   "start_mono_s": s.start_mono_s, "end_mono_s": s.end_mono_s, "frame_count": s.frame_count,
                   "fps": s.fps, "codec": s.codec} for s in segments],
        "camera_feedback": [_feedback_json(f) for f in store.feedback_events(detail.id, CAMERA_CHANNEL)] if everyone else [],
    }


def label_json(label) -> dict:
    return {"start_mono_s": label.start_mono_s, "end_mono_s": label.end_mono_s, "label": label.label,
            "channel": label.channel, "labelled_by": label.labelled_by}


def labels_for_cloud(store: Store, session_id: str) -> list[dict]:
    """The session's labels that may go to the cloud (the squad's, and allowed athletes' channels)."""
    detail = store.session(session_id)
    athletes = {a.id: a for a in store.list_athletes()}
    channels = {c.channel for c in detail.channels if cloud_allowed(athletes.get(c.athlete_id))}
    return [label_json(lab) for lab in store.labels(session_id) if lab.channel is None or lab.channel in channels]


def _athlete_part(store: Store, session_id: str, channel: str) -> bytes:
    samples = store.hr_samples(session_id, channel)
    part = {
        "channel": channel,
        "samples": {"t_mono_s": [s.t_mono_s for s in samples], "hr_bpm": [s.hr_bpm for s in samples],
                    "sensor_contact": [int(s.sensor_contact) for s in samples],
                    "energy_kj": [s.energy_expended_kj for s in samples], "speed_mps": [s.speed_mps for s in samples],
                    "power_w": [s.power_w for s in samples], "cadence_rpm": [s.cadence_rpm for s in samples]},
        "rr": {"sample": [i for i, s in enumerate(samples) for _ in s.rr_intervals_s],
               "rr_s": [rr for s in samples for rr in s.rr_intervals_s]},
        "gaps": [_finite(asdict(g)) for g in store.gaps(session_id, channel)],
        "feedback": [_feedback_json(f) for f in store.feedback_events(session_id, channel)],
    }
    return canonical_json(_finite(part))


def _feedback_json(event) -> dict:
    return _finite({"t_mono_s": event.t_mono_s, "model_name": event.model_name, "model_version": event.model_version,
                    "kind": event.kind, "payload": event.payload})


def _finite(value):
    """JSON has no NaN or infinity: such a number becomes null (a reading that was not there)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if hasattr(value, "value") and not isinstance(value, (str, int)):
        return _finite(value.value)  # an Enum
    return value


def _video_files(store: Store, session_id: str) -> list[tuple[str, Path]]:
    return [(f"video/{Path(s.path).name}", store.segment_file(s)) for s in store.video_segments(session_id)]


def _write_zip(path: Path, manifest: dict, parts: dict[str, bytes], videos: list[tuple[str, Path]]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, _USER_ONLY_FILE)
    with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w") as bundle:
        _add(bundle, MANIFEST_NAME, canonical_json(manifest), zipfile.ZIP_DEFLATED)
        for name in sorted(parts):
            _add(bundle, name, parts[name], zipfile.ZIP_DEFLATED)
        for name, source in videos:
            info = _info(name, zipfile.ZIP_STORED)
            with source.open("rb") as video, bundle.open(info, "w", force_zip64=True) as member:
                while block := video.read(_COPY_BLOCK_BYTES):
                    member.write(block)
        bundle.close()
        raw.flush()
        os.fsync(raw.fileno())


def _info(name: str, compression: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
    info.compress_type = compression
    info.external_attr = 0o600 << 16
    return info


def _add(bundle: zipfile.ZipFile, name: str, payload: bytes, compression: int) -> None:
    bundle.writestr(_info(name, compression), payload, compress_type=compression, compresslevel=6)

