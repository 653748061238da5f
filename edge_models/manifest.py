"""Model manifests: what a .tflite file is, what it was trained on and how well it did.

A manifest travels beside every model file (`manifest.json`), from the cloud's training job to the
laptop's installed-model store. It is strict JSON with a `schema` version: a missing, unknown or
wrongly typed field is refused with a `ManifestError` that names the field.

    manifest = ModelManifest(name="movement", kind="movement", version="1.4.0", ...)
    manifest = manifest.with_tflite(path)        # fills tflite_sha256 and tflite_size_bytes
    save_manifest(manifest, folder / "manifest.json")
    verify_model_file(load_manifest(folder / "manifest.json"), path)

A golden file (`.npz`, named by `golden_file`, kept beside the manifest) holds a few inputs and the
outputs the model gave for them when it was published: the store runs them before trusting a model.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np

from edge_models.assets import sha256_of
from edge_models.durable import write_file_atomically

MANIFEST_SCHEMA = 1  # bump when a field changes meaning; add a migration from the old number
MODEL_KINDS = ("pose", "movement", "heart_rate")
METRIC_VARIANTS = ("float", "int8")  # the float model and its int8 conversion, on held-out data
DEFAULT_GOLDEN_ATOL = 0.05  # max |output - expected| on golden inputs, in the output's own units
_VERSION_RE = re.compile(r"^(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:\+[0-9A-Za-z.-]+)?$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_DTYPES = ("float32", "int8", "uint8", "int16", "int32")

ModelKind = Literal["pose", "movement", "heart_rate"]


class ManifestError(ValueError):
    """A manifest is missing a field, has an unknown one, or a value of the wrong type."""


class ModelIntegrityError(Exception):
    """A model file is not the one its manifest describes (size or sha256 differ)."""


def parse_version(text: str) -> tuple[int, int, int]:
    """'1.4.2' -> (1, 4, 2); '2' -> (2, 0, 0); build metadata after '+' is ignored."""
    match = _VERSION_RE.match(text) if isinstance(text, str) else None
    if match is None:
        raise ManifestError(f"version must look like 1.4.2, got {text!r}")
    return tuple(int(part or 0) for part in match.groups())  # type: ignore[return-value]


@dataclass(frozen=True)
class InputSpec:
    """The model's input tensor: name, shape (-1 for a free dimension) and dtype name."""

    name: str
    shape: tuple[int, ...]
    dtype: str = "float32"


@dataclass(frozen=True)
class ModelManifest:
    """Everything the laptop needs to trust and use one model file."""

    name: str
    kind: ModelKind
    version: str  # semver-ish, compared with `version_key`
    input: InputSpec
    labels: tuple[str, ...]  # class names in output order; empty for a regression model
    metrics: dict[str, dict[str, float]]  # {"float": {...}, "int8": {...}} on held-out data
    training_data_digest: str  # sha256 over the training windows (which data made this model)
    created_utc: str  # ISO 8601 with a UTC offset, e.g. 2025-06-01T12:00:00Z
    tflite_sha256: str
    tflite_size_bytes: int
    golden_file: str | None = None  # a .npz beside the manifest: inputs and expected outputs
    golden_atol: float = DEFAULT_GOLDEN_ATOL
    schema: int = MANIFEST_SCHEMA

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def version_key(self) -> tuple[int, int, int]:
        return parse_version(self.version)

    def is_newer_than(self, other: ModelManifest) -> bool:
        return self.version_key > other.version_key

    def with_tflite(self, path: Path | str) -> ModelManifest:
        """The same manifest describing the model file at `path` (its sha256 and size)."""
        path = Path(path)
        return dataclasses.replace(self, tflite_sha256=sha256_of(path),
                                   tflite_size_bytes=path.stat().st_size)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["input"] = {**data["input"], "shape": list(self.input.shape)}
        data["labels"] = list(self.labels)
        return data

    @classmethod
    def from_dict(cls, data: Any) -> ModelManifest:
        """Build from parsed JSON, refusing anything that does not match the schema exactly."""
        if not isinstance(data, dict):
            raise ManifestError(f"a manifest is a JSON object, got {type(data).__name__}")
        data = _migrate(dict(data))
        _check_field_names(data, {f.name for f in dataclasses.fields(cls)},
                           _required_names(cls), "manifest")
        values = {**data, "input": _input_from_dict(data["input"]),
                  "labels": tuple(_typed(data["labels"], list, "labels"))}
        return cls(**values)


