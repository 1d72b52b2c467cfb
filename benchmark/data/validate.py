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
import math
import os
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchmark.contract.errors import InputError
from benchmark.data.ingest.manifest import Manifest, read_manifest
from benchmark.data.ingest.records import ImageSpec
from benchmark.data.io import file_suffix, header_spacing

GA_RANGE = (20.0, 44.0)
SPACING_PLAUSIBLE = (0.01, 2.0)  # mm per pixel; fetal thorax views are ~0.05-0.4
#: field of view (mm across the image's longer side) of a fetal thorax view: a thorax is
#: ~40-110 mm across from 20 to 40 weeks and sector depths run ~60-250 mm; outside this
#: range the spacing has a unit or decimal slip (0.02 or 2.0 for 0.2 mm/pixel)
FOV_PLAUSIBLE_MM = (25.0, 600.0)
#: an image whose spacing is this many times off the cohort median is a slip (error);
#: between SPACING_ODD and this it is a warning (a zoomed acquisition can be 2-3x)
SPACING_SLIP_FACTOR = 5.0
SPACING_ODD_FACTOR = 2.5
#: perceptual-hash Hamming distance (of 64 bits) at or below which two images of different
#: patients are reported as near-duplicates (same frame re-exported, resized, re-encoded)
NEAR_DUPLICATE_BITS = 4
ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class Problem:
    level: str  # "error" | "warning"
    code: str  # short stable id, e.g. "ga-range"
    where: str  # "images.csv row 4 (image_id=P001_0)" or a file
    what: str
    fix: str
    #: what ``run --skip-invalid`` leaves out for this problem: 0-based rows of the images
    #: and patients tables (both empty: not tied to rows, so it blocks even that run)
    image_rows: tuple[int, ...] = ()
    patient_rows: tuple[int, ...] = ()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Problem:
        rows = {k: tuple(data.get(k) or ()) for k in ("image_rows", "patient_rows")}
        return cls(**{**data, **rows})

    def line(self) -> str:
        return f"{self.level.upper():<7} {self.where}: {self.what}. Fix: {self.fix}"


@dataclass
class Report:
    root: Path
    layout: str = ""
    n_patients: int = 0
    n_images: int = 0
    problems: list[Problem] = field(default_factory=list)
    files_checked: bool = False

    def add(self, level: str, code: str, where: str, what: str, fix: str,
            image_rows: Iterable[int] = (), patient_rows: Iterable[int] = ()) -> None:
        self.problems.append(Problem(level, code, where, what, fix,
                                     tuple(int(i) for i in image_rows),
                                     tuple(int(i) for i in patient_rows)))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.level == WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors

    def format(self) -> str:
        head = (f"dataset {self.root}  ({self.layout or 'no manifest'}): "
                f"{self.n_patients} patient(s), {self.n_images} image(s)")
        lines = [head] + [p.line() for p in self.errors + self.warnings]
        verdict = "ready to run" if self.ok else "errors block `benchmark run`"
        lines.append(f"{len(self.errors)} error(s), {len(self.warnings)} warning(s): {verdict}"
                     + ("" if self.files_checked else " (image files not read)"))
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"root": str(self.root), "layout": self.layout, "n_patients": self.n_patients,
                "n_images": self.n_images, "files_checked": self.files_checked,
                "problems": [asdict(p) for p in self.problems]}

    def raise_for_errors(self) -> None:
        """One-line InputError naming the first error's row/file (the CLI prints it)."""
        if self.errors:
            first = self.errors[0]
            more = len(self.errors) - 1
            tail = f" (+{more} more error(s); run `python -m benchmark validate " \
                   f"{self.root}`)" if more else ""
            raise InputError(f"{first.where}: {first.what}{tail}")


