"""The dataset-source check suite: one named check per contract of a registered source,
run with the source's declared ``test_options`` into fresh temporary cache folders.

- ``resolves``: the factory returns an existing folder inside the cache folder it was given;
- ``validates``: ``validate`` finds no error in it, and it loads as a cohort;
- ``stable_fingerprint``: the cohort's content fingerprint is the same when resolved again
  (the cached folder is reused, not rewritten) and when generated again into another cache
  folder (the source is deterministic).
"""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path

from benchmark.testing._core import CheckPairs, make_checks
from benchmark.testing.methods import _KEEP


@cache
def _generated(name: str, attempt: int) -> tuple[Path, Path]:
    """(cache folder, the source's folder generated into it); ``attempt`` 0 or 1."""
    from benchmark.data.sources import get_dataset_source

    source = get_dataset_source(name)
    _KEEP.append(tempfile.TemporaryDirectory(prefix=f"flb-source-{attempt}-"))
    cache_dir = Path(_KEEP[-1].name)
    return cache_dir, Path(source.factory(cache_dir, **source.test_options))


def _fingerprint(folder: Path) -> str:
    from benchmark.data.cohort import Cohort

    return Cohort.load(folder).fingerprint()


def dataset_checks(name: str) -> CheckPairs:
    """``(check name, Check)`` for the registered dataset source ``name``."""

    def resolves() -> None:
        cache_dir, folder = _generated(name, 0)
        assert folder.is_dir(), f"returned {folder}, not a folder"
        assert folder.resolve().is_relative_to(cache_dir.resolve()), (
            f"wrote {folder} outside the cache folder it was given"
        )

    def validates() -> None:
        from benchmark.data.validate import validate_dataset

        folder = _generated(name, 0)[1]
        report = validate_dataset(folder)
        assert report.ok, "; ".join(p.line() for p in report.errors[:3])
        _fingerprint(folder)  # loads as a cohort

    def stable_fingerprint() -> None:
        from benchmark.data.sources import get_dataset_source

        cache_dir, folder = _generated(name, 0)
        first = _fingerprint(folder)
        source = get_dataset_source(name)
        again = Path(source.factory(cache_dir, **source.test_options))
        assert again == folder, f"resolved again to {again}, not the cached {folder}"
        assert _fingerprint(again) == first, "the cached folder changed when resolved again"
        assert _fingerprint(_generated(name, 1)[1]) == first, (
            "generated again into another cache folder, the cohort differs"
        )

    checks = [
        ("resolves", resolves),
        ("validates", validates),
        ("stable_fingerprint", stable_fingerprint),
    ]
    yield from make_checks(f"dataset-{name}", checks)


def registered_sources() -> list[str]:
    """Names of the registered (importable) dataset sources."""
    from benchmark.data.sources import get_dataset_source, list_datasets

    names = []
    for name in list_datasets():
        try:
            get_dataset_source(name)
        except LookupError:  # a plugin file that failed to import: listed, not checkable
            continue
        names.append(name)
    return names
