"""Keras 3 model -> the same architecture in tf_keras at batch 1 -> float and int8 .tflite.

Full-integer int8: weights, activations, input and output all int8, calibrated on a representative
sample of real training windows. Int16x8 is not offered: LiteRT runs it on slow reference kernels.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import numpy as np

from training.tf_setup import tensorflow_ready

logger = logging.getLogger(__name__)

REPRESENTATIVE_SAMPLES = 300  # windows used to calibrate int8 ranges; more adds little


def mirror_weights(trained, legacy_builder: Callable[[], object]):
    """A tf_keras copy of `trained` (Keras 3) at batch size 1, with identical weights."""
    tensorflow_ready()
    legacy = legacy_builder()
    ours, theirs = trained.get_weights(), legacy.get_weights()
    shapes = [(a.shape, b.shape) for a, b in zip(ours, theirs)]
    if len(ours) != len(theirs) or any(a != b for a, b in shapes):
        raise ValueError(f"the tf_keras mirror does not match the trained model: {shapes}")
    legacy.set_weights(ours)
    return legacy


def representative(windows: np.ndarray, seed: int) -> Callable[[], Iterator[list[np.ndarray]]]:
    """A fixed random sample of windows, one at a time (batch 1), for int8 calibration."""
    rng = np.random.default_rng(seed)
    count = min(REPRESENTATIVE_SAMPLES, len(windows))
    chosen = windows[rng.choice(len(windows), size=count, replace=False)]

    def samples() -> Iterator[list[np.ndarray]]:
        for window in chosen:
            yield [window[None, ...].astype(np.float32)]

    return samples


def to_float_tflite(legacy_model) -> bytes:
    tf = tensorflow_ready()
    return tf.lite.TFLiteConverter.from_keras_model(legacy_model).convert()


def to_int8_tflite(legacy_model, samples: Callable[[], Iterator[list[np.ndarray]]]) -> bytes:
    tf = tensorflow_ready()
    converter = tf.lite.TFLiteConverter.from_keras_model(legacy_model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = samples
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return converter.convert()
