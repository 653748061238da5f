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
from ai_edge_litert.schema_py_generated import ActivationFunctionType, BuiltinOperator, TensorType
from ai_edge_litert.tools import flatbuffer_utils
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
    that loads it (SIGABRT, no Python exception), so only a child process may try.

    The scale is set on the model's output tensor itself, found through the flatbuffer (another
    tensor may share the same scale's bytes, as the skip path's sum does)."""
    bundle = lab.bundle(NEXT)
    model_file = bundle / "model.tflite"
    model = flatbuffer_utils.read_model(str(model_file))
    graph = model.subgraphs[0]
    quantization = graph.tensors[graph.outputs[0]].quantization
    if quantization is None or quantization.scale is None or len(quantization.scale) == 0:
        raise RuntimeError(f"the output of {model_file.name} is not quantized: no scale to zero")
    quantization.scale = np.zeros(len(quantization.scale), dtype=np.float32)
    flatbuffer_utils.write_model(model, str(model_file))
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

    The bundled float twin, changed where a hidden ReLU layer feeds the next fully connected one:
    the hidden units that a calm held-out window leaves off get their weights (and bias) scaled by
    the same large factor (each keeps its sign, and stays finite on every held-out window), and
    the next layer's weights from those units are set huge (set, not scaled: a freshly started
    head may still be all zeros, as heart rate 3.0.0's is). The calm window gives the outputs it
    gave before; a window that turns any of those units on overflows. Its golden file holds that
    calm window and the outputs this very model gives for it.
    """
    bundle = lab.bundle(NEXT)
    model_file = bundle / "model.tflite"
    shutil.copyfile(bundle / "model_float.tflite", model_file)
    inputs = GoldenSet.load(bundle / "golden.npz").inputs
    model = flatbuffer_utils.read_model(str(model_file))
    hidden, head = _relu_layer_and_its_reader(model)
    weights, bias, head_weights = (_constant(model, op, i) for op, i in ((hidden, 1), (hidden, 2), (head, 1)))
    fed = np.stack([_tensor_after(model_file, x, hidden.inputs[0]).reshape(-1) for x in inputs]).astype(np.float64)
    before_relu = fed @ weights.T.astype(np.float64) + (0.0 if bias is None else bias.astype(np.float64))
    calm = int(np.argmax(np.sum(before_relu <= 0, axis=1)))  # the window leaving the most units off
    units = before_relu[calm] <= 0
    if not np.any(units) or not np.any(before_relu[:, units] > 0):
        raise RuntimeError("no hidden unit that a held-out window leaves off and another turns on")
    largest_sum = np.max(np.abs(fed) @ np.abs(weights[units]).T.astype(np.float64)
                         + (0.0 if bias is None else np.abs(bias[units])))
    factor = HIDDEN_SUM_CAP / largest_sum  # the unit's sums stay finite on every held-out window
    weights[units] = (weights[units] * factor).astype(np.float32)
    if bias is not None:
        bias[units] = (bias[units] * factor).astype(np.float32)
    head_weights[:, units] = HEAD_WEIGHT
    for op, i, values in ((hidden, 1, weights), (hidden, 2, bias), (head, 1, head_weights)):
        if values is not None:
            _set_constant(model, op, i, values)
    flatbuffer_utils.write_model(model, str(model_file))
    calm_inputs = inputs[calm:calm + 1].astype(np.float32)
    with ModelRunner.from_path(model_file) as runner:
        spec = runner.input_specs[0]
        outputs = np.stack([runner.run(x[None]) for x in calm_inputs])
        live = [runner.run(x[None]) for x in live_inputs()]
    if not np.all(np.isfinite(outputs)) or all(np.all(np.isfinite(o)) for o in live):
        raise RuntimeError("the changed model is non-finite on its calm window, or finite on every live one")
    GoldenSet(calm_inputs, {"output": outputs}).save(bundle / "golden.npz")
    manifest = load_manifest(bundle / "manifest.json")
    save_manifest(dataclasses.replace(manifest, input=InputSpec(spec.name, tuple(int(d) for d in spec.shape),
                                                                 spec.dtype.name)), bundle / "manifest.json")
    _refresh_manifest(bundle)
    return bundle


HIDDEN_SUM_CAP = 1e30  # the largest sum of |weight * input| a scaled hidden unit sees on held-out windows
HEAD_WEIGHT = np.float32(1e30)  # times a turned-on scaled unit (1e30 x its share of the largest sum): past 3.4e38
# unless that share is below ~3e-22; the builder checks that the live windows do overflow


def _relu_layer_and_its_reader(model) -> tuple:
    """(hidden, head): the last FULLY_CONNECTED op fed by a FULLY_CONNECTED op with a fused ReLU."""
    graph = model.subgraphs[0]
    fully_connected = [op for op in graph.operators if _builtin(model, op) == BuiltinOperator.FULLY_CONNECTED]
    producers = {op.outputs[0]: op for op in fully_connected}
    for head in reversed(fully_connected):
        hidden = producers.get(head.inputs[0])
        if hidden is not None and hidden.builtinOptions.fusedActivationFunction == ActivationFunctionType.RELU:
            return hidden, head
    raise RuntimeError("no fully connected layer with a ReLU feeding another: nothing to make overflow")


def _builtin(model, op) -> int:
    code = model.operatorCodes[op.opcodeIndex]
    return max(code.builtinCode, code.deprecatedBuiltinCode)  # the deprecated field holds codes below 127


def _constant(model, op, position: int) -> np.ndarray | None:
    """The float32 constant at input `position` of `op` (a copy), None when the op has none there."""
    if position >= len(op.inputs) or op.inputs[position] < 0:
        return None
    tensor = model.subgraphs[0].tensors[op.inputs[position]]
    if tensor.type != TensorType.FLOAT32:
        raise RuntimeError(f"tensor {tensor.name!r} is not float32: not a float model")
    if sum(t.buffer == tensor.buffer for g in model.subgraphs for t in g.tensors) != 1:
        raise RuntimeError(f"tensor {tensor.name!r} shares its buffer: changing it would change others")
    data = np.asarray(model.buffers[tensor.buffer].data, dtype=np.uint8)
    return data.view(np.float32).reshape(tuple(tensor.shape)).copy()


def _set_constant(model, op, position: int, values: np.ndarray) -> None:
    tensor = model.subgraphs[0].tensors[op.inputs[position]]
    model.buffers[tensor.buffer].data = np.frombuffer(values.astype(np.float32).tobytes(), dtype=np.uint8)


def _tensor_after(model_file: Path, x: np.ndarray, index: int) -> np.ndarray:
    """Tensor `index` (a flatbuffer index: LiteRT keeps them) once the model ran on `x`."""
    with warnings.catch_warnings():  # LiteRT warns that keeping every tensor is for debugging: it is
        warnings.simplefilter("ignore")
        interpreter = Interpreter(str(model_file), experimental_preserve_all_tensors=True)
    interpreter.allocate_tensors()
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
