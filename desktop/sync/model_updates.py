"""Model updates from the team's cloud: the root of trust this laptop holds, and the checks.

The laptop never trusts an update repository on first use: it must already hold the team's
`root.json` (the repository's root of trust) before any update is looked for. It gets it in one
of two ways, both by a file, never over the network:

- `trackside sync trust-root FILE`: the coach installs the root.json the team's administrator
  handed over beside the enrolment code (the cloud's `<data-dir>/updates-repo/metadata/root.json`);
- the embedded cloud (`trackside app --embedded-cloud`, `make run`) runs on this computer: its
  root.json is copied from its data folder when the laptop enrols with it.

With an enrolment and a root, the window checks `<server url>/updates/` every few hours and at
start, and the live session rolls a failing new model back.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from cloud_client.updates import CHECK_PERIOD_S, ModelUpdates, PeriodicChecks, UpdateSource
from edge_models.durable import write_file_atomically
from edge_models.manifest import MODEL_KINDS

logger = logging.getLogger(__name__)

TRUSTED_ROOT_FILE = "update-root.json"  # in the data folder, user-only
UPDATES_PATH = "updates/"  # the repository on the team's service: <url>/updates/metadata/, targets/


class RootFileError(ValueError):
    """The file is not a repository's signed root (a user error: said in words)."""


def trusted_root_path(data_dir: Path) -> Path:
    return Path(data_dir) / TRUSTED_ROOT_FILE


def trust_root(data_dir: Path, root_file: Path) -> Path:
    """Keep `root_file` as this laptop's root of trust for model updates (checked to be a root
    signed by its own keys first); returns where it is kept."""
    from tuf.api.exceptions import RepositoryError
    from tuf.api.metadata import Metadata, Root

    try:
        raw = Path(root_file).read_bytes()
        root = Metadata[Root].from_bytes(raw)
        if root.signed.type != "root":
            raise RootFileError(f"{root_file} is {root.signed.type} metadata, not a root")
        root.signed.verify_delegate("root", root.signed_bytes, root.signatures)
    except OSError as exc:
        raise RootFileError(f"cannot read {root_file}: {exc.strerror or exc}") from None
    except (ValueError, KeyError, TypeError, RepositoryError) as exc:
        raise RootFileError(f"{root_file} is not a signed update root: {exc}") from None
    target = trusted_root_path(data_dir)
    write_file_atomically(target, raw)
    os.chmod(target, 0o600)
    logger.info("trusting update root v%d from %s", root.signed.version, root_file)
    return target


def updates_for(data_dir: Path) -> ModelUpdates | None:
    """The update client for this laptop, or None: not enrolled, no root of trust, or an address
    the client refuses (plain http to another computer); the log says which."""
    from desktop.feedback.models import UPDATES_FOLDER, model_store
    from desktop.store import Store

    root = trusted_root_path(data_dir)
    with Store.open(data_dir) as store:
        server = store.sync_server()
    if server is None or not root.is_file():
        logger.info("model updates off: %s", "not enrolled" if server is None else "no update root installed "
                    "(trackside sync trust-root FILE)")
        return None
    url = server.url.rstrip("/") + "/" + UPDATES_PATH
    try:
        return ModelUpdates(model_store(data_dir), UpdateSource.from_root_file(url, root),
                            Path(data_dir) / UPDATES_FOLDER)
    except ValueError as exc:  # an address the update client refuses
        logger.warning("model updates off: %s", exc)
        return None


def start_update_checks(data_dir: Path, period_s: float = CHECK_PERIOD_S) -> PeriodicChecks | None:
    """Checks of every model kind now and every `period_s` on a thread (stop() them), or None."""
    updates = updates_for(data_dir)
    return None if updates is None else PeriodicChecks(updates, tuple(MODEL_KINDS), period_s).start()


def live_failure_handler(data_dir: Path):
    """What a live session calls when a new model fails live (rolls it back), or None."""
    updates = updates_for(data_dir)
    return None if updates is None else updates.report_live_failure
