"""Shared fixtures: small cohorts written in the real on-disk format."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from _cohorts import SHARED_DATA, intergrowth_mean_mm, write_tabular_cohort
from _serial_pass import check_serial_marks_are_visible, ignore_in_serial_pass

__all__ = ["SHARED_DATA", "intergrowth_mean_mm", "write_tabular_cohort"]

# `python -m benchmark run` defaults to a joblib pool of every core (FLB_N_JOBS); under
# pytest-xdist every core already runs a test, so each CLI run in a test would spawn two
# more worker processes and re-import the methods in each (~3 s of CPU per run, and
# oversubscribed cores).  The parallel backends keep their own tests (test_backends.py
# passes n_jobs explicitly); a caller's FLB_N_JOBS wins.
os.environ.setdefault("FLB_N_JOBS", "1")


@pytest.fixture(scope="session")
def tabular_cohort(tmp_path_factory) -> Path:
    return write_tabular_cohort(tmp_path_factory.mktemp("cohort") / "tabular")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # `tox -e test -- tests/test_x.py` runs the parallel pass and then `-m serial` on the same
    # selection; a selection without serial tests leaves the serial pass empty, which is
    # not a failure (pytest's exit code 5 would fail the tox run)
    if (
        exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED
        and session.config.getoption("markexpr") == "serial"
    ):
        session.exitstatus = pytest.ExitCode.OK


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    return ignore_in_serial_pass(collection_path, config)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    check_serial_marks_are_visible(items)
    # tests marked cuda need a GPU torch can see (scripts/gpu_check.sh runs them on one);
    # asked only when such a test is collected, and without importing torch on a machine
    # with no GPU device nodes
    if any(item.get_closest_marker("cuda") for item in items):
        from benchmark.execution.backends import cuda_device_count

        if cuda_device_count() == 0:
            skip = pytest.mark.skip(reason="no CUDA device (scripts/gpu_check.sh runs these)")
            for item in items:
                if item.get_closest_marker("cuda"):
                    item.add_marker(skip)
    # files holding a test marked slow first, each file kept whole and in order (so module
    # fixtures are built once): with `--dist loadfile --no-loadscope-reorder` (tox -e test)
    # pytest-xdist hands out files in this order, and a long file handed out late runs
    # alone at the end while the other core idles (test_readme.py did, in a loaded -n 2 run)
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)
