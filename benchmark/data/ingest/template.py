"""The template written by ``python -m benchmark init-dataset PATH``.

Two EXAMPLE patients, one image each, so the template passes ``validate`` as written and
shows both mask styles: a PNG mask and LabelMe polygons (left and right lung).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from benchmark.contract.errors import InputError
from benchmark.data.ingest.manifest import IMAGE_COLUMNS as MANIFEST_IMAGE_COLUMNS

README = """\
# My cohort (template written by `python -m benchmark init-dataset`)

Fill in `patients.csv` (one row per patient) and `images.csv` (one row per image), put the
files under `images/` and `masks/`, delete the `EXAMPLE` rows and files, then run

    python -m benchmark validate .

Every problem is listed with its file or manifest row and what to do.  Full documentation:
docs/byo-data.md in the fetal-lung-bench repository.

## patients.csv

| column | required | meaning |
|---|---|---|
| patient_id | yes | pseudonymous id (never a name or hospital number) |
| ga_weeks | yes | gestational age at scan in weeks (20-44), first-trimester dating |
| enrolment_order | for the paper split | 1, 2, 3, ... the `paper` split trains on the first N |
| bpd_mm, hc_mm, ac_mm, fl_mm | no | biometry in mm (for the biometric methods) |
| maternal_age, parity, delivery_ga_weeks, apgar | no | Table 1 columns |

## images.csv

| column | required | meaning |
|---|---|---|
| image_id | yes | unique id |
| patient_id | yes | a patient_id from patients.csv |
| image_path | yes | relative to this folder: PNG, JPEG, TIFF, DICOM (.dcm), NIfTI (.nii/.nii.gz) |
| pixel_spacing_mm | yes* | mm per pixel (*empty: read from DICOM/NIfTI calibration) |
| frame | for cine loops | 0-based frame of a multi-frame DICOM/TIFF/NIfTI |
| crop_x0..crop_y1 | no | crop box in pixels, x1/y1 exclusive (or "crop" in dataset.json) |
| lung_mask_path | no | PNG/NIfTI mask (non-zero = lung), label map, LabelMe/COCO JSON, CVAT XML |
| left_lung_mask_path, right_lung_mask_path | no | separate left/right masks (united) |
| lung_mask_label | no | label-map value (e.g. 3) or polygon label(s); default: labels with "lung" |
| ga_weeks | no | per-image GA (must agree across a patient's images) |
"""

PATIENT_COLUMNS = [
    "patient_id",
    "ga_weeks",
    "enrolment_order",
    "bpd_mm",
    "hc_mm",
    "ac_mm",
    "fl_mm",
    "maternal_age",
    "parity",
    "delivery_ga_weeks",
    "apgar",
]
IMAGE_COLUMNS = list(MANIFEST_IMAGE_COLUMNS)

_SIZE = (120, 160)  # (H, W)
#: x, y polygons of the example lungs: each holds a whole 8 mm (40-pixel) square at 0.2
#: mm/pixel, the default patch of the patch methods (smaller ones are a validate warning)
_LEFT = [[12, 14], [74, 8], [76, 98], [10, 96]]
_RIGHT = [[84, 8], [146, 14], [140, 98], [86, 96]]


def _example_pixels(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.gamma(2.0, 40.0, _SIZE).clip(0, 255).astype(np.uint8)


def write_template(root: Path) -> Path:
    from PIL import Image

    from benchmark.data.ingest.polygons import rasterise

    root = root.expanduser().resolve()
    if root.exists() and any(root.iterdir()):
        raise InputError(f"{root}: folder exists and is not empty; choose a new folder")
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "masks").mkdir(exist_ok=True)
    (root / "README.md").write_text(README)
    (root / "dataset.json").write_text(
        json.dumps(
            {
                "name": root.name,
                "description": "describe the cohort (no identifying data)",
                "license": "internal",
            },
            indent=2,
        )
        + "\n"
    )
    patients = pd.DataFrame(
        [
            ["EXAMPLE01", 28.4, 1, 71.0, 262.0, 240.0, 53.0, 31.0, "primiparous", 39.6, 10],
            ["EXAMPLE02", 33.1, 2, 84.0, 305.0, 290.0, 63.0, 34.5, "multiparous", 39.0, 9],
        ],
        columns=PATIENT_COLUMNS,
    )
    patients.to_csv(root / "patients.csv", index=False)
    for k in (1, 2):
        Image.fromarray(_example_pixels(k)).save(root / "images" / f"EXAMPLE0{k}.png")
    mask = rasterise([np.array(_LEFT), np.array(_RIGHT)], _SIZE)
    Image.fromarray(mask.astype(np.uint8) * 255).save(root / "masks" / "EXAMPLE01.png")
    labelme = {
        "version": "5.4.1",
        "flags": {},
        "imagePath": "../images/EXAMPLE02.png",
        "imageData": None,
        "imageHeight": _SIZE[0],
        "imageWidth": _SIZE[1],
        "shapes": [
            {"label": "left lung", "points": _LEFT, "shape_type": "polygon", "flags": {}},
            {"label": "right lung", "points": _RIGHT, "shape_type": "polygon", "flags": {}},
        ],
    }
    (root / "masks" / "EXAMPLE02.json").write_text(json.dumps(labelme, indent=1))
    images = pd.DataFrame(
        [
            [
                "EXAMPLE01_a",
                "EXAMPLE01",
                "images/EXAMPLE01.png",
                0.2,
                None,
                None,
                None,
                None,
                None,
                "masks/EXAMPLE01.png",
                None,
                None,
                None,
                None,
            ],
            [
                "EXAMPLE02_a",
                "EXAMPLE02",
                "images/EXAMPLE02.png",
                0.2,
                None,
                0,
                0,
                160,
                120,
                "masks/EXAMPLE02.json",
                None,
                None,
                None,
                None,
            ],
        ],
        columns=IMAGE_COLUMNS,
    )
    images.to_csv(root / "images.csv", index=False)
    return root
