"""Shared fixtures: small cohorts written in the real on-disk format."""

from __future__ import annotations

from pathlib import Path

import pytest
from _cohorts import SHARED_DATA, intergrowth_mean_mm, write_tabular_cohort

__all__ = ["SHARED_DATA", "intergrowth_mean_mm", "write_tabular_cohort"]


@pytest.fixture(scope="session")
def tabular_cohort(tmp_path_factory) -> Path:
    return write_tabular_cohort(tmp_path_factory.mktemp("cohort") / "tabular")
