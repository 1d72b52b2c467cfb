"""Check suites for every extension kind (scikit-learn's ``parametrize_with_checks``).

One generator of ``(check name, Check)`` pairs per kind, and one pytest helper for all::

    from benchmark.testing import method_checks, parametrize_with_checks

    @parametrize_with_checks(["my-method"], method_checks)
    def test_my_method(check):
        check()

=================  ==============================  =========================================
kind               generator                       subject
=================  ==============================  =========================================
method             :func:`method_checks`           a registered name or a BaseMethod class
image reader       :func:`reader_checks`           an ImageReader class
report table       :func:`table_checks`            a registered table name
report figure      :func:`figure_checks`           a registered figure name
dataset source     :func:`dataset_checks`          a registered source name
CLI verb           :func:`cli_checks`              a verb name
=================  ==============================  =========================================

``tests/test_common.py`` runs every suite over everything registered; ``pytest -k
deterministic`` selects the determinism check of every method, table and figure.
"""

from benchmark.testing._core import Check, CheckError, parametrize_with_checks, run_checks
from benchmark.testing.cli import cli_checks
from benchmark.testing.cohort import textured_frame, write_check_cohort
from benchmark.testing.datasets import dataset_checks, registered_sources
from benchmark.testing.leaks import find_leaks
from benchmark.testing.methods import (
    GA_RANGE,
    MethodCheckError,
    check_method,
    default_check_cohort,
    method_checks,
)
from benchmark.testing.readers import reader_checks, registered_readers
from benchmark.testing.report import figure_checks, table_checks

__all__ = [
    "GA_RANGE",
    "Check",
    "CheckError",
    "MethodCheckError",
    "check_method",
    "cli_checks",
    "dataset_checks",
    "default_check_cohort",
    "figure_checks",
    "find_leaks",
    "method_checks",
    "parametrize_with_checks",
    "reader_checks",
    "registered_readers",
    "registered_sources",
    "run_checks",
    "table_checks",
    "textured_frame",
    "write_check_cohort",
]
