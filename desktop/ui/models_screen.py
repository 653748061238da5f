"""The models screen: which on-device model of each kind runs, how good it was, and a way back.

A thin view of `edge_models.model_store.ModelStore`: one card per kind with the active model's
name, version, held-out metrics, where it came from (the starter model shipped with Trackside, or
an installed update, and the training data it was made from), the previous slot and a Rollback
button (confirmed first: the model rolled back from is removed). Each card also shows what the
signed-update client says of that kind (`cloud_client.updates.UpdateState`: installed, rolled
back and why, refused, offline) and lets the coach pin the active version.
"""

from __future__ import annotations

import logging
from pathlib import Path

from cloud_client.updates import UpdateState, describe
from edge_models.manifest import MODEL_KINDS, ModelManifest
from edge_models.model_store import BUNDLED_MODELS_DIR, ModelStore, ModelStoreError
from desktop.ui.qt import (
    QGridLayout, QGroupBox, QHBoxLayout, QLabel, QMessageBox, QScrollArea, QVBoxLayout, QWidget,
)
from desktop.ui.screen_kit import action_button, heading, show_status, use_screen_font

logger = logging.getLogger(__name__)

KIND_TITLES = {"pose": "Pose (skeleton and joint angles)", "movement": "Movement (class, phase, reps)",
               "heart_rate": "Heart rate (forecast and recovery)"}
ROLLBACK_KEYS = {kind: f"Alt+{i + 1}" for i, kind in enumerate(MODEL_KINDS)}
PIN_KEYS = {kind: f"Alt+Shift+{i + 1}" for i, kind in enumerate(MODEL_KINDS)}
SHOWN_METRICS_BUILD = "int8"  # the laptop runs the int8 build: its held-out figures are the ones that count
NO_UPDATE_STATE = "not checked yet (updates come from the team's cloud once this laptop is enrolled)"
DIGEST_SHOWN_CHARS = 12


class _ModelCard(QGroupBox):
    """One kind: the active model, the previous slot, rollback and update state."""

    def __init__(self, kind: str, on_rollback, on_pin):
        super().__init__(KIND_TITLES.get(kind, kind))
        self.kind = kind
        grid = QGridLayout(self)
        self.active_label, self.source_label, self.metrics_label, self.previous_label = (
            QLabel(), QLabel(), QLabel(), QLabel())
        self.update_label = QLabel(NO_UPDATE_STATE)
        self.status_label = QLabel("")
        rows = (("Active", self.active_label), ("From", self.source_label),
                (f"Held-out ({SHOWN_METRICS_BUILD})", self.metrics_label), ("Previous", self.previous_label),
                ("Updates", self.update_label))
        for row, (title, label) in enumerate(rows):
            label.setWordWrap(True)
            grid.addWidget(QLabel(f"<b>{title}</b>"), row, 0)
            grid.addWidget(label, row, 1)
        self.rollback_button = action_button(f"Roll back {kind.replace('_', ' ')}", ROLLBACK_KEYS[kind],
                                             lambda: on_rollback(kind))
        grid.addWidget(self.rollback_button, 0, 2)
        self.pin_button = action_button(f"Pin {kind.replace('_', ' ')}", PIN_KEYS[kind], lambda: on_pin(kind))
        self.pin_button.setEnabled(False)
        grid.addWidget(self.pin_button, 1, 2)
        grid.addWidget(self.status_label, 5, 0, 1, 3)
        grid.setColumnStretch(1, 1)


