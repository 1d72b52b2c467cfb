"""Reading image and mask files into arrays (8-bit grey images, boolean masks).

Readers are chosen by file suffix from a table, so new formats are one function each.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

ImageReader = Callable[[Path], np.ndarray]
_READERS: dict[str, ImageReader] = {}


class InputError(ValueError):
    """Bad input: the message is one line naming the file or manifest row."""


def register_reader(*suffixes: str) -> Callable[[ImageReader], ImageReader]:
    def decorator(fn: ImageReader) -> ImageReader:
        for suffix in suffixes:
            _READERS[suffix.lower()] = fn
        return fn

    return decorator


@register_reader(".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
def _read_pillow(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im)


def to_grey_uint8(array: np.ndarray, source: str = "image") -> np.ndarray:
    """RGB(A) grey screen grabs → one channel; 16-bit → 8-bit by full-range scaling."""
    if array.ndim == 3 and array.shape[-1] in (3, 4):
        array = array[..., :3].astype(np.float32).mean(axis=-1)
    if array.ndim != 2:
        raise InputError(f"{source}: expected a 2-D image, got shape {array.shape}")
    if array.dtype == np.uint8:
        return array
    lo, hi = float(np.min(array)), float(np.max(array))
    scaled = (array.astype(np.float64) - lo) / (hi - lo or 1.0) * 255.0
    return np.round(scaled).astype(np.uint8)


def read_array(path: Path) -> np.ndarray:
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise InputError(f"{path}: unsupported file type {path.suffix!r}")
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    try:
        return reader(path)
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"{path}: unreadable ({type(exc).__name__}: {exc})") from None


def read_image(path: Path) -> np.ndarray:
    return to_grey_uint8(read_array(path), str(path))


def read_mask(path: Path, shape: tuple[int, int] | None = None) -> np.ndarray:
    array = read_array(path)
    if array.ndim == 3:
        array = array.max(axis=-1)
    mask = array != 0
    if shape is not None and mask.shape != tuple(shape):
        raise InputError(f"{path}: mask size {mask.shape} differs from image size {shape}")
    return mask
