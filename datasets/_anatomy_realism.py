"""Anatomy check: published normal values of the four-chamber view, measured on the
anatomy of generated frames.  Run from the repository root::

    python datasets/_anatomy_realism.py [--frames 120] [--out results/realism/anatomy.csv]

Each quantity is measured on the fetal-frame label raster of the frame (exactly what is
rendered; ``_synth_generate.frame_anatomy``), never read back from the drawing
parameters.  Nothing here feeds back into the generator.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import ndimage

REPO = Path(__file__).resolve().parents[1]

#: quantity → (lower, upper, literature statement and source)
LITERATURE = {
    "cardiac_axis_deg": (25.0, 65.0, "45 ± 20° (Comstock 1987); 43 ± 7° (Shipp 1995)"),
    "cardiothoracic_area_ratio": (0.25, 0.35, "0.25–0.35 (Paladini 1990)"),
    "heart_share_left_of_midline": (
        0.5,
        1.0,
        "most of the heart in the left chest, apex to the left (ISUOG 2013 cardiac screening)",
    ),
    "lung_area_right_over_left": (
        1.2,
        2.0,
        "right lung larger: left/right lung volume ≈ 0.7 "
        "(Peralta 2006); the heart takes more of the "
        "left hemithorax in this section",
    ),
    "lung_anterior_to_heart_share": (
        0.0,
        0.05,
        "almost no lung anterior to the heart: the right ventricle is retrosternal (≤ 5 %)",
    ),
    "lung_share_posterior_to_heart_centre": (
        0.5,
        1.0,
        "lungs lie lateral and posterior to the heart (ISUOG 2013)",
    ),
    "aorta_left_anterior_of_spine": (
        1.0,
        1.0,
        "descending aorta left-anterior of the spine in every normal fetus (ISUOG 2013)",
    ),
    "lv_longer_than_rv": (
        1.0,
        1.0,
        "the left ventricle forms the apex; the right ventricle "
        "is shorter, with the moderator band (ISUOG 2013)",
    ),
}


def _private(name: str):
    from benchmark.data.sources import list_datasets

    list_datasets()
    return importlib.import_module(f"benchmark._plugins.datasets.{name}")


def measure(an, anat) -> dict[str, float]:
    """The quantities of ``LITERATURE`` on one anatomy's label raster."""
    lab, origin, res = anat.raster(an)
    axis = origin + np.arange(lab.shape[0]) * res
    x, y = np.meshgrid(axis, axis)
    hx, hy, _, _, th = anat.heart_geometry(an)
    cardiac = np.isin(lab, [anat.MYO, anat.BLOOD, anat.VALVE])
    parts, _ = ndimage.label(cardiac)
    centre = (int(round((hy - origin) / res)), int(round((hx - origin) / res)))
    heart = parts == parts[centre]
    R = an.radius
    a_t, b_t = R * np.sqrt(an.ellipticity), R / np.sqrt(an.ellipticity)
    # principal axis of the heart outline, as an angle from the AP axis to the left
    hx_m, hy_m = x[heart].mean(), y[heart].mean()
    cov = np.cov(np.stack([x[heart] - hx_m, y[heart] - hy_m]))
    vec = np.linalg.eigh(cov)[1][:, -1]
    vec = vec if vec[1] >= 0 else -vec  # point anteriorly
    lung = lab == anat.LUNG
    # lung anterior to the heart: in each column the heart occupies, lung above its top
    cols = np.flatnonzero(heart.any(axis=0))
    top = lab.shape[0] - 1 - np.argmax(heart[::-1, cols], axis=0)
    anterior = np.zeros_like(lung)
    for c, t in zip(cols, top, strict=True):
        anterior[t + 1 :, c] = lung[t + 1 :, c]
    aorta_parts, _ = ndimage.label(lab == anat.BLOOD)
    ai = (
        int(round((anat.AORTA_XY[1] * R - origin) / res)),
        int(round((anat.AORTA_XY[0] * R - origin) / res)),
    )
    aorta = aorta_parts == aorta_parts[ai]
    spine_y = -0.66 * R
    # chambers: blood on each side of the long axis (v < 0: left heart), length along u
    c, s = np.cos(th), np.sin(th)
    u = (x - hx) * c + (y - hy) * s
    v = -(x - hx) * s + (y - hy) * c
    blood = heart & (lab == anat.BLOOD)
    lv_len, rv_len = u[blood & (v < 0)].max(), u[blood & (v > 0)].max()
    return {
        "cardiac_axis_deg": float(np.degrees(np.arctan2(vec[0], vec[1]))),
        "cardiothoracic_area_ratio": float(heart.sum() * res**2 / (np.pi * a_t * b_t)),
        "heart_share_left_of_midline": float((heart & (x > 0)).sum() / heart.sum()),
        "lung_area_right_over_left": float((lung & (x < 0)).sum() / (lung & (x > 0)).sum()),
        "lung_anterior_to_heart_share": float(anterior.sum() / lung.sum()),
        "lung_share_posterior_to_heart_centre": float((lung & (y < hy)).sum() / lung.sum()),
        "aorta_left_anterior_of_spine": float(
            aorta.any() and x[aorta].mean() > 0 and y[aorta].mean() > spine_y
        ),
        "lv_longer_than_rv": float(lv_len > rv_len),
    }


def anatomy_table(frames: int = 120, seed: int = 0) -> pd.DataFrame:
    """One row per generated frame (patients of a cohort of ``frames``, first frame)."""
    gen, cohort, anat = (
        _private(n) for n in ("_synth_generate", "_synth_cohort", "_synth_anatomy")
    )
    table = cohort.make_cohort(frames, seed)
    rows = []
    for _, row in table.iterrows():
        an = gen.frame_anatomy(row, 0, seed)[0]
        rows.append(
            {"patient_id": row["patient_id"], "ga_weeks": row["ga_weeks"], **measure(an, anat)}
        )
    return pd.DataFrame(rows)


def summarise(per_frame: pd.DataFrame) -> pd.DataFrame:
    """quantity, literature range and source, synthetic median [IQR], inside yes/no (the
    median inside the range; for yes/no quantities, every frame)."""
    out = []
    for quantity, (lo, hi, source) in LITERATURE.items():
        values = per_frame[quantity].to_numpy(float)
        q1, med, q3 = np.percentile(values, [25, 50, 75])
        binary = lo == hi
        inside = bool((values == lo).all()) if binary else bool(lo <= med <= hi)
        out.append(
            {
                "quantity": quantity,
                "literature_range": "all frames" if binary else f"{lo:g}–{hi:g}",
                "source": source,
                "n_frames": len(values),
                "synthetic_median": round(float(med), 4),
                "synthetic_q1": round(float(q1), 4),
                "synthetic_q3": round(float(q3), 4),
                "inside": "yes" if inside else "no",
            }
        )
    return pd.DataFrame(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=120)
    parser.add_argument("--out", type=Path, default=REPO / "results/realism/anatomy.csv")
    args = parser.parse_args(argv)
    table = summarise(anatomy_table(args.frames))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False)
    print(table.to_string(index=False))
    print(f"\nwritten: {args.out}")


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
