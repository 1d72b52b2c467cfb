"""What an image reader returns, and the small base class every format's reader follows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np


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


class ImageReader:
    """One file format: pixels, header spacing and identifying fields.

    Subclasses set ``suffixes`` and implement :meth:`read`; the two optional hooks have
    safe defaults (no header spacing, no identifying fields).  Raise
    :class:`benchmark.contract.errors.InputError` for bad files; anything else a reader raises is
    turned into a one-line ``unreadable`` error by :func:`benchmark.data.io.read_raw`.
    :meth:`write_sample` serves the reader checks only (``benchmark.testing.readers``).
    """

    #: lower-case suffixes this reader handles (``.nii.gz`` counts as one)
    suffixes: ClassVar[tuple[str, ...]] = ()
    #: the file header can carry a pixel spacing (DICOM, NIfTI)
    has_header_spacing: ClassVar[bool] = False
    #: the file can carry identifying patient fields (DICOM)
    has_identifying_fields: ClassVar[bool] = False
    #: ``{check name: reason}``: reader checks this format is known to fail (xfail)
    expected_failed_checks: ClassVar[dict[str, str]] = {}

    def read(self, path: Path) -> RawImage:
        raise NotImplementedError

    def header_spacing(self, path: Path) -> tuple[float, str] | None:
        """(mm per pixel, where it came from) without decoding pixels; None if absent."""
        return None

    def identifying_fields(self, path: Path, keywords: Iterable[str]) -> dict[str, str]:
        """``{field: value}`` of identifying header fields (for checks; never print them)."""
        return {}

    def write_sample(
        self, path: Path, pixels: np.ndarray, spacing_mm: float, identifying: Mapping[str, str]
    ) -> None:
        """For the reader checks (:mod:`benchmark.testing.readers`): write the 8-bit
        ``(H, W)`` ``pixels`` in this format, the spacing in the header where the format
        has one, and the ``identifying`` values wherever the format can hold text (as a
        scanner would), so the checks can prove none of them comes back."""
        raise NotImplementedError(f"{type(self).__name__} does not write samples")
