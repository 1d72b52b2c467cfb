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


def _key(name: str, params: dict[str, Any]) -> str:
    return name + json.dumps(params, sort_keys=True, default=str)


def _canonical(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` in the method's own one spelling (``BaseMethod.canonical_params``)."""
    try:
        return get_method_class(name).canonical_params(params)
    except LookupError:  # unavailable: compared as spelled
        return params


def _spelled_out(params: dict[str, Any], canonical: dict[str, Any]) -> list[str]:
    return [f"{k}={v}" for k, v in params.items() if canonical.get(k) != v]


def duplicate_selections(selections: Iterable[str], where: str, place: str) -> list[str]:
    """One WARNING line per selection that adds no cell beyond the selections before it.

    Identical cells (``unet-transfer[norm=fixed]`` beside ``all``, which holds it) run once.
    A cell spelled with a setting that is the method's default (``unet-transfer[norm=image]``
    beside ``unet-transfer``: the light profile's norm is image) is the same configuration
    under another label and parameters, so it would be computed twice: the line names both
    spellings and the settings that are defaults.  ``where`` names the list (``--methods``),
    ``place`` where to remove it from."""
    seen: dict[str, tuple[str, str, dict]] = {}  # canonical key → (shown, selection, params)
    spelled: set[str] = set()  # keys as spelled
    notes = []
    for selection in selections:
        entries = expand([selection])
        # one method named with one setting: the selection is the spelling (else a glob, all
        # or a grid, and each cell goes by its label)
        named = len(entries) == 1 and split_selection(selection)[0] == entries[0][0]
        collapsed, adds = [], False
        for name, params, label in entries:
            canonical = _canonical(name, params)
            key, ckey = _key(name, params), _key(name, canonical)
            if ckey in seen and key not in spelled:
                first, _, first_params = seen[ckey]
                defaults = _spelled_out(params, canonical) or _spelled_out(first_params, canonical)
                collapsed.append(
                    f"{selection if named else label!r} and {first} are one cell "
                    f"({', '.join(defaults)}: {name}'s default{'s' * (len(defaults) > 1)}, "
                    "spelled out)"
                )
            adds = adds or ckey not in seen
            spelled.add(key)
            shown = repr(selection) if named else f"{label!r} (from {selection!r})"
            seen.setdefault(ckey, (shown, selection, params))
        if collapsed:
            head = "" if named else f"{selection!r} selects: "
            notes.append(
                f"WARNING {where}: {head}{'; '.join(collapsed)}: computed twice under two "
                f"labels (keep one spelling in {place})"
            )
        elif entries and not adds:
            origin = seen[_key(entries[0][0], _canonical(*entries[0][:2]))][1]
            notes.append(
                f"WARNING {where}: {selection!r} adds nothing: {origin!r} already selects it "
                f"(run once; drop it from {place})"
            )
    return notes
