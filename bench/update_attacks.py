"""Attacks on model updates and bad models, against a real TUF repository on a loopback server.

Shared by the soak (`bench.soak_updates`) and the tests (tests/cloud_client/test_updates.py).
Each case starts from an `UpdateLab` where heart_rate BASELINE is published and installed (the
bundled model, re-versioned), then plays one attacker or one bad publish:

- ATTACKS: each must be refused (record status "refused", a reason with its `expect` words) and
  leave BASELINE active and running;
- BAD_MODELS: correctly signed, but broken: each must end "rolled_back" with its reason, BASELINE
  active again.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter
from tuf.api.metadata import Metadata, MetaFile, Snapshot, Timestamp
from tuf.api.serialization.json import JSONSerializer

from cloud_client.updates import ModelUpdates, UpdateRecord, UpdateSource
from edge_models.manifest import GoldenSet, InputSpec, ModelManifest, load_manifest, save_manifest
from edge_models.model_store import BUNDLED_MODELS_DIR, LiveModelCheck, ModelStore
from edge_models.runtime import ModelRunner
from training.publish.keys import new_signer
from training.publish.repository import (
    METADATA_DIR, TARGETS_DIR, init_repository, load_snapshot, load_targets, load_timestamp, model_target_path,
    online_signers, publish_model, resign_timestamp,
)
from training.publish.serve import QuietHandler, RepositoryServer

KIND = "heart_rate"
BASELINE = "3.1.0"  # installed before every attack
NEXT = "3.2.0"  # what an attacker tries to slip in
ENDLESS_CAP_BYTES = 64 * 1024 * 1024  # the endless server gives up here if the client never stops it
CHUNK = b"\0" * (1 << 16)


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def days_ago(days: float) -> Callable[[], datetime]:
    return lambda: _now() - timedelta(days=days)


class UpdateLab:
    """A repository, its keys, a loopback server (with attacker overrides), a laptop's store and updates."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.repo, self.keys, self.root_key = self.folder / "repo", self.folder / "keys", self.folder / "root.pem"
        init_repository(self.repo, self.keys, self.root_key)
        self.overrides: dict[str, Callable[[QuietHandler], None]] = {}  # url path -> attacker's answer
        self.server = RepositoryServer(self.repo, handler_class=_attacker_handler(self.overrides)).start()
        self.store = ModelStore(self.folder / "laptop" / "models", BUNDLED_MODELS_DIR)
        source = UpdateSource.from_root_file(self.server.url, self.repo / METADATA_DIR / "root.json")
        self.updates = ModelUpdates(self.store, source, self.folder / "laptop" / "updates")

    def close(self) -> None:
        self.server.close()

    def __enter__(self) -> UpdateLab:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- publishing -----------------------------------------------------------------------------

    def bundle(self, version: str, kind: str = KIND) -> Path:
        """The bundled model of `kind` as a trackside-train bundle, re-versioned."""
        folder = self.folder / "bundles" / f"{kind}-{version}"
        shutil.copytree(BUNDLED_MODELS_DIR / kind, folder)
        manifest = load_manifest(folder / "manifest.json")
        save_manifest(dataclasses.replace(manifest, version=version), folder / "manifest.json")
        return folder

    def publish(self, version: str, bundle: Path | None = None, **kwargs):
        return publish_model(self.repo, bundle or self.bundle(version), self.keys, **kwargs)

    def install_baseline(self) -> UpdateRecord:
        self.publish(BASELINE)
        record = self.check()
        if self.active_version() != BASELINE:
            raise RuntimeError(f"the baseline did not install: {record}")
        return record

    # -- the laptop -----------------------------------------------------------------------------

    def check(self, kind: str = KIND) -> UpdateRecord:
        return self.updates.check_for_update(kind)

    def active_version(self, kind: str = KIND) -> str:
        return self.store.active(kind)[1].version

    def active_model_runs(self, kind: str = KIND) -> bool:
        """The active model loads on LiteRT and gives finite outputs on its golden inputs."""
        path, manifest = self.store.active(kind)
        golden = GoldenSet.load(path.parent / manifest.golden_file)
        with ModelRunner.from_path(path) as runner:
            outputs = [runner.run(x.reshape(runner.input_specs[0].shape)) for x in golden.inputs]
        return all(np.all(np.isfinite(o)) for o in outputs)

    # -- the attacker's tools -------------------------------------------------------------------

    def served_target(self, target_path: str) -> Path:
        """The file on the server behind a target path (hash-prefixed, consistent snapshots)."""
        info = load_targets(self.repo).signed.targets[target_path]
        return self.repo / TARGETS_DIR / info.get_prefixed_paths()[0]

    def model_url_path(self, version: str = NEXT) -> str:
        return self.served_target(model_target_path(KIND, version, "model.tflite")).relative_to(self.repo).as_posix()


