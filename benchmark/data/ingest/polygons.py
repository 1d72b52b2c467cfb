"""Lung contours from annotation tools, rasterised to boolean masks.

- **LabelMe** JSON (one file per image): ``shapes`` of type polygon/rectangle/circle.
- **COCO** JSON (one file for many images): ``annotations[].segmentation`` polygons (or
  uncompressed RLE) of the image whose ``file_name`` matches the manifest's image file.
- **CVAT** XML ("CVAT for images 1.1"): ``<image name=...>`` with ``<polygon>``/``<box>``.

Which shapes are lung: labels containing "lung" (case-insensitive) — so "lung",
"left lung", "Lung_R" all count — or exactly the labels given in the manifest's
``lung_mask_label`` column (comma-separated).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from benchmark.contract.errors import InputError

Polygon = np.ndarray  # (N, 2) x, y in pixels


def _wanted(label: str | None) -> callable:
    if label is None or str(label).strip() == "":
        return lambda name: "lung" in str(name).lower()
    names = {part.strip().lower() for part in str(label).split(",")}
    return lambda name: str(name).strip().lower() in names


def rasterise(
    polygons: Iterable[Polygon], shape: tuple[int, int], source: Path | str = "annotation"
) -> np.ndarray:
    """Fill the polygons; one lying entirely outside the image is an error, never dropped."""
    from skimage.draw import polygon as fill_polygon

    mask = np.zeros(shape, dtype=bool)
    height, width = shape
    for number, points in enumerate(polygons, start=1):
        points = np.asarray(points, dtype=float).reshape(-1, 2)
        if len(points) and (
            points[:, 0].max() < 0
            or points[:, 0].min() >= width
            or points[:, 1].max() < 0
            or points[:, 1].min() >= height
        ):
            raise InputError(
                f"{source}: lung polygon {number} lies entirely outside the {width}x{height} "
                f"image (x {points[:, 0].min():g}..{points[:, 0].max():g}, "
                f"y {points[:, 1].min():g}..{points[:, 1].max():g})",
                "annotation-outside",
            )
        if len(points) >= 3:
            rr, cc = fill_polygon(points[:, 1], points[:, 0], shape)
            mask[rr, cc] = True
    return mask


def _check_size(path: Path, width, height, shape: tuple[int, int], what: str) -> None:
    if width and height and (int(height), int(width)) != tuple(shape):
        raise InputError(
            f"{path}: {what} is {int(width)}x{int(height)} but the image is "
            f"{shape[1]}x{shape[0]} (width x height); annotate the same image",
            "mask-size",
        )


def _labelme(path: Path, data: dict, shape: tuple[int, int], label: str | None) -> np.ndarray:
    from skimage.draw import disk

    keep = _wanted(label)
    _check_size(path, data.get("imageWidth"), data.get("imageHeight"), shape, "LabelMe image")
    shapes = data.get("shapes") or []
    polygons, mask = [], np.zeros(shape, bool)
    for item in shapes:
        if not keep(item.get("label", "")):
            continue
        points = np.asarray(item.get("points") or [], dtype=float).reshape(-1, 2)
        kind = item.get("shape_type", "polygon")
        if kind == "rectangle" and len(points) == 2:
            (x0, y0), (x1, y1) = points
            points = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
        elif kind == "circle" and len(points) == 2:
            radius = float(np.hypot(*(points[1] - points[0])))
            rr, cc = disk((points[0][1], points[0][0]), radius, shape=shape)
            mask[rr, cc] = True
            continue
        elif kind not in ("polygon", "rectangle"):
            continue  # lines and points have no area
        polygons.append(points)
    if not polygons and not mask.any():
        labels = sorted({str(s.get("label")) for s in shapes})
        raise InputError(
            f"{path}: no lung polygon (labels found: {labels or 'none'}); "
            "set lung_mask_label to the label used for the lungs",
            "annotation",
        )
    return mask | rasterise(polygons, shape, path)


def _rle_decode(rle: dict, path: Path) -> np.ndarray:
    counts = rle.get("counts")
    if not isinstance(counts, list):
        raise InputError(
            f"{path}: compressed COCO RLE is not supported; export polygons", "annotation"
        )
    height, width = rle["size"]
    flat = np.zeros(height * width, bool)
    pos = 0
    for i, run in enumerate(counts):  # runs alternate background/foreground, column-major
        if i % 2:
            flat[pos : pos + run] = True
        pos += run
    return flat.reshape((width, height)).T


def _coco(
    path: Path, data: dict, shape: tuple[int, int], label: str | None, image_name: str
) -> np.ndarray:
    images = data.get("images") or []
    matches = [im for im in images if Path(str(im.get("file_name", ""))).name == image_name]
    if not matches and len(images) == 1:
        matches = images
    if not matches:
        raise InputError(f"{path}: no COCO image with file_name {image_name!r}", "annotation")
    image = matches[0]
    _check_size(path, image.get("width"), image.get("height"), shape, "COCO image")
    keep = _wanted(label)
    categories = {c.get("id"): c.get("name", "") for c in data.get("categories") or []}
    mask, found = np.zeros(shape, bool), False
    for ann in data.get("annotations") or []:
        if ann.get("image_id") != image.get("id"):
            continue
        if not keep(categories.get(ann.get("category_id"), "")):
            continue
        found = True
        seg = ann.get("segmentation")
        if isinstance(seg, dict):
            rle = _rle_decode(seg, path)
            if rle.shape != tuple(shape):
                raise InputError(
                    f"{path}: RLE size {rle.shape} differs from image {shape}", "mask-size"
                )
            mask |= rle
        else:
            mask |= rasterise([np.asarray(p, float).reshape(-1, 2) for p in seg or []], shape, path)
    if not found:
        raise InputError(
            f"{path}: no lung annotation for {image_name!r} "
            f"(categories: {sorted(map(str, categories.values()))})",
            "annotation",
        )
    return mask


def _cvat(path: Path, shape: tuple[int, int], label: str | None, image_name: str) -> np.ndarray:
    # the standard library parser: expat (>= 2.4.1 in Python 3.11) refuses entity bombs
    import xml.etree.ElementTree as ET

    try:
        tree = ET.parse(path)
    except ET.ParseError as exc:
        raise InputError(f"{path}: not valid XML ({exc})", "annotation") from None
    images = tree.getroot().findall(".//image")
    matches = [im for im in images if Path(im.get("name", "")).name == image_name]
    if not matches and len(images) == 1:
        matches = images
    if not matches:
        raise InputError(f"{path}: no CVAT <image> named {image_name!r}", "annotation")
    image = matches[0]
    _check_size(path, image.get("width"), image.get("height"), shape, "CVAT image")
    keep = _wanted(label)
    polygons = []
    for element in image:
        if not keep(element.get("label", "")):
            continue
        if element.tag == "polygon":
            pts = [tuple(map(float, p.split(","))) for p in element.get("points", "").split(";")]
            polygons.append(np.array(pts))
        elif element.tag == "box":
            x0, y0 = float(element.get("xtl")), float(element.get("ytl"))
            x1, y1 = float(element.get("xbr")), float(element.get("ybr"))
            polygons.append(np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]]))
    if not polygons:
        raise InputError(
            f"{path}: no lung polygon for {image_name!r} in the CVAT file", "annotation"
        )
    return rasterise(polygons, shape, path)


def read_polygon_mask(
    path: Path, shape: tuple[int, int], label: str | None = None, image_name: str = ""
) -> np.ndarray:
    """Rasterise the lung shapes of an annotation file for an image of ``shape``."""
    if not path.is_file():
        raise InputError(f"{path}: file not found", "file-missing")
    if path.suffix.lower() == ".xml":
        return _cvat(path, shape, label, image_name)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not valid JSON ({type(exc).__name__})", "annotation") from None
    try:
        if isinstance(data, dict) and "shapes" in data:
            return _labelme(path, data, shape, label)
        if isinstance(data, dict) and "annotations" in data and "images" in data:
            return _coco(path, data, shape, label, image_name)
    except InputError:
        raise
    except (TypeError, ValueError, KeyError, IndexError) as exc:
        raise InputError(
            f"{path}: malformed annotation ({type(exc).__name__}: {exc})", "annotation"
        ) from None
    raise InputError(
        f"{path}: JSON is neither LabelMe (shapes) nor COCO (images+annotations)", "annotation"
    )
