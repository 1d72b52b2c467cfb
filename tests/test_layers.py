"""The engine's layers, read off the real import graph (grimp, which import-linter uses).

Lazy function-level imports count (grimp reads every ``import`` statement in the source);
imports under ``if TYPE_CHECKING:`` do not (they never run).  The same layers are the
import-linter contract in ``pyproject.toml`` (``lint-imports``); this test keeps them true
where only pytest runs, and adds what a contract cannot state: no import cycles at all.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import grimp
import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

REPO = Path(__file__).resolve().parents[1]
CONFIG = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
LAYERS_CONTRACT = next(c for c in CONFIG["contracts"] if c["type"] == "layers")
#: high → low
LAYERS: list[str] = LAYERS_CONTRACT["layers"]
KITS = "benchmark.kits"


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(
        "benchmark", include_external_packages=False, exclude_type_checking_imports=True
    )


def _layer(module: str) -> int | None:
    """Index from the top (0 = cli); None outside the layers (kits, testing, the root)."""
    for i, name in enumerate(LAYERS):
        if module == name or module.startswith(name + "."):
            return i
    return None


def _edges(graph: grimp.ImportGraph) -> list[tuple[str, str]]:
    return sorted((m, t) for m in graph.modules for t in graph.find_modules_directly_imported_by(m))


def upward_imports(graph: grimp.ImportGraph) -> list[tuple[str, str]]:
    """Direct imports from a lower layer into a higher one."""
    out = []
    for importer, imported in _edges(graph):
        low, high = _layer(importer), _layer(imported)
        if low is not None and high is not None and high < low:
            out.append((importer, imported))
    return out


def kit_imports(graph: grimp.ImportGraph) -> list[tuple[str, str]]:
    """Direct imports of a method kit by an engine module."""
    return [
        (m, t)
        for m, t in _edges(graph)
        if _layer(m) is not None and (t == KITS or t.startswith(KITS + "."))
    ]


def cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (scipy's Tarjan)."""
    modules = sorted(graph.modules)
    index = {m: i for i, m in enumerate(modules)}
    pairs = [(index[a], index[b]) for a, b in _edges(graph)]
    rows, cols = (np.array(x, dtype=int) for x in zip(*pairs, strict=True)) if pairs else ([], [])
    matrix = csr_matrix((np.ones(len(pairs)), (rows, cols)), shape=(len(modules),) * 2)
    _, labels = connected_components(matrix, directed=True, connection="strong")
    groups: dict[int, list[str]] = {}
    for module, label in zip(modules, labels, strict=True):
        groups.setdefault(int(label), []).append(module)
    return sorted(g for g in groups.values() if len(g) > 1)


def _allowed_upward() -> list[tuple[str, str]]:
    return [
        tuple(part.strip() for part in entry.split("->"))
        for entry in LAYERS_CONTRACT.get("ignore_imports", [])
    ]


def test_no_engine_module_imports_a_kit(graph):
    assert kit_imports(graph) == []


def test_no_import_cycles_lazy_imports_included(graph):
    assert cycles(graph) == []


def test_upward_imports_are_the_listed_few_each_with_its_reason(graph):
    allowed = _allowed_upward()
    assert len(allowed) <= 2
    assert sorted(upward_imports(graph)) == sorted(allowed)
    # every allowed one says why on its own line of pyproject.toml
    text = (REPO / "pyproject.toml").read_text()
    for importer, imported in allowed:
        line = re.search(rf'"{re.escape(importer)}\s*->\s*{re.escape(imported)}".*', text)
        assert line and "#" in line.group(0), f"{importer} -> {imported}: no reason given"


def test_every_engine_package_is_in_a_layer(graph):
    top = {m.split(".")[1] for m in graph.modules if m.count(".") >= 1}
    outside = top - {name.split(".")[1] for name in LAYERS}
    assert outside <= {"kits", "testing", "__main__"}, outside


def test_the_checks_catch_what_they_look_for():
    """On a small hand-made graph: a kit import, a cycle and an upward import are found."""
    fake = grimp.ImportGraph()
    for module in (
        "benchmark",
        "benchmark.data",
        "benchmark.data.a",
        "benchmark.data.b",
        "benchmark.report",
        "benchmark.report.t",
        "benchmark.kits",
        "benchmark.kits.nets",
    ):
        fake.add_module(module)
    fake.add_import(importer="benchmark.data.a", imported="benchmark.data.b")
    fake.add_import(importer="benchmark.data.b", imported="benchmark.data.a")
    fake.add_import(importer="benchmark.data.a", imported="benchmark.report.t")
    fake.add_import(importer="benchmark.report.t", imported="benchmark.kits.nets")
    assert cycles(fake) == [["benchmark.data.a", "benchmark.data.b"]]
    assert upward_imports(fake) == [("benchmark.data.a", "benchmark.report.t")]
    assert kit_imports(fake) == [("benchmark.report.t", "benchmark.kits.nets")]
