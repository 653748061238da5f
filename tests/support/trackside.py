"""The `trackside` command as a shell starts it: a real process, on this checkout's code."""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def trackside_command(launcher: str = "module") -> list[str]:
    """`python -m desktop.cli` ("module"), or the `trackside` script pip installed ("entry_point")."""
    if launcher == "module":
        return [sys.executable, "-m", "desktop.cli"]
    entry_point = Path(sys.executable).with_name("trackside")
    assert entry_point.is_file(), f"the trackside entry point is not installed at {entry_point}"
    return [str(entry_point)]


def trackside_env() -> dict[str, str]:
    """The environment, with this checkout first on the import path (not another installed copy)."""
    paths = [str(REPO_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
