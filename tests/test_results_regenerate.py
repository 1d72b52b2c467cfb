"""CI check: the committed results/ tables regenerate byte-identically from results/ inputs.

results/ is written by ``python -m benchmark report RUN --out results`` (see
results/README.md).  Any change to a statistic, a format or a caption shows up here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmark.report import check_results

RESULTS = Path(__file__).resolve().parents[1] / "results"


def test_results_tables_regenerate_byte_identically():
    if not (RESULTS / "predictions.csv").is_file():
        pytest.skip(
            "!!! results/ HAS NO predictions.csv YET: the committed reference run is missing, "
            "so its tables are NOT being checked. Create it with `python -m benchmark run "
            "--methods all` then `python -m benchmark report runs/<run> --out results` !!!"
        )
    problems = check_results(RESULTS)
    assert not problems, (
        "results/tables no longer match what the code computes from results/predictions.csv:\n"
        + "\n".join(problems)
        + "\nIf the change is intended, re-export: python -m benchmark report RUN --out results"
    )
