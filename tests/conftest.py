"""Shared fixtures: small cohorts written in the real on-disk format."""

from __future__ import annotations

from pathlib import Path

import pytest
from _cohorts import SHARED_DATA, intergrowth_mean_mm, write_tabular_cohort

__all__ = ["SHARED_DATA", "intergrowth_mean_mm", "write_tabular_cohort"]


@pytest.fixture(scope="session")
def tabular_cohort(tmp_path_factory) -> Path:
    return write_tabular_cohort(tmp_path_factory.mktemp("cohort") / "tabular")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # `tox -e test -- tests/test_x.py` runs the parallel pass and then `-m serial` on the same
    # selection; a selection without serial tests leaves the serial pass empty, which is
    # not a failure (pytest's exit code 5 would fail the tox run)
    if (exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED
            and session.config.getoption("markexpr") == "serial"):
        session.exitstatus = pytest.ExitCode.OK
