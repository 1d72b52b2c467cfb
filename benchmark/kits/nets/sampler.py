"""Patches on the fly: every image resampled once to the patch grid, fresh windows per epoch.

A fit no longer trains on one fixed, cached set of a few patches per image.  Each image of
the view is resampled **once** to the patch pixel spacing (``size_mm / grid`` mm per pixel,
anti-aliased exactly as :func:`benchmark.kits.patches.extract_patches` does: Gaussian
σ = (factor − 1)/2 image pixels, then bilinear) together with its lung mask and imaged field.
A patch is then a ``grid × grid`` window of that resampled image, so an epoch can draw
thousands of fresh windows by array indexing (microseconds) instead of resampling.

Window kinds (label rules of :mod:`benchmark.kits.patches`, on the resampled grid):

- ``lung``: the window lies entirely inside the lung mask;
- ``nonlung``: entirely outside it and ≥ 95 % inside the imaged field (pixels > 0);
- ``edge``: partly lung (0 < cover < 100 %) and ≥ 50 % imaged field — used only when
  stage 1 is trained on patch masks (``stage1="dense"``, see ``docs/nets.md``);
- ``best``: fallback for prediction when no whole lung window exists: the windows of
  highest lung coverage.

``native=True`` is the ``paper-px`` reading of "32 × 32": windows of ``grid`` image pixels at
the image's own spacing, no resampling.

Input normalisation (``norm``): ``fixed`` keeps the grey levels (the paper: the patch's own
grey levels); ``image`` maps the image's imaged-field 5th → 95th percentile to grey 28 → 228
(clipped to 0–255), the information ``glcm-*`` gets from its image-relative quantisation;
``patch`` keeps the grey levels here and the net's input layer standardises each window
(:class:`benchmark.kits.nets.unet.PatchStandardise`).

Determinism: :meth:`PatchPool.draw` takes a numpy generator; the caller seeds it by
(fit seed, stage, epoch), so the same seed draws the same patches.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from benchmark.kits.patches import _box_sums

Norm = Literal["fixed", "image", "patch"]
Kind = Literal["lung", "nonlung", "edge", "best"]
#: ``patch`` is applied by the net's input layer (per window): the sampler keeps the grey levels
NORMS = ("fixed", "image", "patch")
#: ``norm="image"``: the imaged field's 5th/95th grey percentiles land on these grey levels
IMAGE_NORM_LOW, IMAGE_NORM_HIGH = 28.0, 228.0


@dataclass
class ImageGrid:
    """One image at patch resolution with the top-left indices of its windows by kind."""

    image_id: str
    patient_id: str
    pixels: np.ndarray  # (h, w) uint8, normalised per ``norm``
    lung_cover: np.ndarray  # (h, w) float32 share of lung per resampled pixel
    field: np.ndarray  # (h, w) bool: inside the imaged field
    step_px: float  # original image pixels per grid pixel
    windows: dict[str, np.ndarray]  # kind → flat top-left indices into the window grid
    original_shape: tuple[int, int]


def _normalise(resampled: np.ndarray, original: np.ndarray, norm: Norm) -> np.ndarray:
    if norm in ("fixed", "patch"):
        return np.clip(np.rint(resampled), 0, 255).astype(np.uint8)
    if norm != "image":
        raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")
    field = original[original > 0]
    lo, hi = np.percentile(field, [5, 95]) if field.size else (0.0, 255.0)
    scale = (IMAGE_NORM_HIGH - IMAGE_NORM_LOW) / max(float(hi - lo), 1.0)
    return np.clip(np.rint(IMAGE_NORM_LOW + (resampled - lo) * scale), 0, 255).astype(np.uint8)


def resample_record(
    record, grid: int, size_mm: float | None, norm: Norm, n_best: int = 0
) -> ImageGrid:
    """``record`` on the patch grid (``size_mm=None``: native pixels) with its windows."""
    from scipy import ndimage

    pixels = record.pixels
    h, w = pixels.shape
    step = 1.0 if size_mm is None else (size_mm / grid) / record.spacing_mm
    mask = record.mask if record.mask is not None else np.zeros((h, w), bool)
    field = (pixels > 0).astype(np.float32)
    if step == 1.0:
        image, cover, field_r = pixels.astype(np.float32), mask.astype(np.float32), field
    else:
        image = pixels.astype(np.float32)
        if step > 1.0:
            image = ndimage.gaussian_filter(image, sigma=(step - 1.0) / 2.0, mode="nearest")
        rows = np.arange(0.0, h - 1 + 1e-9, step)
        cols = np.arange(0.0, w - 1 + 1e-9, step)
        rr, cc = np.meshgrid(rows, cols, indexing="ij")
        coords = [rr.ravel(), cc.ravel()]

        def sample(a: np.ndarray) -> np.ndarray:
            out = ndimage.map_coordinates(a, coords, order=1, mode="nearest")
            return out.reshape(len(rows), len(cols)).astype(np.float32)

        image, cover, field_r = sample(image), sample(mask.astype(np.float32)), sample(field)
    out = _normalise(image, pixels, norm)
    field_r = field_r >= 0.5
    windows = _windows((cover >= 0.5).astype(np.uint8), field_r.astype(np.uint8), grid, n_best)
    return ImageGrid(
        str(record.image_id), str(record.patient_id), out, cover, field_r, step, windows, (h, w)
    )


def _windows(lung: np.ndarray, field: np.ndarray, g: int, n_best: int) -> dict[str, np.ndarray]:
    empty = {k: np.empty(0, np.int64) for k in ("lung", "nonlung", "edge", "best")}
    if g > min(lung.shape):
        return empty
    area = g * g
    cover = _box_sums(lung, g).ravel()
    infield = _box_sums(field, g).ravel()
    out = {
        "lung": np.flatnonzero(cover == area),
        "nonlung": np.flatnonzero((cover == 0) & (infield >= math.ceil(0.95 * area))),
        "edge": np.flatnonzero((cover > 0) & (cover < area) & (infield >= area // 2)),
        "best": np.empty(0, np.int64),
    }
    if n_best and not len(out["lung"]):
        top = np.argsort(-cover, kind="stable")[:n_best]
        out["best"] = top[cover[top] > 0]
    return out


class PatchPool:
    """The images of a view on the patch grid; draws fresh patches by kind."""

    def __init__(
        self, view, grid: int, size_mm: float | None, norm: Norm = "fixed", n_best: int = 0
    ) -> None:
        self.grid, self.size_mm, self.norm = int(grid), size_mm, norm
        self.images = [
            resample_record(view.load_image(i), self.grid, size_mm, norm, n_best)
            for i in view.images.index
        ]
        self.skipped = [
            (im.image_id, self._reason(im)) for im in self.images if not len(im.windows["lung"])
        ]

    def _reason(self, im: ImageGrid) -> str:
        side = f"{self.size_mm:g} mm" if self.size_mm else f"{self.grid} px"
        return f"no {side} lung patch fits the mask"

    def __len__(self) -> int:
        return len(self.images)

    def regrid(self, grid: int) -> PatchPool:
        """The same resampled images with windows of another side (stage-1 tiles)."""
        from copy import copy

        out = copy(self)
        out.grid = int(grid)
        out.images = [
            replace(
                im,
                windows=_windows(
                    (im.lung_cover >= 0.5).astype(np.uint8), im.field.astype(np.uint8), out.grid, 0
                ),
            )
            for im in self.images
        ]
        return out

    def counts(self, kind: Kind) -> np.ndarray:
        return np.array([len(im.windows[kind]) for im in self.images])

    def crop(self, i: int, flat: np.ndarray, with_cover: bool = False):
        """Patches (k, g, g) uint8 of image ``i`` at flat top-left indices (and lung cover)."""
        im, g = self.images[i], self.grid
        ncols = im.pixels.shape[1] - g + 1
        r, c = np.divmod(np.asarray(flat, np.int64), ncols)
        view = np.lib.stride_tricks.sliding_window_view(im.pixels, (g, g))
        if not with_cover:
            return view[r, c]
        return view[r, c], np.lib.stride_tricks.sliding_window_view(im.lung_cover, (g, g))[r, c]

    def draw(
        self,
        kind: Kind,
        per_image: int,
        rng: np.random.Generator,
        images: np.ndarray | None = None,
        with_cover: bool = False,
    ):
        """``per_image`` random windows of ``kind`` from each image (with replacement).

        Returns ``(patches (N, g, g) uint8, owner (N,) image position, cover or None)``;
        images without a window of that kind contribute nothing.
        """
        g = self.grid
        chosen = range(len(self.images)) if images is None else images
        parts, owners, covers = [], [], []
        for i in chosen:
            cand = self.images[i].windows[kind]
            if not len(cand) or per_image <= 0:
                continue
            flat = cand[rng.integers(len(cand), size=per_image)]
            got = self.crop(i, flat, with_cover)
            parts.append(got[0] if with_cover else got)
            if with_cover:
                covers.append(got[1])
            owners.append(np.full(per_image, i))
        if not parts:
            empty = np.empty((0, g, g), np.uint8)
            return (
                empty,
                np.empty(0, int),
                (np.empty((0, g, g), np.float32) if with_cover else None),
            )
        return (
            np.concatenate(parts),
            np.concatenate(owners),
            np.concatenate(covers) if with_cover else None,
        )
