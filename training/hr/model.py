"""The heart-rate forecaster: a small network over the last two minutes, on a linear skip path.

Its output is the change in heart rate at +10/+30/+60 s, divided by HR_SCALE_BPM
(`edge_models.features.hr.decode_forecast` turns it back into bpm). Two paths are added:
Both paths see the window averaged over POOL_S-second blocks (12 blocks x 4 channels): a Dense
over 480 raw inputs lost 16 % to int8 (each input's rounding adds up), over 48 block means it
does not.
- skip: one Dense over the blocks, set to the ridge solution on the same blocks, shrunk by the
  factor that validates best (`training.hr.fit`), so the network starts at least as good as that;
- head: one small hidden layer and a last layer that starts at zero, so training only adds what
  a non-linear map finds beyond the linear one (the plan matters only when given; a work start
  matters more at a low heart rate).
Bundle 2.x had an LSTM head here: it kept epoch 0 (= ridge) in most folds (RECOVERY_NOTES.md),
ran slower in int8 than in float on LiteRT, and 38 leave-one-session-out folds of it do not fit
on two cores; pooled blocks give the head the same two minutes at a fraction of the cost.
The same function builds the Keras 3 model that trains and the tf_keras mirror (batch 1) that
converts to int8.
"""

from __future__ import annotations

import numpy as np

from edge_models.features.hr import HORIZONS_S, N_CHANNELS, WINDOW_S
from training.tf_setup import tensorflow_ready

POOL_S = 10  # the head sees 10-s block means: 12 blocks x 4 channels
HIDDEN_UNITS = 16  # one small hidden layer between the blocks and the three horizons
DROPOUT = 0.2  # on the hidden layer: sessions are few and alike within each
LEARNING_RATE = 1e-3  # Adam; the skip path starts at ridge, a faster rate throws that away
BATCH_SIZE = 64  # windows a training step
HUBER_DELTA = 0.05  # 5 bpm in scaled units: beyond it, errors count linearly (spikes, dropouts)
INPUT_NAME = "hr_window"
SKIP_LAYER = "ridge_skip"
HEAD_LAYER = "head_out"


def build(k, batch_size: int | None = None):
    """The forecaster in Keras module `k` (keras or tf_keras)."""
    window = k.Input(shape=(WINDOW_S, N_CHANNELS), batch_size=batch_size, name=INPUT_NAME)
    blocks = k.layers.Flatten()(k.layers.AveragePooling1D(POOL_S)(window))
    skip = k.layers.Dense(len(HORIZONS_S), name=SKIP_LAYER)(blocks)
    hidden = k.layers.Dropout(DROPOUT)(k.layers.Dense(HIDDEN_UNITS, activation="relu")(blocks))
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