def _num(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def _image_where(manifest: Manifest, i: int) -> str:
    image_id = manifest.images.at[i, "image_id"] if "image_id" in manifest.images else None
    return f"{manifest.image_where[i]} (image_id={image_id})" if image_id else \
        manifest.image_where[i]


def _dataset_crop(manifest: Manifest, report: Report) -> tuple[int, int, int, int] | None:
    crop = manifest.meta.get("crop")
    if crop is None:
        return None
    if not (isinstance(crop, list) and len(crop) == 4 and all(_num(v) is not None
                                                              for v in crop)):
        report.add(ERROR, "crop", "dataset.json", f"crop {crop!r} is not [x0, y0, x1, y1]",
                   "give four pixel numbers, x1/y1 exclusive")
        return None
    return tuple(int(v) for v in crop)


# -- table-level checks: benchmark.data.ingest.table_checks ---------------------------------------
def _specs(manifest: Manifest, report: Report) -> Iterator[tuple[int, ImageSpec]]:
    crop = _dataset_crop(manifest, report)
    for i, row in enumerate(manifest.images.to_dict("records")):
        where = _image_where(manifest, i)
        try:
            yield i, ImageSpec.from_row(manifest.root, row, where, crop)
        except InputError as exc:
            text = str(exc)[len(where) + 2:] if str(exc).startswith(where) else str(exc)
            report.add(ERROR, exc.code, where, text, "fix the manifest row (docs/byo-data.md)",
                       image_rows=[i])


def _rel(manifest: Manifest, path: Path) -> str:
    try:
        return path.relative_to(manifest.root).as_posix()
    except ValueError:
        return str(path)


def _strip_root(manifest: Manifest, text: str) -> str:
    return text.replace(str(manifest.root) + os.sep, "")


def _check_paths_and_spacing(manifest: Manifest, specs: list[tuple[int, ImageSpec]],
                             report: Report) -> list[tuple[int, ImageSpec]]:
    ok, spacings = [], {}
    for i, spec in specs:
        missing = [p for p in (spec.image_path, *spec.mask_paths) if not p.is_file()]
        for path in missing:
            report.add(ERROR, "file-missing", spec.where, f"file {_rel(manifest, path)} not "
                       "found", "fix the path (relative to the dataset folder) or add the file",
                       image_rows=[i])
        if missing:
            continue  # nothing more to say about a row whose files are not there
        if spec.spacing_mm is None:
            spacing, _ = header_spacing(spec.image_path)
            if spacing is None:
                if file_suffix(spec.image_path) in (".dcm", ".dicom"):
                    report.add(ERROR, "dicom-uncalibrated", spec.where,
                               f"DICOM {_rel(manifest, spec.image_path)} has no PixelSpacing "
                               "and no ultrasound region calibration in cm, and the manifest "
                               "gives no pixel_spacing_mm", "add pixel_spacing_mm (mm per "
                               "pixel, e.g. from the on-screen depth scale)", image_rows=[i])
                else:
                    report.add(ERROR, "spacing-missing", spec.where, "missing spacing: no "
                               f"pixel_spacing_mm and {spec.image_path.suffix or 'the'} files "
                               "carry none", "add pixel_spacing_mm (mm per pixel, e.g. from "
                               "the on-screen depth scale: depth mm / image rows)",
                               image_rows=[i])
                ok.append((i, spec))  # still read the file: report every other problem too
                continue
        else:
            spacing = spec.spacing_mm
        if not SPACING_PLAUSIBLE[0] <= spacing <= SPACING_PLAUSIBLE[1]:
            report.add(WARNING, "spacing-implausible", spec.where, f"pixel spacing {spacing:g} "
                       "mm/pixel is unusual for a fetal thorax view (typical 0.05-0.4)",
                       "check the unit is mm per pixel (not cm, not pixels per mm)")
        spacings[i] = spacing
        ok.append((i, spec))
    _check_spacing_spread(manifest, spacings, report)
    return ok


def _check_spacing_spread(manifest: Manifest, spacings: dict[int, float],
                          report: Report) -> None:
    """A spacing far off the cohort's own median is a unit or decimal slip (0.02 or 2.0 in a
    0.2-0.3 cohort).  Judged on the log scale, only with >= 5 spacings to judge from; the
    image's field of view is checked when the file is read (file_checks)."""
    if len(spacings) < 5:
        return
    values = np.log10(np.fromiter(spacings.values(), float))
    median = float(np.median(values))
    low, high = np.percentile(values, [5, 95])
    for (i, spacing), log_value in zip(spacings.items(), values, strict=True):
        factor = 10 ** abs(log_value - median)
        if factor < SPACING_ODD_FACTOR:
            continue
        slip = factor >= SPACING_SLIP_FACTOR
        report.add(ERROR if slip else WARNING, "spacing-outlier" if slip else "spacing-odd",
                   _image_where(manifest, i), f"pixel spacing {spacing:g} mm/pixel is "
                   f"{factor:.1f}x {'below' if log_value < median else 'above'} the cohort "
                   f"median {10 ** median:.3g} (90% of images {10 ** low:.3g}-{10 ** high:.3g})",
                   "check for a decimal or unit slip (mm vs cm, a zoom box); correct "
                   "pixel_spacing_mm" if slip else "check it is not a slip; a zoomed "
                   "acquisition can legitimately differ", image_rows=[i] if slip else ())


def validate_tables(manifest: Manifest, report: Report | None = None
                    ) -> tuple[Report, list[tuple[int, ImageSpec]]]:
    report = report or Report(manifest.root)
    report.layout = manifest.layout
    report.n_patients, report.n_images = len(manifest.patients), len(manifest.images)
    from benchmark.data.ingest import table_checks

    if not table_checks.check_columns(manifest, report):
        return report, []
    table_checks.check_ids(manifest, report)
    table_checks.check_ga(manifest, report)
    table_checks.check_links(manifest, report)
    specs = list(_specs(manifest, report))
    return report, _check_paths_and_spacing(manifest, specs, report)


# -- file-level checks: benchmark.data.ingest.file_checks ---------------------------------------
def validate_files(manifest: Manifest, specs: list[tuple[int, ImageSpec]],
                   report: Report) -> Report:
    """Read every image and mask (:mod:`benchmark.data.ingest.file_checks`)."""
    from benchmark.data.ingest.file_checks import check_files

    return check_files(manifest, specs, report)


def validate_dataset(root: str | Path, read_files: bool = True) -> Report:
    """Full validation of a dataset folder (never raises for bad data: it reports it)."""
    report = Report(Path(root).resolve())
    try:
        manifest = read_manifest(root)
    except InputError as exc:
        head, _, rest = str(exc).partition(": ")
        where = Path(head)
        where = (where.relative_to(report.root).as_posix() if where.is_relative_to(report.root)
                 and where != report.root else str(root))
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
    for _, spec in _specs(manifest, Report(manifest.root)):
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
        return Report(manifest.root, data["layout"], data["n_patients"], data["n_images"],
                      [Problem.from_dict(p) for p in data["problems"]], data["files_checked"])
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
