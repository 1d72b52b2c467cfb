"""Small cohorts written in the real on-disk format (imported by conftest and tests)."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
from PIL import Image

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def intergrowth_mean_mm(ga: np.ndarray) -> dict[str, np.ndarray]:
    """INTERGROWTH-21st fetal growth standard means (Papageorghiou 2014), mm."""
    ln = np.log(ga)
    return {
        "hc_mm": -28.2849 + 1.69267 * ga**2 - 0.397485 * ga**2 * ln,
        "bpd_mm": 5.60878 + 0.158369 * ga**2 - 0.00256379 * ga**3,
        "ac_mm": -81.3243 + 11.6772 * ga - 0.000561865 * ga**3,
        "fl_mm": -39.9616 + 4.32298 * ga - 0.0380156 * ga**2,
    }


def write_tabular_cohort(root: Path, n: int = 40, seed: int = 0, size: int = 48) -> Path:
    """A small cohort with noise images and square masks: enough for the engine's tests.

    Image methods get nothing to learn from it; the synthetic generator is for that.
    """
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    (root / "images").mkdir(exist_ok=True)
    (root / "masks").mkdir(exist_ok=True)
    ga = rng.uniform(24, 40, n)
    patients = pd.DataFrame(
        {
            "patient_id": [f"P{i:03d}" for i in range(n)],
            "ga_weeks": ga.round(2),
            "enrolment_order": rng.permutation(n) + 1,
            "maternal_age": rng.normal(32.6, 3.4, n).round(1),
            "parity": rng.choice(["primiparous", "multiparous"], n, p=[0.77, 0.23]),
            "delivery_ga_weeks": rng.normal(39.3, 1.2, n).round(1),
            "apgar": rng.choice([9, 10], n, p=[0.08, 0.92]),
        }
    )
    for col, mean in intergrowth_mean_mm(ga).items():
        patients[col] = (mean * rng.normal(1, 0.03, n)).round(1)
    rows = []
    mask = np.zeros((size, size), np.uint8)
    mask[size // 4 : 3 * size // 4, size // 4 : 3 * size // 4] = 255
    Image.fromarray(mask).save(root / "masks" / "square.png")
    for pid in patients["patient_id"]:
        for k in range(2):
            image_id = f"{pid}_{k}"
            pixels = rng.integers(0, 256, (size, size), dtype=np.uint8)
            Image.fromarray(pixels).save(root / "images" / f"{image_id}.png")
            rows.append(
                {
                    "image_id": image_id,
                    "patient_id": pid,
                    "image_path": f"images/{image_id}.png",
                    "pixel_spacing_mm": 0.2,
                    "lung_mask_path": "masks/square.png",
                }
            )
    patients.to_csv(root / "patients.csv", index=False)
    pd.DataFrame(rows).to_csv(root / "images.csv", index=False)
    return root


def generator_module(name: str) -> ModuleType:
    """A private module of the synthetic generator (``_synth_cohort``, ...). The ``datasets/``
    folder is loaded by path into the plugin namespace, never as a top-level package."""
    from benchmark.data.sources import list_datasets

    list_datasets()  # sets up the plugin namespace that holds the helpers
    return importlib.import_module(f"benchmark._plugins.datasets.{name}")
