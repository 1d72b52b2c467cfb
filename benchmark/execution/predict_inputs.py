"""The inputs of ``benchmark predict``: loose image files or a dataset folder → a test view.

Loose files may name a frame (``loop.dcm:2``); every input gets the per-file checks of
``validate`` (:mod:`benchmark.data.ingest.file_checks`) before anything is predicted, so a
zero-byte file, a PDF named ``.png`` or a cine loop without a frame stops the command with
one line per problem and nothing written.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from benchmark.contract.errors import InputError
from benchmark.data.io import file_suffix, read_raw


def _files_key(paths: list[Path], extra: str) -> str:
    digest = hashlib.sha256(extra.encode())
    for path in paths:
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def _per_image(values: list | None, n: int, name: str) -> list:
    if not values:
        return [None] * n
    if len(values) == 1:
        return list(values) * n
    if len(values) != n:
        raise InputError(
            f"--{name}: give one value, or one per image ({n})",
            "input",
            f"give one --{name} for all images or one per image, in order",
        )
    return list(values)


_FRAME_SUFFIX = re.compile(r"(?P<path>.+):(?P<frame>\d+)")


def parse_image_argument(text: str) -> tuple[Path, int | None]:
    """``scan.dcm`` or ``scan.dcm:2`` (frame 2, 0-based) → (path, frame)."""
    path = Path(text)
    found = _FRAME_SUFFIX.fullmatch(text)
    if not path.exists() and found and Path(found["path"]).exists():
        return Path(found["path"]), int(found["frame"])
    return path, None


def _frames(paths: list[Path], frames: list[int | None], default: int | None) -> list[int | None]:
    """Per image: its ``:N``, else ``--frame`` for multi-frame files only; a multi-frame
    file with neither is reported by the file checks (naming ``IMAGE:N``)."""
    out = []
    for path, frame in zip(paths, frames, strict=True):
        if frame is None and default is not None and path.is_file():
            try:
                frame = default if read_raw(path).n_frames > 1 else None
            except InputError:
                frame = None  # the file check reports it
        out.append(frame)
    return out


#: file-check codes that concern a cohort, not loose images to predict on
_PREDICT_FILE_IGNORES = {"duplicate-image", "near-duplicate", "mask-none"}
#: fixes said in predict's own terms (there is no manifest row to set or remove)
_PREDICT_FIXES = {
    "multi-frame": "name the frame after the file: IMAGE:N (0-based), e.g. loop.dcm:2",
    "unreadable": "re-export the file (PNG/DICOM)",
}


def check_prediction_inputs(manifest, specs) -> None:
    """The file checks of ``validate`` on the inputs: warnings and errors one line each on
    stderr; any error → InputError (nothing is predicted, nothing written)."""
    from benchmark.data.ingest.table_checks import check_paths_and_spacing
    from benchmark.data.validate import Report, validate_files

    # one judgement for every path in: the per-image checks of `validate` (spacing
    # plausibility and spread, size, field of view, mask content), the same codes and words
    report = Report(manifest.root)
    check_paths_and_spacing(manifest, specs, report)
    report = validate_files(manifest, specs, report)
    from dataclasses import replace

    from benchmark.contract.errors import DEFAULT_FIXES

    def fix(p):  # a generic fix in predict's terms; specific fixes are kept
        return (
            _PREDICT_FIXES[p.code]
            if p.code in _PREDICT_FIXES and p.fix == DEFAULT_FIXES.get(p.code)
            else p.fix
        )

    names = {spec.where: spec.image_path.name for _, spec in specs}

    def where(p):  # "input 2: scan.png" unless the message names the file already
        name = names.get(p.where)
        return f"{p.where}: {name}" if name and name not in p.what else p.where

    problems = [
        replace(p, fix=fix(p), where=where(p))
        for p in report.problems
        if p.code not in _PREDICT_FILE_IGNORES
    ]
    for problem in problems:
        print(problem.line(), file=sys.stderr)
    errors = [p for p in problems if p.level == "error"]
    if errors:
        first = errors[0]
        raise InputError(
            f"{len(errors)} input problem(s), nothing predicted; first: "
            f"{first.where}: {first.what}",
            first.code,
            first.fix,
        )


def view_from_files(
    images: list[str | Path],
    masks: list[Path] | None = None,
    spacing: list[float] | None = None,
    frame: int | None = None,
):
    """A prediction view over loose image files (each image its own patient).

    ``images`` may name a frame: ``scan.dcm:2``; ``frame`` is the default for multi-frame
    files named without one.  Every file gets ``validate``'s per-file checks first.
    """
    from benchmark.data.cohort import Cohort
    from benchmark.data.ingest.manifest import Manifest
    from benchmark.data.ingest.records import ImageSpec, header_spacing

    parsed = [parse_image_argument(str(p)) for p in images]
    given = [str(p) for p in images]
    paths = [p.resolve() for p, _ in parsed]
    masks = [Path(p).resolve() for p in masks] if masks else None
    for text, path in zip(
        given + [str(m) for m in masks or []], paths + (masks or []), strict=True
    ):
        if not path.is_file():
            raise InputError(
                f"{text}: file not found",
                "file-missing",
                "check the path (a frame is written IMAGE:N)",
            )
    if masks and len(masks) != len(paths):
        raise InputError(
            f"--mask: give one mask per image ({len(paths)})",
            "input",
            "repeat --mask once per image, in the order of the images",
        )
    mask_list = masks or [None] * len(paths)
    spacings = _per_image(spacing, len(paths), "spacing")
    frames = _frames(paths, [f for _, f in parsed], frame)
    files = paths + [m for m in mask_list if m is not None]
    root = Path(os.path.commonpath([str(p.parent) for p in files]))
    rows = []
    for text, path, mask, mm, index in zip(given, paths, mask_list, spacings, frames, strict=True):
        source = "--spacing"
        if mm is None:
            mm, source = header_spacing(path)
        if mm is None or not math.isfinite(mm) or mm <= 0:
            raise InputError(
                f"{text}: missing spacing: the file carries none; give --spacing MM_PER_PIXEL",
                "spacing-missing",
            )
        image_id = path.name[: -len(file_suffix(path))] if file_suffix(path) else path.name
        if index is not None and [p for p in paths if p == path][1:]:
            image_id = f"{image_id}_frame{index}"  # one file, several frames
        rows.append(
            {
                "image_id": image_id,
                "patient_id": image_id,
                "image_path": path.relative_to(root).as_posix(),
                "pixel_spacing_mm": float(mm),
                "spacing_source": source,
                "frame": index,
                "lung_mask_path": mask.relative_to(root).as_posix() if mask else None,
            }
        )
    table = pd.DataFrame(rows)
    if table["image_id"].duplicated().any():
        dup = table.loc[table["image_id"].duplicated(), "image_id"].iloc[0]
        raise InputError(
            f"two input images are both named {dup!r}; rename one",
            "input",
            "give each input image a distinct file name",
        )
    wheres = [f"input {k + 1}" for k in range(len(given))]  # the message names the file
    manifest = Manifest(
        root,
        pd.DataFrame({"patient_id": table["patient_id"]}),
        table.astype(object).where(table.notna(), None),
        wheres,
        wheres,
        "predict inputs",
    )
    specs = [
        (i, ImageSpec.from_row(root, row, wheres[i]))
        for i, row in enumerate(manifest.images.to_dict("records"))
    ]
    check_prediction_inputs(manifest, specs)
    images_table = table.set_index("image_id")
    patients = pd.DataFrame(index=pd.Index(images_table["patient_id"], name="patient_id"))
    cohort = Cohort(root, patients, images_table, {"name": "predict"})
    key = _files_key(files, json.dumps(rows, default=str))
    return cohort.prediction_view(key), None


#: validation codes that do not matter when predicting (GA is what we estimate)
_PREDICT_IGNORES = {
    "ga-missing",
    "ga-range",
    "ga-conflict",
    "column",
    "enrolment-order",
    "duplicate-enrolment_order",
    "enrolment-order-value",
    "patient-no-images",
}


def view_from_dataset(root: Path):
    """A prediction view over a dataset folder; GA, if given, is returned for comparison."""
    from benchmark.data.cohort import Cohort
    from benchmark.data.ingest.manifest import read_manifest
    from benchmark.data.ingest.records import header_spacing
    from benchmark.data.validate import Report, validate_tables

    manifest = read_manifest(root)
    report, specs = validate_tables(manifest)
    blocking = [
        p
        for p in report.errors
        if p.code not in _PREDICT_IGNORES or (p.code == "column" and "ga_weeks" not in p.what)
    ]
    if blocking:
        Report(manifest.root, problems=blocking).raise_for_errors()
    check_prediction_inputs(manifest, specs)
    images = manifest.images.copy()
    if "pixel_spacing_mm" not in images:
        images["pixel_spacing_mm"] = np.nan
    images["pixel_spacing_mm"] = pd.to_numeric(images["pixel_spacing_mm"], errors="coerce")
    images["spacing_source"] = "manifest"
    for i, spec in specs:
        if spec.spacing_mm is None:
            mm, source = header_spacing(spec.image_path)
            images.loc[images.index[i], ["pixel_spacing_mm", "spacing_source"]] = [mm, source]
    given = None
    if "ga_weeks" in manifest.patients:
        ga = pd.to_numeric(manifest.patients.set_index("patient_id")["ga_weeks"], "coerce")
        given = images["patient_id"].map(ga)
        given.index = images["image_id"]
    images = images.set_index("image_id")
    patients = manifest.patients.set_index("patient_id")
    cohort = Cohort(manifest.root, patients, images, dict(manifest.meta))
    files = sorted({s.image_path for _, s in specs} | {m for _, s in specs for m in s.mask_paths})
    return cohort.prediction_view(_files_key(files, images.to_json())), given