def _required_names(cls: type) -> set[str]:
    missing = dataclasses.MISSING
    return {f.name for f in dataclasses.fields(cls) if f.default is missing and f.default_factory is missing}


def _check_field_names(data: dict, known: set[str], required: set[str], where: str) -> None:
    missing, extra = sorted(required - set(data)), sorted(set(data) - known)
    if missing:
        raise ManifestError(f"{where} is missing field(s) {missing}")
    if extra:
        raise ManifestError(f"{where} has unknown field(s) {extra}")


def _input_from_dict(data: Any) -> InputSpec:
    _typed(data, dict, "input")
    _check_field_names(data, {"name", "shape", "dtype"}, {"name", "shape"}, "manifest field 'input'")
    shape = _typed(data["shape"], list, "input.shape")
    return InputSpec(name=data["name"], shape=tuple(shape), dtype=data.get("dtype", "float32"))


def _migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Bring an older manifest up to MANIFEST_SCHEMA. Schema 1 is the first: nothing to do yet."""
    schema = data.get("schema")
    if not isinstance(schema, int) or isinstance(schema, bool):
        raise ManifestError(f"manifest field 'schema' must be an integer, got {schema!r}")
    if schema > MANIFEST_SCHEMA:
        raise ManifestError(f"manifest schema {schema} is newer than this Trackside ({MANIFEST_SCHEMA}):"
                            " update the app")
    if schema < 1:
        raise ManifestError(f"manifest schema {schema} is not a known schema")
    return data


def _typed(value: Any, kind: type | tuple[type, ...], name: str) -> Any:
    bad_bool = isinstance(value, bool) and kind in (int, float, (int, float))
    if bad_bool or not isinstance(value, kind):
        expected = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ManifestError(f"manifest field {name!r} must be {expected}, got {value!r}")
    return value


def _validate(m: ModelManifest) -> None:
    for name in ("name", "version", "training_data_digest", "created_utc", "tflite_sha256"):
        _typed(getattr(m, name), str, name)
    _typed(m.schema, int, "schema")
    _typed(m.tflite_size_bytes, int, "tflite_size_bytes")
    _typed(m.golden_atol, (int, float), "golden_atol")
    if m.golden_file is not None:
        _validate_golden_name(_typed(m.golden_file, str, "golden_file"))
    if m.kind not in MODEL_KINDS:
        raise ManifestError(f"manifest field 'kind' must be one of {list(MODEL_KINDS)}, got {m.kind!r}")
    parse_version(m.version)
    _validate_input(m.input)
    _validate_labels(m.labels)
    _validate_metrics(m.metrics)
    _validate_created(m.created_utc)
    if not _SHA256_RE.match(m.tflite_sha256):
        raise ManifestError(f"tflite_sha256 must be 64 lowercase hex digits, got {m.tflite_sha256!r}")
    if m.tflite_size_bytes <= 0:
        raise ManifestError(f"tflite_size_bytes must be positive, got {m.tflite_size_bytes}")


def _validate_input(spec: InputSpec) -> None:
    _typed(spec, InputSpec, "input")
    _typed(spec.name, str, "input.name")
    for dim in _typed(spec.shape, tuple, "input.shape"):
        if _typed(dim, int, "input.shape[]") < -1 or dim == 0:
            raise ManifestError(f"input.shape dimensions must be positive or -1, got {list(spec.shape)}")
    if spec.dtype not in _DTYPES:
        raise ManifestError(f"input.dtype must be one of {list(_DTYPES)}, got {spec.dtype!r}")


def _validate_labels(labels: tuple[str, ...]) -> None:
    for label in _typed(labels, tuple, "labels"):
        _typed(label, str, "labels[]")
    if len(set(labels)) != len(labels):
        raise ManifestError(f"labels must be distinct, got {list(labels)}")


def _validate_metrics(metrics: dict[str, dict[str, float]]) -> None:
    _typed(metrics, dict, "metrics")
    if set(metrics) != set(METRIC_VARIANTS):
        raise ManifestError(f"metrics must have exactly {list(METRIC_VARIANTS)}, got {sorted(metrics)}")
    for variant, values in metrics.items():
        for key, value in _typed(values, dict, f"metrics.{variant}").items():
            _typed(value, (int, float), f"metrics.{variant}.{key}")


def _validate_created(text: str) -> None:
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        stamp = None
    if stamp is None or stamp.utcoffset() is None or stamp.utcoffset().total_seconds() != 0:
        raise ManifestError(f"created_utc must be ISO 8601 in UTC (…Z), got {text!r}")


def _validate_golden_name(name: str) -> None:
    if Path(name).name != name or not name.endswith(".npz"):
        raise ManifestError(f"golden_file must be a bare .npz file name, got {name!r}")


def load_manifest(path: Path | str) -> ModelManifest:
    """Read and validate a manifest.json. Raises `ManifestError` naming the file and the fault."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"{path} is not readable JSON: {exc}") from exc
    try:
        return ModelManifest.from_dict(data)
    except ManifestError as exc:
        raise ManifestError(f"{path}: {exc}") from exc


