"""The report check suites: one named check per contract of a registered table or figure.

Both run on a *check run*: the runner on a small check cohort with one method of each
declared role (ceiling, floor, reference) and the cheapest segmenting method with its
controls, each at its ``test_params`` (:func:`write_check_run`), and on the same run with
nothing in it (:func:`write_empty_run`).

Tables (``fn(ctx) -> Table | None``):

- ``builds``: returns a :class:`~benchmark.report.formatting.Table` named after a file stem
  or None (nothing to show);
- ``deterministic``: two builds from two fresh reads of the run give the same bytes in
  every format (CSV, Markdown, LaTeX, HTML);
- ``unique_name``: no other table of the run writes the same file stem;
- ``empty_run``: nothing (None) when the run holds no predictions.

Figures (``fn(ctx, out) -> (stem, caption) | None``): the same four, on the files the
figure writes (``deterministic``: the same bytes; ``empty_run``: no file at all).
"""

from __future__ import annotations

import shutil
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

from benchmark.testing._core import CheckPairs, make_checks
from benchmark.testing.methods import _KEEP


def check_run_methods() -> list[str]:
    """Method selections for the check run, chosen by declarations (never by name)."""
    from benchmark.contract.registry import get_method_class, list_methods

    classes = [get_method_class(n) for n in list_methods("all", available_only=True)]
    chosen = [c for c in classes if c.role is not None]
    segmenting = sorted((c for c in classes if c.segments), key=lambda c: c.relative_cost)
    if segmenting:
        chosen.append(segmenting[0])
        chosen += [c for c in classes if c.control_of == segmenting[0].name]
    return [
        c.name
        + (f"[{','.join(f'{k}={v}' for k, v in c.test_params.items())}]" if c.test_params else "")
        for c in chosen
    ]


def write_check_run(root: Path, methods: list[str] | None = None) -> Path:
    """Run the check methods on a 24-patient check cohort into ``root / "run"``."""
    from benchmark.execution.runner import RunConfig, run
    from benchmark.testing.cohort import write_check_cohort

    cohort = write_check_cohort(root / "cohort", n_patients=24)
    result = run(
        RunConfig(
            dataset=str(cohort), methods=methods or check_run_methods(), run_dir=str(root / "run")
        )
    )
    failed = result.cells[result.cells["status"] != "done"]
    if len(failed):
        raise RuntimeError(
            f"check run: {len(failed)} cell(s) failed: "
            f"{'; '.join(failed.get('error', failed['label']).astype(str))}"
        )
    return result.run_dir


def write_empty_run(run_dir: Path, root: Path) -> Path:
    """A copy of ``run_dir`` in which nothing ran: its tables keep their headers only.

    (A run whose cells all failed is not empty: the ``not_run`` table rightly lists them.)
    """
    empty = root / "empty-run"
    shutil.copytree(
        run_dir, empty, ignore=shutil.ignore_patterns("cells", "tables", "figures", "*.html")
    )
    for table in ("predictions.csv", "cells.csv"):
        header = (run_dir / table).read_text().splitlines()[0]
        (empty / table).write_text(header + "\n")
    return empty


@cache
def default_check_run() -> tuple[Path, Path]:
    """(check run, empty run), written once per process on first use."""
    _KEEP.append(tempfile.TemporaryDirectory(prefix="flb-report-checks-"))
    root = Path(_KEEP[-1].name)
    run_dir = write_check_run(root)
    return run_dir, write_empty_run(run_dir, root)


@cache
def _context(run_dir: Path, reading: int = 0) -> Any:
    """One report context per run folder and ``reading``: the checks' first builds share
    reading 0 and the determinism checks' second builds reading 1 (a fresh read of the
    same files, with its own caches), so every table and figure is built twice in all."""
    from benchmark.report.data import load_run
    from benchmark.report.registry import ReportContext

    return ReportContext(load_run(run_dir))


