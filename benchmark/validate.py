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
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchmark.ingest.manifest import Manifest, read_manifest
from benchmark.ingest.records import ImageSpec, header_spacing, load_row
from benchmark.io import InputError, file_suffix

GA_RANGE = (20.0, 44.0)
SPACING_PLAUSIBLE = (0.01, 2.0)  # mm per pixel; fetal thorax views are ~0.05-0.4
ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class Problem:
    level: str  # "error" | "warning"
    code: str  # short stable id, e.g. "ga-range"
    where: str  # "images.csv row 4 (image_id=P001_0)" or a file
    what: str
    fix: str

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

    def add(self, level: str, code: str, where: str, what: str, fix: str) -> None:
        self.problems.append(Problem(level, code, where, what, fix))

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


# -- table-level checks ----------------------------------------------------------------------
def _check_columns(manifest: Manifest, report: Report) -> bool:
    ok = True
    for table, name, required in (
        (manifest.patients, "patients", ("patient_id", "ga_weeks")),
        (manifest.images, "images", ("image_id", "patient_id", "image_path")),
    ):
        for col in required:
            if col not in table.columns:
                files = [f.name for f in manifest.files] or [manifest.layout]
                src = files[-1] if name == "images" else files[0]
                fix = ("add the column (docs/byo-data.md); GA is what the benchmark estimates"
                       if col == "ga_weeks" else "add the column (docs/byo-data.md)")
                report.add(ERROR, "column", src, f"column {col!r} missing from the {name} "
                           "table", fix)
                ok = ok and col == "ga_weeks"
    if "enrolment_order" not in manifest.patients.columns:
        report.add(WARNING, "enrolment-order", manifest.files[0].name if manifest.files
                   else manifest.layout,
                   "no enrolment_order column: the paper split (first N enrolled) is "
                   "unavailable", "add enrolment_order, or run with --split kfold:5")
    return ok


def _check_ids(manifest: Manifest, report: Report) -> None:
    for table, key, wheres in ((manifest.patients, "patient_id", manifest.patient_where),
                               (manifest.images, "image_id", manifest.image_where)):
        ids = table[key]
        for i in np.flatnonzero(ids.isna().to_numpy()):
            report.add(ERROR, "id-missing", wheres[i], f"{key} is empty", f"give every row a {key}")
        if manifest.layout.endswith("(one row per image)") and key == "patient_id":
            continue  # folded from image rows: unique by construction
        dup = ids[ids.duplicated(keep=False) & ids.notna()]
        for value, rows in dup.groupby(dup).groups.items():
            places = ", ".join(wheres[i].split(" row ")[-1] for i in rows)
            report.add(ERROR, f"duplicate-{key}", f"{wheres[rows[0]].split(' row ')[0]} rows "
                       f"{places}", f"duplicate {key} {value!r}", f"make each {key} unique")


def _check_ga(manifest: Manifest, report: Report) -> None:
    patients, images = manifest.patients, manifest.images
    if "ga_weeks" in patients.columns:
        for i, value in enumerate(patients["ga_weeks"]):
            where = f"{manifest.patient_where[i]} (patient_id={patients['patient_id'].iat[i]})"
            ga = _num(value)
            if ga is None:
                report.add(ERROR, "ga-missing", where, f"ga_weeks is missing or not a number "
                           f"({value!r})", "fill in the GA at scan in weeks (e.g. 31.4), or "
                           "remove the patient")
            elif not GA_RANGE[0] <= ga <= GA_RANGE[1]:
                report.add(ERROR, "ga-range", where, f"ga_weeks {ga:g} is outside "
                           f"{GA_RANGE[0]:g}-{GA_RANGE[1]:g} weeks", "check the value is weeks "
                           "(not days) and the scan is a 2nd/3rd-trimester scan")
    if "ga_weeks" not in images.columns or "patient_id" not in images.columns:
        return
    single = manifest.layout.endswith("(one row per image)")
    for i, value in enumerate(images["ga_weeks"]):
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue  # per-image GA is an optional override
        ga = _num(value)
        if (ga is None or not GA_RANGE[0] <= ga <= GA_RANGE[1]) and not single:
            report.add(ERROR, "ga-range", _image_where(manifest, i), f"per-image ga_weeks "
                       f"{value!r} is not a number in {GA_RANGE[0]:g}-{GA_RANGE[1]:g}",
                       "fix or empty the override")
    patient_ga = dict(zip(patients.get("patient_id", []), patients.get("ga_weeks", []),
                          strict=False))
    effective = images["ga_weeks"].map(_num)
    effective = effective.fillna(images["patient_id"].map(patient_ga).map(_num))
    for pid, ga in effective.groupby(images["patient_id"]):
        values = ga.dropna()
        if len(values) and values.max() - values.min() > 1e-6:
            rows = ", ".join(manifest.image_where[i].split(" row ")[-1] for i in values.index)
            table = manifest.image_where[values.index[0]].split(" row ")[0]
            report.add(ERROR, "ga-conflict", f"{table} rows {rows} (patient_id={pid})",
                       f"conflicting GA for one patient: {sorted(set(values.round(3)))} weeks",
                       "give each patient one GA at scan; a second visit is a separate "
                       "patient_id")


