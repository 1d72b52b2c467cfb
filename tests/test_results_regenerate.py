"""CI check: the committed results/ tables regenerate byte-identically from results/ inputs.

results/ is written by ``python -m benchmark report RUN --out results`` (see
results/README.md).  Any change to a statistic, a format or a caption shows up here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmark.report import check_results

RESULTS = Path(__file__).resolve().parents[1] / "results"


#: result folders beside the reference run that hold their own inputs (results/README.md)
SIDE_RUNS = sorted(p.parent.relative_to(RESULTS).as_posix()
                   for p in RESULTS.glob("*/**/predictions.csv"))


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
    expected = {"site-shift", *(f"{kind}/{world}" for kind in ("transfer-seeds", "nets-budget")
                                for world in ("synthetic", "synthetic-texture"))}
    assert expected <= set(SIDE_RUNS)


def _check(root: Path) -> None:
    problems = check_results(root)
    assert not problems, (
        f"{root.name}/tables no longer match what the code computes from its predictions.csv:\n"
        + "\n".join(problems)
        + "\nIf the change is intended, re-export: python -m benchmark report RUN --out "
        + str(root.relative_to(RESULTS.parent))
    )