class ModelsScreen(QWidget):
    """One card per model kind, read from the model store."""

    def __init__(self, model_store: ModelStore, update_state: UpdateState | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self._models = model_store
        self._updates = update_state
        self.confirm_box: QMessageBox | None = None
        use_screen_font(self)
        body = QWidget()
        column = QVBoxLayout(body)
        top = QHBoxLayout()
        top.addWidget(heading("Models on this laptop"), 1)
        top.addWidget(action_button("Refresh", "F5", self.refresh))
        self.cards = {kind: _ModelCard(kind, self.ask_rollback, self.toggle_pin) for kind in MODEL_KINDS}
        for card in self.cards.values():
            column.addWidget(card)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(scroll, 1)
        self.refresh()

    def refresh(self) -> None:
        for card in self.cards.values():
            self._fill(card)

    def _fill(self, card: _ModelCard) -> None:
        try:
            path, manifest = self._models.active(card.kind)
            previous = self._models.previous(card.kind)
        except (ModelStoreError, OSError, ValueError) as exc:
            _fill_missing(card, exc)
            return
        card.active_label.setText(f"{manifest.name} {manifest.version} (made {manifest.created_utc[:10]})")
        card.source_label.setText(_source_text(path, manifest))
        card.metrics_label.setText(metrics_text(manifest))
        card.metrics_label.setToolTip(_all_metrics_text(manifest))
        card.previous_label.setText("none: nothing to roll back to" if previous is None else
                                    f"{previous[1].name} {previous[1].version} (made {previous[1].created_utc[:10]})")
        card.rollback_button.setEnabled(previous is not None)
        self._fill_updates(card, manifest.version)

    def _fill_updates(self, card: _ModelCard, active_version: str) -> None:
        if self._updates is None:
            return
        record = self._updates.get(card.kind)
        card.update_label.setText(describe(record) if record.checked_utc or record.history else NO_UPDATE_STATE)
        card.pin_button.setEnabled(True)
        card.pin_button.setText(f"Unpin {record.pinned_version} ({PIN_KEYS[card.kind]})" if record.pinned_version
                                else f"Pin {active_version} ({PIN_KEYS[card.kind]})")

    def toggle_pin(self, kind: str) -> None:
        """Keep the active version of `kind` (updates skip every other), or let updates in again."""
        if self._updates is None:
            return
        if self._updates.get(kind).pinned_version:
            self._updates.unpin(kind)
        else:
            self._updates.pin(kind, self._models.active(kind)[1].version)
        self.refresh()

    def set_update_state(self, kind: str, text: str) -> None:
        """What the update client says about this kind (checking, downloading, refused: why)."""
        self.cards[kind].update_label.setText(text)

    # -- rollback ------------------------------------------------------------------------------

    def ask_rollback(self, kind: str) -> None:
        previous = self._models.previous(kind)
        if previous is None:
            return
        _, active = self._models.active(kind)
        box = QMessageBox(QMessageBox.Icon.Question, "Roll back a model",
                          f"Go back from {kind.replace('_', ' ')} {active.version} to {previous[1].version}?\n"
                          f"{active.version} is removed from this laptop. Sessions recorded from now on use "
                          f"{previous[1].version}.", QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                          self)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.accepted.connect(lambda: self.rollback(kind))
        self.confirm_box = box
        box.open()  # not exec(): the window keeps running while the coach decides

    def rollback(self, kind: str) -> None:
        card = self.cards[kind]
        try:
            _, manifest = self._models.rollback(kind)
        except (ModelStoreError, OSError) as exc:
            show_status(card.status_label, f"Rollback failed: {exc}", problem=True)
            return
        self.refresh()
        show_status(card.status_label, f"Rolled back: {manifest.name} {manifest.version} is active again.")


def metrics_text(manifest: ModelManifest) -> str:
    """The headline held-out figures of the int8 build: those also measured on the float model."""
    shown = manifest.metrics.get(SHOWN_METRICS_BUILD) or next(iter(manifest.metrics.values()), {})
    headline = set(manifest.metrics.get("float", shown))
    items = [(k, v) for k, v in sorted(shown.items()) if k in headline] or sorted(shown.items())
    return " · ".join(f"{k.replace('_', ' ')} {v:.3g}" for k, v in items) or "no held-out figures"


def _all_metrics_text(manifest: ModelManifest) -> str:
    return "\n".join(f"{build} {k}: {v:.4g}" for build, figures in manifest.metrics.items()
                     for k, v in sorted(figures.items()))


def _source_text(path: Path, manifest: ModelManifest) -> str:
    where = ("the starter model shipped with Trackside" if path.resolve().is_relative_to(BUNDLED_MODELS_DIR)
             else "an installed update")
    return (f"{where}; trained on data {manifest.training_data_digest[:DIGEST_SHOWN_CHARS]}…, "
            f"file {manifest.tflite_sha256[:DIGEST_SHOWN_CHARS]}…")


def _fill_missing(card: _ModelCard, problem: Exception) -> None:
    built_in = card.kind == "pose"
    card.active_label.setText("BlazePose (built in)" if built_in else "none installed")
    card.source_label.setText("the BlazePose models of the pinned mediapipe wheel, fetched by `make data`; "
                              "not updated or rolled back here" if built_in else str(problem))
    card.metrics_label.setText("—")
    card.previous_label.setText("—")
    card.rollback_button.setEnabled(False)