def _check_links(manifest: Manifest, report: Report) -> None:
    patients, images = manifest.patients, manifest.images
    known = set(patients["patient_id"].dropna())
    with_images = set(images["patient_id"].dropna())
    for i, pid in enumerate(images["patient_id"]):
        if pid is not None and pid not in known:
            report.add(ERROR, "patient-unknown", _image_where(manifest, i),
                       f"patient_id {pid!r} is not in the patients table",
                       "add the patient or fix the id")
        elif pid is None:
            report.add(ERROR, "id-missing", _image_where(manifest, i), "patient_id is empty",
                       "give the image its patient's id")
    for i, pid in enumerate(patients["patient_id"]):
        if pid is not None and pid not in with_images:
            report.add(ERROR, "patient-no-images", manifest.patient_where[i],
                       f"patient {pid!r} has no images", "add its images or remove the row")


def _specs(manifest: Manifest, report: Report) -> Iterator[tuple[int, ImageSpec]]:
    crop = _dataset_crop(manifest, report)
    for i, row in enumerate(manifest.images.to_dict("records")):
        where = _image_where(manifest, i)
        try:
            yield i, ImageSpec.from_row(manifest.root, row, where, crop)
        except InputError as exc:
            text = str(exc)[len(where) + 2:] if str(exc).startswith(where) else str(exc)
            code = "path-escape" if "escapes" in text or "absolute" in text else "row"
            report.add(ERROR, code, where, text, "fix the manifest row (docs/byo-data.md)")


def _rel(manifest: Manifest, path: Path) -> str:
    try:
        return path.relative_to(manifest.root).as_posix()
    except ValueError:
        return str(path)


def _strip_root(manifest: Manifest, text: str) -> str:
    return text.replace(str(manifest.root) + os.sep, "")


def _check_paths_and_spacing(manifest: Manifest, specs: list[tuple[int, ImageSpec]],
                             report: Report) -> list[tuple[int, ImageSpec]]:
    ok = []
    for i, spec in specs:
        missing = [p for p in (spec.image_path, *spec.mask_paths) if not p.is_file()]
        for path in missing:
            report.add(ERROR, "file-missing", spec.where, f"file {_rel(manifest, path)} not "
                       "found", "fix the path (relative to the dataset folder) or add the file")
        if spec.image_path in missing:
            continue
        if spec.spacing_mm is None:
            spacing, _ = header_spacing(spec.image_path)
            if spacing is None:
                if file_suffix(spec.image_path) in (".dcm", ".dicom"):
                    report.add(ERROR, "dicom-uncalibrated", spec.where,
                               f"DICOM {_rel(manifest, spec.image_path)} has no PixelSpacing "
                               "and no ultrasound region calibration in cm, and the manifest "
                               "gives no pixel_spacing_mm", "add pixel_spacing_mm (mm per "
                               "pixel, e.g. from the on-screen depth scale)")
                else:
                    report.add(ERROR, "spacing-missing", spec.where, "missing spacing: no "
                               f"pixel_spacing_mm and {spec.image_path.suffix or 'the'} files "
                               "carry none", "add pixel_spacing_mm (mm per pixel, e.g. from "
                               "the on-screen depth scale: depth mm / image rows)")
                ok.append((i, spec))  # still read the file: report every other problem too
                continue
        else:
            spacing = spec.spacing_mm
        if not SPACING_PLAUSIBLE[0] <= spacing <= SPACING_PLAUSIBLE[1]:
            report.add(WARNING, "spacing-implausible", spec.where, f"pixel spacing {spacing:g} "
                       "mm/pixel is unusual for a fetal thorax view (typical 0.05-0.4)",
                       "check the unit is mm per pixel (not cm, not pixels per mm)")
        ok.append((i, spec))
    return ok


