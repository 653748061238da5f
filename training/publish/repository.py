"""The model-update repository: TUF metadata and model files, a plain folder served over HTTP.

    <repo>/metadata/1.root.json, 2.root.json ...   every root version (laptops walk them in order)
    <repo>/metadata/root.json                      the newest root: what a laptop ships as its trust
    <repo>/metadata/<N>.targets.json               consistent snapshots: versioned, never rewritten
    <repo>/metadata/<N>.snapshot.json
    <repo>/metadata/timestamp.json                 the only file rewritten in place
    <repo>/targets/models/<kind>/<version>/<sha256>.<file>   model.tflite, manifest.json, golden.npz
    <repo>/targets/models/<kind>/<sha256>.latest.json        which version of a kind is current

Each published model is three targets; the model's target carries its kind, version, metrics and
input spec as custom metadata (signed by the targets key), and `models/<kind>/latest.json`
carries the current version and every version published, so a laptop learns what exists from
signed metadata alone. A publish writes the new files first and timestamp.json last (atomically),
so a laptop reading at any moment sees either the old repository or the new one.

Expiry (a laptop refuses metadata past it): timestamp 1 day, snapshot 7 days, targets 30 days,
root 1 year. `refresh_expiring` re-signs timestamp (and snapshot when close to expiry); run it
periodically, e.g. every few hours. The root key signs only `init_repository` and `renew_root`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

from securesystemslib.signer import Signer
from tuf.api.metadata import Metadata, MetaFile, Root, Snapshot, TargetFile, Targets, Timestamp
from tuf.api.serialization.json import JSONSerializer

from edge_models.durable import write_file_atomically  # creates missing folders
from edge_models.manifest import ModelManifest, load_manifest, parse_version
from training.publish.keys import ONLINE_ROLES, load_signer, new_signer, online_key_path, save_signer

logger = logging.getLogger(__name__)

ROOT_EXPIRY = timedelta(days=365)
TARGETS_EXPIRY = timedelta(days=30)
SNAPSHOT_EXPIRY = timedelta(days=7)
TIMESTAMP_EXPIRY = timedelta(days=1)
SNAPSHOT_RENEW_WITHIN = timedelta(days=2)  # refresh_expiring re-signs snapshot this close to expiry
METADATA_DIR = "metadata"
TARGETS_DIR = "targets"
MODEL_FILES = ("model.tflite", "manifest.json", "golden.npz")  # what trackside-train leaves, published
_PRETTY = JSONSerializer(compact=False)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


class PublishError(Exception):
    """A model cannot be published (bad bundle, a version already taken, an older version)."""


@dataclass(frozen=True)
class PublishedModel:
    kind: str
    version: str
    model_target: str  # the target path of model.tflite, e.g. models/heart_rate/1.1.0/model.tflite
    targets_version: int


def model_target_path(kind: str, version: str, file_name: str) -> str:
    return f"models/{kind}/{version}/{file_name}"


def latest_target_path(kind: str) -> str:
    return f"models/{kind}/latest.json"


# -- init ---------------------------------------------------------------------------------------

def init_repository(repo_dir: Path, keys_dir: Path, root_key_path: Path, clock: Clock = utc_now) -> Path:
    """Create the keys and an empty repository (root v1 and empty targets). Returns root.json's path.

    The root key goes to `root_key_path` (keep it offline: it is needed again only by
    `renew_root`); the online keys go to `keys_dir`. Refuses to overwrite an existing repository.
    """
    repo_dir, now = Path(repo_dir), clock()
    if (repo_dir / METADATA_DIR / "root.json").exists():
        raise PublishError(f"{repo_dir} already holds a repository")
    signers = {role: new_signer() for role in ONLINE_ROLES}
    root_signer = new_signer()
    root = Metadata(Root(expires=now + ROOT_EXPIRY, consistent_snapshot=True))
    root.signed.add_key(root_signer.public_key, "root")
    for role, signer in signers.items():
        root.signed.add_key(signer.public_key, role)
    save_signer(root_signer, Path(root_key_path))
    for role, signer in signers.items():
        save_signer(signer, online_key_path(keys_dir, role))
    _write_root(repo_dir, root, root_signer)
    targets = Metadata(Targets(expires=now + TARGETS_EXPIRY))
    _write_versioned(repo_dir, targets, signers["targets"])
    _write_snapshot_and_timestamp(repo_dir, signers, targets.signed.version, now)
    logger.info("created the update repository at %s", repo_dir)
    return repo_dir / METADATA_DIR / "root.json"


def renew_root(repo_dir: Path, root_key_path: Path, clock: Clock = utc_now) -> int:
    """Sign root version N+1 with a fresh year of validity, with the offline root key. Returns N+1."""
    root = load_root(repo_dir)
    root.signed.version += 1
    root.signed.expires = clock() + ROOT_EXPIRY
    root.signatures.clear()
    _write_root(Path(repo_dir), root, load_signer(root_key_path, _role_key(root, "root")))
    return root.signed.version


# -- publish ------------------------------------------------------------------------------------

def publish_model(repo_dir: Path, bundle_dir: Path, keys_dir: Path, clock: Clock = utc_now,
                  allow_older: bool = False) -> PublishedModel:
    """Publish the accepted model in `bundle_dir` (model.tflite, manifest.json, golden.npz).

    The version must be new for its kind, and newer than the current one unless `allow_older`
    (a deliberate retraction: the current version points back to an older model).
    """
    repo_dir, bundle_dir, now = Path(repo_dir), Path(bundle_dir), clock()
    manifest = _bundle_manifest(bundle_dir)
    signers = online_signers(repo_dir, keys_dir)
    targets = load_targets(repo_dir)
    versions = published_versions(targets.signed, manifest.kind)
    _check_new_version(manifest, versions, allow_older)
    for name in MODEL_FILES:
        info = _add_target_file(repo_dir, bundle_dir / name, model_target_path(manifest.kind, manifest.version, name))
        if name == "model.tflite":
            info.unrecognized_fields["custom"] = model_custom(manifest)
        targets.signed.targets[info.path] = info
    latest = {"kind": manifest.kind, "version": manifest.version, "versions": sorted(
        {*versions, manifest.version}, key=parse_version)}
    info = _add_target_bytes(repo_dir, json.dumps(latest, indent=2).encode(), latest_target_path(manifest.kind))
    info.unrecognized_fields["custom"] = latest
    targets.signed.targets[info.path] = info
    targets.signed.version += 1
    targets.signed.expires = now + TARGETS_EXPIRY
    _write_versioned(repo_dir, targets, signers["targets"])
    _write_snapshot_and_timestamp(repo_dir, signers, targets.signed.version, now)
    logger.info("published %s %s (targets v%d)", manifest.kind, manifest.version, targets.signed.version)
    return PublishedModel(manifest.kind, manifest.version,
                          model_target_path(manifest.kind, manifest.version, "model.tflite"), targets.signed.version)


def model_custom(manifest: ModelManifest) -> dict:
    """The custom metadata of a model target: what a laptop may read before downloading a byte.

    Canonical JSON (what TUF signs) has no floats: metrics travel as decimal strings ("5.52").
    """
    metrics = {variant: {name: f"{value:.6g}" for name, value in values.items()}
               for variant, values in manifest.metrics.items()}
    return {"kind": manifest.kind, "name": manifest.name, "version": manifest.version,
            "metrics": metrics, "input": manifest.to_dict()["input"],
            "sha256": manifest.tflite_sha256, "size_bytes": manifest.tflite_size_bytes}


def published_versions(targets: Targets, kind: str) -> list[str]:
    info = targets.targets.get(latest_target_path(kind))
    return list(info.custom["versions"]) if info is not None and info.custom else []


def _bundle_manifest(bundle_dir: Path) -> ModelManifest:
    missing = [name for name in MODEL_FILES if not (bundle_dir / name).is_file()]
    if missing:
        raise PublishError(f"{bundle_dir} is not a model bundle: {missing} missing")
    manifest = load_manifest(bundle_dir / "manifest.json")
    if manifest.golden_file != "golden.npz":
        raise PublishError(f"{bundle_dir}: the manifest must name golden.npz as its golden file")
    return manifest


def _check_new_version(manifest: ModelManifest, versions: list[str], allow_older: bool) -> None:
    if manifest.version in versions:
        raise PublishError(f"{manifest.kind} {manifest.version} is already published: versions never change")
    newest = max(versions, key=parse_version, default=None)
    if newest is not None and not allow_older and parse_version(manifest.version) <= parse_version(newest):
        raise PublishError(f"{manifest.kind} {manifest.version} is not newer than the published {newest}")


# -- periodic re-signing ------------------------------------------------------------------------

def refresh_expiring(repo_dir: Path, keys_dir: Path, clock: Clock = utc_now) -> None:
    """Re-sign timestamp (always) and snapshot (when it expires within two days), newer versions."""
    repo_dir, now = Path(repo_dir), clock()
    snapshot = load_snapshot(repo_dir)
    if snapshot.signed.expires - now < SNAPSHOT_RENEW_WITHIN:
        signers = online_signers(repo_dir, keys_dir)
        _write_snapshot_and_timestamp(repo_dir, signers, snapshot.signed.meta["targets.json"].version, now)
        return
    resign_timestamp(repo_dir, keys_dir, clock)


def resign_timestamp(repo_dir: Path, keys_dir: Path, clock: Clock = utc_now) -> None:
    """A new timestamp version for the current snapshot, valid TIMESTAMP_EXPIRY from now."""
    repo_dir = Path(repo_dir)
    signer = online_signers(repo_dir, keys_dir)["timestamp"]
    _write_timestamp(repo_dir, signer, load_timestamp(repo_dir).signed.snapshot_meta.version, clock())


# -- reading the repository ---------------------------------------------------------------------

def load_root(repo_dir: Path) -> Metadata[Root]:
    return Metadata[Root].from_file(str(Path(repo_dir) / METADATA_DIR / "root.json"))


def load_timestamp(repo_dir: Path) -> Metadata[Timestamp]:
    return Metadata[Timestamp].from_file(str(Path(repo_dir) / METADATA_DIR / "timestamp.json"))


def load_snapshot(repo_dir: Path) -> Metadata[Snapshot]:
    version = load_timestamp(repo_dir).signed.snapshot_meta.version
    return Metadata[Snapshot].from_file(str(Path(repo_dir) / METADATA_DIR / f"{version}.snapshot.json"))


def load_targets(repo_dir: Path) -> Metadata[Targets]:
    version = load_snapshot(repo_dir).signed.meta["targets.json"].version
    return Metadata[Targets].from_file(str(Path(repo_dir) / METADATA_DIR / f"{version}.targets.json"))


def _role_key(root: Metadata[Root], role: str):
    return root.signed.get_key(root.signed.roles[role].keyids[0])


def online_signers(repo_dir: Path, keys_dir: Path) -> dict[str, Signer]:
    root = load_root(repo_dir)
    return {role: load_signer(online_key_path(keys_dir, role), _role_key(root, role)) for role in ONLINE_ROLES}


# -- writing ------------------------------------------------------------------------------------

def _write_root(repo_dir: Path, root: Metadata[Root], signer: Signer) -> None:
    root.sign(signer)
    data = root.to_bytes(_PRETTY)
    folder = repo_dir / METADATA_DIR
    write_file_atomically(folder / f"{root.signed.version}.root.json", data)
    write_file_atomically(folder / "root.json", data)


def _write_versioned(repo_dir: Path, md: Metadata, signer: Signer) -> None:
    md.sign(signer)
    path = repo_dir / METADATA_DIR / f"{md.signed.version}.{md.signed.type}.json"
    write_file_atomically(path, md.to_bytes(_PRETTY))


def _write_snapshot_and_timestamp(repo_dir: Path, signers: dict[str, Signer], targets_version: int,
                                  now: datetime) -> None:
    old = _snapshot_version(repo_dir)
    snapshot = Metadata(Snapshot(version=old + 1, expires=now + SNAPSHOT_EXPIRY,
                                 meta={"targets.json": MetaFile(version=targets_version)}))
    _write_versioned(repo_dir, snapshot, signers["snapshot"])
    _write_timestamp(repo_dir, signers["timestamp"], snapshot.signed.version, now)


def _write_timestamp(repo_dir: Path, signer: Signer, snapshot_version: int, now: datetime) -> None:
    path = repo_dir / METADATA_DIR / "timestamp.json"
    version = load_timestamp(repo_dir).signed.version + 1 if path.exists() else 1
    timestamp = Metadata(Timestamp(version=version, expires=now + TIMESTAMP_EXPIRY,
                                   snapshot_meta=MetaFile(version=snapshot_version)))
    timestamp.sign(signer)
    write_file_atomically(path, timestamp.to_bytes(_PRETTY))  # the switch: readers see old or new


def _snapshot_version(repo_dir: Path) -> int:
    path = repo_dir / METADATA_DIR / "timestamp.json"
    return load_timestamp(repo_dir).signed.snapshot_meta.version if path.exists() else 0


def _add_target_file(repo_dir: Path, source: Path, target_path: str) -> TargetFile:
    return _add_target_bytes(repo_dir, source.read_bytes(), target_path)


def _add_target_bytes(repo_dir: Path, data: bytes, target_path: str) -> TargetFile:
    """Write the file under its hash-prefixed name (consistent snapshots) and describe it."""
    info = TargetFile.from_data(target_path, data)
    prefixed = Path(repo_dir) / TARGETS_DIR / info.get_prefixed_paths()[0]
    write_file_atomically(prefixed, data)
    return info
