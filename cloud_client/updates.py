"""Signed model updates on the laptop: python-tuf's ngclient, the model store's slots, a state file.

    updates = ModelUpdates(store, UpdateSource(url, trusted_root), data_dir / "updates")
    record = updates.check_for_update("heart_rate")   # refresh, pick, download, verify, install
    record.status, record.reason                      # what the Models screen shows

Trust: the laptop ships its root metadata (`UpdateSource.trusted_root`) and never takes a root
from the network on first use; newer roots are accepted only when signed by the one before.
`refresh()` refuses metadata that is expired (freeze), older than seen before (rollback), of
mixed versions (mix-and-match), signed by the wrong key, or longer than its cap (endless data).

A check, for one model kind:
1. `refresh()` then `get_targetinfo("models/<kind>/latest.json")`: the versions published, from
   signed metadata alone; the coach's pin, if any, chooses the version instead of the newest.
2. The model's target info: its custom metadata must name this kind and version, its length must
   be under MAX_MODEL_BYTES; nothing older than the active model is installed unless pinned.
3. `download_target` for model, manifest and golden file, each capped at its signed length and
   checked against its signed sha256 before it is written; then the manifest must describe the
   very file TUF verified (sha256, size, kind, version).
4. `ModelStore.install`: staged copy re-checked against the manifest, LiteRT loads it and runs
   the golden inputs, and only then the atomic switch. A model that fails to load or fails the
   smoke test never becomes active: recorded as rolled back, with the reason, never retried.
5. Live: `report_live_failure` (called by edge_models.model_store.LiveModelCheck from the
   feedback workers) rolls back to the previous model when the new one raises or gives
   non-finite outputs in its first calls.

Expiry stops new installs, never the installed model: loading a model (`ModelStore.active`)
checks its file against its manifest and nothing else, so 30 days without network change nothing.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from tuf.api import exceptions as tuf_errors
from tuf.api.metadata import TargetFile
from tuf.ngclient import Updater
from tuf.ngclient.fetcher import FetcherInterface

from cloud_client.tuf_fetcher import RequestsFetcher, check_update_url
from edge_models.durable import make_private_dir, write_file_atomically
from edge_models.manifest import ManifestError, ModelManifest, load_manifest, parse_version
from edge_models.model_store import (
    GoldenCheckError, ModelFileMismatchError, ModelStore, ModelStoreError, NothingToRollBackError,
)

logger = logging.getLogger(__name__)

MAX_MODEL_BYTES = 64 * 1024 * 1024  # no model of ours comes near; a bigger target is refused unread
MODEL_FILES = ("model.tflite", "manifest.json", "golden.npz")
STATE_FILE = "state.json"
HISTORY_KEPT = 20  # events kept per kind for the Models screen
SMOKE_TEST_TIMEOUT_S = 120.0  # loading and running a few golden inputs takes about a second
# The smoke test of a downloaded model runs in a child Python: a model file that crashes LiteRT
# (it aborts the process on some malformed quantization parameters) kills the child, not the app.
_SMOKE_TEST_CHILD = """
import sys
from pathlib import Path
from edge_models.manifest import load_manifest
from edge_models.model_store import GoldenCheckError, check_golden
model = Path(sys.argv[1])
try:
    check_golden(model, load_manifest(model.parent / "manifest.json"))
except GoldenCheckError as exc:
    print(exc)
    sys.exit(1)
