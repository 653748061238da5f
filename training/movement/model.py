"""The movement model: a small temporal CNN over one second of pose landmarks.

Input (WINDOW_FRAMES, 99). Two heads share the convolution stack:
- class: softmax over the label set (what the athlete is doing, from the whole second);
- phase: softmax over `PHASES` (still / rising / falling, from the window's last frames).
The shipped file has one output, the two softmaxes side by side (classes first), so LiteRT, the
golden file and the model store see a single tensor; `split_outputs` separates them.
"""

from __future__ import annotations

import numpy as np

from edge_models.features.movement import FEATURES_PER_LANDMARK, NUM_LANDMARKS, PHASES, WINDOW_FRAMES

FILTERS = (32, 32, 48)  # channels of the three Conv1D layers
KERNEL_FRAMES = 5  # each convolution sees 5 frames (~0.17 s)
PHASE_TAIL_FRAMES = 3  # the phase head reads the last 3 time steps of the conv features
DROPOUT = 0.3  # against memorising a few hundred windows
LEARNING_RATE = 2e-3  # Adam
BATCH_SIZE = 64  # windows a training step
PHASE_LOSS_WEIGHT = 0.5  # the class is the headline; the phase helps count reps
INPUT_NAME = "pose_window"
FEATURES = NUM_LANDMARKS * FEATURES_PER_LANDMARK  # 99 numbers a frame


def build(k, num_classes: int, batch_size: int | None = None):
    """The CNN in Keras module `k` (keras or tf_keras); output: class probs then phase probs."""
    inputs = k.Input(shape=(WINDOW_FRAMES, FEATURES), batch_size=batch_size, name=INPUT_NAME)
    x = inputs
    for filters in FILTERS:
        x = k.layers.Conv1D(filters, KERNEL_FRAMES, padding="same", activation="relu")(x)
    pooled = k.layers.GlobalAveragePooling1D()(x)
    pooled = k.layers.Dropout(DROPOUT)(pooled)
    classes = k.layers.Dense(num_classes, activation="softmax", name="movement_class")(pooled)
    tail = k.layers.Flatten()(k.layers.Cropping1D((WINDOW_FRAMES - PHASE_TAIL_FRAMES, 0))(x))
    phase = k.layers.Dense(len(PHASES), activation="softmax", name="movement_phase")(tail)
    both = k.layers.Concatenate(name="class_then_phase")([classes, phase])
    return k.Model(inputs, both, name="movement_cnn")


def build_trainable(num_classes: int = 4):
    """The Keras 3 model (for the benchmark: the same architecture, untrained)."""
    import keras

    return build(keras, num_classes)


def training_view(model):
    """The same layers with the two heads as separate outputs, compiled for training."""
    import keras

    heads = keras.Model(model.inputs, [model.get_layer("movement_class").output,
                                       model.get_layer("movement_phase").output])
    heads.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE),
                  loss=["sparse_categorical_crossentropy", "sparse_categorical_crossentropy"],
                  loss_weights=[1.0, PHASE_LOSS_WEIGHT])
    return heads


def build_legacy_batch1(num_classes: int):
    import tf_keras

    return build(tf_keras, num_classes, batch_size=1)


def split_outputs(outputs: np.ndarray, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """(n, classes + phases) -> class probabilities (n, classes), phase probabilities (n, 3)."""
    return outputs[..., :num_classes], outputs[..., num_classes:]
