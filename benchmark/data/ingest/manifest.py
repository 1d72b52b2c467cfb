"""Reading a dataset folder's manifest into a patients table and an images table.

Accepted layouts (first found wins; docs/byo-data.md):

1. ``patients.csv`` + ``images.csv`` (or ``.parquet``) — the canonical format;
2. ``manifest.xlsx`` with sheets ``patients`` and ``images``;
3. one manifest with one row per image — ``manifest.csv``, ``manifest.parquet`` or a
   ``manifest.xlsx`` without those two sheets — whose patient columns (GA, biometry,
   maternal data) are repeated on each image row and folded into one row per patient.

Every row remembers where it came from (``where``: "images.csv row 5", spreadsheet
numbering with the header as row 1) so each problem can name its row.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from benchmark.contract.domain import GA_COLUMN, IMAGE_FILE_COLUMNS
from benchmark.contract.errors import InputError, first_line

#: Columns that describe one image (everything else in a single manifest is per patient).
IMAGE_COLUMNS = ("image_id", "patient_id", *IMAGE_FILE_COLUMNS, GA_COLUMN)
CROP_COLUMNS = ("crop_x0", "crop_y0", "crop_x1", "crop_y1")
PATIENT_COLUMNS = (
    "patient_id",
    "ga_weeks",
    "enrolment_order",
    "bpd_mm",
    "hc_mm",
    "ac_mm",
    "fl_mm",
    "maternal_age",
    "parity",
    "delivery_ga_weeks",
    "apgar",
    "outcome",
    "site",
)
_ID_COLUMNS = ("patient_id", "image_id")
_KNOWN = set(IMAGE_COLUMNS) | set(PATIENT_COLUMNS)


@dataclass
class Manifest:
    root: Path
    patients: pd.DataFrame  # one row per patient; column patient_id
    images: pd.DataFrame  # one row per image; column image_id
    patient_where: list[str]  # aligned with patients rows
    image_where: list[str]  # aligned with images rows
    layout: str
    meta: dict = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)  # the manifest files read
    #: how a file was read where it took a guess (decimal commas): validate says so
    read_as: list[tuple[str, str]] = field(default_factory=list)  # (file name, how)


def _normalise_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Strip spaces; match known column names case-insensitively (spreadsheet habits)."""
    known = {name.lower(): name for name in _KNOWN}
    renamed = {}
    for col in frame.columns:
        clean = str(col).strip()
        renamed[col] = known.get(clean.lower().replace(" ", "_"), clean)
    return frame.rename(columns=renamed)


def _read_one(path: Path, sheet: str | int | None = None) -> pd.DataFrame:
    """A table with ids as strings; unreadable files become one-line errors."""
    try:
        if path.suffix == ".csv":
            frame = _read_csv(path)
        elif path.suffix == ".parquet":
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_excel(
                path,
                sheet_name=sheet if sheet is not None else 0,
                dtype={c: str for c in _ID_COLUMNS},
            )
    except Exception as exc:
        first = first_line(exc)
        raise InputError(f"{path}: unreadable table ({type(exc).__name__}: {first})") from None
    read_as = frame.attrs.get("read_as")
    frame = _normalise_columns(frame)
    for col in _ID_COLUMNS:
        if col in frame.columns:  # ids as stripped strings; a missing id stays missing
            frame[col] = frame[col].map(lambda v: None if pd.isna(v) else str(v).strip())
    frame = frame.reset_index(drop=True)
    if read_as:
        frame.attrs["read_as"] = read_as
    return frame


def _read_as(**frames: pd.DataFrame) -> list[tuple[str, str]]:
    return [(name, f.attrs["read_as"]) for name, f in frames.items() if f.attrs.get("read_as")]


#: decimal-comma numbers as European spreadsheets write them (``0,25``; ``1.234,5`` is not
#: accepted: thousands separators have no place in a manifest)
_DECIMAL_COMMA = re.compile(r"\s*[-+]?\d+,\d+\s*")


