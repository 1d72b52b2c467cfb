"""Studies as data: study files, the ``study`` verb with resume, study outputs registered
from a folder, dataset tags, and ``check-results`` over study folders (with --update)."""

from __future__ import annotations

import shutil
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from benchmark.cli import main
from benchmark.report.studies.spec import StudyFileError, load_study

REPO = Path(__file__).resolve().parents[1]
TINY = """
[study]
name = "tiny"
out = "results/tiny"

[runs]
datasets = ["synthetic"]
options = { patients = 24, images_per_patient = 1 }
methods = ["dummy-mean", "biometry-hadlock"]
seeds = [0, 1]

[outputs]
export = "{dataset}"
tables = ["scenario_matrix"]
"""


def _write(folder: Path, text: str, name: str = "s.toml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("[runs]", "[runs]\nmethod = ['x']"), "unknown key runs.method"),
        (("seeds = [0, 1]", 'seeds = "0"'), "runs.seeds must be a list"),
        (("seeds = [0, 1]", 'seeds = [0, "a"]'), "runs.seeds: 'a' is not an int"),
        (('tables = ["scenario_matrix"]', 'tables = ["nope"]'), "outputs.tables: no study table"),
        (
            ('datasets = ["synthetic"]', 'datasets = { tag = "nope" }'),
            "runs.datasets: no dataset source declares the tag 'nope'",
        ),
        (('name = "tiny"', ""), "study.name is missing"),
        (("patients = 24", "patients = 0"), "runs.options.patients must be a positive integer"),
        (("patients = 24", "patient = 24"), "unknown key runs.options.patient"),
        (
            ("patients = 24", "patients = 24, enrich_preterm = 1"),
            "runs.options.enrich_preterm must be true or false",
        ),
        (("[outputs]", "[output]"), "unknown section [output]"),
        (("[runs]", "[runs"), "not valid TOML"),
    ],
)
def test_study_file_mistakes_are_one_line_naming_file_and_key(
    tmp_path, capsys, change, message
) -> None:
    path = _write(tmp_path, TINY.replace(*change))
    with pytest.raises(StudyFileError, match=None) as caught:
        load_study(path)
    text = str(caught.value)
    assert text.startswith(f"{path.as_posix()}: ") and message in text and "\n" not in text
    assert main(["study", str(path), "--runs-dir", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


def test_every_committed_study_file_parses_and_names_its_folder() -> None:
    outs = {load_study(p).out for p in sorted((REPO / "studies").glob("*.toml"))}
    assert outs == {
        f"results/{n}"
        for n in (
            "scenarios",
            "null-check",
            "site-shift",
            "transfer-seeds",
            "nets-budget",
            "enriched",
        )
    }
    # a generator switch is an option of the study file, as `run --enrich-preterm` has it
    assert load_study(REPO / "studies/enriched.toml").options == {"enrich_preterm": True}
    scenarios = load_study(REPO / "studies/scenarios.toml")
    assert scenarios.datasets[:4] == (
        "synthetic",
        "synthetic-texture",
        "synthetic-anatomy",
        "synthetic-null",
    )


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The tiny study run twice into one runs folder: (root, first result, second)."""
    from benchmark.execution.study import run_study

    root = tmp_path_factory.mktemp("tiny")
    mp = pytest.MonkeyPatch()
    mp.setenv("FLB_CACHE", str(root / "cache"))
    study_file = _write(root / "studies", TINY, "tiny.toml")
    execution = {"runs_dir": str(root / "runs"), "backend": "sequential", "n_jobs": 1}
    study = load_study(study_file).with_changes(out=str(root / "results" / "tiny"))
    first = run_study(study, execution)
    second = run_study(study, execution)
    yield root, first, second
    mp.undo()


def test_tiny_study_runs_end_to_end_and_resumes(tiny) -> None:
    root, first, second = tiny
    # 2 methods + the oracle (added by the scenario matrix: each world's ceiling) × 2 seeds
    assert first.n_computed == 6 and first.n_cached == 0 and first.n_failed == 0
    assert second.n_computed == 0 and second.n_cached == 6
    out = root / "results" / "tiny"
    table = pd.read_csv(out / "summary.csv")
    assert set(table["method"]) == {"dummy-mean", "biometry-hadlock", "oracle"}
    assert (out / "synthetic" / "tables" / "results.md").is_file()  # the exported run
    assert (out / "study.json").is_file()
    assert "| method | synthetic |" in (out / "summary.md").read_text()


def test_check_results_rebuilds_a_study_folder_and_update_repairs_it(tiny, capsys) -> None:
    root = tiny[0]
    results, studies = root / "results", root / "studies"
    args = ["check-results", str(results), "--studies", str(studies)]
    assert main(args) == 0
    listing = capsys.readouterr().out
    assert "study tiny" in listing and "study outputs scenario_matrix" in listing
    summary = results / "tiny" / "summary.md"
    good = summary.read_bytes()
    summary.write_bytes(good.replace(b"oracle", b"0racle", 1))
    assert main(args) == 1
    assert f"{summary}: differs" in capsys.readouterr().err
    assert main([*args, "--update"]) == 0
    assert f"written  {summary}" in capsys.readouterr().out
    assert summary.read_bytes() == good
    assert main(args) == 0


def test_update_after_a_new_report_table_rewrites_exactly_its_files(
    tiny, capsys, monkeypatch
) -> None:
    from benchmark.report import registry
    from benchmark.report.formatting import Table

    root = tiny[0]
    results = root / "copy" / "results"
    shutil.copytree(root / "results", results)
    args = ["check-results", str(results), "--studies", str(root / "studies")]
    registry._load()
    monkeypatch.setattr(registry, "_TABLES", dict(registry._TABLES))

    @registry.register_table("throwaway_n", order=999)
    def throwaway(ctx):
        frame = pd.DataFrame({"n": [len(ctx.data.predictions)]})
        return Table("throwaway_n", "Throw-away", "Rows.", frame, frame.astype(str))

    assert main(args) == 1
    capsys.readouterr()
    assert main([*args, "--update"]) == 0
    lines = [
        line
        for line in capsys.readouterr().out.splitlines()
        if line.startswith(("written", "removed"))
    ]
    tables = results / "tiny" / "synthetic" / "tables"
    assert sorted(lines) == sorted(
        f"written  {tables / n}"
        for n in ("all.md", "throwaway_n.csv", "throwaway_n.md", "throwaway_n.tex")
    )
    assert main(args) == 0


def test_a_new_study_table_is_one_file(tiny, tmp_path, monkeypatch) -> None:
    from benchmark.report.studies import registry
    from benchmark.report.studies.build import fresh_outputs

    registry._load()
    monkeypatch.setattr(registry, "_OUTPUTS", dict(registry._OUTPUTS))
    package = sys.modules[registry.SECTIONS_PACKAGE]
    monkeypatch.setattr(package, "__path__", [*package.__path__, str(tmp_path)])
    monkeypatch.delitem(sys.modules, f"{registry.SECTIONS_PACKAGE}.throwaway_rows", raising=False)
    (tmp_path / "throwaway_rows.py").write_text(
        textwrap.dedent("""
        from benchmark.report.studies.registry import StudyFiles, register_study_table

        @register_study_table("throwaway_rows", title="Rows", caption="Rows per run.",
                              reading="More rows, more predictions.", unit="prediction")
        def throwaway_rows(ctx):
            rows = {run.run.key: len(run.predictions) for run in ctx.runs}
            return StudyFiles({"rows.md": f"{ctx.output.caption_line()} {rows}\\n"})
    """)
    )
    registry.reload_sections()
    assert "throwaway_rows" in registry.list_study_tables()
    root = tiny[0]
    study = load_study(root / "studies" / "tiny.toml").with_changes(tables=("throwaway_rows",))
    fresh = fresh_outputs(study, root / "results" / "tiny")
    n = len(pd.read_csv(root / "results" / "tiny" / "synthetic" / "predictions.csv"))
    assert fresh == {
        "rows.md": f"Rows per run. Unit of analysis: prediction. More rows, "
        f"more predictions. {{'synthetic': {n}}}\n".encode()
    }


def test_a_new_scenario_is_one_entry_in_the_scenario_table(tmp_path, monkeypatch) -> None:
    from _cohorts import generator_module

    from benchmark.data import sources

    routes = generator_module("_synth_routes")
    monkeypatch.setenv("FLB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setitem(
        routes.SCENARIOS,
        "synthetic-throwaway",
        routes.Routes(microstructure=0.5, echogenicity=0.5, size=False, zoom=False),
    )
    monkeypatch.setitem(
        routes.SCENARIOS,
        "synthetic-throwaway-null",
        routes.Routes(microstructure=0, echogenicity=0, size=False, zoom=False),
    )
    # the generator's plugin file is read again, as a fresh process would
    monkeypatch.setattr(sources, "_SOURCES", {})
    monkeypatch.setattr(sources, "_discovered", False)
    monkeypatch.delitem(sys.modules, "benchmark._plugins.datasets.synthetic")
    assert list(sources.list_datasets(tag="scenario"))[-2:] == [
        "synthetic-throwaway",
        "synthetic-throwaway-null",
    ]
    assert list(sources.list_datasets(tag="null")) == ["synthetic-null", "synthetic-throwaway-null"]
    assert "synthetic-throwaway" in load_study(REPO / "studies/scenarios.toml").datasets
    out = tmp_path / "out"
    assert (
        main(
            [
                "scenarios",
                "--methods",
                "dummy-mean",
                "--patients",
                "24",
                "--images-per-patient",
                "1",
                "--n-jobs",
                "1",
                "--runs-dir",
                str(tmp_path / "runs"),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    table = pd.read_csv(out / "summary.csv")
    assert list(dict.fromkeys(table["scenario"]))[-2:] == [
        "synthetic-throwaway",
        "synthetic-throwaway-null",
    ]
    text = (out / "summary.md").read_text()
    assert "| synthetic-throwaway | synthetic-throwaway-null |" in text
