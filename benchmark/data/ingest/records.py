"""One manifest image row → pixels, lung mask and spacing (used by Cohort and validate).

Order of operations: read file → select frame → grey 8-bit → read mask(s) at the full
image size (raster, label map, polygons; left + right are united) → apply the crop box
(per image, else the dataset's ``crop`` in dataset.json) to both.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmark.contract.domain import MASK_COLUMNS
from benchmark.contract.errors import InputError
from benchmark.data.ingest.manifest import CROP_COLUMNS
from benchmark.data.ingest.polygons import read_polygon_mask
from benchmark.data.io import (
    CropBox,
    LoadedImage,
    apply_crop,
    check_crop,
    file_suffix,
    header_spacing,
    load_image,
    read_mask,
)

__all__ = ["ImageSpec", "RowData", "header_spacing", "load_full_mask", "load_row", "safe_path"]

POLYGON_SUFFIXES = (".json", ".xml")


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, float) and math.isnan(value):
        return False
    return not (isinstance(value, str) and value.strip() == "")


def safe_path(root: Path, rel: Any, where: str, column: str) -> Path:
    """``root / rel`` if it stays inside root (judged on the text, so symlinks are allowed)."""
    text = str(rel).strip().replace("\\", "/")
    if os.path.isabs(text) or text.startswith("~"):
        raise InputError(
            f"{where}: {column} {text!r} is absolute; give it relative to the dataset folder",
            "path-escape",
        )
    norm = os.path.normpath(text)
    if norm == ".." or norm.startswith("../"):
        raise InputError(
            f"{where}: {column} {text!r} escapes the dataset folder; move the file inside it",
            "path-escape",
        )
    return root / norm


@dataclass(frozen=True)
class ImageSpec:
    """What the manifest says about one image (parsed, not yet read)."""

    where: str
    image_path: Path
    frame: int | None
    crop: CropBox | None
    mask_paths: tuple[Path, ...]
    mask_label: str | None
    spacing_mm: float | None  # from the manifest

    @classmethod
    def from_row(
        cls, root: Path, row: dict[str, Any], where: str, dataset_crop: CropBox | None = None
    ) -> ImageSpec:
        if not _present(row.get("image_path")):
            raise InputError(f"{where}: image_path is empty", "row")
        image_path = safe_path(root, row["image_path"], where, "image_path")
        frame = None
        if _present(row.get("frame")):
            try:
                frame = float(row["frame"])
            except (TypeError, ValueError):
                frame = -1.0
            if frame < 0 or frame != int(frame):
                raise InputError(f"{where}: frame {row['frame']!r} is not a 0-based index", "row")
            frame = int(frame)
        crop = dataset_crop
        given = [c for c in CROP_COLUMNS if _present(row.get(c))]
        if given:
            if len(given) != 4:
                raise InputError(
                    f"{where}: crop box needs all of {', '.join(CROP_COLUMNS)}", "crop"
                )
            try:
                crop = tuple(int(float(row[c])) for c in CROP_COLUMNS)
            except (TypeError, ValueError):
                raise InputError(
                    f"{where}: crop box values must be pixel numbers", "crop"
                ) from None
        masks = tuple(
            safe_path(root, row[c], where, c) for c in MASK_COLUMNS if _present(row.get(c))
        )
        label = (
            str(row["lung_mask_label"]).strip() if _present(row.get("lung_mask_label")) else None
        )
        if label is not None and label.endswith(".0") and label[:-2].isdigit():
            label = label[:-2]  # numeric labels come back from CSV as floats
        spacing = None
        if _present(row.get("pixel_spacing_mm")):
            try:
                spacing = float(row["pixel_spacing_mm"])
            except (TypeError, ValueError):
                raise InputError(
                    f"{where}: pixel_spacing_mm {row['pixel_spacing_mm']!r} is not a number", "row"
                ) from None
            if not math.isfinite(spacing) or spacing <= 0:
                raise InputError(
                    f"{where}: pixel_spacing_mm {spacing} must be > 0 (mm/pixel)", "row"
                )
        return cls(where, image_path, frame, crop, masks, label, spacing)


def load_full_mask(spec: ImageSpec, shape: tuple[int, int]) -> np.ndarray | None:
    """The lung mask at the full (uncropped) image size; None when no mask is given."""
    if not spec.mask_paths:
        return None
    mask = np.zeros(shape, bool)
    for path in spec.mask_paths:
        if file_suffix(path) in POLYGON_SUFFIXES:
            part = read_polygon_mask(path, shape, spec.mask_label, spec.image_path.name)
        else:
            label, colours = None, None
            if spec.mask_label is not None and ":" in spec.mask_label:
                colours = _colours(path, spec.mask_label)
            elif spec.mask_label is not None:
                try:
                    label = int(spec.mask_label)
                except ValueError:
                    raise InputError(
                        f"{path}: lung_mask_label {spec.mask_label!r} must be an "
                        "integer for this label map (or R:G:B colours for a "
                        "colour mask)",
                        "row",
                    ) from None
            part = read_mask(path, shape, label=label, frame=spec.frame, colours=colours)
        mask |= part
    return mask


def _colours(path: Path, text: str) -> list[tuple[int, int, int]]:
    """``255:0:0`` or ``255:0:0,0:255:0`` → RGB triples (a colour mask's lung colours)."""
    out = []
    for part in text.replace(";", ",").split(","):
        values = part.strip().split(":")
        if len(values) != 3 or not all(v.strip().isdigit() and int(v) < 256 for v in values):
            raise InputError(
                f"{path}: lung_mask_label {text!r}: {part.strip()!r} is not an "
                "R:G:B colour (0-255 each)",
                "row",
            )
        out.append(tuple(int(v) for v in values))
    return out


@dataclass
class RowData:
    image: LoadedImage  # cropped pixels
    mask: np.ndarray | None  # cropped
    full_mask: np.ndarray | None
    spacing_mm: float | None
    spacing_source: str


def load_row(spec: ImageSpec) -> RowData:
    """Read the image and its mask; errors are InputErrors naming the row and file."""
    try:
        image = load_image(spec.image_path, spec.frame, None)
        crop = check_crop(spec.crop, image.full_shape, str(spec.image_path)) if spec.crop else None
        full_mask = load_full_mask(spec, image.full_shape)
    except InputError as exc:
        raise exc.prefixed(spec.where) from None
    image.pixels = np.ascontiguousarray(apply_crop(image.pixels, crop))
    mask = None if full_mask is None else np.ascontiguousarray(apply_crop(full_mask, crop))
    if spec.spacing_mm is not None:
        spacing, source = spec.spacing_mm, "manifest"
    else:
        spacing, source = image.spacing_mm, image.spacing_source
    return RowData(image, mask, full_mask, spacing, source)
