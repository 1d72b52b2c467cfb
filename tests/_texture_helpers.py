"""A tiny cohort whose lung texture depends on GA, for the texture-feature tests.

Speckle-like noise smoothed with a Gaussian whose width grows with GA (coarser texture in
older fetuses), inside an elliptical "lung" mask.  Not a realistic simulation (that is
``datasets/synthetic.py``): just enough signal for a texture regressor to find, fast.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image
from scipy import ndimage


def texture_image(ga: float, rng: np.random.Generator, size: int = 96) -> np.ndarray:
    sigma = 0.6 + 2.0 * (ga - 24.0) / 16.0  # 0.6 px at 24 wk → 2.6 px at 40 wk
    field = ndimage.gaussian_filter(rng.normal(size=(size, size)), sigma)
    field = (field - field.mean()) / (field.std() + 1e-9)
    return np.clip(110 + 35 * field, 0, 255).astype(np.uint8)


def lung_mask(size: int = 96) -> np.ndarray:
    yy, xx = np.mgrid[:size, :size]
    c = (size - 1) / 2
    return ((yy - c) / (0.42 * size)) ** 2 + ((xx - c) / (0.42 * size)) ** 2 <= 1


def write_texture_cohort(
    root: Path,
    n: int = 24,
    images_per_patient: int = 1,
    size: int = 96,
    seed: int = 0,
    spacing: float = 0.25,
    bad_masks: dict[str, np.ndarray] | None = None,
) -> Path:
    """Write the cohort; ``bad_masks`` = {image_id: mask array} replaces chosen masks."""
    rng = np.random.default_rng(seed)
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "masks").mkdir(exist_ok=True)
    ga = np.linspace(24.5, 39.5, n)
    patients = pd.DataFrame(
        {
            "patient_id": [f"T{i:03d}" for i in range(n)],
            "ga_weeks": ga.round(2),
            "enrolment_order": rng.permutation(n) + 1,
        }
    )
    Image.fromarray(lung_mask(size).astype(np.uint8) * 255).save(root / "masks" / "lung.png")
    rows = []
    for pid, g in zip(patients["patient_id"], ga, strict=True):
        for k in range(images_per_patient):
            image_id = f"{pid}_{k}"
            Image.fromarray(texture_image(g, rng, size)).save(root / "images" / f"{image_id}.png")
            mask_path = "masks/lung.png"
            if bad_masks and image_id in bad_masks:
                mask_path = f"masks/{image_id}.png"
                Image.fromarray(bad_masks[image_id].astype(np.uint8) * 255).save(root / mask_path)
            rows.append(
                {
                    "image_id": image_id,
                    "patient_id": pid,
                    "image_path": f"images/{image_id}.png",
                    "pixel_spacing_mm": spacing,
                    "lung_mask_path": mask_path,
                }
            )
    patients.to_csv(root / "patients.csv", index=False)
    pd.DataFrame(rows).to_csv(root / "images.csv", index=False)
    return root
