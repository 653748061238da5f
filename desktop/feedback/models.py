"""Which model file the laptop runs for each kind: installed by an update, else the bundled one."""

from __future__ import annotations

from pathlib import Path

from edge_models.manifest import ModelManifest
from edge_models.model_store import BUNDLED_MODELS_DIR, ModelStore



def model_store(data_dir: Path) -> ModelStore:
    """The installed-model store of this laptop, kept beside its sessions."""
    return ModelStore(Path(data_dir) / "models", bundled_dir=BUNDLED_MODELS_DIR)


def active_model(data_dir: Path, kind: str) -> tuple[Path, ModelManifest]:
    return model_store(data_dir).active(kind)
