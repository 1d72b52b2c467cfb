"""docs/bad-inputs.md is what the code says today, and every case is handled properly:
a one-line message naming the file or row (or a reported skip / warning), never a
traceback, never silence."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from benchmark.cli.bad_inputs import render, run_cases

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "docs" / "bad-inputs.md"
#: a message names where: a manifest row, a file of the cohort, a predict input or the folder
NAMES_PLACE = re.compile(
    r"row \d|rows \d|\w+\.(csv|json|png|tif|pdf|jpg)\b|input \d|"
    r"my-cohort|kfold:\d"
)


@pytest.fixture(scope="module")
def outcomes():
    return run_cases()


def test_at_least_sixty_nine_cases_none_a_traceback(outcomes):
    assert len(outcomes) >= 61 + 8  # issue 26 added at least eight (bad_input_slips)
    assert [o.title for o in outcomes if o.traceback] == []


def test_every_case_is_named_or_reported(outcomes):
    for o in outcomes:
        assert o.lines, f"{o.title}: silent"
        if o.exit_code == 0:  # accepted: only with a warning or a listed skip
            assert any(ln.startswith(("WARNING", "  skipped")) for ln in o.lines), o.title
        else:
            assert o.exit_code in (1, 2), o.title
            assert all(NAMES_PLACE.search(ln) for ln in o.lines), (o.title, o.lines)


def test_page_matches_the_code(outcomes):
    fresh = render(outcomes)
    assert PAGE.read_text() == fresh, (
        "docs/bad-inputs.md is out of date: python -m benchmark.cli.bad_inputs > docs/bad-inputs.md"
    )
