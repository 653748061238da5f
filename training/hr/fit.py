"""Training the forecaster: start at ridge, keep the epoch that validates best, by time block.

The skip path is set to the ridge solution (on POOL_S-second block means, shrunk by the factor
that validates best) before the first step and the head starts at zero, so epoch 0 *is* that
shrunk ridge. Each epoch is scored on the last fifth
of every training recording (`time_block_split`); the weights of the best epoch, epoch 0
included, are kept. Training stops after PATIENCE_EPOCHS without improvement.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from edge_models.features.hr import HrWindows
from training.hr import model as hr_model
from training.hr.baselines import MAE30_INDEX, Ridge
from training.hr.dataset import recording_labels, subset, time_block_split

logger = logging.getLogger(__name__)

PATIENCE_EPOCHS = 3  # epochs without a better validation MAE before training stops
SHRINK_FACTORS = (0.0, 0.25, 0.5, 0.75, 1.0)  # ridge's changes scaled by each, the best kept


@dataclass(frozen=True)
class FitLog:
    """How training went: validation MAE (scaled, +30 s) after each epoch, epoch 0 = ridge."""

    validation_mae30: tuple[float, ...]
    best_epoch: int


def fit_forecaster(train: HrWindows, max_epochs: int):
    """A trained Keras forecaster and its FitLog. Seeds must already be set."""
    fit_idx, val_idx = time_block_split(train, recording_labels(train))
    fitting, validation = subset(train, fit_idx), subset(train, val_idx)
    ridge = Ridge.fit(fitting, pool_s=hr_model.POOL_S)
    shrink = best_shrink(ridge, validation)
    kernel, bias = ridge.as_dense()
    model = hr_model.build_trainable(shrink * kernel, shrink * bias)
    history = [_val_mae30(model, validation)]
    best_weights, best_epoch = model.get_weights(), 0
    for epoch in range(1, max_epochs + 1):
        model.fit(fitting.inputs, fitting.targets, epochs=1, batch_size=hr_model.BATCH_SIZE,
                  shuffle=True, verbose=0)
        history.append(_val_mae30(model, validation))
        if history[-1] < history[best_epoch]:
            best_weights, best_epoch = model.get_weights(), epoch
        elif epoch - best_epoch >= PATIENCE_EPOCHS:
            break
    model.set_weights(best_weights)
    logger.info("fitted on %d windows, kept epoch %d of %d", len(fitting), best_epoch, len(history) - 1)
    return model, FitLog(tuple(history), best_epoch)


def best_shrink(ridge: Ridge, validation: HrWindows) -> float:
    """The factor of SHRINK_FACTORS by which ridge's changes validate best: on a new athlete a
    linear map's changes are too confident (RECOVERY_NOTES.md), and persistence is 0."""
    if not len(validation):
        return 1.0
    predicted = ridge.predict(validation)[:, MAE30_INDEX]
    truth = validation.targets[:, MAE30_INDEX]
    errors = [float(np.abs(s * predicted - truth).mean()) for s in SHRINK_FACTORS]
    shrink = SHRINK_FACTORS[int(np.argmin(errors))]
    logger.info("ridge changes shrunk by %.2f (validation)", shrink)
    return shrink


def _val_mae30(model, validation: HrWindows) -> float:
    if not len(validation):
        return float("nan")
    predicted = model.predict(validation.inputs, batch_size=1024, verbose=0)
    return float(np.abs(predicted - validation.targets)[:, MAE30_INDEX].mean())
