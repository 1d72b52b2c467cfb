"""The cases of the bad-input catalogue (docs/bad-inputs.md): each starts from the
``init-dataset`` template (2 patients, valid), breaks one thing and names the command to run.

The helpers (``edit``, ``more_patients``, ...) break a cohort as a new user's would be
broken; :mod:`benchmark.cli.bad_input_slips` adds the cases of issue 26 with them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

#: a case breaks the cohort at ``root`` and returns the command's arguments (None: validate)
Breaker = Callable[[Path, Path], "list[str] | None"]


def edit(root: Path, table: str, row: int = 0, **changes) -> None:
    frame = pd.read_csv(root / f"{table}.csv", dtype=str)
    for col, value in changes.items():
        frame.loc[row, col] = None if value is None else str(value)
    frame.to_csv(root / f"{table}.csv", index=False)


def more_patients(root: Path, n: int, spacing: float = 0.2) -> None:
    """n more valid patients (distinct speckle images), for checks that need a cohort."""
    patients, images = [], []
    for k in range(n):
        pid = f"EXTRA{k:02d}"
        rng = np.random.default_rng(100 + k)
        coarse = rng.gamma(2.0, 40.0, (15, 20))
        pixels = np.kron(coarse, np.ones((8, 8))) + rng.normal(0, 8, (120, 160))
        Image.fromarray(pixels.clip(0, 255).astype(np.uint8)).save(root / "images" / f"{pid}.png")
        patients.append({"patient_id": pid, "ga_weeks": 25 + k, "enrolment_order": 3 + k})
        images.append(
            {
                "image_id": f"{pid}_a",
                "patient_id": pid,
                "image_path": f"images/{pid}.png",
                "pixel_spacing_mm": spacing,
            }
        )
    for table, rows in (("patients", patients), ("images", images)):
        frame = pd.read_csv(root / f"{table}.csv", dtype=str)
        pd.concat([frame, pd.DataFrame(rows).astype(str)]).to_csv(
            root / f"{table}.csv", index=False
        )


def cine(path: Path, n: int = 3) -> None:
    frames = [Image.fromarray(np.full((120, 160), 40 * k, np.uint8)) for k in range(n)]
    frames[0].save(path, save_all=True, append_images=frames[1:])


def labelme(root: Path, **changes) -> None:
    path = root / "masks" / "EXAMPLE02.json"
    data = json.loads(path.read_text())
    shapes = changes.pop("shapes", None)
    if shapes is not None:
        data["shapes"] = shapes
    data.update(changes)
    path.write_text(json.dumps(data))


def write(root: Path, rel: str, content: bytes) -> None:
    (root / rel).write_bytes(content)


PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n"


# -- the cases: (title, breaker) --------------------------------------------------------------
CASES: list[tuple[str, Breaker]] = [
    # manifest and tables
    (
        "empty folder, no manifest",
        lambda r, m: [p.unlink() for p in (r / "patients.csv", r / "images.csv")] and None,
    ),
    ("patients.csv without images.csv", lambda r, m: (r / "images.csv").unlink()),
    ("dataset.json is not JSON", lambda r, m: write(r, "dataset.json", b"{name: x")),
    ("patients.csv is binary garbage", lambda r, m: write(r, "patients.csv", b"\x00\xff" * 50)),
    (
        "column ga_weeks missing",
        lambda r, m: (
            pd.read_csv(r / "patients.csv")
            .drop(columns="ga_weeks")
            .to_csv(r / "patients.csv", index=False)
        ),
    ),
    (
        "column image_path missing",
        lambda r, m: (
            pd.read_csv(r / "images.csv")
            .drop(columns="image_path")
            .to_csv(r / "images.csv", index=False)
        ),
    ),
    ("ga_weeks empty", lambda r, m: edit(r, "patients", ga_weeks=None)),
    ("ga_weeks not a number", lambda r, m: edit(r, "patients", ga_weeks="n/a")),
    ("ga_weeks in days", lambda r, m: edit(r, "patients", ga_weeks=196)),
    (
        "two images of one patient with different GA",
        lambda r, m: (
            (
                edit(r, "images", 0, ga_weeks=30),
                edit(r, "images", 1, patient_id="EXAMPLE01"),
                edit(r, "patients", 1, patient_id="EXAMPLE03"),
            )
            and None
        ),
    ),
    ("duplicate patient_id", lambda r, m: edit(r, "patients", 1, patient_id="EXAMPLE01")),
    ("duplicate image_id", lambda r, m: edit(r, "images", 1, image_id="EXAMPLE01_a")),
    ("duplicate enrolment_order", lambda r, m: edit(r, "patients", 1, enrolment_order=1)),
    ("enrolment_order not a number", lambda r, m: edit(r, "patients", enrolment_order="first")),
    ("image row names an unknown patient", lambda r, m: edit(r, "images", patient_id="NOBODY")),
    ("image row without patient_id", lambda r, m: edit(r, "images", patient_id=None)),
    ("image_path empty", lambda r, m: edit(r, "images", image_path=None)),
    ("image_path absolute", lambda r, m: edit(r, "images", image_path="/etc/passwd")),
    ("image_path escapes the folder", lambda r, m: edit(r, "images", image_path="../x.png")),
    ("image file missing", lambda r, m: edit(r, "images", image_path="images/nope.png")),
    # spacing
    ("pixel_spacing_mm missing for a PNG", lambda r, m: edit(r, "images", pixel_spacing_mm=None)),
    ("pixel_spacing_mm not a number", lambda r, m: edit(r, "images", pixel_spacing_mm="abc")),
    ("pixel_spacing_mm negative", lambda r, m: edit(r, "images", pixel_spacing_mm=-0.2)),
    (
        "spacing 10x too large on one image",
        lambda r, m: (more_patients(r, 6), edit(r, "images", 3, pixel_spacing_mm=2.0)) and None,
    ),
    (
        "spacing 10x too small on one image",
        lambda r, m: (more_patients(r, 6), edit(r, "images", 3, pixel_spacing_mm=0.02)) and None,
    ),
    (
        "spacing in cm for every image (cohort-wide slip)",
        lambda r, m: (
            (
                edit(r, "images", 0, pixel_spacing_mm=0.02),
                edit(r, "images", 1, pixel_spacing_mm=0.02),
            )
            and None
        ),
    ),
    # frames and crops
    ("frame is not an index", lambda r, m: edit(r, "images", frame="x")),
    (
        "cine loop without a frame",
        lambda r, m: (
            (cine(r / "images" / "cine.tif"), edit(r, "images", image_path="images/cine.tif"))
            and None
        ),
    ),
    (
        "frame out of range",
        lambda r, m: (
            (
                cine(r / "images" / "cine.tif"),
                edit(r, "images", image_path="images/cine.tif", frame=5),
            )
            and None
        ),
    ),
    (
        "crop box outside the image",
        lambda r, m: edit(r, "images", crop_x0=0, crop_y0=0, crop_x1=500, crop_y1=120),
    ),
    ("crop box incomplete", lambda r, m: edit(r, "images", crop_x0=10)),
    (
        "dataset.json crop not four numbers",
        lambda r, m: write(r, "dataset.json", json.dumps({"crop": [0, 0, "a"]}).encode()),
    ),
    # image files
    ("corrupt PNG", lambda r, m: write(r, "images/EXAMPLE01.png", b"\x89PNG\r\n\x1a\n cut")),
    ("zero-byte image", lambda r, m: write(r, "images/EXAMPLE01.png", b"")),
    ("a PDF named .png", lambda r, m: write(r, "images/EXAMPLE01.png", PDF)),
    ("a text file named .png", lambda r, m: write(r, "images/EXAMPLE01.png", b"GA 31 wk\n")),
    (
        "unsupported file type",
        lambda r, m: (
            (write(r, "images/scan.pdf", PDF), edit(r, "images", image_path="images/scan.pdf"))
            and None
        ),
    ),
    (
        "16-bit image",
        lambda r, m: Image.fromarray(
            (np.arange(120 * 160).reshape(120, 160) * 3).astype(np.uint16)
        ).save(r / "images" / "EXAMPLE01.png"),
    ),
    ("colour overlay (Doppler box)", lambda r, m: colour(r)),
    # masks and annotations
    (
        "mask of another size",
        lambda r, m: Image.fromarray(np.full((50, 60), 255, np.uint8)).save(
            r / "masks" / "EXAMPLE01.png"
        ),
    ),
    (
        "empty mask",
        lambda r, m: Image.fromarray(np.zeros((120, 160), np.uint8)).save(
            r / "masks" / "EXAMPLE01.png"
        ),
    ),
    (
        "mask outside the crop box",
        lambda r, m: edit(r, "images", crop_x0=140, crop_y0=100, crop_x1=160, crop_y1=120),
    ),
    (
        "mask partly outside the crop box",
        lambda r, m: edit(r, "images", crop_x0=0, crop_y0=0, crop_x1=80, crop_y1=120),
    ),
    ("LabelMe file is not JSON", lambda r, m: write(r, "masks/EXAMPLE02.json", b"{shapes: [")),
    (
        "LabelMe without a lung label",
        lambda r, m: labelme(
            r,
            shapes=[
                {"label": "heart", "points": [[1, 1], [20, 1], [20, 20]], "shape_type": "polygon"}
            ],
        ),
    ),
    (
        "LabelMe polygon outside the image",
        lambda r, m: labelme(
            r,
            shapes=[
                {
                    "label": "lung",
                    "points": [[500, 500], [560, 500], [560, 560]],
                    "shape_type": "polygon",
                }
            ],
        ),
    ),
    ("LabelMe drawn on an image of another size", lambda r, m: labelme(r, imageWidth=320)),
    ("JSON neither LabelMe nor COCO", lambda r, m: write(r, "masks/EXAMPLE02.json", b"{}")),
    ("label-map label not an integer", lambda r, m: edit(r, "images", lung_mask_label="lungs")),
    ("mask file missing", lambda r, m: edit(r, "images", lung_mask_path="masks/none.png")),
    # leaks across patients
    (
        "same image file under two patients",
        lambda r, m: write(
            r, "images/EXAMPLE02.png", (r / "images" / "EXAMPLE01.png").read_bytes()
        ),
    ),
    ("near-identical frame under two patients", lambda r, m: near_duplicate(r)),
    # run and predict
    (
        "run kfold:5 on 2 patients",
        lambda r, m: [
            "run",
            "--dataset",
            str(r),
            "--methods",
            "dummy-mean",
            "--split",
            "kfold:5",
            "--runs-dir",
            str(r.parent / "runs-k"),
        ],
    ),
    (
        "run on a cohort with a bad row",
        lambda r, m: (
            edit(r, "patients", ga_weeks=None),
            [
                "run",
                "--dataset",
                str(r),
                "--methods",
                "dummy-mean",
                "--runs-dir",
                str(r.parent / "rb"),
            ],
        )[1],
    ),
    (
        "run --skip-invalid on a cohort with bad rows",
        lambda r, m: (
            more_patients(r, 4),
            edit(r, "patients", ga_weeks=None),
            [
                "run",
                "--dataset",
                str(r),
                "--methods",
                "dummy-mean",
                "--skip-invalid",
                "--runs-dir",
                str(r.parent / "rs"),
            ],
        )[2],
    ),
    (
        "predict on a zero-byte file",
        lambda r, m: (
            write(r, "empty.png", b""),
            ["predict", "--model", str(m), "--spacing", "0.2", str(r / "empty.png")],
        )[1],
    ),
    (
        "predict on a PDF named .png",
        lambda r, m: (
            write(r, "report.png", PDF),
            ["predict", "--model", str(m), "--spacing", "0.2", str(r / "report.png")],
        )[1],
    ),
    (
        "predict without spacing for a PNG",
        lambda r, m: ["predict", "--model", str(m), str(r / "images" / "EXAMPLE01.png")],
    ),
    (
        "predict on a cine loop without a frame",
        lambda r, m: (
            cine(r / "cine.tif"),
            ["predict", "--model", str(m), "--spacing", "0.2", str(r / "cine.tif")],
        )[1],
    ),
    (
        "predict a frame beyond the loop",
        lambda r, m: (
            cine(r / "cine.tif"),
            ["predict", "--model", str(m), "--spacing", "0.2", f"{r / 'cine.tif'}:9"],
        )[1],
    ),
    (
        "predict with a model folder that is not a run",
        lambda r, m: [
            "predict",
            "--model",
            str(r),
            "--spacing",
            "0.2",
            str(r / "images" / "EXAMPLE01.png"),
        ],
    ),
]


def colour(root: Path) -> None:
    grey = np.asarray(Image.open(root / "images" / "EXAMPLE01.png"))
    rgb = np.stack([grey] * 3, -1)
    rgb[10:40, 10:40] = (255, 0, 0)
    Image.fromarray(rgb).save(root / "images" / "EXAMPLE01.png")


def near_duplicate(root: Path) -> None:
    grey = np.asarray(Image.open(root / "images" / "EXAMPLE01.png"))
    Image.fromarray(grey).save(root / "images" / "EXAMPLE02.jpg", quality=85)
    edit(root, "images", 1, image_path="images/EXAMPLE02.jpg")
