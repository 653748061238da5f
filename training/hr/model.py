"""The heart-rate forecaster: an LSTM over the last two minutes, on top of a linear skip path.

Its output is the change in heart rate at +10/+30/+60 s, divided by HR_SCALE_BPM
(`edge_models.features.hr.decode_forecast` turns it back into bpm). Two paths are added:
- skip: one Dense over the flattened last SKIP_S seconds (heart rate and work/rest state), set to
  the ridge solution before training, so the network starts exactly as good as ridge;
- LSTM head: a small LSTM and Dense layers whose last layer starts at zero, so training only adds
  what the sequence tells beyond the linear map.
The same function builds the Keras 3 model that trains and the tf_keras mirror (batch 1) that
converts to a fused int8 LSTM.
"""

from __future__ import annotations

import numpy as np

from edge_models.features.hr import HORIZONS_S, N_CHANNELS, WINDOW_S
from training.tf_setup import tensorflow_ready

LSTM_UNITS = 16  # a 16-cell state: as good as 32 on three recordings, half the weights
HIDDEN_UNITS = 16  # one small dense layer between the LSTM state and the three horizons
DROPOUT = 0.2  # on the LSTM state: the windows of three recordings are few and alike
SKIP_S = 120  # the whole window: full-window ridge beat the last 20 or 60 s in recovery (LOO)
LEARNING_RATE = 1e-3  # Adam; the skip path starts at ridge, a faster rate throws that away
BATCH_SIZE = 64  # windows a training step
HUBER_DELTA = 0.05  # 5 bpm in scaled units: beyond it, errors count linearly (spikes, dropouts)
INPUT_NAME = "hr_window"
SKIP_LAYER = "ridge_skip"
HEAD_LAYER = "lstm_head_out"


def build(k, batch_size: int | None = None):
    """The forecaster in Keras module `k` (keras or tf_keras)."""
    window = k.Input(shape=(WINDOW_S, N_CHANNELS), batch_size=batch_size, name=INPUT_NAME)
    recent = k.layers.Cropping1D((WINDOW_S - SKIP_S, 0))(window)
    skip = k.layers.Dense(len(HORIZONS_S), name=SKIP_LAYER)(k.layers.Flatten()(recent))
    state = k.layers.Dropout(DROPOUT)(k.layers.LSTM(LSTM_UNITS)(window))
    hidden = k.layers.Dense(HIDDEN_UNITS, activation="relu")(state)
    head = k.layers.Dense(len(HORIZONS_S), kernel_initializer="zeros", name=HEAD_LAYER)(hidden)
    return k.Model(window, k.layers.Add()([skip, head]), name="heart_rate_forecaster")


def build_trainable(skip_kernel: np.ndarray | None = None, skip_bias: np.ndarray | None = None):
    """The Keras 3 model, compiled; its skip path set to (kernel, bias) when given."""
    tensorflow_ready()  # the legacy-Keras flag must be set before keras brings TensorFlow in
    import keras

    model = build(keras)
    if skip_kernel is not None and skip_bias is not None:
        model.get_layer(SKIP_LAYER).set_weights([skip_kernel.astype(np.float32),
                                                 skip_bias.astype(np.float32)])
    model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE),
                  loss=keras.losses.Huber(delta=HUBER_DELTA))
    return model


def build_legacy_batch1():
    import tf_keras

    return build(tf_keras, batch_size=1)
