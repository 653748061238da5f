"""Which model file the laptop runs for each kind: installed by an update, else the bundled one."""

from __future__ import annotations

from pathlib import Path

from cloud_client.updates import STATE_FILE, UpdateState
from edge_models.manifest import ModelManifest
from edge_models.model_store import BUNDLED_MODELS_DIR, ModelStore

UPDATES_FOLDER = "updates"  # beside the models: the signed-update client's downloads and state


def model_store(data_dir: Path) -> ModelStore:
    """The installed-model store of this laptop, kept beside its sessions."""
    return ModelStore(Path(data_dir) / "models", bundled_dir=BUNDLED_MODELS_DIR)


def update_state(data_dir: Path) -> UpdateState:
    """What the signed-update client last did for each model kind (read by the Models screen)."""
    return UpdateState(Path(data_dir) / UPDATES_FOLDER / STATE_FILE)


def active_model(data_dir: Path, kind: str) -> tuple[Path, ModelManifest]:
    return model_store(data_dir).active(kind)
