"""Tables and figures by registration: one function each, one signature, discovered by path.

A table is ``fn(ctx: ReportContext) -> Table | None``; a figure is
``fn(ctx: ReportContext, out: Path) -> tuple[str, str] | None`` returning (file stem,
caption).  ``None`` means "nothing to show for this run" (a reason goes to
``ctx.data.skips`` when the reader should know).  Registering one touches one file::

    @register_table("my_table", order=55)
    def my_table(ctx: ReportContext) -> Table | None: ...

Built-in tables live in :mod:`benchmark.report.tables` and :mod:`benchmark.report.figures`;
every module of the ``benchmark/report/sections/`` folder is imported too, so a new table
or figure is a new file there.  ``order`` fixes where it appears (tables, figures and the
HTML report all follow it); ties break by name.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmark.contract.naming import claim

if TYPE_CHECKING:  # pragma: no cover
    from benchmark.report.data import RunData
    from benchmark.report.formatting import Table

#: Modules holding registrations besides the ``sections`` folder (imported on first use).
BUILTIN_MODULES = ("benchmark.report.tables", "benchmark.report.figures")
SECTIONS_PACKAGE = "benchmark.report.sections"


@dataclass(frozen=True)
class ReportOptions:
    """What a report is built with; every field is a documented CLI option of ``report``."""

    level: str = "patient"
    #: Table 2 reference; None = the method whose class declares ``role = "reference"``.
    reference: str | None = None
    #: the paper's own t-values recomputed; None = only in the reference run's report.
    paper_check: bool | None = None
    #: nominal coverage of the conformal prediction intervals.
    interval_level: float = 0.9
    #: binary "preterm lung" threshold (weeks) for the maturity-class table.
    preterm_weeks: float = 34.0
    #: equivalence margin (days) of the TOST against the reference.
    equivalence_days: float = 2.0
    #: categorical patient columns to report performance by (``--subgroup``, repeatable).
    subgroups: tuple[str, ...] = ()


@dataclass
class ReportContext:
    data: RunData
    options: ReportOptions = field(default_factory=ReportOptions)

    @property
    def level(self) -> str:
        return self.options.level

    @property
    def reference(self) -> str | None:
        """The explicit ``--reference``, else the single run method declaring that role."""
        if self.options.reference is not None:
            return self.options.reference
        declared = self.data.labels_with_role("reference")
        return declared[0] if declared else None


TableBuilder = Callable[[ReportContext], "Table | None"]
FigureBuilder = Callable[[ReportContext, Path], "tuple[str, str] | None"]


@dataclass(frozen=True)
class Registration:
    name: str
    order: int
    builder: Callable[..., Any]


_TABLES: dict[str, Registration] = {}
_FIGURES: dict[str, Registration] = {}
_loaded = False


def _register(
    store: dict[str, Registration], kind: str, name: str, order: int
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
        claim(
            store,
            name,
            Registration(name, order, fn),
            kind,
            defined_by=lambda registration: registration.builder,
        )
        return fn

    return decorator


def register_table(name: str, order: int) -> Callable[[TableBuilder], TableBuilder]:
    return _register(_TABLES, "table", name, order)


def register_figure(name: str, order: int) -> Callable[[FigureBuilder], FigureBuilder]:
    return _register(_FIGURES, "figure", name, order)


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for module in BUILTIN_MODULES:
        importlib.import_module(module)
    package = importlib.import_module(SECTIONS_PACKAGE)
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            importlib.import_module(f"{SECTIONS_PACKAGE}.{info.name}")


def _ordered(store: dict[str, Registration]) -> list[Registration]:
    _load()
    return sorted(store.values(), key=lambda r: (r.order, r.name))


def list_tables() -> list[str]:
    return [r.name for r in _ordered(_TABLES)]


def list_figures() -> list[str]:
    return [r.name for r in _ordered(_FIGURES)]


def create_table(name: str, ctx: ReportContext) -> Table | None:
    _load()
    if name not in _TABLES:
        raise KeyError(f"no table {name!r}; registered: {', '.join(list_tables())}")
    return _TABLES[name].builder(ctx)


def create_figure(name: str, ctx: ReportContext, out: Path) -> tuple[str, str] | None:
    _load()
    if name not in _FIGURES:
        raise KeyError(f"no figure {name!r}; registered: {', '.join(list_figures())}")
    return _FIGURES[name].builder(ctx, out)


def build_all_tables(ctx: ReportContext) -> list[Table]:
    return [t for t in (create_table(n, ctx) for n in list_tables()) if t is not None]


def build_all_figures(ctx: ReportContext, out: Path) -> list[tuple[str, str]]:
    return [f for f in (create_figure(n, ctx, out) for n in list_figures()) if f is not None]
