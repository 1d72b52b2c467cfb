"""Parse method selections: ``'unet*'``, ``'biometry-hadlock[combination=[HC+FL,AC+FL]]'``."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterable
from typing import Any

from benchmark.contract.registry import get_method_class, list_methods

_SELECTION = re.compile(r"^(?P<name>[^\[\]]+)(?:\[(?P<params>.*)\])?$")


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _split_top_level(text: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in text:
        depth += ch == "["
        depth -= ch == "]"
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    return [*parts, cur] if cur else parts


def split_selection(selection: str) -> tuple[str, str]:
    """``'glcm-*[levels=[16,32]]'`` → ``('glcm-*', 'levels=[16,32]')`` (``''``: no params)."""
    match = _SELECTION.match(selection.strip())
    if not match:
        raise ValueError(f"cannot parse method selection {selection!r}")
    return match["name"].strip(), match["params"] or ""


def parse_selection(selection: str) -> tuple[str, dict[str, list[Any]]]:
    pattern, params = split_selection(selection)
    overrides: dict[str, list[Any]] = {}
    for item in _split_top_level(params):
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"{selection!r}: expected key=value, got {item!r}")
        value = value.strip()
        if value.startswith("[") and value.endswith("]"):
            values = [_parse_value(v.strip()) for v in _split_top_level(value[1:-1])]
        else:
            values = [_parse_value(value)]
        overrides[key.strip()] = values
    return pattern, overrides


def expand(selections: Iterable[str]) -> list[tuple[str, dict[str, Any], str]]:
    """→ ``[(method name, params, label)]``; every grid combination is one entry."""
    out: list[tuple[str, dict[str, Any], str]] = []
    for selection in selections:
        pattern, overrides = parse_selection(selection)
        for member in list_methods(pattern, variants=True):
            name, variant = parse_selection(member)  # an ``all_variants`` entry has settings
            try:
                grid = dict(get_method_class(name).parameters)
            except LookupError:
                out.append((name, {}, name))  # unavailable: recorded, not fatal
                continue
            unknown = set(overrides) - set(grid)
            if unknown:
                raise ValueError(f"{name}: unknown parameter(s) {sorted(unknown)}")
            defaults = {k: v[0] for k, v in grid.items()}
            grid.update(variant)
            grid.update(overrides)
            keys = list(grid)
            for combo in itertools.product(*(grid[k] for k in keys)):
                params = dict(zip(keys, combo))
                varied = {k: v for k, v in params.items() if len(grid[k]) > 1 or v != defaults[k]}
                label = name + (
                    "[" + ",".join(f"{k}={v}" for k, v in varied.items()) + "]" if varied else ""
                )
                entry = (name, params, label)
                if entry not in out:
                    out.append(entry)
    return out