"""

# What a record's status means (the Models screen shows these):
UP_TO_DATE = "up_to_date"  # the newest published version (or the pinned one) is active
AVAILABLE = "available"  # a newer version is published and not yet installed
INSTALLING = "installing"
INSTALLED = "installed"  # the last update installed and is active
ROLLED_BACK = "rolled_back"  # a new model failed (load, smoke test or live) and the one before runs
REFUSED = "refused"  # the server's data failed verification: nothing installed
OFFLINE = "offline"  # no answer from the update server: the active model runs on
PINNED = "pinned"  # the coach pinned the active version; others are skipped


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class UpdateSource:
    """Where updates come from and the root of trust shipped with this laptop."""

    url: str  # the repository's base URL: <url>metadata/ and <url>targets/
    trusted_root: bytes  # root.json as shipped (never fetched on first use)

    @classmethod
    def from_root_file(cls, url: str, root_path: Path | str) -> UpdateSource:
        return cls(url, Path(root_path).read_bytes())

    def base(self) -> str:
        return check_update_url(self.url if self.url.endswith("/") else self.url + "/")


@dataclass
class UpdateRecord:
    """The update state of one model kind, as the Models screen shows it."""

    kind: str
    status: str = UP_TO_DATE
    active_version: str | None = None
    available_version: str | None = None
    pinned_version: str | None = None
    reason: str = ""  # why: the refusal, the failed check, the rollback
    checked_utc: str | None = None
    rejected: dict[str, str] = field(default_factory=dict)  # version -> why it was rolled back
    history: list[dict] = field(default_factory=list)  # newest last: {"utc", "status", "version", "reason"}


class UpdateState:
    """Per-kind UpdateRecords, persisted as JSON (0600) after every change; thread-safe."""

    def __init__(self, path: Path, clock: Callable[[], datetime] = utc_now) -> None:
        self._path = Path(path)
        self._clock = clock
        self._lock = threading.Lock()
        self._records = self._load()

    def get(self, kind: str) -> UpdateRecord:
        with self._lock:
            return replace(self._records.get(kind) or UpdateRecord(kind))

    def all(self) -> dict[str, UpdateRecord]:
        with self._lock:
            return {kind: replace(record) for kind, record in self._records.items()}

    def change(self, kind: str, status: str | None = None, version: str | None = None, reason: str = "",
               **fields) -> UpdateRecord:
        """Set fields of `kind`'s record; a new status is logged in its history. Saved at once."""
        with self._lock:
            record = self._records.get(kind) or UpdateRecord(kind)
            record = replace(record, **fields)
            if reason:
                record.reason = reason
            if status is not None:
                record.status, record.reason = status, reason
                record.history = [*record.history, {"utc": self._stamp(), "status": status, "version": version,
                                                    "reason": reason}][-HISTORY_KEPT:]
            self._records[kind] = record
            self._save()
            return replace(record)

    def pin(self, kind: str, version: str) -> UpdateRecord:
        """The coach keeps `version` of `kind`: checks install nothing else until unpinned."""
        parse_version(version)
        return self.change(kind, PINNED, version, f"pinned to {version} by the coach", pinned_version=version)

    def unpin(self, kind: str) -> UpdateRecord:
        return self.change(kind, UP_TO_DATE, None, "pin removed", pinned_version=None)

    def stamp(self) -> str:
        return self._stamp()

    def _stamp(self) -> str:
        return self._clock().strftime("%Y-%m-%dT%H:%M:%SZ")

    def _load(self) -> dict[str, UpdateRecord]:
        try:
            data = json.loads(self._path.read_text(encoding="utf-8"))
            return {kind: UpdateRecord(**value) for kind, value in data.items()}
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, TypeError) as exc:  # a damaged state file costs the history only
            logger.warning("update state %s unreadable (%s): starting afresh", self._path, exc)
            return {}

    def _save(self) -> None:
        make_private_dir(self._path.parent)
        payload = json.dumps({k: asdict(v) for k, v in self._records.items()}, indent=2, sort_keys=True)
        write_file_atomically(self._path, payload.encode("utf-8"))


_STATUS_WORDS = {
    UP_TO_DATE: "up to date", AVAILABLE: "an update is available", INSTALLING: "installing an update",
    INSTALLED: "update installed", ROLLED_BACK: "update rolled back", REFUSED: "update refused",
    OFFLINE: "update server not reached: the active model runs on", PINNED: "pinned",
}


def describe(record: UpdateRecord) -> str:
    """One line for the coach: the state, the versions involved, why, and when it was last checked."""
    words = [_STATUS_WORDS.get(record.status, record.status)]
    if record.pinned_version:
        words.append(f"kept at {record.pinned_version}")
    if record.available_version and record.status in (AVAILABLE, INSTALLING):
        words.append(f"version {record.available_version}")
    if record.reason and record.status in (ROLLED_BACK, REFUSED, OFFLINE):
        words.append(record.reason)
    if record.checked_utc:
        words.append(f"checked {record.checked_utc.replace('T', ' ').rstrip('Z')} UTC")
    return " · ".join(words)


