"""Helpers for the execution-layer tests (backends, resume, faults, determinism)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from benchmark.contract import registry

PLUGINS = Path(__file__).resolve().parent / "plugins"
REPO = Path(__file__).resolve().parents[1]


@contextmanager
def fault_plugins() -> Iterator[None]:
    """Make the fault-injection methods visible, in this process and in cell children.

    Undone afterwards so ``--methods all`` in other tests never meets them.
    """
    registry.discover()  # built-ins first, so only the fault methods are removed after
    before_env = os.environ.get("FLB_METHODS_PATH")
    before_methods = set(registry._METHODS)
    before_modules = set(sys.modules)
    os.environ["FLB_METHODS_PATH"] = os.pathsep.join(filter(None, [str(PLUGINS), before_env]))
    registry.discover(force=True)
    try:
        yield
    finally:
        if before_env is None:
            os.environ.pop("FLB_METHODS_PATH", None)
        else:
            os.environ["FLB_METHODS_PATH"] = before_env
        for name in set(registry._METHODS) - before_methods:
            del registry._METHODS[name]
        for name in set(sys.modules) - before_modules:
            if name.startswith("benchmark._plugins.methods.faults"):
                del sys.modules[name]


def subprocess_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["FLB_METHODS_PATH"] = os.pathsep.join(
        filter(None, [str(PLUGINS), os.environ.get("FLB_METHODS_PATH")])
    )
    env.setdefault("PYTHONHASHSEED", "0")
    env.update(extra)
    return env


def cells_by_label(run_dir: Path) -> pd.DataFrame:
    return pd.read_csv(run_dir / "cells.csv").set_index("label")
