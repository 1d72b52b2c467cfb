"""Traced lung masks and whole frames, synthetic against real.  From the repository root::

    python datasets/_tracing_realism.py [--patients 30] [--out results/realism]

writes ``tracings.csv`` (the masks' shape beside real tracings) and ``c2st.csv`` (the
classifier two-sample test, datasets/_c2st.py) for the default cohort's frames (seed 0,
512 px, the first ``--patients`` patients, both frames), before tracing (the visible lung,
as generator v7 exported it) and after.  Nothing here feeds back into the generator.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image
from scipy import stats

REPO = Path(__file__).resolve().parents[1]
#: Every ROI and crop is resampled (anti-aliased) to this spacing: the coarsest real frame's.
COMMON_MM = 0.25
#: Thorax crop of the learned C2ST: this many mm a side around the heart, at CROP_MM / px.
CROP_SIDE_MM, CROP_MM = 48.0, 0.5


def _private(name: str):
    import importlib

    from benchmark.data.sources import list_datasets

    list_datasets()
    return importlib.import_module(f"benchmark._plugins.datasets.{name}")


def _resample(image: np.ndarray, spacing: float, target: float) -> np.ndarray:
    from skimage.transform import rescale

    return rescale(
        image.astype(float),
        spacing / target,
        anti_aliasing=spacing < target,
        preserve_range=True,
        order=1,
    )


def roi_features(roi: np.ndarray) -> dict[str, float]:
    """Grey-level histogram (quantiles, moments) and GLCM (32 ROI-range levels, 4
    directions) at 0.5 and 1 mm of a lung ROI at COMMON_MM per pixel."""
    from skimage.feature import graycomatrix, graycoprops

    v = roi.ravel()
    out = {f"grey_p{q}": float(np.percentile(v, q)) for q in (10, 25, 50, 75, 90)}
    out.update(
        grey_mean=v.mean(),
        grey_sd=v.std(),
        grey_skewness=stats.skew(v),
        grey_kurtosis=stats.kurtosis(v),
    )
    lo, hi = v.min(), v.max()
    levels = np.clip((roi - lo) / max(hi - lo, 1e-9) * 32, 0, 31).astype(np.uint8)
    for mm in (0.5, 1.0):
        d = int(round(mm / COMMON_MM))
        m = graycomatrix(
            levels, [d], [0, np.pi / 4, np.pi / 2, 3 * np.pi / 4], 32, symmetric=True, normed=True
        )
        for p in ("contrast", "homogeneity", "energy", "correlation"):
            out[f"glcm_{p}_{mm:g}mm"] = float(graycoprops(m, p).mean())
    return {k: float(x) for k, x in out.items()}


def _mean_features(rois: list[np.ndarray]) -> dict[str, float] | None:
    feats = [roi_features(r) for r in rois if min(r.shape) >= 8]
    return pd.DataFrame(feats).mean().to_dict() if feats else None


def _crop(image: np.ndarray, spacing: float, centre: tuple[float, float]) -> np.ndarray:
    """CROP_SIDE_MM square around ``centre`` (row, col), black outside, at CROP_MM/px."""
    half = int(round(CROP_SIDE_MM / 2 / spacing))
    cy, cx = (int(round(c)) for c in centre)
    padded = np.pad(image, half)
    box = padded[cy : cy + 2 * half, cx : cx + 2 * half]
    n = int(round(CROP_SIDE_MM / CROP_MM))
    out = _resample(box, spacing, CROP_MM)[:n, :n]
    return np.pad(out, ((0, n - out.shape[0]), (0, n - out.shape[1]))) / 255.0


def _raster(poly: list, shape: tuple[int, int]) -> np.ndarray:
    """A filled polygon (x, y vertices in pixels) as a mask."""
    from skimage.draw import polygon

    m = np.zeros(shape, bool)
    xy = np.array(poly)
    m[polygon(xy[:, 1], xy[:, 0], shape)] = True
    return m


def real_side(real_dir: Path, tracings: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per real frame: C2ST features and crop, and the box-based lung part measures;
    per hand-traced lung: shape measures."""
    tr = _private("_synth_tracing")
    labels = pd.read_csv(real_dir / "labels.csv").set_index("Image_name")
    rois = pd.read_csv(real_dir / "lung_rois.csv")
    frames = []
    for name, mine in rois.groupby("image"):
        image = np.asarray(Image.open(real_dir / name).convert("L"))
        s = float(mine["spacing_mm"].iloc[0])
        lungs = mine[mine["region"] == "lung"]
        chamber = mine[mine["region"] == "chamber"].iloc[0]
        boxes = [
            _resample(image[r.y0 : r.y1, r.x0 : r.x1], s, COMMON_MM) for r in lungs.itertuples()
        ]
        sides = np.array([[r.x1 - r.x0, r.y1 - r.y0] for r in lungs.itertuples()]) * s
        frames.append(
            {
                "patient": f"real{labels.loc[name.removesuffix('.png'), 'Patient_num']}",
                "features": _mean_features(boxes),
                "crop": _crop(
                    image, s, ((chamber.y0 + chamber.y1) / 2, (chamber.x0 + chamber.x1) / 2)
                ),
                "parts": len(lungs),
                "min_part_area_mm2": float(sides.prod(axis=1).min()),
                "min_part_radius_mm": float(sides.min() / 2),
            }
        )
    traced = []
    for name, t in tracings["images"].items():
        shape = Image.open(real_dir / name).size[::-1]
        s = float(t["spacing_mm"])

        lungs = np.any([_raster(p, shape) for p in t["lungs"]], axis=0)
        st = tr.part_stats(lungs, s)
        st["lung_share_of_thorax"] = float(lungs.sum() / _raster(t["thorax"], shape).sum())
        traced.append({"image": name, **st})
    return pd.DataFrame(frames), pd.DataFrame(traced)


