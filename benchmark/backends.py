"""Pluggable execution backends for the grid's cells.

A backend maps :func:`benchmark.cell.run_cell` over cell specs and yields each summary as
it finishes.  Add one with :func:`register_backend`; the runner selects by name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

from benchmark.cell import CellSpec, run_cell


class Backend(Protocol):
    def run(self, specs: Sequence[CellSpec], run_dir: str) -> Iterator[dict[str, Any]]: ...


_BACKENDS: dict[str, Callable[..., Backend]] = {}


def register_backend(name: str) -> Callable[[Callable[..., Backend]], Callable[..., Backend]]:
    def decorator(factory: Callable[..., Backend]) -> Callable[..., Backend]:
        _BACKENDS[name] = factory
        return factory

    return decorator


def create_backend(name: str, **options: Any) -> Backend:
    if name not in _BACKENDS:
        raise LookupError(f"unknown backend {name!r}; choose from {sorted(_BACKENDS)}")
    return _BACKENDS[name](**options)


def list_backends() -> list[str]:
    return sorted(_BACKENDS)


@register_backend("sequential")
class SequentialBackend:
    """In this process, one cell after the other (default for ``--n-jobs 1``)."""

    def __init__(self, **_: Any) -> None:
        pass

    def run(self, specs: Sequence[CellSpec], run_dir: str) -> Iterator[dict[str, Any]]:
        for spec in specs:
            yield run_cell(spec, run_dir)


@register_backend("joblib")
class JoblibBackend:
    """Local worker processes (loky); each cell is independent and writes its own result."""

    def __init__(self, n_jobs: int = -1, **_: Any) -> None:
        self.n_jobs = n_jobs

    def run(self, specs: Sequence[CellSpec], run_dir: str) -> Iterator[dict[str, Any]]:
        from joblib import Parallel, delayed

        parallel = Parallel(n_jobs=self.n_jobs, return_as="generator_unordered")
        yield from parallel(delayed(run_cell)(spec, run_dir) for spec in specs)