def _attacker_handler(overrides: dict[str, Callable[[QuietHandler], None]]) -> type[QuietHandler]:
    class AttackerHandler(QuietHandler):
        timeout = 5.0  # a client that stops reading without hanging up frees this thread in 5 s

        def do_GET(self) -> None:  # noqa: N802 (the base class's name)
            answer = overrides.get(self.path.lstrip("/"))
            if answer is None:
                super().do_GET()
            else:
                answer(self)

    return AttackerHandler


def endless(handler: QuietHandler) -> None:
    """Answer 200 and stream zeros with no declared length, until the client hangs up."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/octet-stream")
    handler.end_headers()
    try:
        for _ in range(ENDLESS_CAP_BYTES // len(CHUNK)):
            handler.wfile.write(CHUNK)
    except OSError:
        pass  # the client hung up (or stopped reading): what it should do


# -- attacks ------------------------------------------------------------------------------------

def tampered_model(lab: UpdateLab) -> None:
    lab.publish(NEXT)
    path = lab.served_target(model_target_path(KIND, NEXT, "model.tflite"))
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one byte changed, same length
    path.write_bytes(bytes(data))


def truncated_model(lab: UpdateLab) -> None:
    lab.publish(NEXT)
    path = lab.served_target(model_target_path(KIND, NEXT, "model.tflite"))
    path.write_bytes(path.read_bytes()[:-100])  # wrong length


def swapped_model(lab: UpdateLab) -> None:
    lab.publish(NEXT)
    path = lab.served_target(model_target_path(KIND, NEXT, "model.tflite"))
    other = (BUNDLED_MODELS_DIR / "movement" / "model.tflite").read_bytes()
    path.write_bytes((other * 2)[:path.stat().st_size])  # a real model's bytes, the right length: wrong hash


def replayed_old_metadata(lab: UpdateLab) -> None:
    """Rollback: the mirror serves the repository as it was before BASELINE (older, still valid)."""
    lab.overrides["metadata/timestamp.json"] = _serve_bytes(lab.old_timestamp)
    lab.publish(NEXT)


def signed_downgrade(lab: UpdateLab) -> None:
    """Rollback through a correctly signed 'latest' that points to an older version."""
    lab.publish("3.0.5", allow_older=True)


def expired_timestamp(lab: UpdateLab) -> None:
    """Freeze: a timestamp signed two days ago, expired since yesterday."""
    lab.publish(NEXT, clock=days_ago(2))


def expired_snapshot(lab: UpdateLab) -> None:
    """Freeze: a fresh timestamp over a snapshot signed eight days ago (expired after seven)."""
    lab.publish(NEXT, clock=days_ago(8))
    resign_timestamp(lab.repo, lab.keys)


def targets_signed_by_wrong_key(lab: UpdateLab) -> None:
    """Targets v+1 listing a tampered model, signed by a key root does not name for targets."""
    _forge_targets(lab, targets_signer=new_signer())


def all_signed_by_wrong_key(lab: UpdateLab) -> None:
    """A whole forged repository state: timestamp, snapshot and targets signed by the attacker."""
    _forge_targets(lab, targets_signer=new_signer(), others_signer=new_signer())


def mixed_versions(lab: UpdateLab) -> None:
    """Mix-and-match: the new timestamp and snapshot, served with the targets of the version before."""
    old_targets = load_targets(lab.repo)
    lab.publish(NEXT)
    new_version = load_targets(lab.repo).signed.version
    lab.overrides[f"metadata/{new_version}.targets.json"] = _serve_bytes(old_targets.to_bytes(JSONSerializer()))


def endless_model(lab: UpdateLab) -> None:
    lab.publish(NEXT)
    lab.overrides[lab.model_url_path()] = endless


def endless_timestamp(lab: UpdateLab) -> None:
    lab.publish(NEXT)
    lab.overrides["metadata/timestamp.json"] = endless


@dataclass(frozen=True)
class Attack:
    name: str
    play: Callable[[UpdateLab], None]
    expect: str  # words the refusal's reason must hold


ATTACKS = (
    Attack("tampered model file", tampered_model, "not the one that was signed"),
    Attack("model file of the wrong length", truncated_model, "not the one that was signed"),
    Attack("model file with the wrong hash", swapped_model, "not the one that was signed"),
    Attack("replayed older metadata (rollback)", replayed_old_metadata, "older than"),
    Attack("signed older version (rollback)", signed_downgrade, "older than the active"),
    Attack("expired timestamp (freeze)", expired_timestamp, "expired"),
    Attack("expired snapshot (freeze)", expired_snapshot, "expired"),
    Attack("targets signed with the wrong key", targets_signed_by_wrong_key, "not signed by the update keys"),
    Attack("all metadata signed with the wrong key", all_signed_by_wrong_key, "not signed by the update keys"),
    Attack("mixed metadata versions (mix-and-match)", mixed_versions, "not matching"),
    Attack("endless model download", endless_model, "more than the signed length"),
    Attack("endless timestamp download", endless_timestamp, "more than the signed length"),
)


def _serve_bytes(data: bytes) -> Callable[[QuietHandler], None]:
    def answer(handler: QuietHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
    return answer


def _forge_targets(lab: UpdateLab, targets_signer, others_signer=None) -> None:
    """New targets (with NEXT's tampered model) signed by `targets_signer`; snapshot and timestamp
    by `others_signer`, or by the repository's real online keys when None (those keys stolen)."""
    lab.publish(NEXT)
    tampered_model_bytes = b"\0" * 1024
    targets = load_targets(lab.repo)
    info = targets.signed.targets[model_target_path(KIND, NEXT, "model.tflite")]
    forged = info  # the entry in the targets loaded above, rewritten
    forged.length, forged.hashes = len(tampered_model_bytes), {"sha256": _sha256(tampered_model_bytes)}
    (lab.repo / TARGETS_DIR / forged.get_prefixed_paths()[0]).write_bytes(tampered_model_bytes)
    signers = online_signers(lab.repo, lab.keys)  # the attacker holds the online keys
    snapshot_signer = others_signer or signers["snapshot"]
    timestamp_signer = others_signer or signers["timestamp"]
    now = _now()
    targets.signed.version += 1
    _sign_to(lab, targets, targets_signer, f"{targets.signed.version}.targets.json")
    snapshot = Metadata(Snapshot(version=load_snapshot(lab.repo).signed.version + 1, expires=now + timedelta(days=7),
                                 meta={"targets.json": MetaFile(version=targets.signed.version)}))
    _sign_to(lab, snapshot, snapshot_signer, f"{snapshot.signed.version}.snapshot.json")
    timestamp = Metadata(Timestamp(version=load_timestamp(lab.repo).signed.version + 1, expires=now + timedelta(days=1),
                                   snapshot_meta=MetaFile(version=snapshot.signed.version)))
    _sign_to(lab, timestamp, timestamp_signer, "timestamp.json")


def _sign_to(lab: UpdateLab, md: Metadata, signer, name: str) -> None:
    md.signatures.clear()
    md.sign(signer)
    (lab.repo / METADATA_DIR / name).write_bytes(md.to_bytes(JSONSerializer()))


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


# -- bad models, correctly signed ---------------------------------------------------------------

def unloadable_model(lab: UpdateLab) -> Path:
    """A model file LiteRT cannot load (its manifest describes it faithfully)."""
    bundle = lab.bundle(NEXT)
    (bundle / "model.tflite").write_bytes(b"TFL3" + bytes(range(256)) * 16)
    _refresh_manifest(bundle)
    return bundle


def litert_crashing_model(lab: UpdateLab) -> Path:
    """An int8 model whose output scale is zero (a converter's bug): LiteRT aborts the process
    that loads it (SIGABRT, no Python exception), so only a child process may try."""
    bundle = lab.bundle(NEXT)
    model = bundle / "model.tflite"
    with ModelRunner.from_path(model) as runner:
        scale = np.float32(runner.output_specs[0].quantization[0])
    _patch_bytes(model, scale.tobytes(), np.float32(0.0).tobytes())
    _refresh_manifest(bundle)
    return bundle


def wrong_golden_model(lab: UpdateLab) -> Path:
    """A model whose golden outputs are not what it gives: the smoke test fails."""
    bundle = lab.bundle(NEXT)
    golden = GoldenSet.load(bundle / "golden.npz")
    GoldenSet(golden.inputs, {k: v + 1.0 for k, v in golden.outputs.items()}).save(bundle / "golden.npz")
    return bundle


def non_finite_live_model(lab: UpdateLab) -> Path:
    """A float model that passes its smoke test but overflows to infinity on live inputs.

    The bundled float twin, its hidden ReLU layer scaled up to near float32's largest (weights
    and bias by the same factor: every unit keeps its sign) and its last layer too: an input
    whose hidden units are all off still gives finite outputs, any other overflows. Its golden file holds such a calm window
    from the real held-out set and the outputs this very model gives for it.
    """
    bundle = lab.bundle(NEXT)
    model = bundle / "model.tflite"
    shutil.copyfile(bundle / "model_float.tflite", model)
    inputs = GoldenSet.load(bundle / "golden.npz").inputs
    hidden, head = _last_two_layers(model)
    with warnings.catch_warnings():  # LiteRT warns that keeping every tensor is for debugging: it is
        warnings.simplefilter("ignore")
        interpreter = Interpreter(str(model), experimental_preserve_all_tensors=True)
    interpreter.allocate_tensors()
    hidden_out = [_tensor_after(interpreter, x, hidden["outputs"][0]) for x in inputs]
    calm = [i for i, h in enumerate(hidden_out) if not np.any(h)]
    if not calm or len(calm) == len(inputs):
        raise RuntimeError("no held-out window with all hidden units off, or only such windows")
    hidden_weights, hidden_bias, head_weights = (interpreter.get_tensor(i).copy() for i in (
        hidden["inputs"][1], hidden["inputs"][2], head["inputs"][1]))
    largest = float(np.finfo(np.float32).max) / 2  # each scaled constant stays finite
    big = largest / max(float(np.max(np.abs(hidden_weights))), float(np.max(np.abs(hidden_bias))))
    for values, factor in ((hidden_weights, big), (hidden_bias, big),
                           (head_weights, largest / float(np.max(np.abs(head_weights))))):
        _patch_bytes(model, values.tobytes(), (values.astype(np.float64) * factor).astype(np.float32).tobytes())
    calm_inputs = inputs[calm[:1]].astype(np.float32)
    with ModelRunner.from_path(model) as runner:
        spec = runner.input_specs[0]
        outputs = np.stack([runner.run(x[None]) for x in calm_inputs])
    GoldenSet(calm_inputs, {"output": outputs}).save(bundle / "golden.npz")
    manifest = load_manifest(bundle / "manifest.json")
    save_manifest(dataclasses.replace(manifest, input=InputSpec(spec.name, tuple(int(d) for d in spec.shape),
                                                                 spec.dtype.name)), bundle / "manifest.json")
    _refresh_manifest(bundle)
    return bundle


def _last_two_layers(model: Path) -> tuple[dict, dict]:
    """The last FULLY_CONNECTED op and the one that feeds it: (hidden, head)."""
    ops = [op for op in Interpreter(str(model))._get_ops_details()  # the public API has no op list
           if op["op_name"] == "FULLY_CONNECTED"]
    head = ops[-1]
    hidden = next(op for op in ops if op["outputs"][0] == head["inputs"][0])
    return hidden, head


def _tensor_after(interpreter: Interpreter, x: np.ndarray, index: int) -> np.ndarray:
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x[None].astype(np.float32))
    interpreter.invoke()
    return interpreter.get_tensor(index).copy()