def synthetic_side(patients: int, seed: int = 0) -> pd.DataFrame:
    """Per synthetic frame of the default cohort: shape measures of the traced and of the
    visible (untraced) mask, C2ST features of ROIs in each, and the thorax crop."""
    gen, cohort, anat, tr, realism = (
        _private(n)
        for n in (
            "_synth_generate",
            "_synth_cohort",
            "_synth_anatomy",
            "_synth_tracing",
            "_realism",
        )
    )
    table = cohort.make_cohort(316, seed).head(patients)
    rows = []
    for _, row in table.iterrows():
        for j in range(2):
            fr, _ = gen.frame(row, j, seed, 512, keep_labels=True)
            s = fr.spacing_mm
            heart = np.argwhere(np.isin(fr.labels, [anat.MYO, anat.BLOOD, anat.VALVE]))
            out = {"patient": row["patient_id"], "crop": _crop(fr.image, s, heart.mean(0))}
            thorax = fr.thorax.sum()
            for when, mask in (("after", fr.mask), ("before", fr.visible)):
                st = tr.part_stats(mask, s)
                st["lung_share_of_thorax"] = float(mask.sum() / thorax)
                out.update({f"{k}_{when}": v for k, v in st.items()})
                # a ≈ 10 × 14 mm box deepest inside each of the two largest parts (as by eye)
                from scipy import ndimage

                parts, n = ndimage.label(mask, tr.CONNECTIVITY)
                sizes = ndimage.sum_labels(mask, parts, range(1, n + 1))
                boxes = [
                    realism._box(parts == k + 1, (int(5.0 / s), int(7.0 / s)))
                    for k in np.argsort(sizes)[::-1][:2]
                ]
                out[f"features_{when}"] = _mean_features(
                    [_resample(fr.image[b], s, COMMON_MM) for b in boxes if b]
                )
            rows.append(out)
    return pd.DataFrame(rows)


def _iqr(values) -> tuple[float, float, float]:
    q1, med, q3 = np.nanpercentile(np.asarray(values, float), [25, 50, 75])
    return float(med), float(q1), float(q3)


