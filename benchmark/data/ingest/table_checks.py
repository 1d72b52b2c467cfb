"""Table-level validation: the manifest alone (columns, ids, GA, links between tables).

Every problem names its manifest row(s) and carries the rows ``run --skip-invalid`` leaves
out (``Problem.image_rows`` / ``patient_rows``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator

import numpy as np
import pandas as pd

from benchmark.contract.errors import InputError
from benchmark.data.ingest.manifest import Manifest
from benchmark.data.ingest.records import ImageSpec
from benchmark.data.io import file_suffix, header_spacing
from benchmark.data.problems import (
    ERROR,
    GA_RANGE,
    SPACING_ODD_FACTOR,
    SPACING_PLAUSIBLE,
    SPACING_SLIP_FACTOR,
    WARNING,
    Report,
    as_number,
    image_where,
    rel_path,
)


def check_columns(manifest: Manifest, report: Report) -> bool:
    ok = True
    for table, name, required in (
        (manifest.patients, "patients", ("patient_id", "ga_weeks")),
        (manifest.images, "images", ("image_id", "patient_id", "image_path")),
    ):
        for col in required:
            if col not in table.columns:
                files = [f.name for f in manifest.files] or [manifest.layout]
                src = files[-1] if name == "images" else files[0]
                fix = (
                    "add the column (docs/byo-data.md); GA is what the benchmark estimates"
                    if col == "ga_weeks"
                    else "add the column (docs/byo-data.md)"
                )
                report.add(
                    ERROR, "column", src, f"column {col!r} missing from the {name} table", fix
                )
                ok = ok and col == "ga_weeks"
    if "enrolment_order" not in manifest.patients.columns:
        report.add(
            WARNING,
            "enrolment-order",
            manifest.files[0].name if manifest.files else manifest.layout,
            "no enrolment_order column: the paper split (first N enrolled) is unavailable",
            "add enrolment_order, or run with --split kfold:5",
        )
    return ok


def _rows_of(key: str, rows: Iterable[int]) -> dict[str, list[int]]:
    """Keyword arguments of Report.add naming the rows a problem is about."""
    return {"patient_rows" if key == "patient_id" else "image_rows": [int(r) for r in rows]}


def check_ids(manifest: Manifest, report: Report) -> None:
    for table, key, wheres in (
        (manifest.patients, "patient_id", manifest.patient_where),
        (manifest.images, "image_id", manifest.image_where),
    ):
        ids = table[key]
        for i in np.flatnonzero(ids.isna().to_numpy()):
            report.add(
                ERROR,
                "id-missing",
                wheres[i],
                f"{key} is empty",
                f"give every row a {key}",
                **_rows_of(key, [i]),
            )
        if manifest.layout.endswith("(one row per image)") and key == "patient_id":
            continue  # folded from image rows: unique by construction
        dup = ids[ids.duplicated(keep=False) & ids.notna()]
        for value, rows in dup.groupby(dup).groups.items():
            places = ", ".join(wheres[i].split(" row ")[-1] for i in rows)
            report.add(
                ERROR,
                f"duplicate-{key}",
                f"{wheres[rows[0]].split(' row ')[0]} rows {places}",
                f"duplicate {key} {value!r}",
                f"make each {key} unique",
                **_rows_of(key, rows),
            )
    _check_enrolment_order(manifest, report)


def _check_enrolment_order(manifest: Manifest, report: Report) -> None:
    """The paper split takes the first N enrolled: two patients in one place is ambiguous."""
    if "enrolment_order" not in manifest.patients.columns:
        return
    order = manifest.patients["enrolment_order"].map(as_number)
    for i in np.flatnonzero(
        manifest.patients["enrolment_order"].notna().to_numpy() & order.isna().to_numpy()
    ):
        report.add(
            ERROR,
            "enrolment-order-value",
            manifest.patient_where[i],
            f"enrolment_order {manifest.patients['enrolment_order'].iat[i]!r} is not a number",
            "give each patient its enrolment position (1, 2, 3, ...)",
            patient_rows=[i],
        )
    dup = order[order.duplicated(keep=False) & order.notna()]
    for value, rows in dup.groupby(dup).groups.items():
        ids = ", ".join(str(manifest.patients["patient_id"].iat[i]) for i in rows)
        report.add(
            ERROR,
            "duplicate-enrolment_order",
            "; ".join(manifest.patient_where[i] for i in rows),
            f"duplicate enrolment_order {value:g} (patients {ids})",
            "give each patient its own enrolment position: the paper split takes the "
            "first N enrolled",
            patient_rows=list(rows),
        )


def check_ga(manifest: Manifest, report: Report) -> None:
    patients, images = manifest.patients, manifest.images
    if "ga_weeks" in patients.columns:
        for i, value in enumerate(patients["ga_weeks"]):
            where = f"{manifest.patient_where[i]} (patient_id={patients['patient_id'].iat[i]})"
            ga = as_number(value)
            if ga is None:
                report.add(
                    ERROR,
                    "ga-missing",
                    where,
                    f"ga_weeks is missing or not a number ({value!r})",
                    "fill in the GA at scan in weeks (e.g. 31.4), or remove the patient",
                    patient_rows=[i],
                )
            elif not GA_RANGE[0] <= ga <= GA_RANGE[1]:
                report.add(
                    ERROR,
                    "ga-range",
                    where,
                    f"ga_weeks {ga:g} is outside {GA_RANGE[0]:g}-{GA_RANGE[1]:g} weeks",
                    "check the value is weeks (not days) and the scan is a 2nd/3rd-trimester scan",
                    patient_rows=[i],
                )
    if "ga_weeks" not in images.columns or "patient_id" not in images.columns:
        return
    single = manifest.layout.endswith("(one row per image)")
    for i, value in enumerate(images["ga_weeks"]):
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue  # per-image GA is an optional override
        ga = as_number(value)
        if (ga is None or not GA_RANGE[0] <= ga <= GA_RANGE[1]) and not single:
            report.add(
                ERROR,
                "ga-range",
                image_where(manifest, i),
                f"per-image ga_weeks {value!r} is not a number in {GA_RANGE[0]:g}-{GA_RANGE[1]:g}",
                "fix or empty the override",
                image_rows=[i],
            )
    patient_ga = dict(
        zip(patients.get("patient_id", []), patients.get("ga_weeks", []), strict=False)
    )
    effective = images["ga_weeks"].map(as_number)
    effective = effective.fillna(images["patient_id"].map(patient_ga).map(as_number))
    for pid, ga in effective.groupby(images["patient_id"]):
        values = ga.dropna()
        if len(values) and values.max() - values.min() > 1e-6:
            rows = ", ".join(manifest.image_where[i].split(" row ")[-1] for i in values.index)
            table = manifest.image_where[values.index[0]].split(" row ")[0]
            report.add(
                ERROR,
                "ga-conflict",
                f"{table} rows {rows} (patient_id={pid})",
                f"conflicting GA for one patient: {sorted(set(values.round(3)))} weeks",
                "give each patient one GA at scan; a second visit is a separate patient_id",
                image_rows=list(values.index),
            )


def check_links(manifest: Manifest, report: Report) -> None:
    patients, images = manifest.patients, manifest.images
    known = set(patients["patient_id"].dropna())
    with_images = set(images["patient_id"].dropna())
    for i, pid in enumerate([None if pd.isna(v) else v for v in images["patient_id"]]):
        if pid is not None and pid not in known:
            report.add(
                ERROR,
                "patient-unknown",
                image_where(manifest, i),
                f"patient_id {pid!r} is not in the patients table",
                "add the patient or fix the id",
                image_rows=[i],
            )
        elif pid is None:
            report.add(
                ERROR,
                "id-missing",
                image_where(manifest, i),
                "patient_id is empty",
                "give the image its patient's id",
                image_rows=[i],
            )
    for i, pid in enumerate(patients["patient_id"]):
        if pid is not None and pid not in with_images:
            report.add(
                ERROR,
                "patient-no-images",
                manifest.patient_where[i],
                f"patient {pid!r} has no images",
                "add its images or remove the row",
                patient_rows=[i],
            )


# -- rows → image specs, file existence and spacing -----------------------------------------
def _dataset_crop(manifest: Manifest, report: Report) -> tuple[int, int, int, int] | None:
    crop = manifest.meta.get("crop")
    if crop is None:
        return None
    if not (
        isinstance(crop, list) and len(crop) == 4 and all(as_number(v) is not None for v in crop)
    ):
        report.add(
            ERROR,
            "crop",
            "dataset.json",
            f"crop {crop!r} is not [x0, y0, x1, y1]",
            "give four pixel numbers, x1/y1 exclusive",
        )
        return None
    return tuple(int(v) for v in crop)


def row_specs(manifest: Manifest, report: Report) -> Iterator[tuple[int, ImageSpec]]:
    crop = _dataset_crop(manifest, report)
    for i, row in enumerate(manifest.images.to_dict("records")):
        where = image_where(manifest, i)
        try:
            yield i, ImageSpec.from_row(manifest.root, row, where, crop)
        except InputError as exc:
            text = str(exc)[len(where) + 2 :] if str(exc).startswith(where) else str(exc)
            report.add(
                ERROR,
                exc.code,
                where,
                text,
                "fix the manifest row (docs/byo-data.md)",
                image_rows=[i],
            )


def check_paths_and_spacing(
    manifest: Manifest, specs: list[tuple[int, ImageSpec]], report: Report
) -> list[tuple[int, ImageSpec]]:
    ok, spacings = [], {}
    for i, spec in specs:
        missing = [p for p in (spec.image_path, *spec.mask_paths) if not p.is_file()]
        for path in missing:
            report.add(
                ERROR,
                "file-missing",
                spec.where,
                f"file {rel_path(manifest, path)} not found",
                "fix the path (relative to the dataset folder) or add the file",
                image_rows=[i],
            )
        if missing:
            continue  # nothing more to say about a row whose files are not there
        if spec.spacing_mm is None:
            spacing, _ = header_spacing(spec.image_path)
            if spacing is None:
                if file_suffix(spec.image_path) in (".dcm", ".dicom"):
                    report.add(
                        ERROR,
                        "dicom-uncalibrated",
                        spec.where,
                        f"DICOM {rel_path(manifest, spec.image_path)} has no PixelSpacing "
                        "and no ultrasound region calibration in cm, and the manifest "
                        "gives no pixel_spacing_mm",
                        "add pixel_spacing_mm (mm per pixel, e.g. from the on-screen depth scale)",
                        image_rows=[i],
                    )
                else:
                    report.add(
                        ERROR,
                        "spacing-missing",
                        spec.where,
                        "missing spacing: no "
                        f"pixel_spacing_mm and {spec.image_path.suffix or 'the'} files "
                        "carry none",
                        "add pixel_spacing_mm (mm per pixel, e.g. from "
                        "the on-screen depth scale: depth mm / image rows)",
                        image_rows=[i],
                    )
                ok.append((i, spec))  # still read the file: report every other problem too
                continue
        else:
            spacing = spec.spacing_mm
        if not SPACING_PLAUSIBLE[0] <= spacing <= SPACING_PLAUSIBLE[1]:
            report.add(
                WARNING,
                "spacing-implausible",
                spec.where,
                f"pixel spacing {spacing:g} "
                "mm/pixel is unusual for a fetal thorax view (typical 0.05-0.4)",
                "check the unit is mm per pixel (not cm, not pixels per mm)",
            )
        spacings[i] = spacing
        ok.append((i, spec))
    _check_spacing_spread(manifest, spacings, report)
    return ok


def _check_spacing_spread(manifest: Manifest, spacings: dict[int, float], report: Report) -> None:
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
        report.add(
            ERROR if slip else WARNING,
            "spacing-outlier" if slip else "spacing-odd",
            image_where(manifest, i),
            f"pixel spacing {spacing:g} mm/pixel is "
            f"{factor:.1f}x {'below' if log_value < median else 'above'} the cohort "
            f"median {10**median:.3g} (90% of images {10**low:.3g}-{10**high:.3g})",
            "check for a decimal or unit slip (mm vs cm, a zoom box); correct pixel_spacing_mm"
            if slip
            else "check it is not a slip; a zoomed acquisition can legitimately differ",
            image_rows=[i] if slip else (),
        )
