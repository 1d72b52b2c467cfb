"""Study tables and figures by registration, discovered from ``studies/sections/``.

A study output reads the predictions of *several* runs (one per dataset and generator
seed), where a report table reads one.  Each declares, in one place, its caption, the line
that tells the reader how to read it, and its unit of analysis::

    @register_study_table("transfer_over_seeds", caption="...", reading="...",
                          unit="patient", order=30)
    def transfer_over_seeds(ctx: StudyContext) -> StudyFiles | None: ...

A table returns :class:`StudyFiles` (file name → text, written under the study's folder);
a figure is ``fn(ctx, out: Path) -> list[str]`` (the files it wrote into ``out``).
``prepare`` (optional) adjusts or checks the study before any cell runs (e.g. adds the
methods that give each world its ceiling).  A new study output is one new file in
``benchmark/report/studies/sections/``.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from benchmark.report.studies.spec import RunSpec, Study

SECTIONS_PACKAGE = "benchmark.report.studies.sections"


@dataclass(frozen=True)
class StudyOutput:
    """One registered study table or figure, with what a reader needs to read it."""

    name: str
    kind: str  # "table" or "figure"
    title: str
    caption: str
    reading: str
    unit: str
    order: int
    builder: Callable
    #: ``fn(study) -> (study, notes)``: the study to run (e.g. methods added) and lines to
    #: print; raises ValueError when the study cannot give this output
    prepare: Callable[[Study], tuple[Study, list[str]]] | None = None
    #: prints part of the invocation record (its minutes, its run folders): rebuilt only
    #: where the study folder stores ``study.json``
    uses_record: bool = False

    def caption_line(self) -> str:
        """Caption, unit and reading in the order a published table states them."""
        return f"{self.caption} Unit of analysis: {self.unit}. {self.reading}"


@dataclass
class StudyRunData:
    """One run of a study as its outputs see it (live, or read back from stored inputs)."""

    run: RunSpec
    predictions: pd.DataFrame
    cells: pd.DataFrame
    run_dir: str = ""


@dataclass
class StudyContext:
    study: Study
    runs: list[StudyRunData]
    #: the invocation record (``study.json``): seconds it took, run folders
    record: dict[str, Any] = field(default_factory=dict)
    #: cells that did not finish, one line each (``dataset seed 3: unet-scratch failed: ...``)
    problems: list[str] = field(default_factory=list)
    output: StudyOutput | None = None  # set while that output builds
    #: what several outputs of one study share (e.g. the scenario summary), built once
    cache: dict[str, Any] = field(default_factory=dict)


@dataclass
class StudyFiles:
    """What a study table writes: file name → text, a line to print, whether it failed."""

    files: dict[str, str]
    message: str = ""
    failed: bool = False


_OUTPUTS: dict[str, StudyOutput] = {}
_loaded = False


def _register(
    kind: str,
    name: str,
    title: str,
    caption: str,
    reading: str,
    unit: str,
    order: int,
    prepare: Callable | None,
    uses_record: bool,
) -> Callable[[Callable], Callable]:
    def decorator(fn: Callable) -> Callable:
        known = _OUTPUTS.get(name)
        if known is not None and known.builder is not fn:
            raise ValueError(
                f"study {kind} {name!r} is registered twice "
                f"({known.builder.__module__} and {fn.__module__})"
            )
        _OUTPUTS[name] = StudyOutput(
            name, kind, title, caption, reading, unit, order, fn, prepare, uses_record
        )
        return fn

    return decorator


def register_study_table(
    name: str,
    *,
    title: str,
    caption: str,
    reading: str,
    unit: str,
    order: int = 50,
    prepare: Callable | None = None,
    uses_record: bool = False,
) -> Callable[[Callable], Callable]:
    return _register("table", name, title, caption, reading, unit, order, prepare, uses_record)


def register_study_figure(
    name: str,
    *,
    title: str,
    caption: str,
    reading: str,
    unit: str,
    order: int = 50,
    prepare: Callable | None = None,
    uses_record: bool = False,
) -> Callable[[Callable], Callable]:
    return _register("figure", name, title, caption, reading, unit, order, prepare, uses_record)


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    package = importlib.import_module(SECTIONS_PACKAGE)
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            importlib.import_module(f"{SECTIONS_PACKAGE}.{info.name}")


def reload_sections() -> None:
    """Discover the sections folder again (a file added after the first look)."""
    global _loaded
    _loaded = False
    _load()


def _names(kind: str) -> list[str]:
    _load()
    return [
        o.name for o in sorted(_OUTPUTS.values(), key=lambda o: (o.order, o.name)) if o.kind == kind
    ]


def list_study_tables() -> list[str]:
    return _names("table")


def list_study_figures() -> list[str]:
    return _names("figure")


def study_output(name: str) -> StudyOutput:
    _load()
    if name not in _OUTPUTS:
        raise KeyError(
            f"no study table or figure {name!r}; registered: {', '.join(sorted(_OUTPUTS))}"
        )
    return _OUTPUTS[name]


def build_study_table(name: str, ctx: StudyContext) -> StudyFiles | None:
    output = study_output(name)
    ctx.output = output
    try:
        return output.builder(ctx)
    finally:
        ctx.output = None


def build_study_figure(name: str, ctx: StudyContext, out: Path) -> list[str]:
    output = study_output(name)
    ctx.output = output
    try:
        return list(output.builder(ctx, out) or [])
    finally:
        ctx.output = None
