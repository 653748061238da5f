"""Real recordings for tests: skip with a clear reason where the data step has not run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from edge_models.assets import AssetMissing, asset_path


def real_asset(member_suffix: str) -> Path:
    try:
        return asset_path(member_suffix)
    except AssetMissing as exc:
        if os.environ.get("CI"):
            raise  # CI always runs the data step: a missing file there is a failure
        pytest.skip(str(exc))
