"""Haralick/GLCM texture (mahotas) and first-order statistics of lung patches.

Patches come from the shared millimetre sampler :mod:`benchmark.kits.patches` (the same "lung
patch" as the nets: a square entirely inside the traced lung, resampled to 0.5 mm per
patch pixel).  The default side is 8 mm (16 px), the nets' default ``light`` profile: a
fetal lung in the four-chamber view is only ≈ 15–25 mm across, so a 32 mm square (the
paper's) fits inside no synthetic lung at all; ``size_mm=32, grid=64`` selects it.  Per
patch:

- grey levels quantised to ``levels`` (default 32) equal-width bins: over ±3 SD of the
  image's imaged field (``quantisation="image"``, default: ultrasound grey levels are not
  calibrated and gain differs per scan, so echogenicity is measured relative to the rest
  of the frame — the same choice as the radiomics normalisation), over 0–255
  (``"fixed"``: absolute grey levels) or over the patch's own min–max (``"patch"``:
  brightness removed, only structure left);
- the symmetric co-occurrence matrix of each of the 4 directions (0°, 45°, 90°, 135°) at
  ``distance_mm`` converted to patch pixels, from :func:`mahotas.features.texture.cooccurence`
  with a fixed ``levels × levels`` size (``mahotas.features.haralick`` sizes the matrix by
  the patch's maximum grey level, which would make "difference variance" depend on it);
- the 13 Haralick features by :func:`mahotas.features.texture.haralick_features`, either on
  the 4 directional matrices summed (``directions="pooled"``, a rotation-invariant GLCM:
  one feature evaluation per patch, the fast default), averaged over the 4 directions
  (``"mean"``, mahotas ``return_mean``) or kept per direction (``"all"``);
- first-order statistics of the raw patch: mean, SD, skewness, excess kurtosis, 10/50/90th
  percentiles and the entropy of the quantised histogram (in image SD units for
  ``quantisation="image"``, grey levels otherwise).

Per image, each patch feature is summarised by its mean and SD over the image's patches
(:func:`aggregate`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

from benchmark.kits.texture.extract import FeatureError

#: mahotas' order of the 13 Haralick features (``mahotas.features.texture.haralick_labels``)
HARALICK_NAMES = (
    "asm",
    "contrast",
    "correlation",
    "sum_sq_variance",
    "idm",
    "sum_average",
    "sum_variance",
    "sum_entropy",
    "entropy",
    "diff_variance",
    "diff_entropy",
    "imc1",
    "imc2",
)
#: mahotas' 2-D directions as (row, col) steps (0,1), (1,1), (1,0), (1,-1), named by the
#: angle as scikit-image's ``graycomatrix`` names the same offsets (row axis pointing down);
#: at distance d mahotas steps (d, d) on the diagonals (Chebyshev distance)
DIRECTION_NAMES = ("0", "45", "90", "135")
FIRST_ORDER_NAMES = ("mean", "sd", "skewness", "kurtosis", "p10", "p50", "p90", "hist_entropy")

Directions = Literal["pooled", "mean", "all"]
Quantisation = Literal["image", "fixed", "patch"]
#: ``quantisation="image"`` maps mean ± this many SDs of the imaged field onto the levels
IMAGE_SDS = 3.0


def image_reference(pixels: np.ndarray) -> tuple[float, float]:
    """Mean and SD of the imaged field (non-zero pixels: the black surround of a sector
    or screen grab is not tissue — the patch sampler's definition too)."""
    field = pixels[pixels > 0]
    if field.size < 2 or field.std() == 0:
        raise FeatureError("image has no grey-level spread in its imaged field")
    return float(field.mean()), float(field.std())


def normalise(
    patches: np.ndarray, mode: Quantisation, reference: tuple[float, float] | None = None
) -> np.ndarray:
    """Grey levels in the units the features use: image SDs for ``"image"``, else raw."""
    if mode == "image":
        if reference is None:
            raise ValueError("quantisation='image' needs the image's (mean, SD)")
        return (np.asarray(patches, dtype=np.float64) - reference[0]) / reference[1]
    return np.asarray(patches, dtype=np.float64)


def quantise(
    patches: np.ndarray,
    levels: int,
    mode: Quantisation = "fixed",
    reference: tuple[float, float] | None = None,
) -> np.ndarray:
    """uint8 patches (…, h, w) → integer levels 0 … levels − 1 (uint8).

    ``reference`` = the image's (mean, SD) for ``mode="image"``.
    """
    if not 2 <= levels <= 256:
        raise ValueError(f"levels must be in 2..256, got {levels}")
    p = np.asarray(patches)
    if mode == "fixed":
        return ((p.astype(np.uint32) * levels) >> 8).astype(np.uint8)
    if mode == "image":
        z = normalise(p, mode, reference)
        scaled = (z + IMAGE_SDS) / (2 * IMAGE_SDS) * levels
        return np.clip(scaled, 0, levels - 1).astype(np.uint8)
    if mode == "patch":
        lo = p.min(axis=(-2, -1), keepdims=True).astype(np.float64)
        hi = p.max(axis=(-2, -1), keepdims=True).astype(np.float64)
        scaled = (p - lo) / np.maximum(hi - lo, 1.0) * levels
        return np.minimum(scaled, levels - 1).astype(np.uint8)
    raise ValueError(f"quantisation must be 'image', 'fixed' or 'patch', got {mode!r}")


def haralick_names(directions: Directions) -> list[str]:
    if directions == "all":
        return [f"{f}_d{d}" for d in DIRECTION_NAMES for f in HARALICK_NAMES]
    return list(HARALICK_NAMES)


def haralick_patches(
    levels_img: np.ndarray, levels: int, distance_px: int, directions: Directions = "pooled"
) -> np.ndarray:
    """Haralick features of quantised patches (n, h, w) → (n, 13) or (n, 52) for ``"all"``."""
    from mahotas.features.texture import cooccurence, haralick_features

    if directions not in ("pooled", "mean", "all"):
        raise ValueError(f"directions must be pooled, mean or all, got {directions!r}")
    n = len(levels_img)
    width = 13 * (4 if directions == "all" else 1)
    out = np.empty((n, width))
    mats = np.empty((4, levels, levels), np.int32)
    for i in range(n):
        patch = levels_img[i]
        for d in range(4):
            cooccurence(patch, d, mats[d], symmetric=True, distance=distance_px)
        if directions == "pooled":
            out[i] = haralick_features([mats.sum(axis=0)])[0]
        elif directions == "mean":
            out[i] = haralick_features(mats, return_mean=True)
        else:
            out[i] = haralick_features(mats).ravel()
    return out


def first_order(patches: np.ndarray, levels: np.ndarray, n_levels: int) -> np.ndarray:
    """First-order statistics of patches (n, h, w) → (n, 8), vectorised over patches."""
    from scipy import stats

    flat = patches.reshape(len(patches), -1).astype(np.float64)
    sd = flat.std(axis=1)
    constant = sd == 0  # scipy's skew/kurtosis are NaN on a flat patch; define them as 0
    skew = np.where(constant, 0.0, stats.skew(flat, axis=1) if len(flat) else 0.0)
    kurt = np.where(constant, 0.0, stats.kurtosis(flat, axis=1) if len(flat) else 0.0)
    pct = np.percentile(flat, [10, 50, 90], axis=1).T if len(flat) else np.empty((0, 3))
    counts = (
        np.stack([np.bincount(q.ravel(), minlength=n_levels) for q in levels])
        if len(levels)
        else np.empty((0, n_levels))
    )
    prob = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ent = -np.where(prob > 0, prob * np.log2(prob), 0.0).sum(axis=1)
    return np.column_stack([flat.mean(axis=1), sd, skew, kurt, pct, ent])


def aggregate(per_patch: np.ndarray, names: list[str]) -> tuple[list[str], np.ndarray]:
    """Mean and SD over an image's patches: one vector per image."""
    mean = per_patch.mean(axis=0)
    sd = per_patch.std(axis=0)
    return [f"{n}_mean" for n in names] + [f"{n}_sd" for n in names], np.concatenate([mean, sd])


@dataclass(frozen=True)
class GlcmExtractor:
    """Texture of an image's lung patches (see the module docstring)."""

    levels: int = 32
    distance_mm: float = 1.0
    directions: Directions = "pooled"
    quantisation: Quantisation = "image"
    n_patches: int = 32
    #: patch side in mm and in pixels (0.5 mm per patch pixel, like the nets' default
    #: ``light`` profile; see docs/texture.md for why not the paper's 32 mm)
    size_mm: float = 8.0
    grid: int = 16
    #: sampling seed: fixed (not the split seed) so every split and seed shares the cache
    seed: int = 0

    kind = "glcm"
    unit = "patches"

    def spec(self):
        from benchmark.kits.patches import PatchSpec

        return PatchSpec(size_mm=self.size_mm, grid=self.grid)

    def distance_px(self) -> int:
        """``distance_mm`` in patch pixels (at least 1)."""
        return max(1, int(round(self.distance_mm / self.spec().mm_per_px)))

    def cache_params(self) -> dict[str, Any]:
        import mahotas

        from benchmark.kits import patches

        return {
            **asdict(self),
            "mahotas": mahotas.__version__,
            "patch_cache_version": patches._CACHE_VERSION,
            "v": 2,
        }

    def patch_features(
        self, patches: np.ndarray, reference: tuple[float, float] | None = None
    ) -> tuple[list[str], np.ndarray]:
        """Per-patch features (n, F) of uint8 patches and their names; ``reference`` = the
        image's (mean, SD) of the imaged field, needed by ``quantisation="image"``."""
        q = quantise(patches, self.levels, self.quantisation, reference)
        har = haralick_patches(q, self.levels, self.distance_px(), self.directions)
        fo = first_order(normalise(patches, self.quantisation, reference), q, self.levels)
        names = [f"glcm_{n}" for n in haralick_names(self.directions)]
        names += [f"fo_{n}" for n in FIRST_ORDER_NAMES]
        return names, np.hstack([har, fo])

    def _lung_crop(self, record):
        """The record cut to the lung's bounding box plus the anti-aliasing filter's reach.

        A lung patch lies entirely inside the mask, so the crop keeps every candidate
        centre in the same raster order (the sampler draws the very same patches) while
        the sampler's whole-image work (box sums, Gaussian pre-filter) shrinks with it.
        """
        from dataclasses import replace

        rows = np.flatnonzero(record.mask.any(axis=1))
        cols = np.flatnonzero(record.mask.any(axis=0))
        step = self.spec().mm_per_px / record.spacing_mm
        # scipy's gaussian_filter reaches 4 σ (σ = (step − 1) / 2, see benchmark.kits.patches)
        margin = int(np.ceil(4.0 * max(step - 1.0, 0.0) / 2.0)) + 2
        h, w = record.mask.shape
        r0, r1 = max(rows[0] - margin, 0), min(rows[-1] + margin + 1, h)
        c0, c1 = max(cols[0] - margin, 0), min(cols[-1] + margin + 1, w)
        return replace(record, pixels=record.pixels[r0:r1, c0:c1], mask=record.mask[r0:r1, c0:c1])

    def __call__(self, record) -> tuple[list[str], np.ndarray, int]:
        from benchmark.kits.patches import image_rng, sample_patches

        if record.mask is None:
            raise FeatureError("no traced lung mask")
        if not record.mask.any():
            raise FeatureError("empty lung mask")
        patches, _ = sample_patches(
            self._lung_crop(record),
            "lung",
            self.n_patches,
            image_rng(self.seed, record.image_id),
            self.spec(),
        )
        if len(patches) == 0:
            raise FeatureError(f"no {self.size_mm:g} mm patch fits entirely inside the lung mask")
        reference = image_reference(record.pixels) if self.quantisation == "image" else None
        names, per_patch = self.patch_features(patches, reference)
        agg_names, vector = aggregate(per_patch, names)
        return agg_names, vector, len(patches)
