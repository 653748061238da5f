"""The update repository's commands, as plain functions the `trackside-cloud` command wires in.

    cli_init(repo, keys, root_key)      trackside-cloud init: keys and root v1 (root key kept apart)
    cli_publish(repo, keys, bundle)     trackside-cloud publish BUNDLE: an accepted model as targets
    cli_refresh(repo, keys)             re-sign timestamp (and snapshot near expiry): run every few hours

Each prints one line for a person and returns an exit status: 0 done, 3 a repository, key or bundle
that cannot be used (the message says which and why, no traceback).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from edge_models.manifest import ManifestError
from training.publish.keys import KeyFileError
from training.publish.repository import PublishError, init_repository, publish_model, refresh_expiring

logger = logging.getLogger(__name__)

EXIT_UNUSABLE = 3
_USER_ERRORS = (PublishError, KeyFileError, ManifestError, FileNotFoundError, PermissionError)


def cli_init(repo: Path, keys: Path, root_key: Path) -> int:
    return _run(lambda: f"created {init_repository(repo, keys, root_key)}; keep {root_key} offline")


def cli_publish(repo: Path, keys: Path, bundle: Path) -> int:
    def publish() -> str:
        published = publish_model(repo, bundle, keys)
        return f"published {published.kind} {published.version} (targets v{published.targets_version})"
    return _run(publish)


def cli_refresh(repo: Path, keys: Path) -> int:
    def refresh() -> str:
        refresh_expiring(repo, keys)
        return f"re-signed the timestamp of {repo}"
    return _run(refresh)


def _run(action) -> int:
    try:
        print(action())
    except _USER_ERRORS as exc:
        print(f"trackside-cloud: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    return 0
