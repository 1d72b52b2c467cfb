"""Realism check: texture statistics of synthetic vs real lung and cardiac-chamber regions.

The statistics are those measured on the public thorax set (mean, SD, SNR, skewness, excess
kurtosis, lung/chamber ratio, speckle FWHM from the plane-detrended autocorrelation, GLCM
at d = 0.5 mm with 32 levels).  Run from the repository root::

    python datasets/_realism.py [--images 20] [--size 1024]

It prints the side-by-side table (Markdown) and writes
``docs/figures/synthetic_vs_real.png``.  Nothing here feeds back into the generator.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image
from scipy import ndimage, stats

REPO = Path(__file__).resolve().parents[1]
#: the real images live beside the checkout (../shared), or two levels up from a worktree
REAL_DIR = next(
    (
        p / "shared" / "data" / "public-thorax"
        for p in REPO.parents
        if (p / "shared" / "data" / "public-thorax").is_dir()
    ),
    REPO.parent / "shared" / "data" / "public-thorax",
)


def _fwhm(profile: np.ndarray) -> float:
    """Full width at half maximum (samples) of a symmetric profile peaking at its centre."""
    c = len(profile) // 2
    half = profile[c:]
    below = np.flatnonzero(half < 0.5)
    if not len(below):
        return np.nan
    k = below[0]
    # linear interpolation between the last sample above and the first below 0.5
    frac = (half[k - 1] - 0.5) / (half[k - 1] - half[k])
    return 2 * (k - 1 + frac)


def speckle_fwhm(roi: np.ndarray) -> tuple[float, float]:
    """(axial, lateral) FWHM in pixels of the normalised autocorrelation after removing a
    least-squares plane."""
    h, w = roi.shape
    yy, xx = np.mgrid[:h, :w]
    design = np.column_stack([np.ones(h * w), yy.ravel(), xx.ravel()])
    coef, *_ = np.linalg.lstsq(design, roi.ravel().astype(float), rcond=None)
    resid = roi.astype(float) - (design @ coef).reshape(h, w)
    f = np.fft.fft2(resid, s=(2 * h, 2 * w))
    ac = np.fft.fftshift(np.real(np.fft.ifft2(np.abs(f) ** 2)))
    if ac[h, w] <= 0:  # a constant region (e.g. saturated or fully shadowed)
        return np.nan, np.nan
    ac /= ac[h, w]
    return _fwhm(ac[:, w]), _fwhm(ac[h, :])


def glcm(roi: np.ndarray, distance: int, levels: np.ndarray) -> dict[str, float]:
    from skimage.feature import graycomatrix, graycoprops

    m = graycomatrix(
        levels,
        [distance],
        [0, np.pi / 4, np.pi / 2, 3 * np.pi / 4],
        32,
        symmetric=True,
        normed=True,
    )
    return {
        p: float(graycoprops(m, p).mean())
        for p in ("contrast", "homogeneity", "energy", "correlation")
    }


def roi_stats(roi: np.ndarray, spacing: float) -> dict[str, float]:
    v = roi.astype(float).ravel()
    ax, lat = speckle_fwhm(roi)
    d = max(1, int(round(0.5 / spacing)))
    fixed = (roi // 8).astype(np.uint8)
    lo, hi = float(roi.min()), float(roi.max())
    ranged = np.clip((roi - lo) / max(hi - lo, 1e-9) * 32, 0, 31).astype(np.uint8)
    out = {
        "mean": v.mean(),
        "sd": v.std(ddof=1),
        "snr": v.mean() / max(v.std(ddof=1), 1e-9),
        "skewness": stats.skew(v),
        "kurtosis": stats.kurtosis(v),
        "fwhm_axial_mm": ax * spacing,
        "fwhm_lateral_mm": lat * spacing,
        "lat_over_ax": lat / ax if ax else np.nan,
    }
    out.update({f"glcm_fixed_{k}": x for k, x in glcm(roi, d, fixed).items()})
    out.update({f"glcm_range_{k}": x for k, x in glcm(roi, d, ranged).items()})
    return out


def real_table() -> pd.DataFrame:
    rois = pd.read_csv(REAL_DIR / "lung_rois.csv")
    rows = []
    for r in rois.itertuples():
        img = np.asarray(Image.open(REAL_DIR / r.image).convert("L"))
        roi = img[r.y0 : r.y1, r.x0 : r.x1]
        rows.append({"image": r.image, "region": r.region, **roi_stats(roi, r.spacing_mm)})
    return pd.DataFrame(rows)


def _private(name: str):
    from benchmark.data.sources import list_datasets

    list_datasets()
    return importlib.import_module(f"benchmark._plugins.datasets.{name}")


def _box(inside: np.ndarray, half: tuple[int, int]) -> tuple[slice, slice] | None:
    """The box of the given half-size centred deepest inside a region, if it fits."""
    if not inside.any():
        return None
    dist = ndimage.distance_transform_edt(inside)
    cy, cx = np.unravel_index(np.argmax(dist), dist.shape)
    box = (slice(cy - half[0], cy + half[0]), slice(cx - half[1], cx + half[1]))
    if cy - half[0] < 0 or cx - half[1] < 0 or inside[box].mean() < 0.9:
        # shrink until it fits: real boxes were drawn inside the region too
        return _box(inside, (half[0] * 3 // 4, half[1] * 3 // 4)) if min(half) > 8 else None
    return box


def synthetic_table(n_images: int, size: int, seed: int = 0) -> tuple[pd.DataFrame, list]:
    """Lung and chamber ROIs (≈ 10 × 14 mm and 4 × 5 mm, like the real boxes) on frames
    spread over the GA range."""
    gen, cohort, anat = (
        _private(n) for n in ("_synth_generate", "_synth_cohort", "_synth_anatomy")
    )
    table = cohort.make_cohort(n_images, seed, null=False).sort_values("ga_weeks")
    rows, frames = [], []
    for _, row in table.iterrows():
        fr, m = gen.frame(row, 0, seed, size, keep_labels=True)
        frames.append((row["ga_weeks"], fr))
        s = fr.spacing_mm
        lung = ndimage.binary_erosion(fr.mask, iterations=2)
        # split the traced lung into its two sides and take a box in each (as by eye)
        parts, n = ndimage.label(lung)
        sizes = ndimage.sum(lung, parts, range(1, n + 1))
        chamber = ndimage.binary_erosion(fr.labels == anat.BLOOD, iterations=2)
        cbox = _box(chamber, (int(2.0 / s), int(2.5 / s)))
        chamber_mean = float(fr.image[cbox].mean()) if cbox else np.nan
        if not chamber_mean >= 1:  # black (below the display floor): no ratio
            chamber_mean = np.nan
        if cbox:
            rows.append(
                {
                    "image": f"ga{row['ga_weeks']:.1f}",
                    "region": "chamber",
                    **roi_stats(fr.image[cbox], s),
                }
            )
        for k in np.argsort(sizes)[::-1][:2]:
            box = _box(parts == k + 1, (int(5.0 / s), int(7.0 / s)))
            if box:
                st = roi_stats(fr.image[box], s)
                st["lung_chamber_ratio"] = st["mean"] / chamber_mean
                rows.append(
                    {
                        "image": f"ga{row['ga_weeks']:.1f}",
                        "region": "lung",
                        "ga_weeks": row["ga_weeks"],
                        "maturity": m,
                        **st,
                    }
                )
    return pd.DataFrame(rows), frames


def _with_ratio(real: pd.DataFrame) -> pd.DataFrame:
    chamber = real[real.region == "chamber"].groupby("image")["mean"].mean()
    real = real.copy()
    real["lung_chamber_ratio"] = real["mean"] / real["image"].map(chamber)
    return real


def summary(real: pd.DataFrame, syn: pd.DataFrame) -> str:
    def cell(x: pd.Series) -> str:
        q1, q2, q3 = np.nanpercentile(x, [25, 50, 75])
        return f"{q2:.3g} [{q1:.3g}–{q3:.3g}]"

    cols = [
        "mean",
        "sd",
        "snr",
        "skewness",
        "kurtosis",
        "lung_chamber_ratio",
        "fwhm_axial_mm",
        "fwhm_lateral_mm",
        "lat_over_ax",
        "glcm_fixed_contrast",
        "glcm_fixed_homogeneity",
        "glcm_fixed_energy",
        "glcm_fixed_correlation",
        "glcm_range_contrast",
        "glcm_range_homogeneity",
        "glcm_range_energy",
        "glcm_range_correlation",
    ]
    rl, sl = real[real.region == "lung"], syn[syn.region == "lung"]
    lines = [
        f"| lung ROI statistic | real (n={len(rl)}) | synthetic (n={len(sl)}) |",
        "|---|---|---|",
    ]
    lines += [f"| {c} | {cell(rl[c])} | {cell(sl[c])} |" for c in cols]
    rc, sc = real[real.region == "chamber"], syn[syn.region == "chamber"]
    lines += [f"| chamber mean grey | {cell(rc['mean'])} | {cell(sc['mean'])} |"]
    return "\n".join(lines)


#: Hand tracings of some real frames (lungs, thorax), drawn for results/realism/tracings.csv.
_TRACINGS_FILE = REPO / "results/realism/public_thorax_tracings.json"
TRACINGS = json.loads(_TRACINGS_FILE.read_text())["images"] if _TRACINGS_FILE.is_file() else {}

#: Width of every panel of the side-by-side figure, mm: the same mm scale for all frames.
FIGURE_WINDOW_MM = 110.0


def figure(frames: list, path: Path, n_real: int = 3) -> None:
    """≥ 6 synthetic frames across GA (with their exported lung masks) above real
    four-chamber views (with their annotated lung ROIs), every panel the same mm window."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    picks = [frames[int(i)] for i in np.linspace(0, len(frames) - 1, 6)]
    rois = pd.read_csv(REAL_DIR / "lung_rois.csv")
    reals = [
        "Patient00724_Plane6_2_of_2.png",
        "Patient00953_Plane6_1_of_1.png",
        "Patient01100_Plane6_1_of_1.png",
    ][:n_real]
    fig, axes = plt.subplots(2, 6, figsize=(18, 6.8))
    half = FIGURE_WINDOW_MM / 2

    def show(ax, image: np.ndarray, spacing: float) -> tuple[float, float]:
        h, w = image.shape
        ax.imshow(image, cmap="gray", vmin=0, vmax=255, extent=(0, w * spacing, h * spacing, 0))
        cx, cy = w * spacing / 2, h * spacing / 2
        ax.set_xlim(cx - half, cx + half)
        ax.set_ylim(cy + half, cy - half)
        ax.set_facecolor("black")
        return cx, cy

    for ax, (ga, fr) in zip(axes[0], picks, strict=True):
        show(ax, fr.image, fr.spacing_mm)
        h, w = fr.mask.shape
        ax.contour(
            fr.mask,
            levels=[0.5],
            colors="yellow",
            linewidths=0.6,
            extent=(0, w * fr.spacing_mm, 0, h * fr.spacing_mm),
            origin="upper",
        )
        ax.set_title(f"synthetic, GA {ga:.1f} wk\n{fr.spacing_mm:.3f} mm/px")
    for ax, name in zip(axes[1], reals, strict=False):
        image = np.asarray(Image.open(REAL_DIR / name).convert("L"))
        mine = rois[rois["image"] == name]
        spacing = float(mine["spacing_mm"].iloc[0])
        show(ax, image, spacing)
        drawn = TRACINGS.get(name, {})
        for poly in drawn.get("lungs", []):  # hand tracing (results/realism/)
            xy = np.array(poly + poly[:1]) * spacing
            ax.plot(xy[:, 0], xy[:, 1], color="lime", linewidth=0.8)
        for r in mine[mine["region"] == "lung"].itertuples():
            ax.add_patch(
                Rectangle(
                    (r.x0 * spacing, r.y0 * spacing),
                    (r.x1 - r.x0) * spacing,
                    (r.y1 - r.y0) * spacing,
                    fill=False,
                    color="yellow",
                    linewidth=0.8,
                )
            )
        ax.set_title(
            f"real: {name.split('_')[0]}, {spacing:.3f} mm/px\n(FETAL_PLANES_DB, CC BY 4.0)"
        )
    for ax in axes[1][len(reals) :]:
        ax.axis("off")
    axes[1][-1].text(
        0,
        0.5,
        f"every panel: {FIGURE_WINDOW_MM:.0f} mm wide\n"
        "top: synthetic frames across GA\n(yellow: traced lung mask)\n"
        "bottom: real four-chamber views\n(yellow: annotated lung ROIs;\n"
        "green: hand tracing, where drawn)\n"
        "Burgos-Artizzu et al. 2020,\nZenodo 3904280, via FU-LoRA",
        fontsize=10,
    )
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument(
        "--size",
        type=int,
        default=1024,
        help="1024 gives ≈ 0.1–0.2 mm/px, near the real images' 0.125",
    )
    parser.add_argument("--figure", type=Path, default=REPO / "docs/figures/synthetic_vs_real.png")
    args = parser.parse_args(argv)
    if not REAL_DIR.is_dir():
        sys.exit(f"real images not found at {REAL_DIR}")
    real = _with_ratio(real_table())
    syn, frames = synthetic_table(args.images, args.size)
    print(summary(real, syn))
    lung = syn[syn.region == "lung"]
    print("\nsynthetic lung, Spearman ρ with GA:")
    for c in (
        "mean",
        "sd",
        "lung_chamber_ratio",
        "glcm_range_contrast",
        "glcm_range_correlation",
        "fwhm_lateral_mm",
    ):
        rho = stats.spearmanr(lung["ga_weeks"], lung[c], nan_policy="omit").statistic
        print(f"  {c}: {rho:+.2f}")
    figure(frames, args.figure)
    print(f"\nfigure: {args.figure}")


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
