"""Dataset sources: a name (``synthetic``) or a folder path resolves to a dataset folder.

Generators live as plugin files in the repository's ``datasets/`` folder (loaded by path,
like methods) and register with :func:`register_dataset`::

    @register_dataset("synthetic", summary="...", tags=("scenario",))
    def synthetic(cache_dir: Path, **options) -> Path:
        ...  # write (once) and return a folder in the on-disk format (docs/data-format.md)

Tags say what a source is for (``scenario``: a synthetic world of the scenario study;
``null``: images carry no GA, the leak detector's cohorts; ``sites``: takes the ``sites``
option), so a study asks ``list_datasets(tag="scenario")`` instead of copying names.

Generated folders are cached under ``$FLB_CACHE`` (default ``~/.cache/fetal-lung-bench``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmark.contract.naming import claim
from benchmark.contract.plugins import REPO_ROOT, load_plugin_folder

DatasetFactory = Callable[..., Path]


@dataclass
class DatasetSource:
    name: str
    factory: DatasetFactory
    summary: str = ""
    #: cheap options for the dataset-source checks (:mod:`benchmark.testing.datasets`)
    test_options: dict[str, Any] = field(default_factory=dict)
    tags: frozenset[str] = frozenset()


_SOURCES: dict[str, DatasetSource] = {}
_BROKEN: dict[str, str] = {}
_discovered = False


def register_dataset(
    name: str,
    summary: str = "",
    test_options: dict[str, Any] | None = None,
    tags: Iterable[str] = (),
) -> Callable[[DatasetFactory], DatasetFactory]:
    """Register ``fn`` as the source ``name`` (``test_options``: small, fast options for the
    source checks; ``tags``: what a study asks the registry for, e.g. ``scenario``); a
    second, different factory for a taken name is an error naming both
    (:func:`benchmark.contract.naming.claim`)."""

    def decorator(fn: DatasetFactory) -> DatasetFactory:
        source = DatasetSource(name, fn, summary, dict(test_options or {}), frozenset(tags))
        claim(_SOURCES, name, source, "dataset source", defined_by=lambda s: s.factory)
        return fn

    return decorator


def get_dataset_source(name: str) -> DatasetSource:
    """The registered source ``name`` (a LookupError naming the known ones otherwise)."""
    _discover()
    if name not in _SOURCES:
        known = ", ".join(sorted(_SOURCES)) or "none registered"
        raise LookupError(f"no dataset source {name!r} ({known})")
    return _SOURCES[name]


def cache_root() -> Path:
    return Path(os.environ.get("FLB_CACHE", Path.home() / ".cache" / "fetal-lung-bench"))


def _discover() -> None:
    global _discovered
    if not _discovered:
        _discovered = True
        _BROKEN.update(load_plugin_folder(REPO_ROOT / "datasets", "datasets"))


def list_datasets(tag: str | None = None) -> dict[str, str]:
    """``{name: summary or unavailability reason}``; with ``tag``, only the sources
    declaring it, in registration order (a study's columns follow it)."""
    _discover()
    if tag is not None:
        return {name: src.summary for name, src in _SOURCES.items() if tag in src.tags}
    out = {name: src.summary for name, src in _SOURCES.items()}
    out.update({name: f"unavailable: {why}" for name, why in _BROKEN.items()})
    return dict(sorted(out.items()))


def dataset_tags(name: str) -> frozenset[str]:
    """The tags a registered source declares (a folder has none)."""
    _discover()
    return _SOURCES[name].tags if name in _SOURCES else frozenset()


def resolve_dataset(spec: str, **options: Any) -> Path:
    """A registered source name (generated into the cache) or an existing folder."""
    path = Path(spec).expanduser()
    if path.is_dir():
        return path.resolve()
    _discover()
    if spec in _SOURCES:
        target = cache_root() / "datasets"
        target.mkdir(parents=True, exist_ok=True)
        return Path(_SOURCES[spec].factory(target, **options)).resolve()
    if spec in _BROKEN:
        raise LookupError(f"dataset source {spec!r} is unavailable: {_BROKEN[spec]}")
    raise LookupError(
        f"dataset {spec!r} is neither a folder nor a known source "
        f"({', '.join(list_datasets()) or 'none registered'})"
    )