def _read_csv(path: Path) -> pd.DataFrame:
    """A CSV as a spreadsheet saved it: the delimiter sniffed (``,`` ``;`` or tab), a BOM
    dropped; with ``;`` the decimal mark may be a comma (Excel in most of Europe)."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    head = "\n".join(text.splitlines()[:20])
    try:
        sep = csv.Sniffer().sniff(head, delimiters=",;\t").delimiter
    except csv.Error:
        sep = ","
    frame = pd.read_csv(
        io.StringIO(text), sep=sep, dtype=str, skipinitialspace=True, keep_default_na=True
    )
    commas: list[str] = []
    if len(frame.columns) == 1 and any(c in str(frame.columns[0]) for c in ";\t|"):
        found = next(c for c in ";\t|" if c in str(frame.columns[0]))
        raise InputError(
            f"{path}: one column only ({str(frame.columns[0])[:40]!r}...): the "
            f"rows look separated by {found!r}, which could not be read "
            "consistently; expected comma-separated (or semicolon-separated "
            "with decimal commas)",
            "manifest-format",
            "save the sheet as CSV (comma-separated) with one header row",
        )
    for col in frame.columns:
        if col in _ID_COLUMNS:
            continue
        values = frame[col].dropna()
        if (
            sep == ";"
            and len(values)
            and values.map(lambda v: bool(_DECIMAL_COMMA.fullmatch(v))).any()
        ):
            values = frame[col].str.replace(",", ".", regex=False)
            example = next(v.strip() for v in frame[col].dropna() if _DECIMAL_COMMA.fullmatch(v))
            commas.append(f"{col} ({example} as {example.replace(',', '.')})")
        else:
            values = frame[col]
        numeric = pd.to_numeric(values, errors="coerce")
        # numbers where every filled cell is one; text (and a mix, which validate names)
        # stays text
        frame[col] = numeric if numeric.notna().sum() == values.notna().sum() else values
    if commas:
        frame.attrs["read_as"] = "semicolon-separated with decimal commas: " + ", ".join(commas)
    return frame


def _rows(label: str, n: int) -> list[str]:
    return [f"{label} row {i + 2}" for i in range(n)]


def _find(root: Path, stem: str) -> Path | None:
    for suffix in (".parquet", ".csv"):
        if (root / f"{stem}{suffix}").is_file():
            return root / f"{stem}{suffix}"
    return None


def _fold_patients(
    images: pd.DataFrame, where: list[str], label: str
) -> tuple[pd.DataFrame, list[str]]:
    """One row per patient from a one-row-per-image manifest (first value per column).

    Conflicting values between a patient's rows are not resolved here: ``validate`` reports
    them (GA conflicts are errors).
    """
    if "patient_id" not in images.columns:
        return pd.DataFrame(columns=["patient_id"]), []
    patient_cols = [
        c for c in images.columns if c not in IMAGE_COLUMNS or c in ("patient_id", "ga_weeks")
    ]
    rows, wheres = [], []
    for pid, group in images.groupby("patient_id", sort=False, dropna=True):
        first = {
            c: group[c].dropna().iloc[0] if group[c].notna().any() else None for c in patient_cols
        }
        first["patient_id"] = pid
        rows.append(first)
        lines = [where[i].split(" row ")[1] for i in group.index]
        wheres.append(
            f"{label} rows {', '.join(lines)}" if len(lines) > 1 else f"{label} row {lines[0]}"
        )
    return pd.DataFrame(rows, columns=patient_cols), wheres


def read_manifest(root: str | Path) -> Manifest:
    root = Path(root).resolve()
    if not root.is_dir():
        raise InputError(f"{root}: dataset folder not found")
    meta_path = root / "dataset.json"
    meta = {}
    if meta_path.is_file():
        try:
            meta = json.loads(meta_path.read_text())
        except ValueError as exc:
            raise InputError(f"{meta_path}: not valid JSON ({exc})") from None
        if not isinstance(meta, dict):
            raise InputError(f"{meta_path}: expected a JSON object")
    patients_path, images_path = _find(root, "patients"), _find(root, "images")
    if patients_path and images_path:
        patients, images = _read_one(patients_path), _read_one(images_path)
        return Manifest(
            root,
            patients,
            images,
            _rows(patients_path.name, len(patients)),
            _rows(images_path.name, len(images)),
            f"{patients_path.name} + {images_path.name}",
            meta,
            [patients_path, images_path],
            _read_as(**{patients_path.name: patients, images_path.name: images}),
        )
    xlsx = root / "manifest.xlsx"
    if xlsx.is_file():
        try:
            sheets = pd.ExcelFile(xlsx).sheet_names
        except Exception as exc:
            raise InputError(f"{xlsx}: unreadable spreadsheet ({type(exc).__name__})") from None
        if "patients" in sheets and "images" in sheets:
            patients, images = _read_one(xlsx, "patients"), _read_one(xlsx, "images")
            return Manifest(
                root,
                patients,
                images,
                _rows("manifest.xlsx sheet patients", len(patients)),
                _rows("manifest.xlsx sheet images", len(images)),
                "manifest.xlsx (sheets patients, images)",
                meta,
                [xlsx],
            )
    single = _find(root, "manifest") or (xlsx if xlsx.is_file() else None)
    if single is not None:
        images = _read_one(single)
        where = _rows(single.name, len(images))
        patients, patient_where = _fold_patients(images, where, single.name)
        return Manifest(
            root,
            patients,
            images,
            patient_where,
            where,
            f"{single.name} (one row per image)",
            meta,
            [single],
            _read_as(**{single.name: images}),
        )
    if patients_path or images_path:
        missing = "images" if patients_path else "patients"
        raise InputError(f"{root}: {missing}.csv (or .parquet) missing; see docs/byo-data.md")
    raise InputError(
        f"{root}: no manifest (patients.csv + images.csv, manifest.csv/.parquet/.xlsx); "
        "run `python -m benchmark init-dataset DIR` for a template"
    )
