"""TensorFlow, set up once for training: legacy Keras available, seeds fixed, device logged.

`TF_USE_LEGACY_KERAS=1` must be set before TensorFlow is first imported: the int8 converter then
reads `tf_keras` models, the only kind whose LSTM converts to LiteRT's fused int8 LSTM (see
DESIGN.md, Models). Keras 3 (`import keras`) still trains the full-size models.
Import TensorFlow through `tensorflow_ready()`, never directly, so the order always holds.
"""

from __future__ import annotations

import logging
import os
import sys

logger = logging.getLogger(__name__)

LEGACY_KERAS_FLAG = "TF_USE_LEGACY_KERAS"


def tensorflow_ready():
    """The `tensorflow` module, imported after the legacy-Keras flag is set."""
    if "tensorflow" not in sys.modules:
        os.environ[LEGACY_KERAS_FLAG] = "1"
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep oneDNN/CUDA chatter off the report
    elif os.environ.get(LEGACY_KERAS_FLAG) != "1":
        raise RuntimeError("tensorflow was imported before training.tf_setup: "
                           f"set {LEGACY_KERAS_FLAG}=1 before importing it")
    import tensorflow as tf

    return tf


def seed_everything(seed: int) -> None:
    """Same seed, same data, same weights: numpy, Python and TensorFlow seeded, ops deterministic."""
    tensorflow_ready()
    import keras

    keras.utils.set_random_seed(seed)
    tf = tensorflow_ready()
    tf.config.experimental.enable_op_determinism()


def training_device() -> str:
    """'GPU' when TensorFlow sees one, else 'CPU'; logged so a report says where it trained."""
    tf = tensorflow_ready()
    gpus = tf.config.list_physical_devices("GPU")
    device = "GPU" if gpus else "CPU"
    logger.info("training on %s (%d GPU(s) visible)", device, len(gpus))
    return device
