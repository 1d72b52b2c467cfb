"""The scenario study's verdicts (issue 21), duplicate selections reported, a re-run that
reuses every cell reproducing its folder byte for byte, and check-results' provenance line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd
import pytest

from benchmark.cli import main
from benchmark.execution.study import duplicate_selections, run_study
from benchmark.report.studies.spec import Study, load_study

VERDICTS = """
[study]
name = "verdicts"
out = "results/verdicts"

[runs]
datasets = ["synthetic-texture", "synthetic-anatomy"]
options = { patients = 40, images_per_patient = 1 }
methods = ["glcm-ridge", "patchstats-ridge", "dummy-mean"]

[outputs]
export = "{dataset}"
tables = ["scenario_matrix"]

[outputs.parameters]
positive_control = "synthetic-texture"
oracle_share = 0.8
reference = "glcm-*"
texture_free = "synthetic-anatomy"
"""


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory):
    root = tmp_path_factory.mktemp("verdicts")
    mp = pytest.MonkeyPatch()
    mp.setenv("FLB_CACHE", str(root / "cache"))
    (root / "studies").mkdir()
    path = root / "studies" / "verdicts.toml"
    path.write_text(textwrap.dedent(VERDICTS), encoding="utf-8")
    execution = {"runs_dir": str(root / "runs"), "backend": "sequential", "n_jobs": 1}
    study = load_study(path).with_changes(out=str(root / "results" / "verdicts"))
    first = run_study(study, execution)
    before = _snapshot(root / "results" / "verdicts")
    second = run_study(study, execution)
    yield root, first, second, before
    mp.undo()


def test_positive_control_states_each_image_method_against_oracle_share_and_best_glcm(verdicts):
    root, first, *_ = verdicts
    out = root / "results" / "verdicts"
    table = pd.read_csv(out / "summary.csv")
    texture = table[table["scenario"] == "synthetic-texture"].set_index("method")
    oracle_r = texture["oracle_r"].iloc[0]
    # the only image method that is no control is glcm-ridge: the family's best, its own row
    assert texture.at["glcm-ridge", "vs_reference"] == "best"
    met = texture.at["glcm-ridge", "r"] >= 0.8 * oracle_r
    assert bool(texture.at["glcm-ridge", "positive_control_met"]) == met
    assert texture[["vs_reference"]].drop(index="glcm-ridge").isna().all().all()  # controls
    text = (out / "summary.md").read_text()
    assert "Positive control (`synthetic-texture`)" in text and "| glcm-ridge |" in text
    anatomy = table[(table["scenario"] == "synthetic-anatomy") & table["uses_images"]]
    named = anatomy[anatomy["ci_excludes_0"].astype(bool)]["method"]
    line = next(x for x in text.splitlines() if x.startswith("Texture-free world"))
    assert all(m in line for m in named)
    assert f"{len(named)} of {len(anatomy)}" in line or (not len(named) and "none" in line)


def test_a_rerun_reusing_every_cell_reproduces_the_folder_byte_for_byte(verdicts):
    root, first, second, before = verdicts
    assert first.n_computed > 0 and second.n_computed == 0 and second.n_failed == 0
    assert _snapshot(root / "results" / "verdicts") == before


def test_check_results_prints_the_commit_its_predictions_came_from(verdicts, capsys):
    root = verdicts[0]
    assert main(["check-results", str(root / "results"), "--studies", str(root / "studies")]) == 0
    printed = capsys.readouterr().out
    assert "predictions computed by " in printed


def test_a_selection_that_adds_nothing_beyond_all_is_named():
    study = Study("x", "results/x", ("synthetic",), methods=("all", "patchstats-ridge[norm=image]"))
    notes = duplicate_selections(study.with_changes(source="studies/x.toml"))
    assert notes == [
        "WARNING studies/x.toml: runs.methods: 'patchstats-ridge[norm=image]' adds nothing: "
        "'all' already selects it (run once; drop it from the file)"
    ]
    assert duplicate_selections(study.with_changes(methods=("all", "glcm-ridge[levels=16]"))) == []


def test_a_selection_that_spells_a_default_out_names_both_spellings():
    """``unet-transfer[norm=image]`` is ``unet-transfer`` (the light profile's norm is image):
    the same fit under another label, computed twice; the default comes from the method
    (its profile), so ``norm=fixed`` is a new cell under ``light`` and the default under
    ``profile=paper``."""
    study = Study("x", "results/x", ("synthetic",), methods=("all", "unet-transfer[norm=image]"))
    notes = duplicate_selections(study.with_changes(source="studies/x.toml"))
    assert notes == [
        "WARNING studies/x.toml: runs.methods: 'unet-transfer[norm=image]' and 'unet-transfer' "
        "(from 'all') are one cell (norm=image: unet-transfer's default, spelled out): "
        "computed twice under two labels (keep one spelling in the file)"
    ]
    assert (
        duplicate_selections(study.with_changes(methods=("all", "unet-transfer[norm=fixed]"))) == []
    )
    paper = ("unet-scratch[profile=paper]", "unet-scratch[norm=fixed,profile=paper]")
    (note,) = duplicate_selections(study.with_changes(methods=paper))
    assert f"{paper[1]!r} and {paper[0]!r} are one cell (norm=fixed:" in note
    reverse = duplicate_selections(study.with_changes(methods=("unet-*[norm=image]", "all")))
    assert len(reverse) == 1 and reverse[0].startswith("WARNING x: runs.methods: 'all' selects: ")
    pair = "'unet-scratch' and 'unet-scratch[norm=image]' (from 'unet-*[norm=image]') are one"
    assert pair in reverse[0] and "'unet-transfer' and 'unet-transfer[norm=image]'" in reverse[0]


def test_a_reused_runs_provenance_is_rewritten_by_the_runners_own_writer(tmp_path):
    """``_keep_provenance`` puts back the stored commit/machine/versions through
    ``write_run_record``, the runner's writer: the bytes are those the runner would write,
    and a run whose provenance did not change keeps its run.json byte for byte."""
    import json
    from types import SimpleNamespace

    from benchmark.execution.store import RUN_RECORD, write_run_record
    from benchmark.execution.study import _keep_provenance

    config = {"dataset": "synthetic", "methods": ["dummy-mean"], "split": "paper", "seeds": [0]}
    fresh = {"config": config, "dataset_fingerprint": "f1", "git_commit": "new", "machine": "b"}
    stored = {**fresh, "git_commit": "old", "machine": "a", "versions": {"numpy": "2.0"}}
    run_dir, folder, expected = tmp_path / "run", tmp_path / "inputs", tmp_path / "expected"
    done = SimpleNamespace(n_computed=0, n_failed=0, run_dir=run_dir)
    folder.mkdir()
    # the report's portable copy, as build_report stores it beside the study's inputs
    (folder / RUN_RECORD).write_text(json.dumps(stored, indent=2, sort_keys=True) + "\n")

    write_run_record(run_dir, fresh)
    _keep_provenance(done, folder)
    write_run_record(
        expected, {**fresh, "git_commit": "old", "machine": "a", "versions": stored["versions"]}
    )
    assert (run_dir / RUN_RECORD).read_bytes() == (expected / RUN_RECORD).read_bytes()

    unchanged = (run_dir / RUN_RECORD).read_bytes()
    _keep_provenance(done, folder)  # the same provenance again: not a byte moves
    assert (run_dir / RUN_RECORD).read_bytes() == unchanged
    (folder / RUN_RECORD).write_text(json.dumps({**stored, "dataset_fingerprint": "f2"}))
    write_run_record(run_dir, fresh)
    _keep_provenance(done, folder)  # another cohort: the fresh provenance stays
    assert json.loads((run_dir / RUN_RECORD).read_text())["git_commit"] == "new"
