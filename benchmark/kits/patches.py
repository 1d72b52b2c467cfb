"""Patches of fixed *physical* size (the paper's 32 mm × 32 mm), shared by every image method.

One sampler serves the nets (``benchmark.kits.nets``) and the texture-feature methods, so that
"a lung patch" means the same thing for all of them.

Geometry
--------
A patch is a square of ``size_mm`` × ``size_mm`` centred at a pixel position, resampled
to a ``grid`` × ``grid`` pixel array, so the content is the same tissue area whatever the
scanner's pixel spacing.  The default grid is 64 px for 32 mm, i.e. 0.5 mm per patch
pixel: B-mode speckle at 2–5 MHz has an axial size of ≈ 0.5–0.8 mm and a lateral size of
≈ 1–2 mm, so 0.5 mm/px keeps the speckle grain (≥ 1 sample per axial speckle, 2–4 per
lateral one) while the array stays small enough for CPU training.  A 32 px grid
(1 mm/px) averages the axial speckle away; 128 px (0.25 mm/px) is finer than the
native spacing of most abdominal probes and only costs time.  The grid is a parameter.

Resampling is anti-aliased: when the patch pixel is coarser than the image pixel, the
image is first low-pass filtered with a Gaussian (σ = (factor − 1) / 2 image pixels, the
rule scikit-image's ``resize(anti_aliasing=True)`` uses), then sampled bilinearly with
one vectorised :func:`scipy.ndimage.map_coordinates` call for all patches of an image.

Labels
------
For each candidate centre the footprint is the ``w × w`` pixel window, w = ⌈size_mm /
spacing⌉.  With exact integer box sums (a summed-area table):

- **lung** (label 1): lung coverage of the window ≥ ``lung_cover`` (default 1.0 — the
  window lies *entirely* inside the traced mask, as in the paper);
- **non-lung** (label 0): lung coverage ≤ ``nonlung_cover`` (default 0.0 — entirely
  outside) and at least ``min_field`` of the window inside the imaged field (pixels
  > 0; the black surround of a convex sector and of screen grabs is not tissue);
- a window straddling the mask boundary is neither and is never sampled.

Windows must lie fully inside the image.  An image without a mask, or without any valid
centre of the requested kind (small lung, small image), yields no patches and is
reported in ``PatchSet.skipped`` with a reason — never a crash, never a silent drop.

Caching
-------
:func:`build_patch_set` writes the patches of a whole view to
``cache_root()/patches/<key>/`` as a uint8 ``.npy`` opened memory-mapped, plus an index
table; the key hashes (dataset_key, image ids, spec, seed, counts), so a second call is a
file open.  Sampling is deterministic by seed: each image draws from its own generator
seeded by ``(seed, crc32(image_id))``, so an image's patches do not depend on which other
images are in the view.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
import warnings
import zlib
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from benchmark.contract.files import honour_umask
from benchmark.data.cohort import ImageRecord

Kind = Literal["lung", "nonlung"]
LABELS = {"lung": 1, "nonlung": 0}
_CACHE_VERSION = 1  # bump when the sampling rule changes so old caches are not reused


@dataclass(frozen=True)
class PatchSpec:
    """What a patch is: physical size, output grid, and the label rules."""

    size_mm: float = 32.0
    grid: int = 64
    #: lung = at least this share of the footprint inside the mask (1.0 = entirely)
    lung_cover: float = 1.0
    #: non-lung = at most this share inside the mask (0.0 = entirely outside)
    nonlung_cover: float = 0.0
    #: non-lung patches must have at least this share of non-zero pixels (imaged field)
    min_field: float = 0.95

    def __post_init__(self) -> None:
        if self.size_mm <= 0 or self.grid < 2:
            raise ValueError(f"PatchSpec: size_mm must be > 0 and grid ≥ 2, got {self}")
        if not 0.0 <= self.nonlung_cover < self.lung_cover <= 1.0:
            raise ValueError("PatchSpec: need 0 ≤ nonlung_cover < lung_cover ≤ 1")

    @property
    def mm_per_px(self) -> float:
        """Spacing of the resampled patch grid."""
        return self.size_mm / self.grid

    def window_px(self, spacing_mm: float) -> int:
        """Side of the label footprint in image pixels."""
        return max(1, math.ceil(self.size_mm / spacing_mm - 1e-9))


# -- geometry ----------------------------------------------------------------------------
def _box_sums(values: np.ndarray, w: int) -> np.ndarray:
    """Exact sum of every ``w × w`` window; result[i, j] = window with top-left (i, j)."""
    sat = np.zeros((values.shape[0] + 1, values.shape[1] + 1), dtype=np.int64)
    np.cumsum(np.cumsum(values, axis=0, dtype=np.int64), axis=1, out=sat[1:, 1:])
    return sat[w:, w:] - sat[:-w, w:] - sat[w:, :-w] + sat[:-w, :-w]


def _top_left_to_centre(w: int) -> float:
    # a window of w pixels starting at pixel i covers [i - 0.5, i + w - 0.5] in pixel
    # coordinates (pixel centres at integers); its geometric centre is i + (w - 1) / 2
    return (w - 1) / 2.0


def valid_centres(record: ImageRecord, kind: Kind, spec: PatchSpec) -> np.ndarray:
    """All centres (float pixel coords, shape (k, 2), row/col) of valid ``kind`` patches."""
    if kind not in LABELS:
        raise ValueError(f"kind must be 'lung' or 'nonlung', got {kind!r}")
    if record.mask is None:
        return np.empty((0, 2))
    w = spec.window_px(record.spacing_mm)
    h, wid = record.pixels.shape
    if w > h or w > wid:
        return np.empty((0, 2))
    area = w * w
    lung = _box_sums(record.mask.astype(np.uint8), w)
    if kind == "lung":
        ok = lung >= math.ceil(spec.lung_cover * area - 1e-9)
    else:
        field_ = _box_sums((record.pixels > 0).astype(np.uint8), w)
        ok = (lung <= math.floor(spec.nonlung_cover * area + 1e-9)) & (
            field_ >= math.ceil(spec.min_field * area - 1e-9)
        )
    rows, cols = np.nonzero(ok)
    return np.stack([rows, cols], axis=1).astype(float) + _top_left_to_centre(w)


def best_lung_centres(record: ImageRecord, n: int, spec: PatchSpec | None = None) -> np.ndarray:
    """Fallback for an image whose lung holds no whole patch: the ``n`` windows with the
    highest lung coverage (ties → first in raster order).  Empty without a mask or when
    the image is smaller than a patch; callers must say they used it."""
    spec = spec or PatchSpec()
    if record.mask is None:
        return np.empty((0, 2))
    w = spec.window_px(record.spacing_mm)
    if w > min(record.pixels.shape):
        return np.empty((0, 2))
    cover = _box_sums(record.mask.astype(np.uint8), w).ravel()
    top = np.argsort(-cover, kind="stable")[: int(n)]
    top = top[cover[top] > 0]
    rows, cols = np.unravel_index(
        top, (record.pixels.shape[0] - w + 1, record.pixels.shape[1] - w + 1)
    )
    return np.stack([rows, cols], axis=1).astype(float) + _top_left_to_centre(w)


def sliding_centres(
    shape: tuple[int, int], spacing_mm: float, stride_mm: float, spec: PatchSpec | None = None
) -> np.ndarray:
    """A regular grid of centres (float pixel coords, (k, 2)) whose patches fit the image.

    Used for lung maps: classify the patch at each centre, then interpolate.
    """
    spec = spec or PatchSpec()
    w = spec.window_px(spacing_mm)
    step = max(1, int(round(stride_mm / spacing_mm)))
    h, wid = shape
    if w > h or w > wid:
        return np.empty((0, 2))
    c0 = _top_left_to_centre(w)
    rows = np.arange(0, h - w + 1, step) + c0
    cols = np.arange(0, wid - w + 1, step) + c0
    rr, cc = np.meshgrid(rows, cols, indexing="ij")
    return np.stack([rr.ravel(), cc.ravel()], axis=1)


def field_fraction(
    pixels: np.ndarray, spacing_mm: float, centres: np.ndarray, spec: PatchSpec | None = None
) -> np.ndarray:
    """Share of each centre's window inside the imaged field (pixels > 0), shape (k,).

    ``centres`` must come from :func:`sliding_centres` / :func:`valid_centres` (windows
    inside the image).  Lets a lung map skip the black surround of a sector image.
    """
    spec = spec or PatchSpec()
    w = spec.window_px(spacing_mm)
    centres = np.asarray(centres, dtype=float).reshape(-1, 2)
    if len(centres) == 0:
        return np.empty(0)
    sums = _box_sums((pixels > 0).astype(np.uint8), w)
    top_left = np.rint(centres - _top_left_to_centre(w)).astype(int)
    return sums[top_left[:, 0], top_left[:, 1]] / float(w * w)


def extract_patches(
    pixels: np.ndarray, spacing_mm: float, centres: np.ndarray, spec: PatchSpec | None = None
) -> np.ndarray:
    """Resample ``size_mm`` squares at ``centres`` to uint8 arrays (k, grid, grid)."""
    from scipy import ndimage  # lazy: keeps `benchmark list` fast

    spec = spec or PatchSpec()
    centres = np.asarray(centres, dtype=float).reshape(-1, 2)
    g = spec.grid
    if len(centres) == 0:
        return np.empty((0, g, g), np.uint8)
    step_px = spec.mm_per_px / spacing_mm  # image pixels per patch pixel
    image = pixels.astype(np.float32)
    if step_px > 1.0:  # anti-alias before decimating
        image = ndimage.gaussian_filter(image, sigma=(step_px - 1.0) / 2.0, mode="nearest")
    offsets = (np.arange(g) - (g - 1) / 2.0) * step_px
    rr = centres[:, 0, None, None] + offsets[None, :, None]
    cc = centres[:, 1, None, None] + offsets[None, None, :]
    rr, cc = np.broadcast_arrays(rr, cc)
    out = ndimage.map_coordinates(image, [rr.ravel(), cc.ravel()], order=1, mode="nearest")
    return np.clip(np.rint(out), 0, 255).astype(np.uint8).reshape(len(centres), g, g)


def image_rng(seed: int, image_id: str) -> np.random.Generator:
    """The generator an image's sampling uses: independent of the other images."""
    return np.random.default_rng([int(seed), zlib.crc32(str(image_id).encode())])