def tracings_table(syn: pd.DataFrame, real: pd.DataFrame, traced: pd.DataFrame) -> pd.DataFrame:
    """One row per shape quantity: real median [IQR] beside synthetic after and before
    tracing; ``inside`` by the row's criterion."""
    tr = _private("_synth_tracing")
    width = tr.MIN_WIDTH_MM / 2
    rows = [
        (
            "parts",
            real["parts"],
            "lung boxes per real frame (one per visible lung)",
            lambda med, mx, r: med <= 2 and r.min() <= med <= r.max(),
            "median <= 2 and within the real range",
        ),
        (
            "min_part_area_mm2",
            real["min_part_area_mm2"],
            "smallest lung box per real frame (a lower bound: a traced lung holds its box)",
            lambda med, mx, r: med >= np.median(r),
            "median >= real median (lower bound)",
        ),
        (
            "min_part_radius_mm",
            real["min_part_radius_mm"],
            "half the shorter side of the smallest lung box (a lower bound)",
            lambda med, mx, r: med >= np.median(r),
            f"every frame >= {width:g} mm (MIN_WIDTH_MM / 2) and median >= real median",
        ),
        (
            "perimeter2_over_area",
            traced["perimeter2_over_area"],
            "hand tracings, 2 real frames (results/realism/public_thorax_tracings.json)",
            lambda med, mx, r: r.min() * 0.75 <= med <= r.max() * 1.25,
            "median within the real range ± 25 % (two traced frames)",
        ),
        (
            "lung_share_of_thorax",
            traced["lung_share_of_thorax"],
            "hand tracings, 2 real frames: lungs / thorax outline",
            lambda med, mx, r: r.min() * 0.75 <= med <= r.max() * 1.25,
            "median within the real range ± 25 % (two traced frames)",
        ),
    ]
    out = []
    for quantity, real_values, source, rule, criterion in rows:
        after, before = syn[f"{quantity}_after"], syn[f"{quantity}_before"]
        med, q1, q3 = _iqr(after)
        inside = rule(med, after.max(), real_values.to_numpy(float))
        if quantity == "min_part_radius_mm":
            inside = inside and bool((after >= width).all())
        rmed, rq1, rq3 = _iqr(real_values)
        bmed, bq1, bq3 = _iqr(before)
        out.append(
            {
                "quantity": quantity,
                "real_source": source,
                "n_real": len(real_values),
                "real_median": rmed,
                "real_q1": rq1,
                "real_q3": rq3,
                "n_synthetic": len(after),
                "synthetic_median": med,
                "synthetic_q1": q1,
                "synthetic_q3": q3,
                "synthetic_min": float(after.min()),
                "synthetic_max": float(after.max()),
                "before_median": bmed,
                "before_q1": bq1,
                "before_q3": bq3,
                "before_min": float(before.min()),
                "before_max": float(before.max()),
                "criterion": criterion,
                "inside": "yes" if inside else "no",
            }
        )
    return pd.DataFrame(out).round(4)


def c2st_table(syn: pd.DataFrame, real: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    c2st = _private("_c2st")
    rows = []
    groups_real = real["patient"].to_numpy()
    ci = f"patient cluster bootstrap, {c2st.N_BOOT} resamples, percentile"
    for when in ("before", "after"):
        feats = pd.DataFrame([*real["features"], *syn[f"features_{when}"]])
        X, names = feats.to_numpy(float), list(feats.columns)
        y = np.r_[np.zeros(len(real), int), np.ones(len(syn), int)]
        groups = np.r_[groups_real, syn["patient"].to_numpy()]
        r = c2st.logistic_c2st(X, y, groups, seed)
        top = c2st.separating_features(X, y, names)
        rows.append(
            {
                "feature_set": "lung-ROI grey histogram + GLCM, logistic regression",
                "masks": when,
                "r": r,
                "top": top,
            }
        )
    crops = np.stack([*real["crop"], *syn["crop"]])
    y = np.r_[np.zeros(len(real), int), np.ones(len(syn), int)]
    r = c2st.cnn_c2st(crops, y, np.r_[groups_real, syn["patient"].to_numpy()], seed)
    for when in ("before", "after"):  # the crops hold no mask: tracing changes no pixel
        rows.append(
            {
                "feature_set": "thorax crop, small CNN (random init)",
                "masks": when,
                "r": r,
                "top": [],
            }
        )
    out = []
    for row in rows:
        r, top = row["r"], row["top"]
        out.append(
            {
                "feature_set": row["feature_set"],
                "masks": row["masks"],
                "n_real": r.n_real,
                "n_synthetic": r.n_synthetic,
                "auc": round(r.auc, 3),
                "ci_low": round(r.ci_low, 3),
                "ci_high": round(r.ci_high, 3),
                "ci_method": ci,
                # the learned set has no named features: its top columns stay empty
                **{f"top{i + 1}": "" for i in range(3)},
                **{f"top{i + 1}": f"{n} (AUC {a:.2f})" for i, (n, a) in enumerate(top)},
            }
        )
    return pd.DataFrame(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=30)
    parser.add_argument("--out", type=Path, default=REPO / "results/realism")
    args = parser.parse_args(argv)
    realism = _private("_realism")
    if not realism.REAL_DIR.is_dir():
        sys.exit(f"real images not found at {realism.REAL_DIR}")
    tracings = json.loads((REPO / "results/realism/public_thorax_tracings.json").read_text())
    real, traced = real_side(realism.REAL_DIR, tracings)
    syn = synthetic_side(args.patients)
    args.out.mkdir(parents=True, exist_ok=True)
    t = tracings_table(syn, real, traced)
    t.to_csv(args.out / "tracings.csv", index=False)
    c = c2st_table(syn, real)
    c.to_csv(args.out / "c2st.csv", index=False)
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print(t.drop(columns=["real_source", "criterion"]).to_string(index=False))
        print(c.drop(columns=["ci_method"]).to_string(index=False))
    print(f"\nwritten: {args.out / 'tracings.csv'}, {args.out / 'c2st.csv'}")


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
