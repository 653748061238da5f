"""The LiteRT runner: one .tflite model on the laptop's CPU, float32 in and float32 out.

A model may take int8/uint8 inputs and give int8/uint8 outputs (full-integer quantization). The
runner quantizes the caller's float32 inputs and dequantizes the outputs with each tensor's own
scale and zero point, so the caller never sees the quantized domain.

    with ModelRunner.create_from_options(RunnerOptions(model_path=path)) as runner:
        scores = runner.run(window)          # one input, one output: arrays
        outputs = runner.run({"x": window})  # several outputs: a dict keyed by tensor name

This module never imports TensorFlow: LiteRT (`ai-edge-litert`) is the only engine on the laptop.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np
from ai_edge_litert.interpreter import Interpreter

logger = logging.getLogger(__name__)

DEFAULT_NUM_THREADS = 2  # the laptop shares its cores with capture, the UI and the store
DEFAULT_WARMUP_RUNS = 1  # the first invoke allocates and packs weights; do it before the athlete moves
_QUANTIZED_DTYPES = (np.dtype(np.int8), np.dtype(np.uint8), np.dtype(np.int16))


class ModelFileError(Exception):
    """The model file is missing, unreadable or not a .tflite model LiteRT can load."""


@dataclass(frozen=True)
class TensorSpec:
    """One input or output of a model as LiteRT describes it."""

    name: str
    shape: tuple[int, ...]  # the current shape; -1 in `shape_signature` marks a free dimension
    dtype: np.dtype
    quantization: tuple[float, int]  # (scale, zero_point); scale 0.0 means not quantized
    index: int  # LiteRT's tensor index
    shape_signature: tuple[int, ...] = ()

    @property
    def is_quantized(self) -> bool:
        return self.dtype in _QUANTIZED_DTYPES and self.quantization[0] != 0.0

    @classmethod
    def from_details(cls, details: Mapping[str, Any]) -> TensorSpec:
        scale, zero_point = details["quantization"]
        signature = details.get("shape_signature", details["shape"])
        return cls(
            name=str(details["name"]),
            shape=tuple(int(d) for d in details["shape"]),
            dtype=np.dtype(details["dtype"]),
            quantization=(float(scale), int(zero_point)),
            index=int(details["index"]),
            shape_signature=tuple(int(d) for d in signature),
        )


@dataclass(frozen=True)
class RunnerOptions:
    """How to run one model file."""

    model_path: Path | str
    num_threads: int = DEFAULT_NUM_THREADS
    warmup_runs: int = DEFAULT_WARMUP_RUNS


def quantize(values: np.ndarray, spec: TensorSpec) -> np.ndarray:
    """float32 values into the tensor's integer domain: round(x / scale) + zero_point, clipped."""
    scale, zero_point = spec.quantization
    info = np.iinfo(spec.dtype)
    q = np.round(values / scale) + zero_point
    return np.clip(q, info.min, info.max).astype(spec.dtype)


def dequantize(values: np.ndarray, spec: TensorSpec) -> np.ndarray:
    """The tensor's integers back to float32: (q - zero_point) * scale."""
    if not spec.is_quantized:
        return values.astype(np.float32, copy=False) if values.dtype.kind == "f" else values
    scale, zero_point = spec.quantization
    return ((values.astype(np.float32) - zero_point) * scale).astype(np.float32)


def _load_interpreter(options: RunnerOptions) -> Interpreter:
    path = Path(options.model_path)
    if not path.is_file():
        raise ModelFileError(f"model file {path} does not exist")
    if path.stat().st_size == 0:
        raise ModelFileError(f"model file {path} is empty")
    try:
        interpreter = Interpreter(model_path=str(path), num_threads=options.num_threads)
        interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as exc:
        raise ModelFileError(f"{path} is not a .tflite model LiteRT can load: {exc}") from exc
    return interpreter