def sample_patches(
    record: ImageRecord,
    kind: Kind,
    n: int,
    rng: np.random.Generator,
    spec: PatchSpec | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Up to ``n`` distinct random patches of one kind from one image.

    Returns ``(patches uint8 (k, grid, grid), centres float (k, 2))`` with k = min(n,
    number of valid centres); k = 0 when the image has no valid centre.
    """
    spec = spec or PatchSpec()
    candidates = valid_centres(record, kind, spec)
    k = min(int(n), len(candidates))
    if k == 0:
        return np.empty((0, spec.grid, spec.grid), np.uint8), np.empty((0, 2))
    chosen = candidates[np.sort(rng.choice(len(candidates), size=k, replace=False))]
    return extract_patches(record.pixels, record.spacing_mm, chosen, spec), chosen


# -- cached patch sets ---------------------------------------------------------------------
@dataclass
class PatchSet:
    """Patches of a view: ``patches`` (N, g, g) uint8 memmap + ``index`` (one row each).

    ``index`` columns: image_id, patient_id, label (1 lung, 0 non-lung), centre_y,
    centre_x (image pixels).  ``skipped`` lists ``(image_id, reason)`` of images that gave
    *no* patch of a requested kind (no mask, lung smaller than a patch, ...); ``short``
    lists images that gave some, but fewer than asked.
    """

    patches: np.ndarray
    index: pd.DataFrame
    spec: PatchSpec
    skipped: list[tuple[str, str]] = field(default_factory=list)
    short: list[tuple[str, str]] = field(default_factory=list)
    path: Path | None = None

    def __len__(self) -> int:
        return len(self.index)

    def select(self, mask: np.ndarray | pd.Series) -> tuple[np.ndarray, pd.DataFrame]:
        """Rows where ``mask`` is true: (patches copied into memory, index)."""
        rows = np.flatnonzero(np.asarray(mask))
        return np.asarray(self.patches[rows]), self.index.iloc[rows].reset_index(drop=True)


def _cache_key(
    dataset_key: str,
    image_ids: list[str],
    spec: PatchSpec,
    seed: int,
    n_lung: int,
    n_nonlung: int,
) -> str:
    payload = {
        "v": _CACHE_VERSION,
        "dataset": dataset_key,
        "images": image_ids,
        "spec": asdict(spec),
        "seed": int(seed),
        "n": [int(n_lung), int(n_nonlung)],
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:20]


def _load_cached(folder: Path, spec: PatchSpec) -> PatchSet:
    patches = np.load(folder / "patches.npy", mmap_mode="r")
    index = pd.read_parquet(folder / "index.parquet")
    report = json.loads((folder / "skipped.json").read_text())
    return PatchSet(
        patches,
        index,
        spec,
        [tuple(s) for s in report["skipped"]],
        [tuple(s) for s in report["short"]],
        folder,
    )


def default_cache_dir() -> Path:
    from benchmark.data.sources import cache_root

    return cache_root() / "patches"


def build_patch_set(
    view,
    spec: PatchSpec | None = None,
    n_lung_per_image: int = 16,
    n_nonlung_per_image: int = 16,
    seed: int = 0,
    cache_dir: str | Path | None = None,
    image_ids: Iterable[str] | None = None,
) -> PatchSet:
    """Sample (or reuse from disk) lung/non-lung patches of every image of ``view``.

    ``view`` is a TrainView/TestView (anything with ``images``, ``load_image`` and
    ``dataset_key``); ``image_ids`` restricts to a subset.  ``cache_dir=None`` uses
    ``cache_root()/patches``.  Images that yield fewer patches than asked are listed in
    ``skipped`` and announced with one warning.
    """
    spec = spec or PatchSpec()
    ids = [str(i) for i in (view.images.index if image_ids is None else image_ids)]
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    key = _cache_key(
        getattr(view, "dataset_key", ""), ids, spec, seed, n_lung_per_image, n_nonlung_per_image
    )
    folder = root / key
    if (folder / "skipped.json").is_file():
        out = _load_cached(folder, spec)
    else:
        out = _sample_to_disk(
            view, ids, spec, n_lung_per_image, n_nonlung_per_image, seed, root, folder
        )
    if out.skipped or out.short:
        first = (out.skipped or out.short)[0]
        warnings.warn(
            f"patches: {len(out.skipped)} of {len(ids)} images gave no patch of a requested "
            f"kind and {len(out.short)} fewer than asked (e.g. {first[0]}: {first[1]})",
            stacklevel=2,
        )
    return out


def _sample_to_disk(
    view,
    ids: list[str],
    spec: PatchSpec,
    n_lung: int,
    n_nonlung: int,
    seed: int,
    root: Path,
    folder: Path,
) -> PatchSet:
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".tmp-", dir=root))
    honour_umask(staging, directory=True)  # mkdtemp makes 0700; the cache follows the umask
    try:
        g = spec.grid
        capacity = len(ids) * (n_lung + n_nonlung)
        buf = np.lib.format.open_memmap(
            staging / "all.npy", "w+", np.uint8, (max(capacity, 1), g, g)
        )
        rows: list[tuple[str, str, int, float, float]] = []
        skipped: list[tuple[str, str]] = []
        short_: list[tuple[str, str]] = []
        for image_id in ids:
            record = view.load_image(image_id)
            if record.mask is None:
                skipped.append((image_id, "no traced lung mask"))
                continue
            rng = image_rng(seed, image_id)
            none, few = [], []
            for kind, n in (("lung", n_lung), ("nonlung", n_nonlung)):
                if n <= 0:
                    continue
                patches, centres = sample_patches(record, kind, n, rng, spec)
                if len(patches) == 0:
                    none.append(f"no {kind} patch fits the mask")
                elif len(patches) < n:
                    few.append(f"only {len(patches)}/{n} {kind} patches fit the mask")
                start = len(rows)
                buf[start : start + len(patches)] = patches
                rows.extend(
                    (image_id, record.patient_id, LABELS[kind], float(cy), float(cx))
                    for cy, cx in centres
                )
            if none:
                skipped.append((image_id, "; ".join(none)))
            if few:
                short_.append((image_id, "; ".join(few)))
        n = len(rows)
        if n == capacity and n > 0:
            buf.flush()
            del buf
            os.replace(staging / "all.npy", staging / "patches.npy")
        else:
            final = np.lib.format.open_memmap(staging / "patches.npy", "w+", np.uint8, (n, g, g))
            final[:] = buf[:n]
            final.flush()
            del final, buf
            (staging / "all.npy").unlink()
        index = pd.DataFrame(
            rows, columns=["image_id", "patient_id", "label", "centre_y", "centre_x"]
        )
        index["label"] = index["label"].astype(np.int8)
        index.to_parquet(staging / "index.parquet", index=False)
        (staging / "spec.json").write_text(json.dumps(asdict(spec)))
        (staging / "skipped.json").write_text(json.dumps({"skipped": skipped, "short": short_}))
        try:
            os.replace(staging, folder)  # atomic: a half-written set is never visible
        except OSError:
            if not (folder / "skipped.json").is_file():  # lost a race to a twin process: fine
                raise
            shutil.rmtree(staging, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return _load_cached(folder, spec)
