"""Bring-your-own cohort: manifests, annotation formats and per-image loading."""

from benchmark.ingest.manifest import Manifest, read_manifest
from benchmark.ingest.records import ImageSpec, RowData, load_row, safe_path

__all__ = ["ImageSpec", "Manifest", "RowData", "load_row", "read_manifest", "safe_path"]