def validate_tables(manifest: Manifest, report: Report | None = None
                    ) -> tuple[Report, list[tuple[int, ImageSpec]]]:
    report = report or Report(manifest.root)
    report.layout = manifest.layout
    report.n_patients, report.n_images = len(manifest.patients), len(manifest.images)
    if not _check_columns(manifest, report):
        return report, []
    _check_ids(manifest, report)
    _check_ga(manifest, report)
    _check_links(manifest, report)
    specs = list(_specs(manifest, report))
    return report, _check_paths_and_spacing(manifest, specs, report)


# -- file-level checks -----------------------------------------------------------------------
def _check_one_file(manifest: Manifest, i: int, spec: ImageSpec, report: Report
                    ) -> dict[str, str]:
    try:
        data = load_row(spec)
    except InputError as exc:
        text = _strip_root(manifest, str(exc))
        text = text[len(spec.where) + 2:] if text.startswith(spec.where) else text
        code, fix = "unreadable", "re-export the file (PNG/DICOM) or remove the row"
        if "frames (cine loop)" in text:
            code, fix = "multi-frame", "set the manifest column 'frame' to the frame to use"
        elif "differs from image size" in text or "but the image is" in text:
            code, fix = "mask-size", "export the mask from the same image at the same size"
        elif "crop box" in text:
            code, fix = "crop", "fix the crop box (pixels, x1/y1 exclusive)"
        elif "not found" in text:
            code, fix = "file-missing", "fix the path or add the file"
        report.add(ERROR, code, spec.where, text, fix)
        return {}
    image, rel = data.image, _rel(manifest, spec.image_path)
    if "RGB" in image.notes:
        report.add(WARNING, "rgb", spec.where, f"{rel} is RGB (grey content): converted to "
                   "grey by channel mean", "nothing to do; export grey to silence this")
    if "colour" in image.notes:
        report.add(WARNING, "colour", spec.where, f"{rel} has colour content (Doppler or "
                   "coloured overlay): it becomes grey", "crop the overlay away or export B-mode")
    for note in image.notes:
        if note.endswith("-bit") and note != "8-bit":
            report.add(WARNING, "bit-depth", spec.where, f"{rel} is {note}: scaled to 8-bit by "
                       "its own min-max, so brightness is not comparable across images",
                       "export 8-bit images with the scanner's display mapping if available")
    if "anisotropic" in image.notes and image.spacing_rc_mm:
        r, c = image.spacing_rc_mm
        report.add(WARNING, "anisotropic", spec.where, f"{rel} has row/column spacing "
                   f"{r:.4g}/{c:.4g} mm: their mean is used", "resample to square pixels")
    if "burned-in annotation" in image.notes:
        report.add(WARNING, "burned-in", spec.where, f"{rel} declares burned-in annotation: "
                   "pixels may show identifying text (lung-map figures show pixels)",
                   "crop the text area away (crop box) before sharing figures")
    if spec.spacing_mm is not None and image.spacing_mm is not None and \
            not np.isclose(spec.spacing_mm, image.spacing_mm, rtol=0.05):
        report.add(WARNING, "spacing-disagree", spec.where, f"manifest pixel_spacing_mm "
                   f"{spec.spacing_mm:g} differs from the file's {image.spacing_mm:.4g} "
                   f"({image.spacing_source}); the manifest is used",
                   "check which is right; empty the manifest value to use the file's")
    if data.full_mask is not None:
        paths = ", ".join(_rel(manifest, p) for p in spec.mask_paths)
        total = int(data.full_mask.sum())
        inside = int(data.mask.sum()) if data.mask is not None else 0
        if total == 0:
            report.add(ERROR, "mask-empty", spec.where, f"lung mask {paths} is empty",
                       "trace the lungs, or remove lung_mask_path to mark it untraced")
        elif inside == 0:
            report.add(ERROR, "mask-outside-crop", spec.where, f"lung mask {paths} lies "
                       "entirely outside the crop box", "fix the crop box or the mask")
        elif inside < total:
            report.add(WARNING, "mask-crop", spec.where, f"{100 * (1 - inside / total):.0f}% of "
                       f"lung mask {paths} lies outside the crop box and is cut off",
                       "widen the crop box")
    if file_suffix(spec.image_path) in (".dcm", ".dicom"):
        return _check_dicom_ids(manifest, i, spec, report)
    return {}


