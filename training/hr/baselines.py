"""What the heart-rate model must beat: persistence and ridge autoregression, scored alike.

Both see exactly the windows the model sees. Persistence says heart rate stays where it is; ridge
is a linear map of the whole window (heart rate and effort) to the changes, solved in closed form.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edge_models.features.hr import HORIZONS_S, HR_SCALE_BPM, WINDOW_S, HrWindows

RIDGE_LAMBDA = 1000.0  # L2 penalty on standardised inputs: chosen by leave-one-recording-out (10-10000 tried)
MAE30_INDEX = HORIZONS_S.index(30)  # the headline horizon: +30 s


def persistence(windows: HrWindows) -> np.ndarray:
    """Scaled HR changes predicted by "no change": zeros."""
    return np.zeros_like(windows.targets)


@dataclass(frozen=True)
class Ridge:
    """A fitted ridge autoregression over the flattened last `last_s` seconds of the window."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray  # (n_features + 1, n_horizons), last row the bias
    last_s: int
    pool_s: int = 1  # features are means over blocks of this many seconds (1: every second)

    @classmethod
    def fit(cls, windows: HrWindows, lam: float = RIDGE_LAMBDA, last_s: int = WINDOW_S,
            pool_s: int = 1) -> Ridge:
        x = _flat(windows, last_s, pool_s)
        mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
        z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
        penalty = lam * np.eye(z.shape[1])
        penalty[-1, -1] = 0.0  # the bias is not shrunk
        weights = np.linalg.solve(z.T @ z + penalty, z.T @ windows.targets.astype(np.float64))
        return cls(mean, scale, weights, last_s, pool_s)

    def predict(self, windows: HrWindows) -> np.ndarray:
        z = np.hstack([(_flat(windows, self.last_s, self.pool_s) - self.mean) / self.scale,
                       np.ones((len(windows), 1))])
        return (z @ self.weights).astype(np.float32)

    def as_dense(self) -> tuple[np.ndarray, np.ndarray]:
        """(kernel, bias) of one Dense layer on the raw flattened inputs giving the same output."""
        kernel = self.weights[:-1] / self.scale[:, None]
        bias = self.weights[-1] - (self.mean / self.scale) @ self.weights[:-1]
        return kernel, bias


def _flat(windows: HrWindows, last_s: int, pool_s: int = 1) -> np.ndarray:
    """The last `last_s` seconds, averaged over blocks of `pool_s` seconds, one row a window."""
    recent = windows.inputs[:, -last_s:, :].astype(np.float64)
    blocks = recent.reshape(len(windows), last_s // pool_s, pool_s, recent.shape[-1]).mean(axis=2)
    return blocks.reshape(len(windows), -1)


def mae_bpm(predicted: np.ndarray, windows: HrWindows, mask: np.ndarray | None = None) -> np.ndarray:
    """Mean absolute error in bpm at each horizon, over all windows or those in `mask`."""
    error = np.abs(predicted - windows.targets) * HR_SCALE_BPM
    if mask is not None:
        error = error[mask]
    return error.mean(axis=0) if len(error) else np.full(len(HORIZONS_S), np.nan)


def headline(predicted: np.ndarray, windows: HrWindows) -> dict[str, float]:
    """MAE at +10/+30/+60 s over full windows, at +30 s over full recovery windows and full
    transition windows (first minute after a planned work/rest change), and at +30 s over
    cold-start windows (history shorter than the window) when there are any."""
    full = ~windows.cold_start
    all_mae = mae_bpm(predicted, windows, full)
    rec = mae_bpm(predicted, windows, full & windows.in_recovery)
    scores = {f"mae{h}_bpm": float(all_mae[i]) for i, h in enumerate(HORIZONS_S)}
    scores["rec_mae30_bpm"] = float(rec[MAE30_INDEX])
    scores["transition_mae30_bpm"] = float(mae_bpm(predicted, windows,
                                                   full & windows.in_transition)[MAE30_INDEX])
    if windows.cold_start.any():
        cold = mae_bpm(predicted, windows, windows.cold_start)
        scores["cold_mae30_bpm"] = float(cold[MAE30_INDEX])
    return scores


def cold_by_history(predicted: np.ndarray, windows: HrWindows) -> dict[str, float]:
    """MAE at +30 s for each cold-start history length: how fast a forecast warms up."""
    return {f"cold{h}_mae30_bpm": float(mae_bpm(predicted, windows,
                                                 windows.history_s == h)[MAE30_INDEX])
            for h in np.unique(windows.history_s[windows.cold_start])}
