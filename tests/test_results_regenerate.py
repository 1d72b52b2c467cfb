"""CI check: the committed results/ tables regenerate byte-identically from results/ inputs.

results/ is written by ``python -m benchmark report RUN --out results`` (see
results/README.md).  Any change to a statistic, a format or a caption shows up here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmark.report import check_results

RESULTS = Path(__file__).resolve().parents[1] / "results"


#: result folders beside the reference run that are exported runs (a report folder with its
#: own inputs and run.json, results/README.md); a study's stored inputs without a report
#: (``store_inputs``, e.g. scenarios/runs/<world>/) are checked by the study-output test
SIDE_RUNS = sorted(
    p.parent.relative_to(RESULTS).as_posix()
    for p in RESULTS.glob("*/**/predictions.csv")
    if (p.parent / "run.json").is_file()
)


def test_results_tables_regenerate_byte_identically():
    if not (RESULTS / "predictions.csv").is_file():
        pytest.skip(
            "!!! results/ HAS NO predictions.csv YET: the committed reference run is missing, "
            "so its tables are NOT being checked. Create it with `python -m benchmark run "
            "--methods all` then `python -m benchmark report runs/<run> --out results` !!!"
        )
    _check(RESULTS)


@pytest.mark.parametrize("folder", SIDE_RUNS)
def test_side_run_tables_regenerate_byte_identically(folder):
    _check(RESULTS / folder)


def test_side_runs_are_found():
    expected = {
        "site-shift",
        *(
            f"{kind}/{world}"
            for kind in ("transfer-seeds", "nets-budget")
            for world in ("synthetic", "synthetic-texture")
        ),
    }
    assert expected <= set(SIDE_RUNS)


def _check(root: Path) -> None:
    problems = check_results(root)
    assert not problems, (
        f"{root.name}/tables no longer match what the code computes from its predictions.csv:\n"
        + "\n".join(problems)
        + "\nIf the change is intended, re-export: python -m benchmark report RUN --out "
        + str(root.relative_to(RESULTS.parent))
    )


STUDIES = RESULTS.parent / "studies"
#: study folders committed before studies stored their inputs (results/README.md): their
#: study outputs cannot be rebuilt until the study is run again
OUTPUTS_ONLY = {"null-check"}


def _studies():
    from benchmark.execution.results_check import studies_under

    return {
        folder.relative_to(RESULTS.resolve()).as_posix(): study
        for folder, study in studies_under(RESULTS, STUDIES).items()
    }


def test_every_results_folder_is_made_by_a_study_file_or_listed_as_not():
    studies = _studies()
    folders = {p.name for p in RESULTS.iterdir() if p.is_dir()} - {"tables", "figures"}
    # not studies, each listed in results/README.md with the one command that makes it:
    # realism/ is a measurement script; plan/ is the `plan` verb on the reference run
    assert folders - set(studies) == {"realism", "plan"}
    exports = {
        f"{name}/{study.export_dir(run)}".removesuffix("/.")
        for name, study in studies.items()
        if study.export
        for run in study.runs
    }
    # every folder with predictions belongs to a study
    assert set(SIDE_RUNS) == exports


@pytest.mark.parametrize("folder", sorted(_studies()))
def test_study_outputs_regenerate_byte_identically(folder):
    from benchmark.report.build import compare_files
    from benchmark.report.studies.build import fresh_outputs

    study = _studies()[folder]
    fresh = fresh_outputs(study, RESULTS / folder)
    if folder in OUTPUTS_ONLY:
        assert isinstance(fresh, str) and "stores only outputs" in fresh
        pytest.skip(f"results/{folder}: {fresh}")
    assert not isinstance(fresh, str), fresh
    problems = [
        p
        for p in compare_files(RESULTS / folder, fresh, "study output")
        if Path(p.split(":")[0]).name in fresh
    ]
    assert not problems, "\n".join(problems) + (
        f"\nIf intended: python -m benchmark check-results --update ({study.source})"
    )