def save_manifest(manifest: ModelManifest, path: Path | str) -> None:
    """Write a manifest.json crash-safely (temp file, fsync, rename)."""
    text = json.dumps(manifest.to_dict(), indent=2, sort_keys=True) + "\n"
    write_file_atomically(Path(path), text.encode("utf-8"))


def verify_model_file(manifest: ModelManifest, path: Path | str) -> None:
    """Raise `ModelIntegrityError` unless `path` has the manifest's exact size and sha256."""
    path = Path(path)
    if not path.is_file():
        raise ModelIntegrityError(f"model file {path} does not exist")
    size = path.stat().st_size
    if size != manifest.tflite_size_bytes:
        raise ModelIntegrityError(f"{path.name} is {size} bytes, the manifest says {manifest.tflite_size_bytes}")
    digest = sha256_of(path)
    if digest != manifest.tflite_sha256:
        raise ModelIntegrityError(f"{path.name} has sha256 {digest[:12]}…, the manifest says "
                                  f"{manifest.tflite_sha256[:12]}…: the file was changed or damaged")


@dataclass(frozen=True)
class GoldenSet:
    """Inputs and the outputs the model gave for them, stacked along a leading sample axis.

    `outputs` maps output tensor names to arrays; a one-output model may use any single name.
    """

    inputs: np.ndarray  # (n_samples, *input shape)
    outputs: dict[str, np.ndarray] = field(default_factory=dict)  # name -> (n_samples, *output shape)

    def save(self, path: Path | str) -> None:
        arrays = {"inputs": self.inputs, **{f"output:{k}": v for k, v in self.outputs.items()}}
        with open(path, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())

    @classmethod
    def load(cls, path: Path | str) -> GoldenSet:
        try:
            with np.load(path, allow_pickle=False) as data:
                outputs = {k.split(":", 1)[1]: data[k] for k in data.files if k.startswith("output:")}
                inputs = data["inputs"]
        except (OSError, ValueError, KeyError) as exc:
            raise ManifestError(f"golden file {path} is not a golden set: {exc}") from exc
        if not outputs or any(len(v) != len(inputs) for v in outputs.values()):
            raise ManifestError(f"golden file {path} needs outputs with one row per input")
        return cls(inputs=inputs, outputs=outputs)
