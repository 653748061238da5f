"""The heart-rate forecaster: an LSTM over the last two minutes of heart rate and effort.

Its output is the change in heart rate at +10/+30/+60 s, divided by HR_SCALE_BPM
(`edge_models.features.hr.decode_forecast` turns it back into bpm). The same function builds the
Keras 3 model that trains and the tf_keras mirror (batch 1) that converts to a fused int8 LSTM.
"""

from __future__ import annotations

from edge_models.features.hr import HORIZONS_S, N_CHANNELS, WINDOW_S

LSTM_UNITS = 32  # a 32-cell state: ~23 KB int8, ~1.5 ms a window on one laptop core
HIDDEN_UNITS = 16  # one small dense layer between the LSTM state and the three horizons
LEARNING_RATE = 2e-3  # Adam; windows are few and similar, a faster rate overshoots
BATCH_SIZE = 64  # windows a training step
HUBER_DELTA = 0.05  # 5 bpm in scaled units: beyond it, errors count linearly (spikes, dropouts)
INPUT_NAME = "hr_window"


def build(k, batch_size: int | None = None):
    """The forecaster in Keras module `k` (keras or tf_keras)."""
    return k.Sequential([
        k.Input(shape=(WINDOW_S, N_CHANNELS), batch_size=batch_size, name=INPUT_NAME),
        k.layers.LSTM(LSTM_UNITS),
        k.layers.Dense(HIDDEN_UNITS, activation="relu"),
        k.layers.Dense(len(HORIZONS_S)),
    ], name="heart_rate_forecaster")


def build_trainable():
    import keras

    model = build(keras)
    model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE),
                  loss=keras.losses.Huber(delta=HUBER_DELTA))
    return model


def build_legacy_batch1():
    import tf_keras

    return build(tf_keras, batch_size=1)
