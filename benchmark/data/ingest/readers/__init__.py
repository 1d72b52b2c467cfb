"""Image readers, one file per format, registered by suffix.

A new format is one module in this package defining an :class:`ImageReader` subclass
decorated with :func:`register_reader`; modules here are imported on first use (like the
method plugins), so nothing else changes.  ``benchmark.data.io`` and the validators ask
:func:`reader_for` and never know a format by name.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from benchmark.contract.errors import InputError
from benchmark.contract.naming import claim
from benchmark.data.ingest.readers.base import ImageReader, RawImage

_READERS: dict[str, ImageReader] = {}
_DISCOVERED = False


def register_reader(cls: type[ImageReader]) -> type[ImageReader]:
    """Class decorator: one instance serves every suffix the class lists; a suffix another
    reader class already serves is an error naming both."""
    if not cls.suffixes:
        raise TypeError(f"{cls.__name__} declares no suffixes")
    reader = cls()
    for suffix in cls.suffixes:
        claim(_READERS, suffix.lower(), reader, "reader for suffix", defined_by=type)
    return cls


def _discover() -> None:
    global _DISCOVERED
    if _DISCOVERED:
        return
    _DISCOVERED = True
    for module in pkgutil.iter_modules(__path__):
        if module.name != "base":
            importlib.import_module(f"{__name__}.{module.name}")


def file_suffix(path: Path) -> str:
    """``.nii.gz`` counts as one suffix."""
    name = Path(path).name.lower()
    return ".nii.gz" if name.endswith(".nii.gz") else Path(path).suffix.lower()


def list_readers() -> dict[str, ImageReader]:
    """``{suffix: reader}`` for every registered format."""
    _discover()
    return dict(sorted(_READERS.items()))


def supported_suffixes() -> list[str]:
    return sorted(list_readers())


def reader_for(path: Path) -> ImageReader:
    """The reader for a file's suffix; an ``unsupported`` InputError otherwise."""
    found = list_readers().get(file_suffix(path))
    if found is None:
        raise InputError(
            f"{path}: unsupported file type {file_suffix(path)!r} "
            f"(supported: {' '.join(supported_suffixes())})",
            "unsupported",
        )
    return found


__all__ = [
    "ImageReader",
    "RawImage",
    "file_suffix",
    "list_readers",
    "reader_for",
    "register_reader",
    "supported_suffixes",
]
