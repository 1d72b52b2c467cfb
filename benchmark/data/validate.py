"""Checking a dataset folder before a run: every problem with its file/row and a fix.

Errors block a run (``Cohort.load`` raises on the table-level ones; the runner calls
:func:`check_dataset` for the rest); warnings go into the run's provenance.  Nothing is
dropped silently: every row either passes or appears in the report.

Two levels of checking:

- :func:`validate_tables` — the manifest alone plus file existence and DICOM/NIfTI headers
  (fast; run by ``Cohort.load``);
- :func:`validate_files` — reads every image and mask (``validate`` and the runner).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

from benchmark.contract.errors import InputError
from benchmark.data.ingest import file_checks, table_checks
from benchmark.data.ingest.manifest import Manifest, read_manifest
from benchmark.data.ingest.records import ImageSpec

# the vocabulary, re-exported: ``from benchmark.data.validate import Report`` keeps working
from benchmark.data.problems import (  # noqa: F401
    ERROR,
    FOV_PLAUSIBLE_MM,
    GA_RANGE,
    NEAR_DUPLICATE_BITS,
    SPACING_ODD_FACTOR,
    SPACING_PLAUSIBLE,
    SPACING_SLIP_FACTOR,
    WARNING,
    Problem,
    Report,
)


def validate_tables(
    manifest: Manifest, report: Report | None = None
) -> tuple[Report, list[tuple[int, ImageSpec]]]:
    report = report or Report(manifest.root)
    report.layout = manifest.layout
    report.n_patients, report.n_images = len(manifest.patients), len(manifest.images)
    if not table_checks.check_columns(manifest, report):
        return report, []
    for name, how in manifest.read_as:  # a guess made while reading: said, not silent
        report.add(
            WARNING,
            "manifest-read-as",
            name,
            f"read as {how}",
            "nothing to do if these numbers are right; else save the sheet as comma-separated CSV",
        )
    table_checks.check_ids(manifest, report)
    table_checks.check_ga(manifest, report)
    table_checks.check_links(manifest, report)
    specs = list(table_checks.row_specs(manifest, report))
    return report, table_checks.check_paths_and_spacing(manifest, specs, report)


def validate_files(
    manifest: Manifest, specs: list[tuple[int, ImageSpec]], report: Report
) -> Report:
    """Read every image and mask (:mod:`benchmark.data.ingest.file_checks`)."""
    return file_checks.check_files(manifest, specs, report)


def validate_dataset(root: str | Path, read_files: bool = True) -> Report:
    """Full validation of a dataset folder (never raises for bad data: it reports it)."""
    report = Report(Path(root).resolve())
    try:
        manifest = read_manifest(root)
    except InputError as exc:
        head, _, rest = str(exc).partition(": ")
        where = Path(head)
        where = (
            where.relative_to(report.root).as_posix()
            if where.is_relative_to(report.root) and where != report.root
            else str(root)
        )
        report.add(ERROR, exc.code, where, rest or str(exc), exc.fix)
        return report
    report, specs = validate_tables(manifest, report)
    if read_files:
        validate_files(manifest, specs, report)
    return report


# -- hooks for Cohort.load and the runner ----------------------------------------------------
def check_tables(manifest: Manifest) -> list[Problem]:
    """Table-level check for ``Cohort.load``: raises InputError on the first error."""
    report, _ = validate_tables(manifest)
    report.raise_for_errors()
    return report.warnings


def _stamp(manifest: Manifest) -> str:
    files = set(manifest.files)
    for _, spec in table_checks.row_specs(manifest, Report(manifest.root)):
        files.update((spec.image_path, *spec.mask_paths))
    digest = hashlib.sha256(str(manifest.root).encode())
    for path in sorted(files):
        try:
            st = path.stat()
            digest.update(f"{path}:{st.st_size}:{st.st_mtime_ns}".encode())
        except OSError:
            digest.update(f"{path}:missing".encode())
    meta = manifest.root / "dataset.json"
    if meta.is_file():
        digest.update(meta.read_bytes())
    return digest.hexdigest()[:20]


def cached_report(root: str | Path) -> Report:
    """Full validation, cached under ``$FLB_CACHE`` per file state (sizes, mtimes)."""
    from benchmark.data.sources import cache_root

    manifest = read_manifest(root)
    cache = cache_root() / "validation" / f"{_stamp(manifest)}.json"
    if cache.is_file():
        data = json.loads(cache.read_text())
        return Report(
            manifest.root,
            data["layout"],
            data["n_patients"],
            data["n_images"],
            [Problem.from_dict(p) for p in data["problems"]],
            data["files_checked"],
            [tuple(g) for g in data.get("linked_patients", [])],
        )
    report = validate_dataset(root)
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(report.to_dict()))
    except OSError:
        pass  # no cache: validate again next time
    return report


def check_dataset(root: str | Path) -> list[dict[str, str]]:
    """The runner's hook: full validation (cached per file state) → warnings for provenance.

    Raises :class:`InputError` (one line, naming the first bad row/file) when any error.
    Returns the warnings as plain dicts for ``run.json``.
    """
    report = cached_report(root)
    report.raise_for_errors()
    return [asdict(p) for p in report.warnings]
