"""Shared infrastructure of the performance suite (pytest-benchmark).

- Default test run (``pytest``): ``--benchmark-disable`` from pyproject runs each benchmark
  body once as a plain test, so the suite still checks they work.
- ``tox -e perf``: ``--benchmark-enable`` and a comparison against the committed baseline
  ``tests/benchmarks/baseline/<machine>/0001_baseline.json``; a mean more than 25 % slower
  fails.  Refresh the baseline (same machine class only) with
  ``pytest tests/benchmarks --benchmark-enable --benchmark-storage=tests/benchmarks/baseline
  --benchmark-save=baseline`` and commit it with the figures in ``results/performance.md``.
"""

from __future__ import annotations

import os

import psutil
import pytest

from benchmark.execution import provenance


def pytest_benchmark_update_machine_info(config, machine_info) -> None:
    """Record what a figure depends on: cores, memory, load and library versions."""
    machine_info["cpu_count_logical"] = psutil.cpu_count()
    machine_info["memory_gib"] = round(psutil.virtual_memory().total / 2**30, 1)
    machine_info["loadavg_1min_at_start"] = os.getloadavg()[0]
    machine_info["versions"] = provenance.versions()


@pytest.fixture(scope="session")
def small_synthetic_root():
    """A 24-patient, 1-image, 256 px synthetic cohort (generated once into the cache)."""
    from benchmark.data.sources import resolve_dataset

    try:
        return resolve_dataset("synthetic", patients=24, images_per_patient=1, size=256)
    except LookupError as exc:
        pytest.skip(f"synthetic cohort unavailable: {exc}")
