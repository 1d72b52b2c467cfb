"""A tiny cohort for the nets' tests: a bright textured "lung" beside darker tissue.

Lung texture gets coarser with GA, so a net has something to learn; the lung/non-lung
contrast is strong so one or two epochs learn stage 1.  Written in the real on-disk
format (docs/data-format.md) so tests go through Cohort and the runner.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from benchmark.testing import textured_frame


def write_nets_cohort(
    root: Path,
    n: int = 12,
    size: int = 64,
    spacing: float = 0.25,
    seed: int = 0,
    lung: tuple[slice, slice] | None = None,
) -> Path:
    rng = np.random.default_rng(seed)
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "masks").mkdir(exist_ok=True)
    ga = np.linspace(24, 40, n)
    lung = lung or (slice(size // 8, size - size // 8), slice(size // 16, size // 2 - 2))
    mask = np.zeros((size, size), bool)
    mask[lung] = True
    Image.fromarray(mask.astype(np.uint8) * 255).save(root / "masks" / "lung.png")
    rows = []
    for i, g in enumerate(ga):
        image_id = f"N{i:03d}"
        Image.fromarray(textured_frame(mask, g, rng)).save(root / "images" / f"{image_id}.png")
        rows.append(
            {
                "image_id": image_id,
                "patient_id": f"Q{i:03d}",
                "image_path": f"images/{image_id}.png",
                "pixel_spacing_mm": spacing,
                "lung_mask_path": "masks/lung.png",
            }
        )
    pd.DataFrame(
        {
            "patient_id": [r["patient_id"] for r in rows],
            "ga_weeks": ga.round(2),
            "enrolment_order": np.arange(1, n + 1),
        }
    ).to_csv(root / "patients.csv", index=False)
    pd.DataFrame(rows).to_csv(root / "images.csv", index=False)
    return root
