"""Lung maps from the stage-1 (lung vs non-lung) weights, scored by the engine's DSC.

Sliding patch classification: patches every ``seg_stride_mm`` over the image, each
patch's lung score assigned to its centre, bilinearly interpolated to every pixel (nearest
score beyond the outermost centres).  Windows mostly outside the imaged field (a sector's
black surround) are not lung and need no forward pass.
"""

from __future__ import annotations

import numpy as np

from benchmark.patches import PatchSpec, extract_patches, field_fraction, sliding_centres


def sliding_lung_map(net, record, spec: PatchSpec, stride_mm: float, device: str,
                     seed: int) -> np.ndarray:
    """Lung probability per pixel of ``record`` from the patch classifier ``net``."""
    from scipy import ndimage

    from benchmark.nets.runtime import deterministic
    from benchmark.nets.training import predict_scores

    h, w = record.pixels.shape
    centres = sliding_centres((h, w), record.spacing_mm, stride_mm, spec)
    if len(centres) == 0:
        return np.zeros((h, w), np.float32)
    inside = field_fraction(record.pixels, record.spacing_mm, centres, spec) >= 0.5
    scores = np.zeros(len(centres))
    if inside.any():
        with deterministic(seed, device):
            scores[inside] = predict_scores(
                net, extract_patches(record.pixels, record.spacing_mm, centres[inside], spec),
                device)
    rows, cols = np.unique(centres[:, 0]), np.unique(centres[:, 1])
    grid = scores.reshape(len(rows), len(cols)).astype(np.float32)
    step_r = rows[1] - rows[0] if len(rows) > 1 else 1.0
    step_c = cols[1] - cols[0] if len(cols) > 1 else 1.0
    rr, cc = np.meshgrid((np.arange(h) - rows[0]) / step_r, (np.arange(w) - cols[0]) / step_c,
                         indexing="ij")
    return ndimage.map_coordinates(grid, [rr, cc], order=1, mode="nearest")