def _check_dicom_ids(manifest: Manifest, i: int, spec: ImageSpec, report: Report
                     ) -> dict[str, str]:
    """Patient ids in outputs must be pseudonymous: refuse ids copied from the DICOM header.

    The identifying values themselves are never printed.
    """
    from benchmark.privacy import DIRECT_IDENTIFIERS, identifying_values

    values = identifying_values(spec.image_path, DIRECT_IDENTIFIERS)
    row = manifest.images.iloc[i]
    ids = {str(row.get(c)) for c in ("patient_id", "image_id") if row.get(c)}
    for keyword, value in values.items():
        if value in ids or value.replace("^", " ").strip() in ids:
            report.add(ERROR, "phi-id", spec.where, f"an id in this row equals the DICOM "
                       f"{keyword} of its file: it would appear in every result",
                       "use pseudonymous ids (e.g. P001) in the manifest")
        rel = _rel(manifest, spec.image_path)
        if len(value) >= 3 and value in rel:
            report.add(WARNING, "phi-path", spec.where, f"the file path contains the DICOM "
                       f"{keyword}", "rename files to pseudonymous names before sharing "
                       "reports")
    return values


def validate_files(manifest: Manifest, specs: list[tuple[int, ImageSpec]],
                   report: Report) -> Report:
    untraced = []
    for i, spec in specs:
        _check_one_file(manifest, i, spec, report)
        if not spec.mask_paths:
            untraced.append(str(manifest.images.at[i, "image_id"]))
    if untraced:
        shown = ", ".join(untraced[:5]) + (f" and {len(untraced) - 5} more" if len(untraced) > 5
                                           else "")
        where = manifest.files[-1].name if manifest.files else manifest.layout
        report.add(WARNING, "mask-none", where, f"{len(untraced)} image(s) have no "
                   f"lung mask ({shown}): methods that need traced lungs segment them "
                   "themselves or skip, and no DSC is computed for them",
                   "add lung_mask_path (PNG/NIfTI mask, LabelMe or COCO polygons)")
    report.files_checked = True
    return report


def validate_dataset(root: str | Path, read_files: bool = True) -> Report:
    """Full validation of a dataset folder (never raises for bad data: it reports it)."""
    report = Report(Path(root).resolve())
    try:
        manifest = read_manifest(root)
    except InputError as exc:
        report.add(ERROR, "manifest", str(root), str(exc).split(": ", 1)[-1],
                   "see docs/byo-data.md or run `python -m benchmark init-dataset DIR`")
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


def check_dataset(root: str | Path) -> list[dict[str, str]]:
    """The runner's hook: full validation (cached per file state) → warnings for provenance.

    Raises :class:`InputError` (one line, naming the first bad row/file) when any error.
    Returns the warnings as plain dicts for ``run.json``.
    """
    from benchmark.sources import cache_root

    manifest = read_manifest(root)
    cache = cache_root() / "validation" / f"{_stamp(manifest)}.json"
    if cache.is_file():
        data = json.loads(cache.read_text())
        report = Report(manifest.root, data["layout"], data["n_patients"], data["n_images"],
                        [Problem(**p) for p in data["problems"]], data["files_checked"])
    else:
        report = validate_dataset(root)
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            cache.write_text(json.dumps(report.to_dict()))
        except OSError:
            pass  # no cache: validate again next time
    report.raise_for_errors()
    return [asdict(p) for p in report.warnings]
