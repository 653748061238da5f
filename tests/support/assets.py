"""Real recordings for tests. A missing file fails the test: `make test` always fetches the data first.

Skipping instead would let a machine without the data pass the suite while testing nothing real.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_models.assets import AssetMissing, asset_path


def real_asset(member_suffix: str) -> Path:
    try:
        return asset_path(member_suffix)
    except AssetMissing as exc:
        pytest.fail(f"{exc} (the tests need the real data; `make test` fetches it)", pytrace=False)
