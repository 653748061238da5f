"""The installed-model store on real .tflite files (the BlazePose models as two 'pose' versions)."""

from __future__ import annotations

import dataclasses
import os
import shutil
import stat
import time
from pathlib import Path

import numpy as np
import pytest

from edge_models.manifest import GoldenSet, InputSpec, ModelIntegrityError, ModelManifest, save_manifest
from edge_models.model_store import (
    LEFTOVER_AGE_S, GoldenCheckError, ModelFileMismatchError, ModelStore, ModelStoreError, NoModelError,
    NothingToRollBackError,
)
from edge_models.runtime import ModelRunner
from tests.support.assets import real_asset

GOLDEN_SAMPLES = 2  # enough to prove the outputs match, few enough to stay fast
GOLDEN_ATOL = 1e-4  # same file on the same LiteRT: float rounding only


def publish(folder: Path, asset: str, version: str, golden_shift: float = 0.0) -> tuple[Path, ModelManifest]:
    """What a training run hands over: model.tflite, golden.npz and its manifest, in `folder`."""
    folder.mkdir(parents=True)
    model = folder / "model.tflite"
    shutil.copyfile(real_asset(asset), model)
    with ModelRunner.from_path(model, warmup_runs=0) as runner:
        spec = runner.input_specs[0]
        inputs = np.random.default_rng(3).uniform(0, 1, (GOLDEN_SAMPLES, *spec.shape)).astype(np.float32)
        outputs = [runner.run(x) for x in inputs]
    names = sorted(outputs[0])[:2]
    golden = GoldenSet(inputs, {n: np.stack([o[n] for o in outputs]) + golden_shift for n in names})
    golden.save(folder / "golden.npz")
    manifest = ModelManifest(
        name=f"blazepose-{asset.split('.')[0]}", kind="pose", version=version,
        input=InputSpec(spec.name, spec.shape, "float32"), labels=(),
        metrics={"float": {}, "int8": {}}, training_data_digest="0" * 64,
        created_utc="2025-06-01T12:00:00Z", tflite_sha256="0" * 64, tflite_size_bytes=1,
        golden_file="golden.npz", golden_atol=GOLDEN_ATOL,
    ).with_tflite(model)
    return model, manifest


@pytest.fixture
def v1(tmp_path):
    return publish(tmp_path / "v1", "pose_detection.tflite", "1.0.0")


@pytest.fixture
def v2(tmp_path):
    return publish(tmp_path / "v2", "pose_landmark_full.tflite", "1.1.0")


@pytest.fixture
def store(data_dir):
    return ModelStore(data_dir / "models")


def test_nothing_installed_and_nothing_bundled(store):
    with pytest.raises(NoModelError, match="no pose model"):
        store.active("pose")


def test_bundled_starter_model_is_active_until_one_is_installed(data_dir, v1, v2):
    bundled = data_dir / "bundled" / "pose"
    bundled.mkdir(parents=True)
    shutil.copyfile(v1[0], bundled / "model.tflite")
    save_manifest(v1[1], bundled / "manifest.json")
    store = ModelStore(data_dir / "models", bundled_dir=data_dir / "bundled")
    assert store.active("pose") == (bundled / "model.tflite", v1[1])
    store.install("pose", *v2)
    assert store.active("pose")[1].version == "1.1.0"


def test_install_makes_a_verified_copy_active(store, v1):
    path = store.install("pose", *v1)
    active_path, manifest = store.active("pose")
    assert active_path == path and manifest == v1[1]
    assert active_path.read_bytes() == v1[0].read_bytes()
    assert store.previous("pose") is None


def test_install_survives_reopening(data_dir, v1):
    ModelStore(data_dir / "models").install("pose", *v1)
    assert ModelStore(data_dir / "models").active("pose")[1] == v1[1]


