"""Leak detection: attribute paths from a test view to GA, outcomes or simulation truth."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmark.data.cohort import GA_COLUMNS, OUTCOME_COLUMNS, TRUTH_PREFIX


def _hidden(column: Any, allow_truth: bool) -> bool:
    text = str(column)
    return (
        text in GA_COLUMNS
        or text in OUTCOME_COLUMNS
        or (not allow_truth and text.startswith(TRUTH_PREFIX))
    )


def find_leaks(obj: Any, allow_truth: bool = False, max_depth: int = 8) -> list[str]:
    """Attribute paths from ``obj`` to a table or series holding GA, a post-scan outcome or
    (unless ``allow_truth``) simulation truth."""
    leaks: list[str] = []
    seen: set[int] = set()
    stack: list[tuple[Any, str, int]] = [(obj, "view", 0)]
    while stack:
        item, path, depth = stack.pop()
        if id(item) in seen or depth > max_depth:
            continue
        seen.add(id(item))
        if isinstance(item, pd.DataFrame):
            names = [*item.columns, *item.index.names]
            leaks += [f"{path}[{c!r}]" for c in names if _hidden(c, allow_truth)]
            continue
        if isinstance(item, pd.Series | pd.Index):
            if _hidden(item.name, allow_truth):
                leaks.append(f"{path} (named {item.name!r})")
            continue
        for child, where in _children(item, path):
            stack.append((child, where, depth + 1))
    return sorted(set(leaks))


def _children(item: Any, path: str) -> Iterator[tuple[Any, str]]:
    if (
        item is None
        or isinstance(item, str | bytes | int | float | bool | np.ndarray | Path | type)
        or inspect.ismodule(item)
        or inspect.isroutine(item)
    ):
        return
    if isinstance(item, dict):
        for key, value in item.items():
            if _hidden(key, False):
                yield pd.Series(dtype=float, name=key), f"{path}[{key!r}]"
            yield value, f"{path}[{key!r}]"
        return
    if isinstance(item, list | tuple | set | frozenset):
        for i, value in enumerate(item):
            yield value, f"{path}[{i}]"
        return
    for name, value in getattr(item, "__dict__", {}).items():
        yield value, f"{path}.{name}"
    for name in getattr(type(item), "__slots__", ()):
        if hasattr(item, name):
            yield getattr(item, name), f"{path}.{name}"