def live_inputs(kind: str = KIND) -> np.ndarray:
    """Real held-out windows (the bundled model's golden inputs): what a first live session feeds."""
    return GoldenSet.load(BUNDLED_MODELS_DIR / kind / "golden.npz").inputs


def run_live(lab: UpdateLab, kind: str = KIND) -> LiveModelCheck:
    """The active model's first live calls, watched as the feedback workers watch them."""
    path, manifest = lab.store.active(kind)
    check = LiveModelCheck(kind, manifest.version, lab.updates.report_live_failure)
    with ModelRunner.from_path(path) as runner:
        for window in live_inputs(kind):
            if check.observe(runner.run(window.reshape(runner.input_specs[0].shape))) is not None:
                break
    return check


def _patch_bytes(path: Path, old: bytes, new: bytes) -> None:
    data = path.read_bytes()
    if data.count(old) != 1:
        raise RuntimeError(f"the bytes to patch occur {data.count(old)} times in {path.name}, not once")
    path.write_bytes(data.replace(old, new))


def _refresh_manifest(bundle: Path) -> ModelManifest:
    manifest = load_manifest(bundle / "manifest.json").with_tflite(bundle / "model.tflite")
    save_manifest(manifest, bundle / "manifest.json")
    return manifest


@dataclass(frozen=True)
class BadModel:
    name: str
    build: Callable[[UpdateLab], Path]
    expect: str  # words the rollback's reason must hold
    live: bool  # fails only once it runs live


