"""On-disk cache of per-image feature vectors.

Layout: ``<root>/<kind>-<params hash>/<dataset key>/<image hash>.npy`` (a float64 vector)
or ``<image hash>.err`` (the one-line reason the image gave no features), plus
``columns.json`` beside the dataset folders.  The key is (extractor kind, every parameter
the features depend on including library versions, dataset content hash, image id), so a
changed image, parameter or library never reuses stale features.  Writes go through a
temporary file and :func:`os.replace`, so no reader sees a half-written file, and
:meth:`FeatureCache.lock` makes concurrent cells of one family extract each image once.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from benchmark.contract.files import honour_umask

try:
    import fcntl
except ImportError:  # Windows: no cross-process lock, at worst an image is computed twice
    fcntl = None


def params_hash(params: dict[str, Any]) -> str:
    """Stable short hash of a JSON-able parameter dict."""
    text = json.dumps(params, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _image_stem(image_id: str) -> str:
    # image ids are free text (may hold '/' or spaces): hash them into safe file names
    return hashlib.sha256(str(image_id).encode()).hexdigest()[:24]


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        honour_umask(tmp)  # mkstemp makes 0600: a shared cache must be readable by others
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class FeatureCache:
    """Per-image feature vectors of one extractor configuration on one dataset.

    ``root=None`` (or an empty ``dataset_key``) disables the disk: every lookup misses.
    """

    def __init__(self, root: Path | None, kind: str, params: dict[str, Any], dataset_key: str):
        self.enabled = root is not None and bool(dataset_key)
        self.config_dir = (Path(root) / f"{kind}-{params_hash(params)}") if root else None
        self.folder = self.config_dir / dataset_key if self.enabled else None
        if self.enabled:
            self.folder.mkdir(parents=True, exist_ok=True)
            _atomic_write(
                self.config_dir / "params.json",
                json.dumps(params, sort_keys=True, indent=1, default=str).encode(),
            )

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Exclusive while extracting: two cells of one family (run in parallel workers)
        then compute each image once instead of twice; the second reads the first's cache."""
        if not self.enabled or fcntl is None:
            yield
            return
        with open(self.folder / ".extract.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # -- columns -------------------------------------------------------------------------
    def columns(self) -> list[str] | None:
        if not self.enabled or not (self.config_dir / "columns.json").is_file():
            return None
        return json.loads((self.config_dir / "columns.json").read_text())

    def set_columns(self, columns: list[str]) -> None:
        if self.enabled:
            _atomic_write(self.config_dir / "columns.json", json.dumps(columns).encode())

    # -- entries -------------------------------------------------------------------------
    def get(self, image_id: str) -> tuple[np.ndarray | None, str | None] | None:
        """``(vector, None)``, ``(None, reason)`` for a cached failure, or ``None`` (miss)."""
        if not self.enabled:
            return None
        stem = self.folder / _image_stem(image_id)
        npy, err = stem.with_suffix(".npy"), stem.with_suffix(".err")
        if npy.is_file():
            return np.load(npy), None
        if err.is_file():
            return None, err.read_text()
        return None

    def put(self, image_id: str, vector: np.ndarray | None, error: str | None) -> None:
        if not self.enabled:
            return
        stem = self.folder / _image_stem(image_id)
        if vector is not None:
            import io

            buffer = io.BytesIO()
            np.save(buffer, np.asarray(vector, dtype=np.float64))
            _atomic_write(stem.with_suffix(".npy"), buffer.getvalue())
        else:
            _atomic_write(stem.with_suffix(".err"), str(error).encode())