def test_second_install_keeps_the_first_as_previous(store, v1, v2, tmp_path):
    store.install("pose", *v1)
    store.install("pose", *v2)
    assert store.active("pose")[1].version == "1.1.0"
    assert store.previous("pose")[1].version == "1.0.0"
    v3 = publish(tmp_path / "v3", "pose_detection.tflite", "1.2.0")
    store.install("pose", *v3)
    assert store.previous("pose")[1].version == "1.1.0"
    slot_folders = [p for p in (store._root / "pose").iterdir() if p.is_dir()]
    assert len(slot_folders) == 2  # only active and previous stay on disk


def assert_active_untouched(store, expected: ModelManifest, active_bytes: bytes) -> None:
    path, manifest = store.active("pose")
    assert manifest == expected and path.read_bytes() == active_bytes
    assert not [p for p in (store._root / "pose").iterdir() if p.name.startswith(".staging")]


def test_tampered_file_is_refused_and_active_kept(store, v1, v2):
    store.install("pose", *v1)
    before = store.active("pose")[0].read_bytes()
    data = bytearray(v2[0].read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte in the middle of the weights
    v2[0].write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError, match="sha256"):
        store.install("pose", *v2)
    assert_active_untouched(store, v1[1], before)


def test_bad_golden_outputs_are_refused_and_active_kept(store, v1, tmp_path):
    store.install("pose", *v1)
    before = store.active("pose")[0].read_bytes()
    wrong = publish(tmp_path / "wrong", "pose_landmark_full.tflite", "2.0.0", golden_shift=0.5)
    with pytest.raises(GoldenCheckError, match="off by 0.5"):
        store.install("pose", *wrong)
    assert_active_untouched(store, v1[1], before)


def test_a_file_litert_cannot_load_is_refused(store, v1, tmp_path):
    store.install("pose", *v1)
    before = store.active("pose")[0].read_bytes()
    garbage = tmp_path / "garbage" / "model.tflite"
    garbage.parent.mkdir()
    garbage.write_bytes(b"not a model" * 100)
    manifest = dataclasses.replace(v1[1], golden_file=None).with_tflite(garbage)
    with pytest.raises(GoldenCheckError, match="cannot load"):
        store.install("pose", garbage, manifest)
    assert_active_untouched(store, v1[1], before)


def test_custom_smoke_test_can_refuse(store, v1):
    def refuse(path: Path, manifest: ModelManifest) -> None:
        raise RuntimeError("scores look wrong")

    with pytest.raises(GoldenCheckError, match="scores look wrong"):
        store.install("pose", *v1, golden_check=refuse)
    with pytest.raises(NoModelError):
        store.active("pose")


def test_rollback_restores_the_previous_model(store, v1, v2):
    store.install("pose", *v1)
    store.install("pose", *v2)
    path, manifest = store.rollback("pose")
    assert manifest == v1[1] and path.read_bytes() == v1[0].read_bytes()
    assert store.active("pose")[1] == v1[1]
    with pytest.raises(NothingToRollBackError):
        store.rollback("pose")


def crashed_install_leftovers(kind_dir: Path, v1_model: Path) -> list[Path]:
    """What a crash mid-install leaves (or what another process installing right now has made):
    a staging folder with half a model, a slot folder renamed into place but never switched to,
    and a temp slots file that never got its rename."""
    staging = kind_dir / ".staging-0123456789ab"
    staging.mkdir()
    (staging / ".model.tflite.part").write_bytes(v1_model.read_bytes()[:1000])
    orphan = kind_dir / "9.9.9-cafecafecafe"
    orphan.mkdir()
    (orphan / "model.tflite").write_bytes(b"half")
    temp = kind_dir / ".slots.json.k2j4h5.part"
    temp.write_text('{"active": "9.9.9-cafecafecafe"')
    return [staging, orphan, temp]


def age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_building_a_store_deletes_nothing_another_process_may_be_installing(data_dir, v1):
    root = data_dir / "models"
    ModelStore(root).install("pose", *v1)
    leftovers = crashed_install_leftovers(root / "pose", v1[0])
    reopened = ModelStore(root)
    assert reopened.active("pose")[1] == v1[1]
    assert all(p.exists() for p in leftovers)


