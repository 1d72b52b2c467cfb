"""Reading image and mask files into arrays (8-bit grey images, boolean masks).

Readers are chosen by file suffix from the registry in :mod:`benchmark.data.ingest.readers`
(one file per format: pixels, header spacing, identifying fields).  A reader returns a
:class:`RawImage` carrying frames and a calibration (DICOM, NIfTI, cine TIFF).
Every failure is a one-line :class:`benchmark.contract.errors.InputError` with a code and a fix.

:func:`load_image` is the full path used by cohorts and ``validate``: frame selection,
grey conversion (RGB screen grabs, 16-bit), an optional crop box and the pixel spacing
found in the file.  Identifying DICOM attributes are never read into the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from benchmark.contract.errors import InputError, first_line
from benchmark.data.ingest.readers import file_suffix, reader_for, supported_suffixes
from benchmark.data.ingest.readers.base import RawImage

#: A crop box in pixels: ``(x0, y0, x1, y1)``, x1/y1 exclusive (like Pillow's ``crop``).
CropBox = tuple[int, int, int, int]

__all__ = [
    "CropBox",
    "InputError",
    "LoadedImage",
    "RawImage",
    "file_suffix",
    "load_image",
    "read_mask",
    "read_raw",
    "supported_suffixes",
]


@dataclass
class LoadedImage:
    """One 8-bit grey frame ready for a method, plus what was done to get it."""

    pixels: np.ndarray  # (H, W) uint8, after crop
    spacing_mm: float | None  # from the file (None: the manifest must give it)
    spacing_source: str
    n_frames: int
    full_shape: tuple[int, int]  # (H, W) before the crop
    #: conversions a user should know about: "RGB", "16-bit", "anisotropic", ...
    notes: list[str] = field(default_factory=list)
    spacing_rc_mm: tuple[float, float] | None = None


def _as_raw(found: np.ndarray | RawImage) -> RawImage:
    if isinstance(found, RawImage):
        return found
    array = np.asarray(found)
    colour = array.ndim == 3 and array.shape[-1] in (3, 4)
    return RawImage(array[None], colour=colour)


def read_raw(path: Path) -> RawImage:
    """Read a file with the reader for its suffix; any failure is a one-line InputError."""
    reader = reader_for(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found", "file-missing")
    if path.stat().st_size == 0:
        raise InputError(
            f"{path}: empty file (0 bytes)",
            "unreadable",
            "copy the file again from its source (the copy was cut off)",
        )
    try:
        return _as_raw(reader.read(path))
    except InputError:
        raise
    except Exception as exc:
        what = _what_it_is(path)
        if what:
            raise InputError(
                f"{path}: {what}, not an image, although named {file_suffix(path)}",
                "unreadable",
                "give the image file itself (export it from the scanner or viewer)",
            ) from None
        first = first_line(exc)
        raise InputError(
            f"{path}: unreadable or corrupt ({type(exc).__name__}: {first})", "unreadable"
        ) from None


#: leading bytes of documents that get saved under an image's name
_NOT_IMAGES = (
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP/Office document"),
    (b"<!DOCTYPE html", "an HTML page"),
    (b"<html", "an HTML page"),
)


def _what_it_is(path: Path) -> str:
    """Name a non-image file by its first bytes (for the error message); "" if unknown."""
    with open(path, "rb") as handle:
        head = handle.read(512)
    for magic, name in _NOT_IMAGES:
        if head.lstrip().lower().startswith(magic.lower()):
            return name
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return ""
    return "a text file" if text and all(c.isprintable() or c in "\r\n\t" for c in text) else ""


def header_spacing(path: Path) -> tuple[float | None, str]:
    """Spacing from a file header without decoding pixels (DICOM, NIfTI); else None.

    Unreadable headers give None: the file's own error is reported when it is read.
    """
    try:
        reader = reader_for(path)
        if not reader.has_header_spacing or not path.is_file():
            return None, ""
        found = reader.header_spacing(path)
    except Exception:
        return None, ""
    return (None, "") if found is None else found


def select_frame(raw: RawImage, frame: int | None, source: str) -> np.ndarray:
    """One frame of a cine loop; a multi-frame file without a frame index is an error."""
    if frame is None:
        if raw.n_frames > 1:
            raise InputError(
                f"{source}: {raw.n_frames} frames (cine loop) and no frame index",
                "multi-frame",
            )
        return raw.frames[0]
    if not 0 <= frame < raw.n_frames:
        raise InputError(
            f"{source}: frame {frame} out of range (file has {raw.n_frames})", "frame-range"
        )
    return raw.frames[frame]


def is_colour(array: np.ndarray) -> bool:
    """True when an RGB array holds real colour (e.g. Doppler), not grey stored as RGB."""
    if not (array.ndim == 3 and array.shape[-1] >= 3):
        return False
    rgb = array[..., :3].astype(np.int32)
    spread = rgb.max(axis=-1) - rgb.min(axis=-1)
    return bool((spread > 16).mean() > 0.001)


def to_grey_uint8(array: np.ndarray, source: str = "image") -> np.ndarray:
    """RGB(A) grey screen grabs → one channel; 16-bit → 8-bit by full-range scaling."""
    if array.ndim == 3 and array.shape[-1] in (3, 4):
        array = array[..., :3].astype(np.float32).mean(axis=-1)
    if array.ndim != 2:
        raise InputError(f"{source}: expected a 2-D image, got shape {array.shape}", "unreadable")
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.bool_:
        return array.astype(np.uint8) * 255
    if np.issubdtype(array.dtype, np.floating) and not np.isfinite(array).all():
        raise InputError(f"{source}: image contains NaN or infinite values", "unreadable")
    lo, hi = float(np.min(array)), float(np.max(array))
    scaled = (array.astype(np.float64) - lo) / (hi - lo or 1.0) * 255.0
    return np.round(scaled).astype(np.uint8)


def check_crop(crop: CropBox, shape: tuple[int, int], source: str) -> CropBox:
    x0, y0, x1, y1 = (int(v) for v in crop)
    height, width = shape
    if not (0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height):
        raise InputError(
            f"{source}: crop box (x0={x0}, y0={y0}, x1={x1}, y1={y1}) is not inside the "
            f"{width}x{height} image; need 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height",
            "crop",
        )
    return x0, y0, x1, y1


def apply_crop(array: np.ndarray, crop: CropBox | None) -> np.ndarray:
    if crop is None:
        return array
    x0, y0, x1, y1 = crop
    return array[y0:y1, x0:x1]


def load_image(path: Path, frame: int | None = None, crop: CropBox | None = None) -> LoadedImage:
    """Read one image: frame, grey 8-bit, crop; spacing from the file if it has one."""
    raw = read_raw(path)
    array = select_frame(raw, frame, str(path))
    notes = list(raw.notes)
    if raw.colour or (array.ndim == 3 and array.shape[-1] in (3, 4)):
        notes.append("colour" if is_colour(array) else "RGB")
    if array.dtype.itemsize > 1 and array.dtype != np.bool_:
        notes.append(f"{array.dtype.itemsize * 8}-bit")
    pixels = to_grey_uint8(array, str(path))
    full_shape = (int(pixels.shape[0]), int(pixels.shape[1]))
    if crop is not None:
        pixels = apply_crop(pixels, check_crop(crop, full_shape, str(path)))
    if raw.spacing_rc_mm is not None:
        notes.append("anisotropic")
    return LoadedImage(
        np.ascontiguousarray(pixels),
        raw.spacing_mm,
        raw.spacing_source,
        raw.n_frames,
        full_shape,
        notes,
        raw.spacing_rc_mm,
    )


def read_array(path: Path) -> np.ndarray:
    """The first (or only) frame of a file as stored (no conversion)."""
    return read_raw(path).frames[0]


def read_image(path: Path) -> np.ndarray:
    return load_image(path).pixels


def read_mask(
    path: Path,
    shape: tuple[int, int] | None = None,
    label: int | None = None,
    frame: int | None = None,
    colours: list[tuple[int, int, int]] | None = None,
) -> np.ndarray:
    """A raster mask: non-zero = lung, or ``== label`` for a label map; a colour mask only
    with its lung colour(s) named (``colours``): never "every coloured pixel is lung", as a
    heart drawn in blue would then count."""
    raw = read_raw(path)
    array = raw.frames[0] if raw.n_frames == 1 else select_frame(raw, frame, str(path))
    if array.ndim == 3 and array.shape[-1] in (3, 4):
        rgb = array[..., :3]
        if colours:
            mask = np.zeros(rgb.shape[:2], bool)
            for colour in colours:
                mask |= (rgb == np.asarray(colour, rgb.dtype)).all(axis=-1)
            array = None
        elif (rgb != rgb[..., :1]).any():  # channels differ: colour content
            found = np.unique(rgb[(rgb != rgb[..., :1]).any(axis=-1)], axis=0)
            shown = ", ".join(":".join(str(int(v)) for v in c) for c in found[:4])
            more = f" and {len(found) - 4} more" if len(found) > 4 else ""
            raise InputError(
                f"{path}: colour mask ({len(found)} colour(s): {shown}{more}): "
                "which colour is lung is not said",
                "mask-colour",
                "name the lung colour(s) in lung_mask_label as R:G:B, e.g. "
                "255:0:0 (several: 255:0:0,0:255:0), or export a grey mask",
            )
        else:
            array = array.max(axis=-1)  # grey saved as RGB(A): as before, alpha included
    elif array.ndim == 3:
        array = array.max(axis=-1)
    if array is not None:
        mask = array != 0 if label is None else array == label
    if shape is not None and mask.shape != tuple(shape):
        raise InputError(
            f"{path}: mask size {mask.shape[1]}x{mask.shape[0]} differs from image size "
            f"{shape[1]}x{shape[0]} (width x height); export the mask from the same image",
            "mask-size",
        )
    return mask
