"""``run --skip-invalid``: run the valid rows of a cohort and list every row left out.

Every validation error tied to manifest rows (``Problem.image_rows``/``patient_rows``)
leaves those rows out: an image error drops the image, a patient error drops the patient
and its images, and a patient left with no valid image is dropped too (said so).  Errors
not tied to rows (a missing column, an unreadable manifest) still block the run.

The valid subset is a manifest written under ``$FLB_CACHE/valid-subsets/`` whose paths
go through a ``data`` link to the user's folder: nothing is written into the dataset
folder, and the engine loads it like any other dataset.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd

from benchmark.contract.domain import MASK_COLUMNS
from benchmark.contract.errors import InputError
from benchmark.data.ingest.manifest import Manifest, read_manifest
from benchmark.data.validate import Report, cached_report

#: the file in the run folder listing every left-out row (also in run.json "skipped")
SKIPPED_FILE = "skipped_inputs.csv"
SKIPPED_COLUMNS = ["image_id", "patient_id", "where", "code", "reason"]
_LINK = "data"
_MAX_ROUNDS = 3  # leaving rows out can expose a new problem (e.g. the spacing median)


def _left_out(manifest: Manifest, report: Report) -> tuple[set[int], list[dict]]:
    """Image rows to leave out, and one record per (image, reason)."""
    blocking = [p for p in report.errors if not (p.image_rows or p.patient_rows)]
    if blocking:
        first = blocking[0]
        raise InputError(
            f"{first.where}: {first.what} (not tied to a row, so "
            "--skip-invalid cannot leave it out)",
            first.code,
            first.fix,
        )
    images, patients = manifest.images, manifest.patients
    rows: dict[int, list[tuple]] = {}
    for problem in report.errors:
        targets = set(problem.image_rows)
        for p in problem.patient_rows:
            pid = patients["patient_id"].iat[p]
            targets |= set(images.index[images["patient_id"] == pid]) if pid is not None else set()
        for i in targets:
            rows.setdefault(int(i), []).append((problem.where, problem.code, problem.what))
    records = [
        {
            "image_id": images["image_id"].iat[i],
            "patient_id": images["patient_id"].iat[i],
            "where": where,
            "code": code,
            "reason": what,
        }
        for i in sorted(rows)
        for where, code, what in rows[i]
    ]
    patient_rows = {p for problem in report.errors for p in problem.patient_rows}
    for p in sorted(patient_rows):  # patients without any image row are listed too
        pid = patients["patient_id"].iat[p]
        if pid is None or not (images["patient_id"] == pid).any():
            problem = next(x for x in report.errors if p in x.patient_rows)
            records.append(
                {
                    "image_id": None,
                    "patient_id": pid,
                    "where": problem.where,
                    "code": problem.code,
                    "reason": problem.what,
                }
            )
    return set(rows), records


def _write_subset(manifest: Manifest, drop: set[int], target: Path) -> None:
    images = manifest.images.drop(index=sorted(drop))
    keep = set(images["patient_id"].dropna())
    patients = manifest.patients[manifest.patients["patient_id"].isin(keep)]
    images = images.copy()
    for col in ("image_path", *MASK_COLUMNS):
        if col in images:
            images[col] = images[col].map(
                lambda v: f"{_LINK}/{str(v).strip()}" if isinstance(v, str) and v.strip() else v
            )
    target.mkdir(parents=True, exist_ok=True)
    link = target / _LINK
    if not link.is_symlink():
        link.symlink_to(manifest.root, target_is_directory=True)
    patients.to_csv(target / "patients.csv", index=False)
    images.to_csv(target / "images.csv", index=False)
    meta = dict(manifest.meta)
    meta.setdefault("name", manifest.root.name)
    meta["skip_invalid_of"] = str(manifest.root)
    (target / "dataset.json").write_text(json.dumps(meta, indent=2, default=str))


def _no_patient_left(
    records: list[dict], manifest: Manifest, drop: set[int], report: Report
) -> list[dict]:
    """Patients whose every image was left out for image errors, said once each."""
    images, patients = manifest.images, manifest.patients
    said = {patients["patient_id"].iat[p] for x in report.errors for p in x.patient_rows}
    left = set(images.drop(index=sorted(drop))["patient_id"].dropna())
    gone = sorted(set(images["patient_id"].dropna()) - left - said)
    return [
        {
            "image_id": None,
            "patient_id": pid,
            "where": "",
            "code": "patient-no-valid-image",
            "reason": "every image of this patient was left out",
        }
        for pid in gone
    ]


def valid_subset(root: Path, cache: Path) -> tuple[Path, pd.DataFrame]:
    """(folder of the valid subset, or ``root`` itself when nothing is wrong; left-out rows)."""
    from benchmark.data.validate import _stamp

    root = Path(root).resolve()
    manifest = read_manifest(root)
    report = cached_report(root)
    if report.ok:
        return root, pd.DataFrame(columns=SKIPPED_COLUMNS)
    key = hashlib.sha256(f"{root}:{_stamp(manifest)}".encode()).hexdigest()[:16]
    target = cache / "valid-subsets" / key
    drop, records = _left_out(manifest, report)
    for _ in range(_MAX_ROUNDS):
        _write_subset(manifest, drop, target)
        again = cached_report(target)
        if again.ok:
            break
        # problems exposed by leaving rows out: map subset rows back to the manifest's
        kept = [i for i in range(len(manifest.images)) if i not in drop]
        sub = read_manifest(target)
        more, extra = _left_out(sub, again)
        drop |= {kept[i] for i in more}
        records += extra
    else:
        again.raise_for_errors()
    if len(drop) == len(manifest.images):
        raise InputError(
            f"{root}: every image has an error; nothing left to run "
            f"(run `python -m benchmark validate {root}`)",
            "manifest",
        )
    records += _no_patient_left(records, manifest, drop, report)
    return target, pd.DataFrame(records, columns=SKIPPED_COLUMNS)


#: a reason longer than this is cut on the terminal (in full in skipped_inputs.csv)
_SHOWN_CHARS = 200


def skip_counts(skipped: pd.DataFrame) -> dict[str, int]:
    """The one count of what ``--skip-invalid`` left out, said alike on the terminal, in
    run.json (``skipped_counts``) and derivable from skipped_inputs.csv: distinct images,
    distinct patients among them (or left out whole), and reasons (the CSV's rows)."""
    return {
        "images": int(skipped["image_id"].dropna().nunique()),
        "patients": int(skipped["patient_id"].dropna().nunique()),
        "reasons": len(skipped),
    }


def skip_summary(skipped: pd.DataFrame) -> str:
    counts = skip_counts(skipped)
    return (
        f"{counts['images']} image(s) of {counts['patients']} patient(s) left out by "
        f"--skip-invalid ({counts['reasons']} reason(s) in {SKIPPED_FILE})"
    )


def _few(names: list[str], shown: int = 3) -> str:
    more = len(names) - shown
    return ", ".join(names[:shown]) + (f" and {more} more" if more > 0 else "")


def skipped_lines(skipped: pd.DataFrame) -> list[str]:
    """One terminal line per reason (a problem of 15 rows is one line, not 15), cut to
    ``_SHOWN_CHARS``; skipped_inputs.csv holds every row and the full text."""
    groups: dict[tuple[str, str, str], list[str]] = {}
    for row in skipped.itertuples():
        what = row.image_id if isinstance(row.image_id, str) else f"patient {row.patient_id}"
        where = row.where if isinstance(row.where, str) else ""
        groups.setdefault((where, str(row.reason), str(row.code)), []).append(what)
    lines = []
    for (where, reason, code), names in groups.items():
        text = f"{where}: {reason}" if where else reason
        if len(text) > _SHOWN_CHARS:
            text = text[: _SHOWN_CHARS - 1].rstrip() + f"… (in full in {SKIPPED_FILE})"
        lines.append(f"  skipped {_few(names)}: {text} [{code}]")
    return lines