class UpdateRefused(Exception):
    """The server's answer failed a check: nothing is installed."""


class ModelUpdates:
    """Checks, installs, pins and rolls back model updates for this laptop's model store."""

    def __init__(self, store: ModelStore, source: UpdateSource, folder: Path, *,
                 fetcher_factory: Callable[[], FetcherInterface] = RequestsFetcher,
                 max_model_bytes: int = MAX_MODEL_BYTES, clock: Callable[[], datetime] = utc_now) -> None:
        self._store = store
        self._source = source
        source.base()  # an http URL to another machine is refused here, before any check
        self._folder = make_private_dir(Path(folder))
        self._fetcher_factory = fetcher_factory
        self._max_model_bytes = max_model_bytes
        self.state = UpdateState(self._folder / STATE_FILE, clock)
        self._lock = threading.Lock()  # one check or rollback at a time

    # -- the coach's controls -------------------------------------------------------------------

    def pin(self, kind: str, version: str | None = None) -> UpdateRecord:
        """Pin `version` (default: the active one); checks then install nothing else."""
        return self.state.pin(kind, version or self._active_version(kind))

    def unpin(self, kind: str) -> UpdateRecord:
        return self.state.unpin(kind)

    # -- checking -------------------------------------------------------------------------------

    def check_for_update(self, kind: str, install: bool = True) -> UpdateRecord:
        """One check for `kind`: install the chosen version if it is new and passes every check.

        Whatever the server does, the answer is a record (refused, offline, rolled back...); only
        this laptop's own faults pass through: OSError (disk full) and a damaged model store.
        """
        with self._lock:
            self.state.change(kind, active_version=self._active_version(kind), checked_utc=self.state.stamp())
            try:
                return self._check(kind, install)
            except UpdateRefused as exc:
                logger.warning("%s update refused: %s", kind, str(exc))
                return self.state.change(kind, REFUSED, None, str(exc))
            except tuf_errors.DownloadLengthMismatchError as exc:
                return self._refused(kind, "the server sent more than the signed length (endless data)", exc)
            except tuf_errors.DownloadError as exc:
                logger.info("%s update check: no answer from the update server (%s)", kind, str(exc))
                return self.state.change(kind, OFFLINE, None, f"update server not reachable: {_cause(exc)}")
            except tuf_errors.RepositoryError as exc:
                return self._refused(kind, _repository_words(exc), exc)
            except ManifestError as exc:  # a version string in signed metadata that is not a version
                return self._refused(kind, "the signed metadata names no usable version", exc)

    def _refused(self, kind: str, words: str, exc: Exception) -> UpdateRecord:
        logger.warning("%s update refused: %s (%s)", kind, words, str(exc))  # a string: no traceback kept
        return self.state.change(kind, REFUSED, None, f"{words}: {exc}")

    def _check(self, kind: str, install: bool) -> UpdateRecord:
        fetcher = self._fetcher_factory()
        try:
            updater = self._updater(fetcher)
            updater.refresh()
            chosen = self._choose_version(kind, updater)
            if chosen is None:
                return self.state.get(kind)
            model_info = self._model_info(updater, kind, chosen)
            self.state.change(kind, AVAILABLE, chosen, f"{kind} {chosen} is published", available_version=chosen)
            return self._install(kind, chosen, updater, model_info) if install else self.state.get(kind)
        finally:
            if hasattr(fetcher, "close"):
                fetcher.close()

    def _updater(self, fetcher: FetcherInterface) -> Updater:
        metadata_dir = make_private_dir(self._folder / "tuf")
        base = self._source.base()
        return Updater(str(metadata_dir), base + "metadata/", target_base_url=base + "targets/",
                       fetcher=fetcher, bootstrap=self._source.trusted_root)

    def _choose_version(self, kind: str, updater: Updater) -> str | None:
        """The version to install, or None (with the record saying why) when there is none."""
        record, active = self.state.get(kind), self._active_version(kind)
        latest = updater.get_targetinfo(f"models/{kind}/latest.json")
        if latest is None or not isinstance(latest.custom, dict):
            self.state.change(kind, UP_TO_DATE, active, f"no {kind} model published yet", available_version=None)
            return None
        versions, newest = list(latest.custom.get("versions", [])), str(latest.custom.get("version"))
        wanted = record.pinned_version or newest
        if wanted == active:
            pinned = record.pinned_version is not None and newest != active
            self.state.change(kind, PINNED if pinned else UP_TO_DATE, active,
                              f"pinned to {active}; {newest} is published" if pinned else f"{kind} {active} is active",
                              available_version=newest if pinned else None)
            return None
        if wanted not in versions:
            raise UpdateRefused(f"pinned {kind} {wanted} is not published (published: {versions})")
        if wanted in record.rejected:
            self.state.change(kind, ROLLED_BACK, wanted, record.rejected[wanted], available_version=wanted)
            return None
        if not record.pinned_version and active is not None and parse_version(wanted) < parse_version(active):
            raise UpdateRefused(f"{kind} {wanted} is older than the active {active}: not installing a rollback")
        return wanted

    def _model_info(self, updater: Updater, kind: str, version: str) -> TargetFile:
        info = updater.get_targetinfo(f"models/{kind}/{version}/model.tflite")
        if info is None:
            raise UpdateRefused(f"{kind} {version} is listed but its model is not signed")
        custom = info.custom if isinstance(info.custom, dict) else {}
        if custom.get("kind") != kind or custom.get("version") != version:
            raise UpdateRefused(f"the signed model at {info.path} says it is {custom.get('kind')} "
                                f"{custom.get('version')}, not {kind} {version}")
        if info.length > self._max_model_bytes:
            raise UpdateRefused(f"{kind} {version} is {info.length} bytes, over the {self._max_model_bytes} cap")
        return info

    # -- installing -----------------------------------------------------------------------------

    def _install(self, kind: str, version: str, updater: Updater, model_info: TargetFile) -> UpdateRecord:
        self.state.change(kind, INSTALLING, version, f"installing {kind} {version}")
        downloads = make_private_dir(self._folder / "downloads")
        with tempfile.TemporaryDirectory(prefix=f"{kind}-", dir=downloads) as tmp:
            folder = Path(tmp)
            for name in MODEL_FILES:
                info = model_info if name == "model.tflite" else self._file_info(updater, kind, version, name)
                updater.download_target(info, str(folder / name))  # length and sha256 checked first
            manifest = self._verified_manifest(folder, kind, version, model_info)
            try:
                self._store.install(kind, folder / "model.tflite", manifest, golden_check=check_golden_in_child)
            except GoldenCheckError as exc:
                return self._reject(kind, version, f"{kind} {version} failed its check on this laptop: {exc}")
            except ModelFileMismatchError as exc:
                raise UpdateRefused(f"{kind} {version}: {exc}") from exc
        logger.info("%s %s installed and active", kind, version)
        return self.state.change(kind, INSTALLED, version, f"{kind} {version} installed", active_version=version,
                                 available_version=None)

    @staticmethod
    def _file_info(updater: Updater, kind: str, version: str, name: str) -> TargetFile:
        info = updater.get_targetinfo(f"models/{kind}/{version}/{name}")
        if info is None or info.length > MAX_MODEL_BYTES:
            raise UpdateRefused(f"{kind} {version}: {name} is missing from the signed metadata or too large")
        return info

    @staticmethod
    def _verified_manifest(folder: Path, kind: str, version: str, model_info: TargetFile) -> ModelManifest:
        """The manifest, once it describes exactly the model file TUF verified."""
        try:
            manifest = load_manifest(folder / "manifest.json")
        except ManifestError as exc:
            raise UpdateRefused(f"{kind} {version}: {exc}") from exc
        if (manifest.kind, manifest.version) != (kind, version):
            raise UpdateRefused(f"the manifest describes {manifest.kind} {manifest.version}, not {kind} {version}")
        if (manifest.tflite_sha256, manifest.tflite_size_bytes) != (model_info.hashes.get("sha256"),
                                                                   model_info.length):
            raise UpdateRefused(f"{kind} {version}: the manifest and the signed metadata describe different files")
        if manifest.golden_file != "golden.npz":
            raise UpdateRefused(f"{kind} {version}: the manifest names no golden file to check it with")
        return manifest

    def _reject(self, kind: str, version: str, reason: str) -> UpdateRecord:
        """A new model failed: it is not (or no longer) active, and it is never tried again."""
        logger.warning("%s", reason)
        record = self.state.get(kind)
        return self.state.change(kind, ROLLED_BACK, version, reason, rejected={**record.rejected, version: reason},
                                 active_version=self._active_version(kind))

    # -- live failures --------------------------------------------------------------------------

    def report_live_failure(self, kind: str, version: str, reason: str) -> tuple[Path, ModelManifest] | None:
        """The model `version` of `kind` failed live: go back to the previous model.

        Returns the model now active (path, manifest) when it changed, else None (the failing
        model was not the active installed one, or there is nothing to go back to).
        """
        with self._lock:
            if self._active_version(kind) != version:
                return None
            try:
                now_active = self._store.rollback(kind)
            except NothingToRollBackError:
                logger.error("%s %s fails live (%s) and there is no model to go back to", kind, version, reason)
                self.state.change(kind, reason=f"{kind} {version} fails live: {reason}")
                return None
            except ModelStoreError as exc:
                logger.error("%s %s fails live (%s); rollback failed: %s", kind, version, reason, exc)
                return None
            self._reject(kind, version, f"{kind} {version} failed live and was rolled back: {reason}")
            return now_active

    def _active_version(self, kind: str) -> str | None:
        try:
            return self._store.active(kind)[1].version
        except ModelStoreError:
            return None


