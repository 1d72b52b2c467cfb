"""The tiny cohort the method checks fit on: every column some method reads, and the
columns a test view must hide."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def textured_frame(mask: np.ndarray, ga_weeks: float, rng: np.random.Generator) -> np.ndarray:
    """An 8-bit frame whose speckle grain (px) grows with GA: bright lung inside ``mask``,
    darker tissue outside; the tiny cohorts' only route from GA to pixels."""
    from scipy import ndimage

    grain = 0.5 + 2.0 * (ga_weeks - 24.0) / 16.0
    noise = ndimage.gaussian_filter(rng.normal(size=mask.shape), grain)
    noise /= noise.std()
    pixels = np.where(mask, 170 + 30 * noise, 70 + 15 * noise)
    return np.clip(pixels, 1, 255).astype(np.uint8)


def write_check_cohort(
    root: Path,
    n_patients: int = 10,
    images_per_patient: int = 2,
    size: int = 96,
    spacing: float = 0.25,
    seed: int = 0,
) -> Path:
    """A cohort with everything some method reads: images whose lung texture coarsens with
    GA, traced lung masks (one image left untraced, so fallbacks show), biometry, simulated
    ``truth_maturity`` and the columns a test view must hide."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "masks").mkdir(exist_ok=True)
    ga = np.linspace(24.0, 40.0, n_patients)
    mask = np.zeros((size, size), bool)
    mask[size // 10 : size - size // 10, size // 16 : size // 2] = True  # 10 x 19 mm
    Image.fromarray(mask.astype(np.uint8) * 255).save(root / "masks" / "lung.png")
    ln = np.log(ga)
    patients = pd.DataFrame(
        {
            "patient_id": [f"C{i:02d}" for i in range(n_patients)],
            "ga_weeks": ga.round(2),
            "enrolment_order": np.arange(1, n_patients + 1),
            # INTERGROWTH-21st fetal growth means (Papageorghiou 2014), mm, ±3 %
            "hc_mm": (-28.2849 + 1.69267 * ga**2 - 0.397485 * ga**2 * ln),
            "bpd_mm": (5.60878 + 0.158369 * ga**2 - 0.00256379 * ga**3),
            "ac_mm": (-81.3243 + 11.6772 * ga - 0.000561865 * ga**3),
            "fl_mm": (-39.9616 + 4.32298 * ga - 0.0380156 * ga**2),
            "delivery_ga_weeks": np.full(n_patients, 39.5),
            "truth_maturity": (ga - 20.0) / 24.0 + rng.normal(0, 0.02, n_patients),
        }
    )
    for col in ("hc_mm", "bpd_mm", "ac_mm", "fl_mm"):
        patients[col] = (patients[col] * rng.normal(1, 0.03, n_patients)).round(1)
    rows = []
    for pid, g in zip(patients["patient_id"], ga, strict=True):
        for k in range(images_per_patient):
            image_id = f"{pid}_{k}"
            Image.fromarray(textured_frame(mask, g, rng)).save(root / "images" / f"{image_id}.png")
            untraced = len(rows) == n_patients * images_per_patient - 1
            rows.append(
                {
                    "image_id": image_id,
                    "patient_id": pid,
                    "image_path": f"images/{image_id}.png",
                    "pixel_spacing_mm": spacing,
                    "lung_mask_path": "" if untraced else "masks/lung.png",
                }
            )
    patients.to_csv(root / "patients.csv", index=False)
    pd.DataFrame(rows).to_csv(root / "images.csv", index=False)
    return root
