"""DICOM images: pixels, frames and calibration only (no identifying attribute is kept).

Pixel spacing comes from, in order:

1. ``PixelSpacing`` (0028,0030), ``[row, column]`` in mm;
2. the ultrasound region calibration: ``SequenceOfUltrasoundRegions`` (0018,6011) items
   with ``PhysicalUnitsXDirection``/``PhysicalUnitsYDirection`` = 3 (cm) and
   ``PhysicalDeltaX``/``PhysicalDeltaY`` in cm per pixel.  The 2-D tissue region
   (``RegionSpatialFormat`` = 1) with the largest area wins; other regions (Doppler strips,
   M-mode) are ignored.

Neither present (or only non-length units) → no spacing; the manifest must give it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from benchmark.contract.errors import InputError, first_line
from benchmark.data.ingest.readers import register_reader
from benchmark.data.ingest.readers.base import ImageReader, RawImage

#: PhysicalUnitsX/YDirection code for centimetres (DICOM PS3.3 C.8.5.5.1.15)
UNITS_CM = 3
#: RegionSpatialFormat code for a 2-D tissue image
SPATIAL_2D = 1


def _region_spacing(ds) -> tuple[float, float, str] | None:
    """(row mm, column mm, description) from the ultrasound regions, if calibrated in cm."""
    regions = ds.get("SequenceOfUltrasoundRegions") or []
    best = None
    for item in regions:
        if item.get("PhysicalUnitsXDirection") != UNITS_CM:
            continue
        if item.get("PhysicalUnitsYDirection") != UNITS_CM:
            continue
        dx, dy = item.get("PhysicalDeltaX"), item.get("PhysicalDeltaY")
        if not dx or not dy or float(dx) <= 0 or float(dy) <= 0:
            continue
        spatial = item.get("RegionSpatialFormat", SPATIAL_2D)
        area = 0
        if "RegionLocationMaxX1" in item and "RegionLocationMinX0" in item:
            area = (int(item.RegionLocationMaxX1) - int(item.RegionLocationMinX0)) * (
                int(item.RegionLocationMaxY1) - int(item.RegionLocationMinY0)
            )
        rank = (spatial == SPATIAL_2D, area)
        if best is None or rank > best[0]:
            best = (rank, float(dy) * 10.0, float(dx) * 10.0)
    if best is None:
        return None
    return best[1], best[2], "DICOM ultrasound region calibration (PhysicalDeltaX/Y, cm)"


def dicom_spacing(ds) -> tuple[float, float, str] | None:
    """(row mm, column mm, source) or None when the file carries no length calibration."""
    for keyword in ("PixelSpacing", "ImagerPixelSpacing"):
        value = ds.get(keyword)
        if value is not None and len(value) == 2 and all(float(v) > 0 for v in value):
            return float(value[0]), float(value[1]), f"DICOM {keyword}"
    return _region_spacing(ds)


def read_dicom(path: Path) -> RawImage:
    """Pixels, frames and calibration of one DICOM file (nothing identifying is kept)."""
    import pydicom

    try:
        ds = pydicom.dcmread(path)
    except Exception as exc:  # pydicom raises several types for non-DICOM bytes
        raise InputError(
            f"{path}: not a readable DICOM file ({type(exc).__name__})", "unreadable"
        ) from None
    if "PixelData" not in ds:
        raise InputError(
            f"{path}: DICOM file has no pixel data (a report or structured doc?)",
            "unreadable",
            "export the image itself (not the report) or remove the row",
        )
    try:
        pixels = np.asarray(ds.pixel_array)
    except Exception as exc:
        first = first_line(exc)
        raise InputError(
            f"{path}: cannot decode DICOM pixels ({type(exc).__name__}: {first}); "
            "install the decoder for its transfer syntax or export uncompressed",
            "unreadable",
            "install the decoder for its transfer syntax (pylibjpeg, gdcm) or export uncompressed",
        ) from None
    n_frames = int(ds.get("NumberOfFrames", 1) or 1)
    samples = int(ds.get("SamplesPerPixel", 1) or 1)
    if n_frames == 1:
        pixels = pixels[None]
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2"))
    if photometric == "MONOCHROME1":  # 0 = white: flip so tissue is bright like MONOCHROME2
        pixels = pixels.max() - pixels
    raw = RawImage(pixels, colour=samples > 1)
    found = dicom_spacing(ds)
    if found is not None:
        row_mm, col_mm, source = found
        raw.spacing_mm = (row_mm + col_mm) / 2
        raw.spacing_source = source
        if not np.isclose(row_mm, col_mm, rtol=0.02):
            raw.spacing_rc_mm = (row_mm, col_mm)
    if str(ds.get("BurnedInAnnotation", "")).upper() == "YES":
        raw.notes.append("burned-in annotation")
    return raw


@register_reader
class DicomReader(ImageReader):
    suffixes = (".dcm", ".dicom")
    has_header_spacing = True
    has_identifying_fields = True

    def read(self, path: Path) -> RawImage:
        return read_dicom(path)

    def header_spacing(self, path: Path) -> tuple[float, str] | None:
        import pydicom

        found = dicom_spacing(pydicom.dcmread(path, stop_before_pixels=True))
        return None if found is None else ((found[0] + found[1]) / 2, found[2])

    def identifying_fields(self, path: Path, keywords: Iterable[str]) -> dict[str, str]:
        """Non-empty text-like identifying attributes; sequences are skipped (their leaf
        values are covered by their own keywords)."""
        import pydicom

        ds = pydicom.dcmread(path, stop_before_pixels=True)
        found: dict[str, str] = {}
        for keyword in keywords:
            element = ds.get(keyword)
            if element is None or element == "" or isinstance(element, pydicom.Sequence):
                continue
            text = str(element).strip()
            if text:
                found[keyword] = text
        return found

    def write_sample(
        self, path: Path, pixels: np.ndarray, spacing_mm: float, identifying: Mapping[str, str]
    ) -> None:
        """An uncompressed ultrasound DICOM with ``PixelSpacing`` and the identifying
        values as attributes (their keywords)."""
        from pydicom.dataset import Dataset, FileMetaDataset
        from pydicom.uid import ExplicitVRLittleEndian, UltrasoundImageStorage, generate_uid

        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = UltrasoundImageStorage
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID, ds.SOPInstanceUID = UltrasoundImageStorage, generate_uid()
        ds.Modality = "US"
        for keyword, value in identifying.items():
            setattr(ds, keyword, value)
        ds.Rows, ds.Columns = pixels.shape
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
        ds.PixelSpacing = [spacing_mm, spacing_mm]
        ds.PixelData = np.ascontiguousarray(pixels, dtype=np.uint8).tobytes()
        ds.save_as(path, enforce_file_format=True)
