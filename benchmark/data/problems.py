"""The vocabulary of validation: a :class:`Problem`, the :class:`Report` that collects them,
the severities, the plausibility limits and the small helpers every check shares.

Its own module so that the façade (:mod:`benchmark.data.validate`) and the checks
(:mod:`benchmark.data.ingest.table_checks`, :mod:`~benchmark.data.ingest.file_checks`) both
import it, and neither imports the other's internals.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmark.contract.domain import GA_RANGE  # noqa: F401  (part of the vocabulary)
from benchmark.contract.errors import InputError
from benchmark.data.ingest.manifest import Manifest

SPACING_PLAUSIBLE = (0.01, 2.0)  # mm per pixel; fetal thorax views are ~0.05-0.4
#: field of view (mm across the image's longer side) of a fetal thorax view: a thorax is
#: ~40-110 mm across from 20 to 40 weeks and sector depths run ~60-250 mm; outside this
#: range the spacing has a unit or decimal slip (0.02 or 2.0 for 0.2 mm/pixel)
FOV_PLAUSIBLE_MM = (25.0, 600.0)
#: beyond this no ultrasound frame reaches (a metre across: the spacing is off by a unit):
#: an error for one image as for a cohort, in ``validate`` and ``predict`` alike
FOV_IMPOSSIBLE_MM = 1000.0
#: an image under this many pixels on a side carries no texture to measure: not a frame
#: (a thumbnail, a 1x1 placeholder); 8 = the side of the perceptual hash's DCT block
MIN_IMAGE_PX = 8
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
    #: patients whose images look alike (a near-duplicate cluster): the split keeps each
    #: group on one side, as it keeps a patient's own images (benchmark.data.splits)
    linked_patients: list[tuple[str, ...]] = field(default_factory=list)

    def add(
        self,
        level: str,
        code: str,
        where: str,
        what: str,
        fix: str,
        image_rows: Iterable[int] = (),
        patient_rows: Iterable[int] = (),
    ) -> None:
        self.problems.append(
            Problem(
                level,
                code,
                where,
                what,
                fix,
                tuple(int(i) for i in image_rows),
                tuple(int(i) for i in patient_rows),
            )
        )

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
        head = (
            f"dataset {self.root}  ({self.layout or 'no manifest'}): "
            f"{self.n_patients} patient(s), {self.n_images} image(s)"
        )
        lines = [head] + [p.line() for p in self.errors + self.warnings]
        verdict = "ready to run" if self.ok else "errors block `benchmark run`"
        lines.append(
            f"{len(self.errors)} error(s), {len(self.warnings)} warning(s): {verdict}"
            + ("" if self.files_checked else " (image files not read)")
        )
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "root": str(self.root),
            "layout": self.layout,
            "n_patients": self.n_patients,
            "n_images": self.n_images,
            "files_checked": self.files_checked,
            "problems": [asdict(p) for p in self.problems],
            "linked_patients": [list(g) for g in self.linked_patients],
        }

    def raise_for_errors(self) -> None:
        """One-line InputError naming the first error's row/file (the CLI prints it)."""
        if self.errors:
            first = self.errors[0]
            more = len(self.errors) - 1
            tail = (
                f" (+{more} more error(s); run `python -m benchmark validate {self.root}`)"
                if more
                else ""
            )
            raise InputError(f"{first.where}: {first.what}{tail}")


def as_number(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def image_where(manifest: Manifest, i: int) -> str:
    image_id = manifest.images.at[i, "image_id"] if "image_id" in manifest.images else None
    return (
        f"{manifest.image_where[i]} (image_id={image_id})" if image_id else manifest.image_where[i]
    )


def rel_path(manifest: Manifest, path: Path) -> str:
    """``path`` relative to the dataset folder (as the user wrote it), else absolute."""
    try:
        return path.relative_to(manifest.root).as_posix()
    except ValueError:
        return str(path)


def strip_root(manifest: Manifest, text: str) -> str:
    """A message without the dataset folder's absolute prefix."""
    return text.replace(str(manifest.root) + os.sep, "")