def test_old_leftovers_of_crashed_installs_are_removed_and_nothing_else(data_dir, v1, v2):
    root = data_dir / "models"
    store = ModelStore(root)
    store.install("pose", *v1)
    old = crashed_install_leftovers(root / "pose", v1[0])
    for path in old:
        age(path, LEFTOVER_AGE_S + 60)
    fresh = root / "pose" / ".staging-ba9876543210"  # another process, installing now
    fresh.mkdir()
    notes = root / "pose" / "notes"  # not the store's: never removed
    notes.mkdir()
    age(notes, LEFTOVER_AGE_S + 60)

    store.install("pose", *v2)  # an install clears what crashed installs left
    assert not any(p.exists() for p in old)
    assert fresh.is_dir() and notes.is_dir()
    assert store.active("pose")[1] == v2[1] and store.previous("pose")[1] == v1[1]
    assert store.remove_leftovers("pose", min_age_s=0) == [fresh.name]


def tamper(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte in the middle of the weights
    path.chmod(0o600)
    path.write_bytes(bytes(data))


def test_a_tampered_active_model_is_not_run_and_the_previous_one_is(store, v1, v2, caplog):
    store.install("pose", *v1)
    store.install("pose", *v2)
    tamper(store.active("pose")[0])
    path, manifest = store.active("pose")
    assert manifest == v1[1] and path.read_bytes() == v1[0].read_bytes()
    assert "cannot be trusted" in caplog.text and "sha256" in caplog.text


def test_a_tampered_active_model_with_nothing_before_it_is_refused(store, v1):
    store.install("pose", *v1)
    tamper(store.active("pose")[0])
    with pytest.raises(ModelFileMismatchError, match="sha256 .* the file was changed or damaged"):
        store.active("pose")


def test_a_changed_bundled_model_is_refused(data_dir, v1):
    bundled = data_dir / "bundled" / "pose"
    bundled.mkdir(parents=True)
    shutil.copyfile(v1[0], bundled / "model.tflite")
    save_manifest(v1[1], bundled / "manifest.json")
    tamper(bundled / "model.tflite")
    with pytest.raises(ModelFileMismatchError, match="pose model"):
        ModelStore(data_dir / "models", bundled_dir=data_dir / "bundled").active("pose")


def test_every_refusal_of_the_store_is_one_error_to_catch(store, v1, v2):
    """A caller (the feedback workers) turns a model off with one `except ModelStoreError`."""
    tamper(v2[0])
    (store._root / "movement").mkdir()
    (store._root / "movement" / "slots.json").write_text("{not json")
    attempts = [
        lambda: store.active("pose"),  # nothing installed, nothing bundled
        lambda: store.active("sprint"),  # not a model kind
        lambda: store.install("movement", *v1),  # a pose manifest
        lambda: store.install("pose", *v2),  # a file that is not its manifest's
        lambda: store.rollback("pose"),  # nothing before
        lambda: store.active("movement"),  # a damaged slots.json
        lambda: store.install("pose", *v1, golden_check=lambda *_: 1 / 0),
    ]
    messages = []
    for attempt in attempts:
        with pytest.raises(ModelStoreError) as caught:
            attempt()
        messages.append(str(caught.value))
    assert all(messages) and len(set(messages)) == len(attempts)


def test_installed_models_are_readable_by_their_owner_only(data_dir, v1, v2):
    before = os.umask(0)  # the loosest umask: the store alone must make its files private
    try:
        store = ModelStore(data_dir / "models")
        store.install("pose", *v1)
        store.install("pose", *v2)
    finally:
        os.umask(before)
    modes = {p.relative_to(data_dir): stat.S_IMODE(p.stat().st_mode) for p in (data_dir / "models").rglob("*")}
    modes[Path("models")] = stat.S_IMODE((data_dir / "models").stat().st_mode)
    assert len(modes) == 2 + 2 * (1 + 3) + 1  # store and pose folders, two slot folders of 3 files, slots.json
    assert {p: m for p, m in modes.items() if m != (0o700 if (data_dir / p).is_dir() else 0o600)} == {}


def test_manifest_for_another_kind_is_refused(store, v1):
    with pytest.raises(ValueError, match="not a movement model"):
        store.install("movement", *v1)
