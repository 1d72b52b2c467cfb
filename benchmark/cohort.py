"""The cohort: patients, images, masks, spacing, biometry, maternal data (spec §3).

A :class:`Cohort` is loaded from a dataset folder (docs/data-format.md).  Methods never
see it: they get a :class:`TrainView` (GA visible) or a :class:`TestView`, built from
copies of the tables with every GA column removed, so the test GA is not reachable.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from benchmark.io import InputError, read_image, read_mask

GA_COLUMNS = ("ga_weeks",)
BIOMETRY_COLUMNS = ("bpd_mm", "hc_mm", "ac_mm", "fl_mm")


@dataclass(frozen=True)
class ImageRecord:
    """One image as a method sees it: pixels, lung mask (if traced) and spacing."""

    image_id: str
    patient_id: str
    pixels: np.ndarray  # (H, W) uint8
    mask: np.ndarray | None  # (H, W) bool, True = traced lung
    spacing_mm: float


def _read_table(root: Path, stem: str) -> pd.DataFrame:
    for suffix, reader in ((".parquet", pd.read_parquet), (".csv", pd.read_csv)):
        path = root / f"{stem}{suffix}"
        if path.is_file():
            kwargs = {"dtype": {"patient_id": str, "image_id": str}} if suffix == ".csv" else {}
            return reader(path, **kwargs)
    raise InputError(f"{root}: no {stem}.csv or {stem}.parquet (see docs/data-format.md)")


class _ImageLoader:
    """Reads images/masks of one dataset folder, with a small per-process cache."""

    def __init__(self, root: Path, images: pd.DataFrame) -> None:
        self._root = root
        self._rows = images[["patient_id", "image_path", "pixel_spacing_mm"]].copy()
        masks = images.get("lung_mask_path", pd.Series(index=images.index, dtype=object))
        self._rows["lung_mask_path"] = masks
        self._load = lru_cache(maxsize=2048)(self._read)

    def _read(self, image_id: str) -> ImageRecord:
        row = self._rows.loc[image_id]
        pixels = read_image(self._root / row.image_path)
        mask = None
        if isinstance(row.lung_mask_path, str) and row.lung_mask_path:
            mask = read_mask(self._root / row.lung_mask_path, pixels.shape)
        return ImageRecord(
            image_id, str(row.patient_id), pixels, mask, float(row.pixel_spacing_mm)
        )

    def __call__(self, image_id: str) -> ImageRecord:
        return self._load(image_id)


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
        self._loader = _ImageLoader(root, images)

    @classmethod
    def load(cls, root: str | Path) -> Cohort:
        root = Path(root).resolve()
        patients = _read_table(root, "patients")
        images = _read_table(root, "images")
        for table, key in ((patients, "patient_id"), (images, "image_id")):
            if key not in table.columns:
                raise InputError(f"{root}: column {key!r} missing from the {key[:-3]}s table")
            table[key] = table[key].astype(str)
        images["patient_id"] = images["patient_id"].astype(str)
        patients = patients.set_index("patient_id", verify_integrity=True)
        images = images.set_index("image_id", verify_integrity=True)
        if "ga_weeks" not in images.columns:
            images["ga_weeks"] = np.nan
        patient_ga = images["patient_id"].map(patients["ga_weeks"])
        images["ga_weeks"] = images["ga_weeks"].fillna(patient_ga)
        meta_path = root / "dataset.json"
        meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
        meta.setdefault("name", root.name)
        return cls(root, patients, images, meta)

    @property
    def name(self) -> str:
        return str(self.meta["name"])

    def fingerprint(self) -> str:
        """Content hash of the manifests and every referenced file (cached by mtime)."""
        files = sorted(
            {p for p in self.root.glob("*.csv")}
            | {p for p in self.root.glob("*.parquet")}
            | {self.root / p for p in self.images["image_path"]}
            | {self.root / p for p in self.images.get("lung_mask_path", pd.Series()).dropna()}
        )
        stamp = hashlib.sha256()
        for f in files:
            st = f.stat()
            stamp.update(f"{f}:{st.st_size}:{st.st_mtime_ns}".encode())
        cache = self.root / ".fingerprint.json"
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
            cache.write_text(json.dumps({"stamp": stamp.hexdigest(), "fingerprint": fingerprint}))
        except OSError:
            pass  # read-only dataset folder: recompute next time
        return fingerprint

    def _subset(self, patient_ids: Iterable[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
        ids = list(patient_ids)
        unknown = set(ids) - set(self.patients.index)
        if unknown:
            raise KeyError(f"unknown patient ids: {sorted(unknown)[:5]}")
        patients = self.patients.loc[ids].copy()
        images = self.images[self.images["patient_id"].isin(ids)].copy()
        return patients, images

    def train_view(self, patient_ids: Iterable[str]) -> TrainView:
        view = TrainView(*self._subset(patient_ids), self._loader)
        view.dataset_key = self.fingerprint()
        return view

    def test_view(self, patient_ids: Iterable[str]) -> TestView:
        patients, images = self._subset(patient_ids)
        patients = patients.drop(columns=[c for c in GA_COLUMNS if c in patients], errors="ignore")
        images = images.drop(columns=[c for c in GA_COLUMNS if c in images], errors="ignore")
        view = TestView(patients, images, self._loader)
        view.dataset_key = self.fingerprint()
        return view

    def load_image(self, image_id: str) -> ImageRecord:
        return self._loader(image_id)