def _table_bytes(table: Any) -> tuple[str, ...] | None:
    return (
        None
        if table is None
        else (table.name, table.to_csv(), table.to_markdown(), table.to_latex(), table.to_html())
    )


@cache
def _table(name: str, run_dir: Path, reading: int = 0) -> Any:
    from benchmark.report.registry import create_table

    return create_table(name, _context(run_dir, reading))


def table_checks(name: str, runs: tuple[Path, Path] | None = None) -> CheckPairs:
    """``(check name, Check)`` for the registered table ``name``."""
    from benchmark.report.registry import list_tables

    def run_dirs() -> tuple[Path, Path]:
        return runs or default_check_run()

    def builds() -> None:
        table = _table(name, run_dirs()[0])
        if table is not None:
            assert table.name and "/" not in table.name, f"file stem {table.name!r}"
            assert list(table.display.columns), "a table without columns"

    def deterministic() -> None:
        first = _table_bytes(_table(name, run_dirs()[0]))
        second = _table_bytes(_table(name, run_dirs()[0], reading=1))
        assert first == second, "two builds from the same run differ"

    def unique_name() -> None:
        stems = {n: getattr(_table(n, run_dirs()[0]), "name", None) for n in list_tables()}
        mine = stems[name]
        clash = sorted(n for n, stem in stems.items() if n != name and mine and stem == mine)
        assert not clash, f"writes {mine!r}, as table(s) {clash} do"

    def empty_run() -> None:
        table = _table(name, run_dirs()[1])
        assert table is None, f"a table {table.name!r} from a run without predictions"

    checks = [
        ("builds", builds),
        ("deterministic", deterministic),
        ("unique_name", unique_name),
        ("empty_run", empty_run),
    ]
    yield from make_checks(f"table-{name}", checks)


@cache
def _figure(name: str, run_dir: Path, reading: int = 0) -> tuple[Any, dict[str, bytes]]:
    """What the figure returned and the bytes of every file it wrote (built once)."""
    from benchmark.report.registry import create_figure

    with tempfile.TemporaryDirectory(prefix="flb-figure-") as tmp:
        made = create_figure(name, _context(run_dir, reading), Path(tmp))
        return made, {
            p.relative_to(tmp).as_posix(): p.read_bytes()
            for p in sorted(Path(tmp).rglob("*"))
            if p.is_file()
        }


def figure_checks(name: str, runs: tuple[Path, Path] | None = None) -> CheckPairs:
    """``(check name, Check)`` for the registered figure ``name``."""
    from benchmark.report.registry import list_figures

    def run_dirs() -> tuple[Path, Path]:
        return runs or default_check_run()

    def builds() -> None:
        made, files = _figure(name, run_dirs()[0])
        if made is not None:
            stem, caption = made
            assert stem and caption, f"figure returned stem {stem!r}, caption {caption!r}"
            assert any(f.startswith(stem) for f in files), f"no file named {stem}.*"

    def deterministic() -> None:
        first, second = _figure(name, run_dirs()[0]), _figure(name, run_dirs()[0], 1)
        assert first[0] == second[0], "two builds return different stems or captions"
        differ = sorted(
            f for f in set(first[1]) | set(second[1]) if first[1].get(f) != second[1].get(f)
        )
        assert not differ, f"two builds differ in {differ}"

    def unique_name() -> None:
        stems = {n: (_figure(n, run_dirs()[0])[0] or (None,))[0] for n in list_figures()}
        mine = stems[name]
        clash = sorted(n for n, stem in stems.items() if n != name and mine and stem == mine)
        assert not clash, f"writes {mine!r}, as figure(s) {clash} do"

    def empty_run() -> None:
        made, files = _figure(name, run_dirs()[1])
        assert made is None and not files, (
            f"a run without predictions gave {made} and files {sorted(files)[:3]}"
        )

    checks = [
        ("builds", builds),
        ("deterministic", deterministic),
        ("unique_name", unique_name),
        ("empty_run", empty_run),
    ]
    yield from make_checks(f"figure-{name}", checks)
