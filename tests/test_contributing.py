"""CONTRIBUTING.md's six recipes work as written.

Each ```python block whose first line is ``# PATH.py`` is saved under a throw-away folder
that the real discovery of its kind searches (``$FLB_METHODS_PATH``, the dataset plugin
loader, the readers', report sections' and CLI commands' package paths), then used
through the real pipeline: the method passes the common checks, the source's cohort
validates, the reader reads a written sample, the table and the figure come out of a real
run's report, the verb is listed by ``--help`` and runs.  All of it happens in one child
process, so the throw-away plugins never reach this session's registries.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"```python\n# (\S+\.py)\n(.*?)```", re.S)
#: where a recipe's file goes → its kind
KINDS = {
    "methods/": "method",
    "datasets/": "dataset",
    "benchmark/data/ingest/readers/": "reader",
    "benchmark/report/sections/": "section",
    "benchmark/cli/commands/": "verb",
}

DRIVER = r"""
import contextlib, io, json, os, sys, traceback
from pathlib import Path

import numpy as np

tmp = Path(sys.argv[1])
folders = json.loads((tmp / "folders.json").read_text())
out = {}


def attempt(kind, check):
    try:
        out[kind] = check() or "ok"
    except BaseException as exc:  # report every kind, not only the first failure
        out[kind] = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=4)}"


os.environ["FLB_CACHE"] = str(tmp / "cache")
from benchmark.testing import write_check_cohort

cohort = write_check_cohort(tmp / "check-cohort")


def method():
    from benchmark.contract import registry
    from benchmark.testing import check_method

    before = set(registry.list_methods("*"))
    os.environ["FLB_METHODS_PATH"] = folders["method"]
    registry.discover(force=True)
    new = sorted(set(registry.list_methods("*")) - before)
    assert len(new) == 1, f"expected one new method, found {new}"
    assert registry.method_info(new[0]).available, registry.method_info(new[0]).reason
    check_method(new[0], cohort)


def dataset():
    from benchmark.contract.plugins import load_plugin_folder
    from benchmark.data import sources
    from benchmark.data.validate import validate_dataset

    before = set(sources.list_datasets())
    broken = load_plugin_folder(Path(folders["dataset"]), "datasets")
    assert not broken, broken
    new = sorted(set(sources.list_datasets()) - before)
    assert len(new) == 1, f"expected one new dataset source, found {new}"
    root = sources.resolve_dataset(new[0])
    report = validate_dataset(root)
    assert report.ok, [p.what for p in report.errors]


def reader():
    from benchmark.contract.errors import InputError
    from benchmark.data import io as image_io
    from benchmark.data.ingest import readers

    readers.__path__.append(folders["reader"])
    readers._DISCOVERED = False
    assert ".npy" in readers.list_readers(), sorted(readers.list_readers())
    frames = np.random.default_rng(0).integers(0, 256, (3, 40, 50), dtype=np.uint8)
    np.save(tmp / "cine.npy", frames)
    loaded = image_io.load_image(tmp / "cine.npy", frame=1)
    assert loaded.n_frames == 3 and np.array_equal(loaded.pixels, frames[1])
    np.save(tmp / "bad.npy", np.zeros((2, 2, 2, 2)))
    try:
        image_io.load_image(tmp / "bad.npy")
    except InputError as exc:
        assert exc.code == "unsupported" and "bad.npy" in str(exc), (exc.code, str(exc))
    else:
        raise AssertionError("a 4-D array was accepted")


def section():
    from benchmark import cli
    from benchmark.report import load_run, registry
    from benchmark.report.registry import ReportContext
    import benchmark.report.sections as sections

    tables, figures = set(registry.list_tables()), set(registry.list_figures())
    sections.__path__.append(folders["section"])
    registry._loaded = False
    new_tables = sorted(set(registry.list_tables()) - tables)
    new_figures = sorted(set(registry.list_figures()) - figures)
    assert len(new_tables) == 1 and len(new_figures) == 1, (new_tables, new_figures)
    run_dir = tmp / "run"
    with contextlib.redirect_stdout(io.StringIO()):
        code = cli.main(["run", "--dataset", str(cohort), "--run-dir", str(run_dir),
                         "--methods", "dummy-mean", "biometry-hadlock"])
    assert code == 0, f"run exited {code}"
    table = registry.create_table(new_tables[0], ReportContext(load_run(run_dir)))
    assert table is not None and len(table.data) == 2, table
    assert (run_dir / "tables" / f"{table.name}.md").is_file(), "table not in the run's report"
    stems = {p.stem for p in (run_dir / "figures").glob("*.png")}
    assert stems == {p.stem for p in (run_dir / "figures").glob("*.svg")}, stems
    fig_stem = registry.create_figure(new_figures[0], ReportContext(load_run(run_dir)),
                                      tmp / "figures")[0]
    assert fig_stem in stems, f"{fig_stem} not in the run's figures {sorted(stems)}"


def verb():
    from benchmark import cli
    import benchmark.cli.commands as commands

    commands.__path__.append(folders["verb"])
    name = Path(next(Path(folders["verb"]).glob("*.py"))).stem.rstrip("_").replace("_", "-")
    assert name in cli.build_parser().format_help(), f"--help does not list {name}"
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        code = cli.main([name, str(cohort)])
    assert code == 0 and "10 patients" in text.getvalue(), (code, text.getvalue())
    with contextlib.redirect_stderr(io.StringIO()) as err:
        code = cli.main([name, str(tmp / "no-such-folder")])
    assert code == 2 and len(err.getvalue().strip().splitlines()) == 1, err.getvalue()


for kind, check in (("method", method), ("dataset", dataset), ("reader", reader),
                    ("section", section), ("verb", verb)):
    attempt(kind, check)
print("RESULTS " + json.dumps(out))
"""


def recipes() -> dict[str, list[tuple[str, str]]]:
    """kind → [(path, source)] of the recipe blocks in CONTRIBUTING.md."""
    found: dict[str, list[tuple[str, str]]] = {}
    for path, source in BLOCK.findall((REPO / "CONTRIBUTING.md").read_text(encoding="utf-8")):
        kind = next((k for prefix, k in KINDS.items() if path.startswith(prefix)), None)
        assert kind, f"CONTRIBUTING.md: a recipe for {path}, which no discovery searches"
        found.setdefault(kind, []).append((path, source))
    return found


def test_one_recipe_per_extension_kind():
    found = recipes()
    counts = {kind: len(blocks) for kind, blocks in found.items()}
    # tables and figures both live in report/sections/: one of each
    assert counts == {"method": 1, "dataset": 1, "reader": 1, "section": 2, "verb": 1}
    sections = "".join(source for _, source in found["section"])
    assert "@register_table(" in sections and "@register_figure(" in sections


@pytest.fixture(scope="module")
def outcome(tmp_path_factory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("recipes")
    folders = {}
    for kind, blocks in recipes().items():
        folder = tmp / "plugins" / kind
        folder.mkdir(parents=True)
        for path, source in blocks:
            (folder / Path(path).name).write_text(source, encoding="utf-8")
        folders[kind] = str(folder)
    (tmp / "folders.json").write_text(json.dumps(folders))
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, str(tmp)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULTS ")), None)
    assert line, f"the recipe driver died (exit {proc.returncode}):\n{proc.stderr[-3000:]}"
    return json.loads(line[len("RESULTS ") :])


@pytest.mark.parametrize("kind", ["method", "dataset", "reader", "section", "verb"])
def test_recipe_works(outcome, kind):
    assert outcome[kind] == "ok", f"CONTRIBUTING.md's {kind} recipe: {outcome[kind]}"
