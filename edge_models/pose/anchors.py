"""SSD anchors of the BlazePose detector, computed from its anchor options.

The detector looks at a 224x224 image through five feature layers with strides 8, 16, 32, 32, 32
(feature maps 28x28, 14x14 and three of 7x7). Layers that share a stride share a grid, so the
grid at stride 32 carries the anchors of all three layers. Each layer puts two anchors on every
cell (aspect ratio 1 plus one interpolated scale), and with a fixed anchor size every anchor is
just a cell centre: 28*28*2 + 14*14*2 + 7*7*2*3 = 1568 + 392 + 294 = 2254 anchors.
"""

from __future__ import annotations

import numpy as np

DETECTOR_INPUT_SIZE_PX = 224  # the detector's square input
ANCHOR_STRIDES_PX = (8, 16, 32, 32, 32)  # one per feature layer
ANCHORS_PER_CELL_PER_LAYER = 2  # aspect ratio 1.0 and the interpolated scale between layers
ANCHOR_OFFSET = 0.5  # anchors sit at cell centres


def ssd_anchor_centres(input_size_px: int = DETECTOR_INPUT_SIZE_PX,
                       strides_px: tuple[int, ...] = ANCHOR_STRIDES_PX) -> np.ndarray:
    """(n_anchors, 2) anchor centres (x, y) in [0, 1], in the model's output order."""
    grids = []
    for stride in dict.fromkeys(strides_px):  # distinct strides, first-seen order
        layers = strides_px.count(stride)
        cells = -(-input_size_px // stride)  # ceil: a partial cell still gets anchors
        grids.append(_grid(cells, layers * ANCHORS_PER_CELL_PER_LAYER))
    return np.concatenate(grids).astype(np.float32)


def _grid(cells: int, per_cell: int) -> np.ndarray:
    """Row-major cell centres, each repeated `per_cell` times."""
    centres = (np.arange(cells, dtype=np.float64) + ANCHOR_OFFSET) / cells
    ys, xs = np.meshgrid(centres, centres, indexing="ij")
    points = np.stack([xs.ravel(), ys.ravel()], axis=1)
    return np.repeat(points, per_cell, axis=0)
