"""The models screen over a real model store: installed models, their figures, rollback."""

from __future__ import annotations

from cloud_client.updates import ROLLED_BACK, UpdateState
from desktop.ui.models_screen import ModelsScreen
from desktop.ui.qt import QMessageBox, Qt
from desktop.ui.screens_demo import install_updates
from edge_models.manifest import load_manifest
from edge_models.model_store import BUNDLED_MODELS_DIR, MANIFEST_FILE, ModelStore
from tests.desktop.ui.recorded_sessions import show_active


def test_the_starter_models_show_version_figures_and_origin_with_nothing_to_roll_back(qtbot, tmp_path):
    screen = ModelsScreen(ModelStore(tmp_path / "models", bundled_dir=BUNDLED_MODELS_DIR))
    show_active(qtbot, screen)
    movement, bundled = screen.cards["movement"], load_manifest(BUNDLED_MODELS_DIR / "movement" / MANIFEST_FILE)

    assert movement.active_label.text().startswith(f"movement {bundled.version}")
    assert "starter model shipped with Trackside" in movement.source_label.text()
    assert bundled.training_data_digest[:12] in movement.source_label.text()
    accuracy = bundled.metrics["int8"]["accuracy"]
    assert f"accuracy {accuracy:.3g}" in movement.metrics_label.text()
    assert movement.previous_label.text().startswith("none") and not movement.rollback_button.isEnabled()
    assert screen.cards["pose"].active_label.text() == "BlazePose (built in)"
    assert "not checked" in movement.update_label.text()


def test_rolling_back_asks_first_then_makes_the_previous_model_active(qtbot, tmp_path):
    models = install_updates(tmp_path / "models", "movement", ("1.1.0", "1.2.0"))  # real installs: LiteRT golden checks
    screen = ModelsScreen(models)
    show_active(qtbot, screen)
    card = screen.cards["movement"]
    assert card.active_label.text().startswith("movement 1.2.0") and "installed update" in card.source_label.text()
    assert card.previous_label.text().startswith("movement 1.1.0") and card.rollback_button.isEnabled()

    qtbot.keyClick(screen, Qt.Key.Key_2, Qt.KeyboardModifier.AltModifier)  # roll back movement
    qtbot.waitUntil(lambda: screen.confirm_box is not None and screen.confirm_box.isVisible())
    qtbot.mouseClick(screen.confirm_box.button(QMessageBox.StandardButton.No), Qt.MouseButton.LeftButton)
    assert models.active("movement")[1].version == "1.2.0"  # "No" changes nothing

    card.rollback_button.click()
    qtbot.waitUntil(lambda: screen.confirm_box.isVisible())
    qtbot.mouseClick(screen.confirm_box.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton)
    assert models.active("movement")[1].version == "1.1.0" and models.previous("movement") is None
    assert card.active_label.text().startswith("movement 1.1.0")
    assert card.previous_label.text().startswith("none") and not card.rollback_button.isEnabled()
    assert "1.1.0 is active again" in card.status_label.text()


def test_the_update_line_shows_what_the_update_client_reports(qtbot, tmp_path):
    screen = ModelsScreen(ModelStore(tmp_path / "models", bundled_dir=BUNDLED_MODELS_DIR))
    qtbot.addWidget(screen)
    screen.set_update_state("heart_rate", "2.3.0 downloaded, checked, installs at the next start")
    assert screen.cards["heart_rate"].update_label.text() == "2.3.0 downloaded, checked, installs at the next start"


def test_update_state_is_shown_in_words_and_the_coach_pins_and_unpins_the_active_version(qtbot, tmp_path):
    state_file = tmp_path / "updates" / "state.json"
    client_side = UpdateState(state_file)  # what the signed-update client wrote after a failed update
    client_side.change("movement", ROLLED_BACK, "1.3.0", "movement 1.3.0 failed live and was rolled back: "
                       "non-finite output", checked_utc="2026-12-01T21:00:00Z")
    models = install_updates(tmp_path / "models", "movement", ("1.1.0", "1.2.0"))
    screen = ModelsScreen(models, UpdateState(state_file))
    show_active(qtbot, screen)
    card = screen.cards["movement"]
    assert "rolled back" in card.update_label.text() and "non-finite output" in card.update_label.text()
    assert card.pin_button.text().startswith("Pin 1.2.0")

    qtbot.keyClick(screen, Qt.Key.Key_2, Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.ShiftModifier)
    assert UpdateState(state_file).get("movement").pinned_version == "1.2.0"  # kept on disk for the client
    assert "kept at 1.2.0" in card.update_label.text() and card.pin_button.text().startswith("Unpin 1.2.0")

    card.pin_button.click()
    assert UpdateState(state_file).get("movement").pinned_version is None
    assert card.pin_button.text().startswith("Pin 1.2.0")
