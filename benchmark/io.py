"""Reading image and mask files into arrays (8-bit grey images, boolean masks).

Readers are chosen by file suffix from a table, so new formats are one function each.
A reader returns either a plain array (one frame: ``(H, W)`` or ``(H, W, C)``) or a
:class:`RawImage` that also carries frames and a calibration (DICOM, NIfTI, cine TIFF).

:func:`load_image` is the full path used by cohorts and ``validate``: frame selection,
grey conversion (RGB screen grabs, 16-bit), an optional crop box and the pixel spacing
found in the file.  Identifying DICOM attributes are never read into the result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

#: A crop box in pixels: ``(x0, y0, x1, y1)``, x1/y1 exclusive (like Pillow's ``crop``).
CropBox = tuple[int, int, int, int]


class InputError(ValueError):
    """Bad input: the message is one line naming the file or manifest row."""


@dataclass
class RawImage:
    """What a reader found in a file, before frame selection and grey conversion."""

    frames: np.ndarray  # (F, H, W) or (F, H, W, C)
    spacing_mm: float | None = None
    spacing_source: str = ""
    #: (row, column) spacing when the file gives both and they differ
    spacing_rc_mm: tuple[float, float] | None = None
    #: the file is RGB/YBR (Photometric Interpretation or channels)
    colour: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def n_frames(self) -> int:
        return int(self.frames.shape[0])


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


ImageReader = Callable[[Path], "np.ndarray | RawImage"]
_READERS: dict[str, ImageReader] = {}


def register_reader(*suffixes: str) -> Callable[[ImageReader], ImageReader]:
    def decorator(fn: ImageReader) -> ImageReader:
        for suffix in suffixes:
            _READERS[suffix.lower()] = fn
        return fn

    return decorator


def file_suffix(path: Path) -> str:
    """``.nii.gz`` counts as one suffix."""
    name = path.name.lower()
    return ".nii.gz" if name.endswith(".nii.gz") else path.suffix.lower()


def supported_suffixes() -> list[str]:
    return sorted(_READERS)


@register_reader(".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif")
def _read_pillow(path: Path) -> RawImage:
    from PIL import Image, ImageSequence

    with Image.open(path) as im:
        frames = [np.asarray(frame.copy()) for frame in ImageSequence.Iterator(im)]
        colour = im.mode in ("RGB", "RGBA", "P", "CMYK", "YCbCr")
        if im.mode == "P":  # palette images: expand so "grey" is judged on real colours
            frames = [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(im)]
    return RawImage(np.stack(frames), colour=colour)


@register_reader(".dcm", ".dicom")
def _read_dicom(path: Path) -> RawImage:
    from benchmark.ingest.dicom import read_dicom

    return read_dicom(path)


@register_reader(".nii", ".nii.gz")
def _read_nifti(path: Path) -> RawImage:
    import nibabel as nib

    img = nib.load(str(path))
    data = np.asanyarray(img.dataobj)
    if data.ndim < 2:
        raise InputError(f"{path}: NIfTI with {data.ndim} dimension(s), expected an image")
    # NIfTI stores (x, y[, z[, t]]); images are (row=y, column=x): transpose each slice
    data = data.reshape(data.shape[0], data.shape[1], -1)
    frames = np.moveaxis(data, 2, 0).transpose(0, 2, 1)
    zooms = img.header.get_zooms()[:2]
    unit = img.header.get_xyzt_units()[0]
    to_mm = {"mm": 1.0, "meter": 1000.0, "micron": 0.001}.get(unit)
    raw = RawImage(np.ascontiguousarray(frames))
    if to_mm is not None and all(z > 0 for z in zooms):
        row_mm, col_mm = float(zooms[1]) * to_mm, float(zooms[0]) * to_mm
        raw.spacing_mm = (row_mm + col_mm) / 2
        raw.spacing_source = "NIfTI header (pixdim)"
        if not np.isclose(row_mm, col_mm, rtol=0.02):
            raw.spacing_rc_mm = (row_mm, col_mm)
    return raw


def _as_raw(found: np.ndarray | RawImage) -> RawImage:
    if isinstance(found, RawImage):
        return found
    array = np.asarray(found)
    colour = array.ndim == 3 and array.shape[-1] in (3, 4)
    return RawImage(array[None], colour=colour)


def read_raw(path: Path) -> RawImage:
    """Read a file with the reader for its suffix; any failure is a one-line InputError."""
    reader = _READERS.get(file_suffix(path))
    if reader is None:
        raise InputError(
            f"{path}: unsupported file type {file_suffix(path)!r} "
            f"(supported: {' '.join(supported_suffixes())})"
        )
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    try:
        return _as_raw(reader(path))
    except InputError:
        raise
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise InputError(f"{path}: unreadable or corrupt ({type(exc).__name__}: {first})") from None


def select_frame(raw: RawImage, frame: int | None, source: str) -> np.ndarray:
    """One frame of a cine loop; a multi-frame file without a frame index is an error."""
    if frame is None:
        if raw.n_frames > 1:
            raise InputError(
                f"{source}: {raw.n_frames} frames (cine loop) and no frame index; "
                "set the manifest column 'frame' (0-based)"
            )
        return raw.frames[0]
    if not 0 <= frame < raw.n_frames:
        raise InputError(f"{source}: frame {frame} out of range (file has {raw.n_frames})")
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
        raise InputError(f"{source}: expected a 2-D image, got shape {array.shape}")
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.bool_:
        return array.astype(np.uint8) * 255
    if np.issubdtype(array.dtype, np.floating) and not np.isfinite(array).all():
        raise InputError(f"{source}: image contains NaN or infinite values")
    lo, hi = float(np.min(array)), float(np.max(array))
    scaled = (array.astype(np.float64) - lo) / (hi - lo or 1.0) * 255.0
    return np.round(scaled).astype(np.uint8)


def check_crop(crop: CropBox, shape: tuple[int, int], source: str) -> CropBox:
    x0, y0, x1, y1 = (int(v) for v in crop)
    height, width = shape
    if not (0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height):
        raise InputError(
            f"{source}: crop box (x0={x0}, y0={y0}, x1={x1}, y1={y1}) is not inside the "
            f"{width}x{height} image; need 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height"
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
        np.ascontiguousarray(pixels), raw.spacing_mm, raw.spacing_source, raw.n_frames,
        full_shape, notes, raw.spacing_rc_mm,
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
) -> np.ndarray:
    """A raster mask: non-zero = lung, or ``== label`` for a label map."""
    raw = read_raw(path)
    array = raw.frames[0] if raw.n_frames == 1 else select_frame(raw, frame, str(path))
    if array.ndim == 3:
        array = array.max(axis=-1)
    mask = array != 0 if label is None else array == label
    if shape is not None and mask.shape != tuple(shape):
        raise InputError(
            f"{path}: mask size {mask.shape[1]}x{mask.shape[0]} differs from image size "
            f"{shape[1]}x{shape[0]} (width x height); export the mask from the same image"
        )
    return mask
