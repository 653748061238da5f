"""What a training run leaves behind: int8 and float .tflite, manifest, golden file, report.

    out/model.tflite        the int8 model the laptops run
    out/model_float.tflite  its float twin, kept for comparison
    out/manifest.json       name, version, input spec, labels, metrics, data digest, sha256, size
    out/golden.npz          a few held-out inputs and the int8 model's outputs on LiteRT
    out/report.md           what a person reads: data, baselines, metrics, the gate's verdict
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from edge_models.durable import write_file_atomically
from edge_models.manifest import GoldenSet, InputSpec, ModelManifest, save_manifest
from edge_models.runtime import ModelRunner, RunnerOptions
from training.gate import GateResult
from training.litert_eval import predict_tflite

logger = logging.getLogger(__name__)

INT8_FILE = "model.tflite"
FLOAT_FILE = "model_float.tflite"
MANIFEST_FILE = "manifest.json"
GOLDEN_FILE = "golden.npz"
REPORT_FILE = "report.md"
GOLDEN_SAMPLES = 8  # held-out inputs kept with their outputs to check a model after install
GOLDEN_ATOL = 1e-5  # same file, same LiteRT: outputs must match to float rounding


@dataclass(frozen=True)
class ModelCard:
    """Who the model is: the manifest fields that are not measured."""

    name: str
    kind: str
    version: str
    labels: tuple[str, ...] = ()


@dataclass
class RunReport:
    """The readable account of one training run, written as report.md."""

    title: str
    lines: list[str] = field(default_factory=list)

    def add(self, line: str = "") -> None:
        self.lines.append(line)

    def table(self, rows: dict[str, dict[str, float]], fmt: str = "{:.3f}") -> None:
        columns = sorted({c for row in rows.values() for c in row})
        self.add("| | " + " | ".join(columns) + " |")
        self.add("| --- " * (len(columns) + 1) + "|")
        for name, row in rows.items():
            cells = [fmt.format(row[c]) if c in row else "" for c in columns]
            self.add(f"| {name} | " + " | ".join(cells) + " |")

    def text(self) -> str:
        return "\n".join([f"# {self.title}", "", *self.lines, ""])


def write_models(out: Path, float_bytes: bytes, int8_bytes: bytes) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    write_file_atomically(out / FLOAT_FILE, float_bytes)
    write_file_atomically(out / INT8_FILE, int8_bytes)
    return out / FLOAT_FILE, out / INT8_FILE


def write_golden(out: Path, held_out_inputs: np.ndarray) -> None:
    """Evenly spaced held-out inputs and what the int8 model gives for them on LiteRT."""
    idx = np.linspace(0, len(held_out_inputs) - 1, GOLDEN_SAMPLES).astype(int)
    inputs = held_out_inputs[idx].astype(np.float32)
    outputs = predict_tflite(out / INT8_FILE, inputs)
    GoldenSet(inputs=inputs, outputs={"output": outputs}).save(out / GOLDEN_FILE)


def write_manifest(out: Path, card: ModelCard, metrics: dict[str, dict[str, float]],
                   digest: str) -> ModelManifest:
    placeholder_sha256 = "0" * 64  # replaced by with_tflite below
    manifest = ModelManifest(
        name=card.name, kind=card.kind, version=card.version,  # type: ignore[arg-type]
        input=input_spec_of(out / INT8_FILE),
        labels=tuple(card.labels), metrics=metrics, training_data_digest=digest,
        created_utc=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        tflite_sha256=placeholder_sha256, tflite_size_bytes=1,
        golden_file=GOLDEN_FILE, golden_atol=GOLDEN_ATOL,
    ).with_tflite(out / INT8_FILE)
    save_manifest(manifest, out / MANIFEST_FILE)
    return manifest


def input_spec_of(model_path: Path) -> InputSpec:
    """The input tensor as LiteRT sees it in the file: what the manifest must promise."""
    with ModelRunner.create_from_options(RunnerOptions(model_path, warmup_runs=0)) as runner:
        spec = runner.input_specs[0]
    return InputSpec(spec.name, tuple(int(d) for d in spec.shape), spec.dtype.name)


def write_report(out: Path, report: RunReport, gate: GateResult) -> Path:
    report.add("")
    report.add(f"## Gate: {'PASSED' if gate.passed else 'FAILED'}")
    report.add("")
    report.add(gate.reason)
    write_file_atomically(out / REPORT_FILE, report.text().encode("utf-8"))
    return out / REPORT_FILE
