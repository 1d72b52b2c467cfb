"""Lung maps from the stage-1 (lung) weights, scored by the engine's DSC.

The image is resampled to the patch grid exactly as for training
(:func:`benchmark.kits.nets.sampler.resample_record`, same ``norm``), then:

- **dense nets** (``dense_output = True``, the U-Net): one fully-convolutional pass of the
  whole resampled image through :meth:`ResidualUNet.dense` (zero-padded to a multiple of
  16, black like a sector's surround) gives a lung probability at every grid pixel — the
  decoder's own output, no sliding window;
- **other nets** (timm backbones: a scalar per patch): sliding patch classification, a
  window every ``stride_mm`` whose lung score sits at its centre.

Either map is interpolated bilinearly back to the original pixels (nearest beyond the
outermost samples).  Pixels outside the imaged field are not lung and score 0.
"""

from __future__ import annotations

import numpy as np

from benchmark.kits.nets.sampler import resample_record


def _to_original(
    grid_map: np.ndarray, rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]
) -> np.ndarray:
    """Values sampled at original-pixel positions ``rows × cols`` → every original pixel."""
    from scipy import ndimage

    h, w = shape
    step_r = rows[1] - rows[0] if len(rows) > 1 else 1.0
    step_c = cols[1] - cols[0] if len(cols) > 1 else 1.0
    rr, cc = np.meshgrid(
        (np.arange(h) - rows[0]) / step_r, (np.arange(w) - cols[0]) / step_c, indexing="ij"
    )
    out = ndimage.map_coordinates(grid_map.astype(np.float32), [rr, cc], order=1, mode="nearest")
    return np.clip(out, 0.0, 1.0)


def lung_map(
    net,
    record,
    grid: int,
    size_mm: float | None,
    norm: str,
    dense: bool,
    stride_mm: float,
    device: str,
    seed: int,
) -> np.ndarray:
    """Lung probability per pixel of ``record``, shape ``record.pixels.shape``."""
    import torch

    from benchmark.kits.nets.runtime import deterministic
    from benchmark.kits.nets.training import predict_scores

    im = resample_record(record, grid, size_mm, norm)
    h, w = im.pixels.shape
    if min(h, w) < grid:
        return np.zeros(record.pixels.shape, np.float32)
    with deterministic(seed, device):
        if dense:
            ph, pw = -h % 16, -w % 16
            padded = np.pad(im.pixels, ((0, ph), (0, pw)))
            with torch.no_grad():
                probs = predict_scores(net, padded[None], device, dense=True)[0, :h, :w]
            rows = np.arange(h) * im.step_px
            cols = np.arange(w) * im.step_px
        else:
            step = max(1, int(round(stride_mm / (size_mm or grid * record.spacing_mm) * grid)))
            r0 = np.arange(0, h - grid + 1, step)
            c0 = np.arange(0, w - grid + 1, step)
            rr, cc = np.meshgrid(r0, c0, indexing="ij")
            windows = np.lib.stride_tricks.sliding_window_view(im.pixels, (grid, grid))
            probs = predict_scores(net, windows[rr.ravel(), cc.ravel()], device)
            probs = probs.reshape(len(r0), len(c0))
            rows = (r0 + (grid - 1) / 2) * im.step_px
            cols = (c0 + (grid - 1) / 2) * im.step_px
    out = _to_original(probs, rows, cols, record.pixels.shape)
    out[record.pixels == 0] = 0.0
    return out
