"""NIfTI images (nibabel): slices/time points become frames; pixdim gives the spacing."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from benchmark.contract.errors import InputError
from benchmark.data.ingest.readers import register_reader
from benchmark.data.ingest.readers.base import ImageReader, RawImage

_TO_MM = {"mm": 1.0, "meter": 1000.0, "micron": 0.001}


def _spacing(img) -> tuple[float, float] | None:
    zooms = img.header.get_zooms()[:2]
    to_mm = _TO_MM.get(img.header.get_xyzt_units()[0])
    if to_mm is None or len(zooms) < 2 or not all(z > 0 for z in zooms):
        return None
    return float(zooms[1]) * to_mm, float(zooms[0]) * to_mm  # (row, column)


@register_reader
class NiftiReader(ImageReader):
    suffixes = (".nii", ".nii.gz")
    has_header_spacing = True

    def read(self, path: Path) -> RawImage:
        import nibabel as nib

        img = nib.load(str(path))
        data = np.asanyarray(img.dataobj)
        if data.ndim < 2:
            raise InputError(
                f"{path}: NIfTI with {data.ndim} dimension(s), expected an image", "unreadable"
            )
        # NIfTI stores (x, y[, z[, t]]); images are (row=y, column=x): transpose each slice
        data = data.reshape(data.shape[0], data.shape[1], -1)
        frames = np.moveaxis(data, 2, 0).transpose(0, 2, 1)
        raw = RawImage(np.ascontiguousarray(frames))
        found = _spacing(img)
        if found is not None:
            row_mm, col_mm = found
            raw.spacing_mm = (row_mm + col_mm) / 2
            raw.spacing_source = "NIfTI header (pixdim)"
            if not np.isclose(row_mm, col_mm, rtol=0.02):
                raw.spacing_rc_mm = (row_mm, col_mm)
        return raw

    def header_spacing(self, path: Path) -> tuple[float, str] | None:
        import nibabel as nib

        found = _spacing(nib.load(str(path)))  # header only: pixels are not decoded
        if found is None:
            return None
        return (found[0] + found[1]) / 2, "NIfTI header (pixdim)"

    def write_sample(
        self, path: Path, pixels: np.ndarray, spacing_mm: float, identifying: Mapping[str, str]
    ) -> None:
        import nibabel as nib

        img = nib.Nifti1Image(np.asarray(pixels, np.uint8).T[:, :, None], np.eye(4))
        img.header.set_zooms((spacing_mm, spacing_mm, 1.0))
        img.header.set_xyzt_units("mm")
        img.header["descrip"] = " ".join(identifying.values()).encode()[:79]  # free text
        nib.save(img, str(path))
