"""One feature vector per image, computed in parallel (joblib) and cached on disk.

An *extractor* is a small picklable object (:class:`Extractor`) that turns one
:class:`~benchmark.data.cohort.ImageRecord` into ``(names, values, n_units)``; it raises
:class:`FeatureError` when an image cannot give features (no mask, empty or corrupt ROI,
lung smaller than a patch).  :func:`extract_view` runs it over a view: cached images are
read back, the others are sent in chunks to joblib workers (both cores), and every failure
is *reported* in :attr:`FeatureTable.failures` — the image is skipped, the others go on.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from benchmark.data.io import InputError
from benchmark.kits.texture.cache import FeatureCache

log = logging.getLogger("benchmark.kits.texture")

#: images per joblib task: large enough to amortise pickling, small enough to balance
CHUNK = 8
#: below this many uncached images, starting worker processes costs more than it saves
MIN_PARALLEL = 4 * CHUNK


class FeatureError(ValueError):
    """An image that cannot give features (reported and skipped, never fatal)."""


class Extractor(Protocol):
    #: cache folder prefix, e.g. ``"glcm"``
    kind: str
    #: what one work unit is, for throughput figures (``"patches"``, ``"rois"``)
    unit: str

    def cache_params(self) -> dict[str, Any]:
        """Everything the features depend on (parameters and library versions)."""

    def __call__(self, record: Any) -> tuple[list[str], np.ndarray, int]:
        """``(feature names, values, units processed)`` for one image."""


@dataclass
class FeatureTable:
    """Features of a view: one row per image (NaN rows for failed images)."""

    features: pd.DataFrame
    #: image_id → one-line reason, for every image that gave no features
    failures: dict[str, str]
    n_cached: int
    n_computed: int
    #: work units (patches / ROIs) computed in this call and the wall time it took
    units: int
    seconds: float

    @property
    def ok(self) -> pd.Series:
        return ~self.features.index.isin(list(self.failures))


def default_cache_dir() -> Path:
    from benchmark.data.sources import cache_root

    return cache_root() / "features"


def _one(extractor: Extractor, record: Any) -> tuple[str, list[str] | None, Any, int, bool]:
    """``(image id, names or None, values or reason, units, failure is cacheable)``."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            names, values, units = extractor(record)
        for w in caught[:3]:  # library chatter goes to the log file, never to the console
            log.debug("%s %s: %s", extractor.kind, record.image_id, w.message)
        values = np.asarray(values, dtype=np.float64)
        if not np.isfinite(values).all():
            bad = [n for n, v in zip(names, values, strict=True) if not np.isfinite(v)]
            raise FeatureError(f"non-finite feature(s) {bad[:3]}")
        return record.image_id, names, values, units, True
    except FeatureError as exc:  # a property of the image: remembered in the cache
        return record.image_id, None, str(exc), 0, True
    except Exception as exc:  # a library error on one image must not stop the others
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        # not cached: it may be transient (a library race, memory), so the next run retries
        return record.image_id, None, f"{type(exc).__name__}: {first}", 0, False


def _run_chunk(extractor: Extractor, records: Sequence[Any]) -> list[tuple]:
    setup = getattr(extractor, "setup", None)
    if callable(setup):
        setup()  # once per worker process: silence library loggers
    return [_one(extractor, r) for r in records]


def _chunks(view, ids: Sequence[str], failures: dict[str, str]) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for image_id in ids:
        try:
            chunk.append(view.load_image(image_id))
        except (InputError, OSError, ValueError) as exc:  # unreadable file: report, go on
            failures[image_id] = f"unreadable image: {str(exc).splitlines()[0]}"
            continue
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _inside_worker() -> bool:
    """True inside a joblib worker (the runner's cells): a nested Parallel would run the
    extractor in threads there, and pyradiomics' parameter validation (pykwalify/ruamel) is
    not thread-safe — concurrent parses fail with yaml ParserErrors.  The runner already
    keeps every core busy with one cell each, so sequential is no slower."""
    from joblib.parallel import get_active_backend

    backend, _ = get_active_backend()
    return getattr(backend, "nesting_level", 0) > 0


def _extract_locked(
    view, extractor: Extractor, cache: FeatureCache, ids: list[str], n_jobs: int
) -> tuple:
    from joblib import Parallel, delayed, effective_n_jobs

    vectors: dict[str, np.ndarray] = {}
    failures: dict[str, str] = {}
    columns = cache.columns()
    todo: list[str] = []
    for image_id in ids:
        hit = cache.get(image_id)
        if hit is None:
            todo.append(image_id)
        elif hit[0] is not None:
            vectors[image_id] = hit[0]
        else:
            failures[image_id] = hit[1]
    n_cached = len(ids) - len(todo)

    t0 = time.perf_counter()
    units = 0
    if todo:
        load_failures: dict[str, str] = {}
        chunks = _chunks(view, todo, load_failures)
        jobs = effective_n_jobs(n_jobs)
        if jobs == 1 or len(todo) < MIN_PARALLEL or _inside_worker():
            results = (_run_chunk(extractor, c) for c in chunks)
        else:
            results = Parallel(n_jobs=jobs, return_as="generator")(
                delayed(_run_chunk)(extractor, c) for c in chunks
            )
        for chunk_result in results:
            for image_id, names, payload, n_units, cacheable in chunk_result:
                if names is None:
                    failures[image_id] = payload
                    if cacheable:
                        cache.put(image_id, None, payload)
                    continue
                if columns is None:
                    columns = list(names)
                    cache.set_columns(columns)
                elif list(names) != columns:
                    raise RuntimeError(
                        f"{extractor.kind}: image {image_id} gave features {names[:3]}... "
                        f"unlike the others {columns[:3]}... (clear {cache.config_dir})"
                    )
                vectors[image_id] = payload
                units += n_units
                cache.put(image_id, payload, None)
        failures.update(load_failures)  # not cached: the file may be fixed in place
    seconds = time.perf_counter() - t0
    return vectors, failures, columns, n_cached, todo, units, seconds


def extract_view(
    view,
    extractor: Extractor,
    n_jobs: int = -1,
    cache_dir: str | Path | None = "default",
) -> FeatureTable:
    """Features of every image of ``view`` (a TrainView/TestView), cached per image.

    ``cache_dir="default"`` uses ``cache_root()/features``; ``None`` disables the cache.
    """
    root = default_cache_dir() if cache_dir == "default" else cache_dir
    cache = FeatureCache(
        None if root is None else Path(root),
        extractor.kind,
        extractor.cache_params(),
        getattr(view, "dataset_key", ""),
    )
    ids = [str(i) for i in view.images.index]
    with cache.lock():  # a parallel cell of the same family waits, then reads the cache
        vectors, failures, columns, n_cached, todo, units, seconds = _extract_locked(
            view, extractor, cache, ids, n_jobs
        )

    columns = columns or []
    matrix = np.full((len(ids), len(columns)), np.nan)
    for row, image_id in enumerate(ids):
        if image_id in vectors:
            matrix[row] = vectors[image_id]
    features = pd.DataFrame(matrix, index=pd.Index(ids, name="image_id"), columns=columns)
    if failures:
        first = next(iter(failures.items()))
        log.warning(
            "%s: %d of %d images gave no features (e.g. %s: %s)",
            extractor.kind,
            len(failures),
            len(ids),
            *first,
        )
    return FeatureTable(
        features, dict(sorted(failures.items())), n_cached, len(todo), units, seconds
    )