class ModelRunner:
    """A loaded model, ready to run. Safe to call from several threads (runs are serialized)."""

    def __init__(self, interpreter: Interpreter, options: RunnerOptions) -> None:
        self._interpreter = interpreter
        self._options = options
        self._lock = threading.Lock()
        self._closed = False
        self._refresh_specs()

    def _refresh_specs(self) -> None:
        """Read the tensor specs once (and again after a resize), not on every run."""
        self._input_specs = [TensorSpec.from_details(d) for d in self._interpreter.get_input_details()]
        self._output_specs = [TensorSpec.from_details(d) for d in self._interpreter.get_output_details()]

    @classmethod
    def create_from_options(cls, options: RunnerOptions) -> ModelRunner:
        """Load the model, allocate its tensors and warm it up. Raises `ModelFileError`."""
        if options.num_threads < 1:
            raise ValueError(f"num_threads must be at least 1, got {options.num_threads}")
        if options.warmup_runs < 0:
            raise ValueError(f"warmup_runs must not be negative, got {options.warmup_runs}")
        runner = cls(_load_interpreter(options), options)
        runner._warm_up(options.warmup_runs)
        logger.info("loaded %s (%d inputs, %d outputs)", Path(options.model_path).name,
                    len(runner.input_specs), len(runner.output_specs))
        return runner

    @classmethod
    def from_path(cls, model_path: Path | str, **kwargs: Any) -> ModelRunner:
        return cls.create_from_options(RunnerOptions(model_path=model_path, **kwargs))

    @property
    def model_path(self) -> Path:
        return Path(self._options.model_path)

    @property
    def input_specs(self) -> list[TensorSpec]:
        return list(self._input_specs)

    @property
    def output_specs(self) -> list[TensorSpec]:
        return list(self._output_specs)

    def run(self, inputs: np.ndarray | Mapping[str, np.ndarray]) -> np.ndarray | dict[str, np.ndarray]:
        """Run the model once. float32 in, float32 out (quantization is handled here).

        `inputs` is one array for a one-input model, or a dict keyed by input tensor name.
        Returns one array for a one-output model, else a dict keyed by output tensor name.
        Raises `ValueError` naming the expected and the given shape or dtype.
        """
        with self._lock:
            self._check_open()
            for spec, array in self._match_inputs(inputs):
                self._set_input(spec, array)
            self._interpreter.invoke()
            outputs = {s.name: dequantize(self._interpreter.get_tensor(s.index), s)
                       for s in self._output_specs}
        return next(iter(outputs.values())) if len(outputs) == 1 else outputs

    def close(self) -> None:
        """Release the interpreter. Running a closed runner raises `RuntimeError`."""
        with self._lock:
            self._closed = True
            self._interpreter = None  # type: ignore[assignment]

    def __enter__(self) -> ModelRunner:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"the runner for {self.model_path.name} is closed")

    def _match_inputs(self, inputs: np.ndarray | Mapping[str, np.ndarray]) -> list[tuple[TensorSpec, np.ndarray]]:
        specs = self._input_specs
        if isinstance(inputs, np.ndarray):
            if len(specs) != 1:
                names = [s.name for s in specs]
                raise ValueError(f"the model takes {len(specs)} inputs {names}: pass a dict by name")
            return [(specs[0], inputs)]
        if not isinstance(inputs, Mapping):
            raise TypeError(f"inputs must be a numpy array or a dict of arrays, got {type(inputs).__name__}")
        expected, given = {s.name for s in specs}, set(inputs)
        if expected != given:
            raise ValueError(f"expected inputs {sorted(expected)}, got {sorted(given)}")
        return [(s, np.asarray(inputs[s.name])) for s in specs]

    def _set_input(self, spec: TensorSpec, array: np.ndarray) -> None:
        _check_dtype(spec, array)
        spec = self._fit_shape(spec, array.shape)
        if spec.is_quantized and array.dtype == np.float32:
            array = quantize(array, spec)
        self._interpreter.set_tensor(spec.index, np.ascontiguousarray(array))

    def _fit_shape(self, spec: TensorSpec, shape: tuple[int, ...]) -> TensorSpec:
        if shape == spec.shape:
            return spec
        signature = spec.shape_signature or spec.shape
        fits = len(shape) == len(signature) and all(s in (-1, g) for s, g in zip(signature, shape))
        if not fits:
            raise ValueError(f"input {spec.name!r}: expected shape {list(signature)}, got {list(shape)}")
        self._interpreter.resize_tensor_input(spec.index, list(shape))
        self._interpreter.allocate_tensors()
        self._refresh_specs()
        return next(s for s in self._input_specs if s.index == spec.index)

    def _warm_up(self, runs: int) -> None:
        if runs == 0:
            return
        zeros = {s.name: np.zeros(s.shape, dtype=_caller_dtype(s)) for s in self.input_specs}
        for _ in range(runs):
            self.run(zeros)


def _caller_dtype(spec: TensorSpec) -> np.dtype:
    """The dtype a caller passes for this tensor: float32 unless it is a plain integer tensor."""
    return np.dtype(np.float32) if spec.is_quantized or spec.dtype.kind == "f" else spec.dtype


def _check_dtype(spec: TensorSpec, array: np.ndarray) -> None:
    """float32 for float and quantized tensors; the tensor's own dtype passes through untouched."""
    accepted = {spec.dtype, _caller_dtype(spec)}
    if array.dtype not in accepted:
        names = sorted(str(d) for d in accepted)
        raise ValueError(f"input {spec.name!r}: expected dtype {' or '.join(names)}, got {array.dtype}"
                         " (convert with .astype(np.float32))")
