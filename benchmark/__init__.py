"""fetal-lung-bench: gestational-age estimators from fetal lung ultrasound, compared honestly.

Public API (timm-style)::

    from benchmark import list_methods, create_method, register_method, BaseMethod
    from benchmark import TrainView, TestView, DatasetInfo   # what fit / predict / skip receive

The engine is grouped by the flow of the data, each layer importing only those below it
(``tests/test_layers.py``; the import-linter contract in ``pyproject.toml``)::

    cli  →  execution  →  report  →  stats  →  data  →  contract

Method-family code (nets, texture features, patches) lives in ``benchmark.kits``, which
only plugins import.
"""

from benchmark.contract.base import BaseMethod
from benchmark.contract.registry import (
    create_method,
    list_methods,
    method_info,
    register_family,
    register_method,
)

_VIEWS = ("DatasetInfo", "TestView", "TrainView")


def __getattr__(name: str) -> object:
    # the views live in the data layer (pandas, numpy); loaded on first use so that
    # ``python -m benchmark --help`` stays light
    if name in _VIEWS:
        from benchmark.data import cohort

        return getattr(cohort, name)
    raise AttributeError(f"module 'benchmark' has no attribute {name!r}")


#: the one place the version is written (pyproject.toml reads it; CHANGELOG.md says what changed)
__version__ = "0.1.0"
__all__ = [
    "BaseMethod",
    "DatasetInfo",
    "TestView",
    "TrainView",
    "create_method",
    "list_methods",
    "method_info",
    "register_family",
    "register_method",
    "__version__",
]
