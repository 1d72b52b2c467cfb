"""The exported lung mask as a sonographer traces it, from the simulated lung.

The simulator knows every lung pixel and which of them lie in a bone shadow. A person
tracing the lung on the screen draws instead one smooth closed outline per visible lung,
"avoiding the shadowed parts of the lung" (the paper's protocol), as quantusFLM's manual
delineation asks (the lung outlined away from heart, ribs and their shadows; Palacio 2012,
Burgos-Artizzu 2019). Strips left between two rib shadows, a few pixels wide, are not
traced: a caliper outline cannot follow them and nobody would call them lung on the
screen. The rules (docs/synthetic.md, "Lung tracings"):

1. start from the visible lung: lung inside the sector minus the shadowed parts;
2. open it with a disk of radius ``MIN_WIDTH_MM / 2``: every kept pixel lies in a disk of
   that radius inside the visible lung, so no part is narrower than ``MIN_WIDTH_MM``, and
   the outline loses the spikes a hand-drawn curve does not have;
3. per lung (left or right of the fetal midline), keep its largest part and, when
   a shadow splits it, each further part at least ``SPLIT_SHARE`` of the largest (both
   halves of a lung cut in two get traced; a corner beyond a rib shadow does not);
4. drop any part under ``MIN_AREA_MM2``: an island is not traced.

Only scipy.ndimage is used (Euclidean distance transforms for the opening, labelling,
per-label sums), on blocks of ≤ 0.5 mm; it costs a few ms per 512-px frame.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import ndimage

#: Narrowest lung part traced, mm (inscribed diameter). About two lateral speckle cells
#: (lateral FWHM ≈ 1.8 mm on real frames, docs/synthetic.md realism table) and the width
#: of a caliper-drawn line plus its neighbourhood at the usual zoom: narrower strips cannot
#: be outlined as lung.
MIN_WIDTH_MM = 3.0
#: Smallest part traced, mm² (≈ 4.5 × 4.5 mm): below it an island holds fewer than about
#: ten speckle cells, too few to read as lung texture (and too few for a texture ROI).
MIN_AREA_MM2 = 20.0
#: A second part of the same lung (split by a shadow) is traced when it is at least this
#: share of the lung's largest part: a lung cut in comparable halves is outlined in both.
SPLIT_SHARE = 0.5
#: At most this many outlines per lung (the largest and the one split-off half).
MAX_PARTS_PER_LUNG = 2
#: 8-connectivity: parts touching at a corner are one outline.
CONNECTIVITY = np.ones((3, 3), bool)


def open_disk(mask: np.ndarray, radius_px: float) -> np.ndarray:
    """Binary opening with a Euclidean disk, from two distance transforms (erosion:
    distance to the outside > r; dilation: distance to the eroded set ≤ r)."""
    if radius_px <= 0 or not mask.any():
        return mask.copy()
    pad = int(np.ceil(radius_px)) + 1
    core = np.pad(mask, pad)  # the frame's edge is outside: never erode from nothing
    eroded = ndimage.distance_transform_edt(core) > radius_px
    if not eroded.any():
        return np.zeros_like(mask)
    opened = ndimage.distance_transform_edt(~eroded) <= radius_px
    return opened[pad:-pad, pad:-pad] & mask


def _box(mask: np.ndarray, margin: int) -> tuple[slice, slice]:
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    return (
        slice(max(rows[0] - margin, 0), rows[-1] + margin + 1),
        slice(max(cols[0] - margin, 0), cols[-1] + margin + 1),
    )


#: The rules run on blocks of pixels (a block is lung when all of it is) no wider than this,
#: mm: 2–4 pixels a side at the usual 0.1–0.25 mm/px (the transforms cost 4–16 × less),
#: single pixels on coarse frames; the outline's steps stay under half a mm or one pixel.
MAX_BLOCK_MM = 0.5


def trace(
    visible: np.ndarray,
    side: Callable[[np.ndarray, np.ndarray], np.ndarray],
    spacing_mm: float,
) -> np.ndarray:
    """The traced lung mask (bool, inside ``visible``) from the visible lung (lung minus
    shadow); ``side(rows, cols)`` says which lung a pixel position belongs to (one value
    per lung, e.g. 1 right and 2 left); it is asked at each part's centroid only."""
    out = np.zeros(visible.shape, bool)
    if not visible.any():
        return out
    block = max(1, int(MAX_BLOCK_MM // spacing_mm))
    block_mm = block * spacing_mm
    radius = MIN_WIDTH_MM / 2 / block_mm
    box = _box(visible, block * (int(np.ceil(radius)) + 2))  # the lung's bounding box only
    v = visible[box]
    h, w = (n // block * block for n in v.shape)  # whole blocks (the last row/col is margin)
    coarse = v[:h, :w].reshape(h // block, block, w // block, block).all(axis=(1, 3))
    opened = open_disk(coarse, radius)
    parts, n = ndimage.label(opened, CONNECTIVITY)
    if not n:
        return out
    flat = parts.ravel()
    count = np.bincount(flat, minlength=n + 1)[1:]
    area = count * block_mm**2
    # the lung of each part, at its centroid (the mediastinum keeps a part on one side)
    rows, cols = np.indices(parts.shape)
    mean_row = np.bincount(flat, rows.ravel(), n + 1)[1:] / count
    mean_col = np.bincount(flat, cols.ravel(), n + 1)[1:] / count
    lung = np.asarray(
        side(box[0].start + (mean_row + 0.5) * block, box[1].start + (mean_col + 0.5) * block)
    )
    keep = np.zeros(n + 1, bool)
    for s in np.unique(lung):
        mine = np.flatnonzero(lung == s)
        mine = mine[np.argsort(area[mine])[::-1]][:MAX_PARTS_PER_LUNG]
        largest = area[mine[0]]
        for k in mine:
            keep[k + 1] = area[k] >= MIN_AREA_MM2 and area[k] >= SPLIT_SHARE * largest
    traced = keep[parts].repeat(block, 0).repeat(block, 1)
    out[box][:h, :w] = traced
    return out


def part_stats(mask: np.ndarray, spacing_mm: float) -> dict[str, float]:
    """Parts, the smallest part's area (mm²) and largest inscribed radius (mm), outline
    smoothness (perimeter² / area per part, mean over parts: 4π ≈ 12.6 for a disk, larger
    for a ragged outline; skimage's contour-length perimeter) and the total area (mm²)."""
    from skimage.measure import regionprops

    parts, n = ndimage.label(mask, CONNECTIVITY)
    if not n:
        return {
            "parts": 0,
            "min_part_area_mm2": np.nan,
            "min_part_radius_mm": np.nan,
            "perimeter2_over_area": np.nan,
            "area_mm2": 0.0,
        }
    index = np.arange(1, n + 1)
    dist = ndimage.distance_transform_edt(np.pad(mask, 1))[1:-1, 1:-1]
    radius = ndimage.maximum(dist, parts, index) * spacing_mm
    props = regionprops(parts)
    area = np.array([p.area for p in props], float)
    smooth = np.array([p.perimeter**2 / p.area for p in props])
    return {
        "parts": int(n),
        "min_part_area_mm2": float(area.min() * spacing_mm**2),
        "min_part_radius_mm": float(radius.min()),
        "perimeter2_over_area": float(smooth.mean()),
        "area_mm2": float(area.sum() * spacing_mm**2),
    }
