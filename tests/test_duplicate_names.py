"""A name has one definition in every registry: a second, different one is an error naming
both; the same definition registered again (a module imported twice) is harmless."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from benchmark import BaseMethod
from benchmark.contract.naming import DuplicateNameError

REPO = Path(__file__).resolve().parents[1]


def _class(name: str, qualname: str) -> type[BaseMethod]:
    return type(qualname, (BaseMethod,), {"name": name, "__module__": __name__})


def test_methods(monkeypatch):
    from benchmark.contract import registry

    monkeypatch.setattr(registry, "_METHODS", dict(registry._METHODS))
    first = registry.register_method(_class("dup-method", "First"))
    registry.register_method(first)  # the same class again: harmless
    registry.register_method(_class("dup-method", "First"))  # its re-definition (a reload)
    with pytest.raises(
        DuplicateNameError,
        match=r"method 'dup-method' is registered twice: "
        r".*\.First .*and .*\.Second",
    ):
        registry.register_method(_class("dup-method", "Second"))


def test_families(monkeypatch):
    from benchmark.contract import registry

    monkeypatch.setattr(registry, "_FAMILIES", dict(registry._FAMILIES))

    def make_a(name):
        raise LookupError(name)

    def make_b(name):
        raise LookupError(name)

    registry.register_family("dup-", make_a)
    registry.register_family("dup-", make_a)
    with pytest.raises(DuplicateNameError, match="method family 'dup-'.*make_a.*make_b"):
        registry.register_family("dup-", make_b)


def test_a_copied_method_file_is_listed_unavailable_naming_both_files(tmp_path):
    source = (REPO / "methods" / "dummy_mean.py").read_text()
    (tmp_path / "my_copy.py").write_text(
        source.replace("class DummyMean", "class MyCopy").replace("-> DummyMean", "-> MyCopy")
    )
    (tmp_path / "dummy_mean.py").write_text(source)  # same file name as the built-in
    out = subprocess.run(
        [sys.executable, "-m", "benchmark", "list"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
        env={**os.environ, "FLB_METHODS_PATH": str(tmp_path)},
    )
    assert out.returncode == 0 and "Traceback" not in out.stdout + out.stderr
    lines = out.stdout.splitlines()
    copy = next(ln for ln in lines if " my-copy " in ln)
    assert "registered twice" in copy and "DummyMean" in copy and "MyCopy" in copy
    same = next(ln for ln in lines if " dummy-mean " in ln)
    assert "unavailable" not in same  # the built-in still runs
    shadowed = next(ln for ln in lines if str(tmp_path / "dummy_mean.py") in ln)
    assert "same name was loaded from" in shadowed  # the same-named file is reported


def test_dataset_sources(monkeypatch):
    from benchmark.data import sources

    monkeypatch.setattr(sources, "_SOURCES", dict(sources._SOURCES))

    def first(cache_dir):
        return cache_dir

    def second(cache_dir):
        return cache_dir

    sources.register_dataset("dup-source")(first)
    sources.register_dataset("dup-source")(first)
    with pytest.raises(DuplicateNameError, match="dataset source 'dup-source'.*first.*second"):
        sources.register_dataset("dup-source")(second)


def test_readers(monkeypatch):
    from benchmark.data.ingest import readers
    from benchmark.data.ingest.readers.base import ImageReader

    monkeypatch.setattr(readers, "_READERS", dict(readers.list_readers()))
    png = type(readers.list_readers()[".png"])
    readers.register_reader(png)  # re-registering the built-in class: harmless
    other = type("OtherPng", (ImageReader,), {"suffixes": (".png",), "__module__": __name__})
    with pytest.raises(
        DuplicateNameError, match="reader for suffix '.png'.*PillowReader.*OtherPng"
    ):
        readers.register_reader(other)


def test_report_tables_and_figures(tmp_path, monkeypatch):
    from benchmark.report import registry

    registry.list_tables()
    monkeypatch.setattr(registry, "_TABLES", dict(registry._TABLES))
    monkeypatch.setattr(registry, "_FIGURES", dict(registry._FIGURES))
    with pytest.raises(DuplicateNameError, match="table 'costs' is registered twice"):
        registry.register_table("costs", order=1)(lambda ctx: None)
    name = registry.list_figures()[0]
    with pytest.raises(DuplicateNameError, match=f"figure '{name}' is registered twice"):
        registry.register_figure(name, order=1)(lambda ctx, out: None)
    # a module executed a second time re-registers its own (new) functions: harmless
    (tmp_path / "flb_dup_section.py").write_text(
        textwrap.dedent("""
        from benchmark.report.registry import register_table

        @register_table("dup_section_table", order=999)
        def table(ctx):
            return None
    """)
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("flb_dup_section")
    try:
        importlib.reload(module)
        assert registry._TABLES["dup_section_table"].builder is module.table
    finally:
        sys.modules.pop("flb_dup_section", None)


def test_cli_verbs(tmp_path, monkeypatch, capsys):
    from benchmark import cli
    from benchmark.cli import commands

    (tmp_path / "listing.py").write_text(
        textwrap.dedent("""
        NAME = "list"
        HELP = "a second list"


        def add_arguments(parser):
            pass


        def main(args):
            return 0
    """)
    )
    monkeypatch.setattr(commands, "__path__", [*commands.__path__, str(tmp_path)])
    try:
        with pytest.raises(DuplicateNameError, match=r"CLI verb 'list'.*list_.*listing"):
            cli.command_modules()
        assert cli.main(["--help"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: CLI verb 'list' is registered twice") and err.count("\n") == 1
    finally:
        sys.modules.pop("benchmark.cli.commands.listing", None)
