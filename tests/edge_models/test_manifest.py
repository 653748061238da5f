"""Model manifests: strict JSON with a schema, and a model file checked against its manifest."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edge_models.manifest import (
    MANIFEST_SCHEMA, GoldenSet, InputSpec, ManifestError, ModelIntegrityError, ModelManifest,
    load_manifest, parse_version, save_manifest, verify_model_file,
)


def make_manifest(**changes) -> ModelManifest:
    fields = dict(
        name="movement-cnn", kind="movement", version="1.4.0",
        input=InputSpec(name="landmarks", shape=(1, 30, 99), dtype="float32"),
        labels=("rest", "run", "squat"),
        metrics={"float": {"accuracy": 0.91}, "int8": {"accuracy": 0.9}},
        training_data_digest="d" * 64, created_utc="2025-06-01T12:00:00Z",
        tflite_sha256="a" * 64, tflite_size_bytes=1234,
    )
    return ModelManifest(**{**fields, **changes})


def test_round_trip_through_json(tmp_path):
    manifest = make_manifest(golden_file="golden.npz")
    save_manifest(manifest, tmp_path / "manifest.json")
    assert load_manifest(tmp_path / "manifest.json") == manifest
    assert json.loads((tmp_path / "manifest.json").read_text())["schema"] == MANIFEST_SCHEMA


def _saved_dict(**changes) -> dict:
    data = make_manifest().to_dict()
    data.update(changes)
    return data


def _write(tmp_path, data) -> object:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(data))
    return path


def test_missing_field_is_named(tmp_path):
    data = _saved_dict()
    del data["labels"]
    with pytest.raises(ManifestError, match=r"missing field\(s\) \['labels'\]"):
        load_manifest(_write(tmp_path, data))


def test_extra_field_is_named(tmp_path):
    with pytest.raises(ManifestError, match=r"unknown field\(s\) \['colour'\]"):
        load_manifest(_write(tmp_path, _saved_dict(colour="red")))


@pytest.mark.parametrize("field, value, message", [
    ("tflite_size_bytes", "1234", "tflite_size_bytes"),
    ("tflite_size_bytes", True, "tflite_size_bytes"),
    ("labels", "rest,run", "labels"),
    ("kind", "weather", "kind"),
    ("version", "one", "version"),
    ("created_utc", "2025-06-01T12:00:00", "created_utc"),
    ("created_utc", "2025-06-01T12:00:00+02:00", "created_utc"),
    ("tflite_sha256", "xyz", "tflite_sha256"),
    ("metrics", {"float": {"accuracy": 0.9}}, "metrics"),
    ("metrics", {"float": {"accuracy": "high"}, "int8": {}}, "metrics.float.accuracy"),
    ("golden_file", "../escape.npz", "golden_file"),
    ("input", {"name": "x", "shape": [1, "30"]}, "input.shape"),
    ("input", {"name": "x", "shape": [1, 30], "layout": "NHWC"}, "layout"),
])
def test_wrong_values_are_refused_by_name(tmp_path, field, value, message):
    with pytest.raises(ManifestError, match=message):
        load_manifest(_write(tmp_path, _saved_dict(**{field: value})))


def test_newer_schema_asks_for_an_update(tmp_path):
    with pytest.raises(ManifestError, match="newer than this Trackside"):
        load_manifest(_write(tmp_path, _saved_dict(schema=MANIFEST_SCHEMA + 1)))


def test_not_json(tmp_path):
    path = tmp_path / "manifest.json"
    path.write_text("{ not json")
    with pytest.raises(ManifestError, match="not readable JSON"):
        load_manifest(path)


def test_versions_compare_as_numbers():
    assert parse_version("1.10.0") > parse_version("1.9.3")
    assert parse_version("2") == (2, 0, 0)
    assert parse_version("1.2.3+build.7") == (1, 2, 3)
    assert make_manifest(version="1.10.0").is_newer_than(make_manifest(version="1.9.9"))
    assert not make_manifest(version="1.4.0").is_newer_than(make_manifest(version="1.4.0"))


def test_verify_model_file(tmp_path):
    model = tmp_path / "model.tflite"
    model.write_bytes(b"\x1c\x00\x00\x00TFL3" + bytes(range(200)))
    manifest = make_manifest().with_tflite(model)
    verify_model_file(manifest, model)  # the untouched file passes

    model.write_bytes(b"\x1c\x00\x00\x00TFL3" + bytes(range(1, 201)))  # same size, other bytes
    with pytest.raises(ModelIntegrityError, match="sha256"):
        verify_model_file(manifest, model)
    model.write_bytes(b"short")
    with pytest.raises(ModelIntegrityError, match="bytes"):
        verify_model_file(manifest, model)


def test_golden_set_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    golden = GoldenSet(inputs=rng.normal(size=(3, 1, 4)).astype(np.float32),
                       outputs={"scores": rng.normal(size=(3, 1, 2)).astype(np.float32)})
    golden.save(tmp_path / "golden.npz")
    loaded = GoldenSet.load(tmp_path / "golden.npz")
    np.testing.assert_array_equal(loaded.inputs, golden.inputs)
    np.testing.assert_array_equal(loaded.outputs["scores"], golden.outputs["scores"])


def test_golden_set_with_mismatched_rows_is_refused(tmp_path):
    GoldenSet(inputs=np.zeros((3, 4), np.float32), outputs={"y": np.zeros((2, 1), np.float32)}).save(
        tmp_path / "golden.npz")
    with pytest.raises(ManifestError, match="one row per input"):
        GoldenSet.load(tmp_path / "golden.npz")