BAD_MODELS = (
    BadModel("model LiteRT cannot load", unloadable_model, "cannot load", live=False),
    BadModel("model that crashes LiteRT", litert_crashing_model, "LiteRT crashed", live=False),
    BadModel("model failing its smoke test", wrong_golden_model, "off by", live=False),
    BadModel("model with non-finite outputs live", non_finite_live_model, "non-finite", live=True),
)


def new_lab() -> tuple[UpdateLab, tempfile.TemporaryDirectory]:
    tmp = tempfile.TemporaryDirectory(prefix="trackside-updates-")
    return UpdateLab(Path(tmp.name)), tmp


def play_attack(lab: UpdateLab, attack: Attack) -> UpdateRecord:
    """BASELINE installed, then the attack, then one check; returns the check's record."""
    lab.old_timestamp = (lab.repo / METADATA_DIR / "timestamp.json").read_bytes()
    lab.install_baseline()
    attack.play(lab)
    return lab.check()


def play_bad_model(lab: UpdateLab, bad: BadModel) -> UpdateRecord:
    """BASELINE installed, the bad model published (correctly signed), a check, and live runs."""
    lab.install_baseline()
    lab.publish(NEXT, bad.build(lab))
    record = lab.check()
    if bad.live:
        run_live(lab)
    return lab.updates.state.get(KIND) if bad.live else record


def describe(record: UpdateRecord) -> str:
    return json.dumps({"status": record.status, "reason": record.reason})
