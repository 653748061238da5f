"""The installed-model store: which model of each kind the laptop runs now, and the one before.

Layout under the store's folder, per model kind:

    <root>/<kind>/slots.json            {"active": "<slot>", "previous": "<slot>" | null}
    <root>/<kind>/<slot>/model.tflite   plus manifest.json and the golden file, if any
    <root>/<kind>/.staging-<id>/        an install in progress

An install copies the files into a staging folder (temp file, fsync, rename), checks the model's
sha256 and size against its manifest, runs the golden inputs through LiteRT, and only then
switches by replacing slots.json atomically. A crash at any point leaves either the old or the new
slots.json: never a half-installed active model. With nothing installed, the bundled starter model
(`<bundled_dir>/<kind>/model.tflite` + `manifest.json`) is the active one.

Loading: `active()` checks the model file's size and sha256 against its manifest every time it is
asked, so a file changed on disk after its install (tampered, or damaged) is never run. If the
active slot fails that check and a previous slot passes it, the previous model is returned (with
a warning in the log; slots.json is not rewritten: a read never changes the store). If no model
passes, `ModelFileMismatchError` is raised.

Other processes: building a store object changes nothing on disk but creating its folder; another
process may be installing into it at that moment. What crashed installs leave behind (staging
folders, temp files, slot folders no slots.json names) is removed by `remove_leftovers`, and only
once it is older than LEFTOVER_AGE_S; `install` calls it first.

Privacy: every folder the store creates is 0700 and every file 0600 (edge_models.durable).

Errors: everything the store raises on purpose is a ModelStoreError:

    ModelStoreError               base; catch this to turn model feedback off with a reason
    ├── NoModelError              no model of this kind is installed and none is bundled
    ├── ModelKindError            not a model kind, or a manifest of another kind (also ValueError)
    ├── ModelFileMismatchError    a model file is not the one its manifest describes (size or
    │                             sha256): offered to `install`, or found so on disk by `active`
    │                             (also edge_models.manifest.ModelIntegrityError)
    ├── GoldenCheckError          a new model failed its smoke test; the active model was kept
    ├── NothingToRollBackError    no previous model of this kind to go back to
    └── DamagedStoreError         slots.json or a slot's manifest cannot be read

The disk's own errors (OSError: disk full, no permission) pass through unwrapped. Whatever is
raised, the active model is the one it was before the call.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import threading
import time
import uuid
from pathlib import Path
from typing import Callable

import numpy as np

from edge_models.durable import PRIVATE_FILE_MODE, fsync_dir, make_private_dir, write_file_atomically
from edge_models.manifest import (
    MODEL_KINDS, GoldenSet, ManifestError, ModelIntegrityError, ModelManifest, load_manifest,
    save_manifest, verify_model_file,
)
from edge_models.runtime import ModelFileError, ModelRunner, RunnerOptions

logger = logging.getLogger(__name__)

BUNDLED_MODELS_DIR = Path(__file__).resolve().parent / "bundled"  # the starter models shipped in the package

MODEL_FILE = "model.tflite"
MANIFEST_FILE = "manifest.json"
SLOTS_FILE = "slots.json"
STAGING_PREFIX = ".staging-"
COPY_BLOCK_BYTES = 1 << 20  # copy model files a mebibyte at a time
LEFTOVER_AGE_S = 3600.0  # an install takes seconds: staging untouched for an hour is a crashed one
_SLOT_ID_RE = re.compile(r"^[0-9a-f]{12}$")  # the id in a staging folder's and a slot's name
_TEMP_FILE_RE = re.compile(r"^\..+\.part$")  # write_file_atomically's and _copy_durably's temp names

GoldenCheck = Callable[[Path, ModelManifest], None]
"""A smoke test on a staged model file: returns if the model is fit to run, raises if not."""

LIVE_CHECK_CALLS = 20  # a model's first live calls are watched: an error or a non-finite output fails it
LiveFailureHandler = Callable[[str, str, str], "tuple[Path, ModelManifest] | None"]
"""(kind, version, reason) -> the model to run instead (path, manifest), or None to carry on."""


class ModelStoreError(Exception):
    """Base of the store's errors (the tree is in the module's docstring)."""


class NoModelError(ModelStoreError):
    """No model of this kind is installed and no starter model is bundled."""


class ModelKindError(ModelStoreError, ValueError):
    """Not one of MODEL_KINDS, or a manifest that describes a model of another kind."""


class ModelFileMismatchError(ModelStoreError, ModelIntegrityError):
    """A model file is not the one its manifest describes (size or sha256 differ)."""


class GoldenCheckError(ModelStoreError):
    """A new model failed its smoke test on the golden inputs; the active model was kept."""


class NothingToRollBackError(ModelStoreError):
    """There is no previous model of this kind to go back to."""


class DamagedStoreError(ModelStoreError):
    """slots.json or the manifest of an installed model cannot be read."""


def check_golden(model_path: Path, manifest: ModelManifest) -> None:
    """Run the model on LiteRT; with a golden file, its outputs must match within golden_atol."""
    try:
        runner = ModelRunner.create_from_options(RunnerOptions(model_path, warmup_runs=0))
    except ModelFileError as exc:
        raise GoldenCheckError(f"LiteRT cannot load the new {manifest.kind} model: {exc}") from exc
    with runner:
        if manifest.golden_file is None:
            logger.warning("%s %s has no golden file: only checked that it loads",
                           manifest.name, manifest.version)
            return
        golden = GoldenSet.load(model_path.parent / manifest.golden_file)
        for i, sample in enumerate(golden.inputs):
            _compare_golden_sample(runner, golden, i, sample, manifest.golden_atol)


def _compare_golden_sample(runner: ModelRunner, golden: GoldenSet, i: int, sample: np.ndarray,
                           atol: float) -> None:
    spec = runner.input_specs[0]
    try:
        got = runner.run(sample.astype(np.float32).reshape(spec.shape))
    except ValueError as exc:
        raise GoldenCheckError(f"golden input {i} does not fit the model: {exc}") from exc
    if not isinstance(got, dict):
        if len(golden.outputs) != 1:
            raise GoldenCheckError(f"the model has one output, the golden file {len(golden.outputs)}")
        got = {name: got for name in golden.outputs}
    for name, expected in golden.outputs.items():
        if name not in got:
            raise GoldenCheckError(f"the model has no output {name!r} (it has {sorted(got)})")
        error = float(np.max(np.abs(got[name].ravel() - expected[i].ravel())))
        if not error <= atol:
            raise GoldenCheckError(f"golden sample {i}, output {name!r}: off by {error:.4g} "
                                   f"(tolerance {atol:.4g})")


class LiveModelCheck:
    """Watches a model's first `calls` live runs; the first error or non-finite output is reported once.

    A feedback worker calls `observe(outputs)` after each run and `failed(exc)` when a run raises;
    both return the model to switch to when the handler rolled the failing one back, else None.
    """

    def __init__(self, kind: str, version: str, on_failure: LiveFailureHandler,
                 calls: int = LIVE_CHECK_CALLS) -> None:
        self.kind, self.version = kind, version
        self._on_failure = on_failure
        self._calls_left = calls
        self.failure: str | None = None

    def observe(self, outputs: np.ndarray | dict[str, np.ndarray]) -> tuple[Path, ModelManifest] | None:
        if self._calls_left <= 0 or self.failure is not None:
            return None
        self._calls_left -= 1
        arrays = outputs.values() if isinstance(outputs, dict) else (outputs,)
        if all(np.all(np.isfinite(np.asarray(a))) for a in arrays):
            return None
        return self._report("non-finite outputs in its first live calls")

    def failed(self, exc: BaseException) -> tuple[Path, ModelManifest] | None:
        if self._calls_left <= 0 or self.failure is not None:
            return None
        return self._report(f"a live run failed: {type(exc).__name__}: {exc}")

    def _report(self, reason: str) -> tuple[Path, ModelManifest] | None:
        self.failure = reason
        logger.error("%s model %s: %s", self.kind, self.version, reason)
        return self._on_failure(self.kind, self.version, reason)


class ModelStore:
    """The models installed on this laptop, one active and one previous per kind."""

    def __init__(self, root: Path | str, bundled_dir: Path | str | None = None) -> None:
        self._root = make_private_dir(Path(root))
        self._bundled = Path(bundled_dir) if bundled_dir is not None else None
        self._lock = threading.Lock()

    def active(self, kind: str) -> tuple[Path, ModelManifest]:
        """The model file and manifest to run for `kind`: installed, else bundled; checked just now.

        The file's size and sha256 are checked against its manifest; a changed active file falls
        back to the previous slot when that one passes, else ModelFileMismatchError.
        """
        slots = self._slots(kind)
        if slots["active"] is None:
            return _checked(*self._bundled_model(kind))
        try:
            return _checked(*self._read_slot(kind, slots["active"]))
        except ModelFileMismatchError as exc:
            if slots["previous"] is None:
                raise
            logger.warning("the active %s model cannot be trusted (%s); running the previous one, %s", kind,
                           exc, slots["previous"])
            return _checked(*self._read_slot(kind, slots["previous"]))

    def previous(self, kind: str) -> tuple[Path, ModelManifest] | None:
        slot = self._slots(kind)["previous"]
        return None if slot is None else self._read_slot(kind, slot)

    def install(self, kind: str, tflite_path: Path | str, manifest: ModelManifest,
                golden_check: GoldenCheck | None = check_golden) -> Path:
        """Make this model the active one; the active one becomes previous. Returns its path.

        The model's golden file (manifest.golden_file) is taken from beside `tflite_path`.
        Raises `ModelFileMismatchError` (file differs from its manifest) or `GoldenCheckError`
        (smoke test failed); either way the active model is untouched.
        """
        _check_kind(kind, manifest)
        with self._lock:
            self.remove_leftovers(kind)
            staging = self._stage(kind, Path(tflite_path), manifest)
            try:
                _verify(manifest, staging / MODEL_FILE)
                self._smoke_test(staging, manifest, golden_check)
            except Exception:
                shutil.rmtree(staging, ignore_errors=True)
                raise
            return self._switch(kind, staging, manifest)

    def rollback(self, kind: str) -> tuple[Path, ModelManifest]:
        """Go back to the previous model of `kind`; the one rolled back from is removed.

        The first installed model has no previous slot: it goes back to the bundled starter model.
        """
        with self._lock:
            slots = self._slots(kind)
            if slots["previous"] is None and (slots["active"] is None or not self._has_bundled(kind)):
                raise NothingToRollBackError(f"no previous {kind} model to roll back to")
            self._write_slots(kind, {"active": slots["previous"], "previous": None})
            self._remove_slot(kind, slots["active"])
            logger.info("rolled %s back to %s", kind, slots["previous"] or "the bundled model")
        return self.active(kind)

    # -- staging and switching -------------------------------------------------------------

    def _stage(self, kind: str, tflite_path: Path, manifest: ModelManifest) -> Path:
        staging = self._private_kind_dir(kind) / f"{STAGING_PREFIX}{uuid.uuid4().hex[:12]}"
        make_private_dir(staging)
        try:
            _copy_durably(tflite_path, staging / MODEL_FILE)
            if manifest.golden_file is not None:
                _copy_durably(tflite_path.parent / manifest.golden_file, staging / manifest.golden_file)
            save_manifest(manifest, staging / MANIFEST_FILE)
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return staging

    @staticmethod
    def _smoke_test(staging: Path, manifest: ModelManifest, golden_check: GoldenCheck | None) -> None:
        if golden_check is None:
            return
        try:
            golden_check(staging / MODEL_FILE, manifest)
        except GoldenCheckError:
            raise
        except Exception as exc:  # any failure of the smoke test means: do not run this model
            raise GoldenCheckError(f"{manifest.name} {manifest.version} failed its smoke test: {exc}") from exc

    def _switch(self, kind: str, staging: Path, manifest: ModelManifest) -> Path:
        slot = f"{manifest.version}-{staging.name[len(STAGING_PREFIX):]}"
        staging.rename(self._kind_dir(kind) / slot)
        fsync_dir(self._kind_dir(kind))
        old = self._slots(kind)
        self._write_slots(kind, {"active": slot, "previous": old["active"]})  # the switch
        if old["previous"] is not None:
            self._remove_slot(kind, old["previous"])
        logger.info("installed %s %s as the active %s model", manifest.name, manifest.version, kind)
        return self._kind_dir(kind) / slot / MODEL_FILE

    # -- slots on disk -----------------------------------------------------------------------

    def _kind_dir(self, kind: str) -> Path:
        if kind not in MODEL_KINDS:
            raise ModelKindError(f"model kind must be one of {list(MODEL_KINDS)}, got {kind!r}")
        return self._root / kind

    def _private_kind_dir(self, kind: str) -> Path:
        return make_private_dir(self._kind_dir(kind))

    def _slots(self, kind: str) -> dict[str, str | None]:
        path = self._kind_dir(kind) / SLOTS_FILE
        if not path.is_file():
            return {"active": None, "previous": None}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return {"active": data["active"], "previous": data["previous"]}
        except (ValueError, KeyError, TypeError) as exc:
            raise DamagedStoreError(f"{path} is damaged: {exc}") from exc

    def _write_slots(self, kind: str, slots: dict[str, str | None]) -> None:
        self._private_kind_dir(kind)
        payload = json.dumps(slots, indent=2).encode("utf-8")
        write_file_atomically(self._kind_dir(kind) / SLOTS_FILE, payload)

    def _read_slot(self, kind: str, slot: str) -> tuple[Path, ModelManifest]:
        return _read_model(self._kind_dir(kind) / slot)

    def _remove_slot(self, kind: str, slot: str | None) -> None:
        if slot:
            shutil.rmtree(self._kind_dir(kind) / slot, ignore_errors=True)

    def remove_leftovers(self, kind: str, min_age_s: float = LEFTOVER_AGE_S) -> list[str]:
        """Remove what crashed installs of `kind` left, once untouched for `min_age_s`; their names.

        Only the store's own leftovers: staging folders, temp files, and slot folders that
        slots.json does not name. Anything else in the folder, and anything younger (another
        process may be installing right now), is left alone.
        """
        folder = self._kind_dir(kind)
        if not folder.is_dir():
            return []
        live = set(self._slots(kind).values())
        cutoff_s = time.time() - min_age_s
        removed = []
        for entry in folder.iterdir():
            if _is_leftover(entry, live) and entry.lstat().st_mtime < cutoff_s:
                logger.info("removing %s, left by an interrupted install", entry.name)
                _remove(entry)
                removed.append(entry.name)
        return removed

    def _has_bundled(self, kind: str) -> bool:
        return self._bundled is not None and (self._bundled / kind / MANIFEST_FILE).is_file()

    def _bundled_model(self, kind: str) -> tuple[Path, ModelManifest]:
        folder = self._bundled / kind if self._bundled is not None else None
        if folder is None or not (folder / MANIFEST_FILE).is_file():
            raise NoModelError(f"no {kind} model is installed and none is bundled")
        return _read_model(folder)


def _read_model(folder: Path) -> tuple[Path, ModelManifest]:
    try:
        return folder / MODEL_FILE, load_manifest(folder / MANIFEST_FILE)
    except ManifestError as exc:
        raise DamagedStoreError(str(exc)) from exc


def _verify(manifest: ModelManifest, path: Path) -> None:
    try:
        verify_model_file(manifest, path)
    except ModelIntegrityError as exc:
        raise ModelFileMismatchError(str(exc)) from exc


def _checked(path: Path, manifest: ModelManifest) -> tuple[Path, ModelManifest]:
    """The model, once its file is checked against its manifest (size, then sha256)."""
    try:
        verify_model_file(manifest, path)
    except ModelIntegrityError as exc:
        raise ModelFileMismatchError(f"{manifest.kind} model {manifest.name} {manifest.version} at "
                                     f"{path.parent}: {exc}") from exc
    return path, manifest


def _is_leftover(entry: Path, live: set[str | None]) -> bool:
    """A name only this store gives: staging folder, temp file, or a slot that slots.json no longer names."""
    name = entry.name
    if entry.is_dir():
        if name.startswith(STAGING_PREFIX):
            return bool(_SLOT_ID_RE.match(name[len(STAGING_PREFIX):]))
        version, _, slot_id = name.rpartition("-")
        return bool(version) and bool(_SLOT_ID_RE.match(slot_id)) and name not in live
    return bool(_TEMP_FILE_RE.match(name))


def _remove(entry: Path) -> None:
    if entry.is_dir():
        shutil.rmtree(entry, ignore_errors=True)
    else:
        entry.unlink(missing_ok=True)


def _check_kind(kind: str, manifest: ModelManifest) -> None:
    if manifest.kind != kind:
        raise ModelKindError(f"the manifest describes a {manifest.kind} model, not a {kind} model")


def _copy_durably(source: Path, target: Path) -> None:
    """Copy to a temp name, fsync, rename: a crash leaves no half file under the real name."""
    if not source.is_file():
        raise ModelFileMismatchError(f"{source} does not exist")
    tmp = target.with_name(f".{target.name}.part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
    with open(source, "rb") as src, os.fdopen(fd, "wb") as dst:
        shutil.copyfileobj(src, dst, COPY_BLOCK_BYTES)
        dst.flush()
        os.fsync(dst.fileno())
    tmp.replace(target)
