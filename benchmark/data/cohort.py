"""The cohort: patients, images, masks, spacing, biometry, maternal data (docs/data-format.md).

A :class:`Cohort` is loaded from a dataset folder (docs/data-format.md).  Methods never
see it: they get a :class:`TrainView` (GA visible) or a :class:`TestView`, built from
copies of the tables with every GA column removed, so the test GA is not reachable.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from cachetools import LRUCache

from benchmark.contract.domain import (  # noqa: F401  (re-exported: the views' vocabulary)
    GA_COLUMNS,
    IMAGE_FILE_COLUMNS,
    MASK_COLUMNS,
    OUTCOME_COLUMNS,
    TRUTH_PREFIX,
)
from benchmark.data.io import InputError

BIOMETRY_COLUMNS = ("bpd_mm", "hc_mm", "ac_mm", "fl_mm")
#: What the image loader reads (everything it needs to decode an image and its lung mask):
#: it holds only these columns, so no view reaches GA or truth through it.
LOADER_COLUMNS = ("patient_id", *IMAGE_FILE_COLUMNS)


@dataclass(frozen=True)
class DatasetInfo:
    """What ``skip()`` may know about a dataset: its name, column names and counts — no GA,
    no values of any column."""

    name: str
    patient_columns: tuple[str, ...]
    image_columns: tuple[str, ...]
    n_patients: int
    n_images: int
    #: images with a traced lung mask (any of the mask columns)
    n_traced_images: int


@dataclass(frozen=True)
class ImageRecord:
    """One image as a method sees it: pixels, lung mask (if traced) and spacing."""

    image_id: str
    patient_id: str
    pixels: np.ndarray  # (H, W) uint8
    mask: np.ndarray | None  # (H, W) bool, True = traced lung
    spacing_mm: float


#: Decoded images kept per process, in MiB (``FLB_IMAGE_CACHE_MB``): a cell reads each image
#: two or three times close together; a byte bound keeps memory flat as cohorts grow.
IMAGE_CACHE_MB = 256


def _cache_bytes() -> int:
    text = os.environ.get("FLB_IMAGE_CACHE_MB", str(IMAGE_CACHE_MB))
    try:
        megabytes = float(text)
    except ValueError:
        raise ValueError(f"FLB_IMAGE_CACHE_MB must be a number of MiB, got {text!r}") from None
    return max(int(megabytes * 2**20), 0)


def _record_nbytes(record: ImageRecord) -> int:
    return record.pixels.nbytes + (record.mask.nbytes if record.mask is not None else 0)


class _ImageLoader:
    """Reads images/masks of one dataset folder, with a byte-bounded per-process cache.

    Frame index, crop box, label maps, polygon annotations and left/right masks are
    handled by :mod:`benchmark.data.ingest.records` (the same code ``validate`` checks with).
    """

    def __init__(
        self,
        root: Path,
        images: pd.DataFrame,
        dataset_crop: tuple[int, int, int, int] | None = None,
    ) -> None:
        self._root = root
        self._rows = images[[c for c in LOADER_COLUMNS if c in images.columns]].copy()
        self._crop = dataset_crop
        self._cache: LRUCache = LRUCache(_cache_bytes(), getsizeof=_record_nbytes)
        # GPU cells run in threads of one process and share this loader; cachetools is not
        # thread-safe (a decode outside the lock at worst happens twice)
        self._lock = threading.Lock()

    def _read(self, image_id: str) -> ImageRecord:
        from benchmark.data.ingest.records import ImageSpec, load_row

        row = self._rows.loc[image_id]
        spec = ImageSpec.from_row(self._root, row.to_dict(), f"image_id={image_id}", self._crop)
        data = load_row(spec)
        if data.spacing_mm is None:
            raise InputError(f"image_id={image_id}: missing spacing (no pixel_spacing_mm)")
        return ImageRecord(
            image_id, str(row.patient_id), data.image.pixels, data.mask, float(data.spacing_mm)
        )

    def __call__(self, image_id: str) -> ImageRecord:
        with self._lock:
            record = self._cache.get(image_id)
        if record is None:
            record = self._read(image_id)
            if _record_nbytes(record) <= self._cache.maxsize:
                with self._lock:
                    self._cache[image_id] = record
        return record


class _View:
    #: content hash of the dataset: a safe key for on-disk caches (patches, features)
    dataset_key: str = ""

    def __init__(self, patients: pd.DataFrame, images: pd.DataFrame, loader: _ImageLoader):
        self.patients = patients
        self.images = images
        self._loader = loader

    def load_image(self, image_id: str) -> ImageRecord:
        return self._loader(image_id)

    def iter_images(self) -> Iterator[ImageRecord]:
        for image_id in self.images.index:
            yield self._loader(image_id)

    @property
    def patient_ids(self) -> list[str]:
        return list(self.patients.index)

    def __len__(self) -> int:
        return len(self.images)


class TrainView(_View):
    """Training patients with labels: ``patients.ga_weeks`` and :attr:`ga_by_image`."""

    @property
    def ga_by_image(self) -> pd.Series:
        return self.images["ga_weeks"]


class TestView(_View):
    """Test patients: GA removed from every table."""

    __test__ = False  # not a pytest class


class Cohort:
    """A dataset folder loaded into patient and image tables (indexed by id)."""

    def __init__(self, root: Path, patients: pd.DataFrame, images: pd.DataFrame, meta: dict):
        self.root = root
        self.patients = patients
        self.images = images
        self.meta = meta
        crop = meta.get("crop")
        self._loader = _ImageLoader(root, images, tuple(crop) if crop else None)
        #: table-level validation warnings (benchmark.data.validate.Problem); full-file checks
        #: are benchmark.data.validate.check_dataset
        self.warnings: list = []
        self._files: list[Path] = []

    @classmethod
    def load(cls, root: str | Path) -> Cohort:
        """Read the manifest (any layout in docs/byo-data.md) and check its tables.

        Raises :class:`InputError` naming the row/file of the first problem that would
        break a run (missing/NaN/out-of-range/conflicting GA, duplicate ids, missing files,
        paths escaping the folder, missing spacing, ...).
        """
        from benchmark.data.ingest.manifest import read_manifest
        from benchmark.data.ingest.records import header_spacing, safe_path
        from benchmark.data.validate import check_tables

        manifest = read_manifest(root)
        warnings = check_tables(manifest)
        root = manifest.root
        patients = manifest.patients.copy()
        images = manifest.images.copy()
        if "pixel_spacing_mm" not in images.columns:
            images["pixel_spacing_mm"] = np.nan
        images["pixel_spacing_mm"] = pd.to_numeric(images["pixel_spacing_mm"], errors="coerce")
        for i in np.flatnonzero(images["pixel_spacing_mm"].isna().to_numpy()):
            # spacing from the DICOM/NIfTI header; check_tables guaranteed there is one
            path = safe_path(
                root, images["image_path"].iat[i], manifest.image_where[i], "image_path"
            )
            images.loc[images.index[i], "pixel_spacing_mm"] = header_spacing(path)[0]
        patients = patients.set_index("patient_id")  # unique: check_tables
        images = images.set_index("image_id")
        if "ga_weeks" not in images.columns:
            images["ga_weeks"] = np.nan
        patient_ga = images["patient_id"].map(patients["ga_weeks"])
        images["ga_weeks"] = pd.to_numeric(images["ga_weeks"], errors="coerce").fillna(patient_ga)
        meta = dict(manifest.meta)
        meta.setdefault("name", root.name)
        cohort = cls(root, patients, images, meta)
        cohort.warnings = warnings
        cohort._files = list(manifest.files)
        return cohort

    @property
    def name(self) -> str:
        return str(self.meta["name"])

    def describe(self) -> DatasetInfo:
        """The GA-free description a method's ``skip()`` gets."""
        masks = [c for c in MASK_COLUMNS if c in self.images.columns]
        traced = (
            self.images[masks].map(lambda v: isinstance(v, str) and v.strip() != "").any(axis=1)
            if masks
            else []
        )
        hidden = (*GA_COLUMNS, *OUTCOME_COLUMNS)
        return DatasetInfo(
            self.name,
            tuple(str(c) for c in self.patients.columns if c not in hidden),
            tuple(str(c) for c in self.images.columns if c not in hidden),
            len(self.patients),
            len(self.images),
            int(sum(traced)),
        )

    def fingerprint(self) -> str:
        """Content hash of the manifests and every referenced file (cached by mtime)."""
        files = sorted(
            {p for p in self.root.glob("*.csv")}
            | {p for p in self.root.glob("*.parquet")}
            | {p for p in self.root.glob("*.xlsx")}
            | {p for p in self.root.glob("dataset.json")}
            | set(self._files)
            | {self.root / p for p in self.images["image_path"]}
            | {
                self.root / p
                for c in MASK_COLUMNS
                for p in self.images.get(c, pd.Series(dtype=object)).dropna()
                if str(p).strip()
            }
        )
        stamp = hashlib.sha256()
        for f in files:
            st = f.stat()
            stamp.update(f"{f}:{st.st_size}:{st.st_mtime_ns}".encode())
        # the cache lives under $FLB_CACHE, never in the user's dataset folder
        from benchmark.data.sources import cache_root

        key = hashlib.sha256(str(self.root.resolve()).encode()).hexdigest()[:20]
        cache = cache_root() / "fingerprints" / f"{key}.json"
        if cache.is_file():
            cached = json.loads(cache.read_text())
            if cached.get("stamp") == stamp.hexdigest():
                return cached["fingerprint"]
        digest = hashlib.sha256()
        for f in files:
            digest.update(f.relative_to(self.root).as_posix().encode())
            digest.update(hashlib.sha256(f.read_bytes()).digest())
        fingerprint = digest.hexdigest()[:16]
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            cache.write_text(json.dumps({"stamp": stamp.hexdigest(), "fingerprint": fingerprint}))
        except OSError:
            pass  # no writable cache: recompute next time
        return fingerprint

    def _subset(
        self, patient_ids: Iterable[str], hidden: Iterable[str], include_truth: bool
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        ids = list(patient_ids)
        unknown = set(ids) - set(self.patients.index)
        if unknown:
            raise KeyError(f"unknown patient ids: {sorted(unknown)[:5]}")
        patients = self.patients.loc[ids]
        images = self.images[self.images["patient_id"].isin(ids)]

        def visible(table: pd.DataFrame) -> list[str]:
            return [
                c
                for c in table.columns
                if c not in set(hidden) and (include_truth or not str(c).startswith(TRUTH_PREFIX))
            ]

        return patients[visible(patients)].copy(), images[visible(images)].copy()

    def train_view(self, patient_ids: Iterable[str], include_truth: bool = False) -> TrainView:
        view = TrainView(*self._subset(patient_ids, (), include_truth), self._loader)
        view.dataset_key = self.fingerprint()
        return view

    def test_view(self, patient_ids: Iterable[str], include_truth: bool = False) -> TestView:
        """GA and post-scan outcomes removed; ``truth_*`` only for ``reads_truth`` methods."""
        hidden = GA_COLUMNS + OUTCOME_COLUMNS
        view = TestView(*self._subset(patient_ids, hidden, include_truth), self._loader)
        view.dataset_key = self.fingerprint()
        return view

    def load_image(self, image_id: str) -> ImageRecord:
        return self._loader(image_id)

    def prediction_view(self, dataset_key: str) -> TestView:
        """Every image, GA removed, for ``benchmark predict`` on new images.

        ``dataset_key`` is given by the caller (a hash of the files) so that predicting on
        loose files writes no fingerprint cache into the user's image folder.
        """
        drop = [*GA_COLUMNS, *OUTCOME_COLUMNS]
        view = TestView(
            self.patients.drop(columns=drop, errors="ignore"),
            self.images.drop(columns=drop, errors="ignore"),
            self._loader,
        )
        view.dataset_key = dataset_key
        return view
