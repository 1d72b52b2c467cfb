"""The catalogue's cases from issue 26: inputs a new user brought that once slipped through
(a semicolon manifest, an impossible spacing in ``predict``, a 1x1 image, a colour mask, a
lung too small for a patch, look-alike frames across patients, untraced images, a skip
count that disagreed with itself, an estimate below the GA range)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from benchmark.cli.bad_input_cases import Breaker, edit, more_patients


def _european_csv(root: Path) -> None:
    """Both tables as Excel saves CSV in most of Europe: ``;``, a BOM, decimal commas."""
    for table in ("patients", "images"):
        frame = pd.read_csv(root / f"{table}.csv", dtype=str)
        text = frame.to_csv(index=False, sep=";").replace("0.2;", "0,2;")
        text = text.replace("28.4", "28,4").replace("33.1", "33,1")
        (root / f"{table}.csv").write_bytes(b"\xef\xbb\xbf" + text.encode())


def _frame(path: Path, shape: tuple[int, int]) -> Path:
    Image.fromarray(np.random.default_rng(7).integers(0, 255, shape, np.uint8)).save(path)
    return path


def _colour_mask(root: Path) -> None:
    rgb = np.zeros((120, 160, 3), np.uint8)
    rgb[10:110, 10:75] = (255, 0, 0)  # lung
    rgb[10:110, 85:150] = (0, 255, 0)  # lung
    rgb[40:80, 70:90] = (0, 0, 255)  # heart
    Image.fromarray(rgb).save(root / "masks" / "EXAMPLE01.png")


def _corner_mask(root: Path) -> None:
    mask = np.zeros((120, 160), np.uint8)
    mask[:5, :5] = 255
    Image.fromarray(mask).save(root / "masks" / "EXAMPLE01.png")


def _look_alike(root: Path, under_row: int) -> None:
    """The image of ``under_row`` becomes EXAMPLE01's frame re-encoded (md5 differs)."""
    pixels = np.asarray(Image.open(root / "images" / "EXAMPLE01.png"))
    Image.fromarray(pixels).save(root / "images" / "copy.jpg", quality=85)
    edit(root, "images", under_row, image_path="images/copy.jpg")


def _copies_under_many(root: Path) -> None:
    """EXAMPLE01's file under 14 more patients (15 images, one ~900-character message),
    and one patient without GA."""
    more_patients(root, 16)
    copy = (root / "images" / "EXAMPLE01.png").read_bytes()
    for k in range(14):
        (root / "images" / f"EXTRA{k:02d}.png").write_bytes(copy)
    edit(root, "patients", 17, ga_weeks=None)


def _run(root: Path, name: str, *extra: str) -> list[str]:
    return ["run", "--dataset", str(root), "--methods", *extra, "--runs-dir"] + [
        str(root.parent / name)
    ]


def _predict(model: Path, spacing: str, image: Path) -> list[str]:
    return ["predict", "--model", str(model), "--spacing", spacing, str(image)]


SLIP_CASES: list[tuple[str, Breaker]] = [
    (
        "semicolon-separated manifest with a BOM and decimal commas (European Excel)",
        lambda r, m: _european_csv(r),
    ),
    (
        "predict with an impossible spacing (2.5 mm/pixel on a 500x430 frame)",
        lambda r, m: _predict(m, "2.5", _frame(r / "scan.png", (430, 500))),
    ),
    (
        "a 1x1 image (untraced)",
        lambda r, m: (
            (
                _frame(r / "images" / "EXAMPLE01.png", (1, 1)),
                edit(r, "images", 0, lung_mask_path=None),
            )
            and None
        ),
    ),
    (
        "predict on a 1x1 image",
        lambda r, m: _predict(m, "0.2", _frame(r / "dot.png", (1, 1))),
    ),
    ("colour mask (red and green lungs, blue heart)", lambda r, m: _colour_mask(r)),
    ("5x5 lung mask in a corner", lambda r, m: _corner_mask(r)),
    (
        "run on look-alike frames of two patients (the split keeps them on one side)",
        lambda r, m: (
            more_patients(r, 6),
            _look_alike(r, under_row=7),
            _run(r, "rl", "dummy-mean"),
        )[2],
    ),
    (
        "an untraced image",
        lambda r, m: edit(r, "images", 0, lung_mask_path=None),
    ),
    (
        "run --skip-invalid: one frame under 15 patients, and a patient without GA",
        lambda r, m: (_copies_under_many(r), _run(r, "rm", "dummy-mean", "--skip-invalid"))[1],
    ),
    (
        "run giving an estimate below 20 weeks (biometry of a 14-week fetus)",
        lambda r, m: (
            edit(r, "patients", 1, bpd_mm=25, hc_mm=95, ac_mm=80, fl_mm=13),
            _run(r, "rg", "biometry-hadlock"),
        )[1],
    ),
]