def check_golden_in_child(model_path: Path, manifest: ModelManifest) -> None:
    """The store's golden check on a staged model, in a child Python (a GoldenCheck)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    try:
        child = subprocess.run([sys.executable, "-c", _SMOKE_TEST_CHILD, str(model_path)], env=env,
                               capture_output=True, text=True, timeout=SMOKE_TEST_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        raise GoldenCheckError(f"{manifest.kind} {manifest.version}: its smoke test did not finish "
                               f"in {SMOKE_TEST_TIMEOUT_S:.0f} s") from exc
    if child.returncode == 0:
        return
    if child.returncode < 0:
        raise GoldenCheckError(f"LiteRT crashed on the new {manifest.kind} model (signal {-child.returncode})")
    said = (child.stdout.strip() or child.stderr.strip()).splitlines()
    raise GoldenCheckError(said[-1] if said else f"the smoke test failed (exit {child.returncode})")


def _cause(exc: BaseException) -> str:
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return str(exc) or type(exc).__name__


def _repository_words(exc: tuf_errors.RepositoryError) -> str:
    if isinstance(exc, tuf_errors.ExpiredMetadataError):
        return "the server's signed data has expired (a stale or frozen copy)"
    if isinstance(exc, tuf_errors.UnsignedMetadataError):
        return "not signed by the update keys this laptop trusts"
    if isinstance(exc, tuf_errors.BadVersionNumberError):
        return "signed data older than, or not matching, what this laptop has seen (rollback or mix-and-match)"
    if isinstance(exc, tuf_errors.LengthOrHashMismatchError):
        return "a downloaded file is not the one that was signed (changed or damaged)"
    return "the server's signed data failed verification"


CHECK_PERIOD_S = 6 * 3600.0  # a laptop looks for updates every six hours, and when asked


class PeriodicChecks:
    """Checks every kind every `period_s` on its own thread, and at once on `check_now()`."""

    def __init__(self, updates: ModelUpdates, kinds: tuple[str, ...], period_s: float = CHECK_PERIOD_S) -> None:
        self._updates, self._kinds, self._period_s = updates, kinds, period_s
        self._wake = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="model-update-checks", daemon=True)
        self.rounds = 0  # completed rounds of checks

    def start(self) -> PeriodicChecks:
        self._thread.start()
        return self

    def check_now(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()  # a check_now() during this round brings the next round at once
            for kind in self._kinds:
                if self._stopping:
                    return
                try:
                    self._updates.check_for_update(kind)
                except Exception:  # a bug in one check must not end checking for the session
                    logger.exception("update check of %s failed", kind)
            self.rounds += 1
            self._wake.wait(self._period_s)
