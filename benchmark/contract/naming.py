"""One rule for every registry (methods, families, datasets, readers, tables, figures, CLI
verbs): a name has one definition.

Two plugins claiming the same name is an error naming both definitions, not a silent
overwrite (whichever file was imported last would otherwise win).  The same definition
registered again (a module imported or reloaded a second time: same module, same qualified
name) replaces the first quietly, so re-running discovery stays harmless.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, MutableMapping
from typing import Any, TypeVar

T = TypeVar("T")


class DuplicateNameError(ValueError):
    """Two different definitions registered under one name."""


def definition(obj: Any) -> str:
    """``module.QualName (file)``: where a registered class, function or module is defined."""
    if isinstance(obj, type(sys)):  # a module (CLI verbs)
        return f"{obj.__name__} ({getattr(obj, '__file__', '?')})"
    module = getattr(obj, "__module__", "?")
    where = getattr(sys.modules.get(module), "__file__", None)
    qualname = getattr(obj, "__qualname__", type(obj).__qualname__)
    return f"{module}.{qualname}" + (f" ({where})" if where else "")


def claim(
    store: MutableMapping[str, T],
    name: str,
    value: T,
    kind: str,
    defined_by: Callable[[T], Any] = lambda v: v,
) -> None:
    """``store[name] = value``, refusing a second, different definition of ``name``.

    ``defined_by`` maps a stored value to the object whose definition identifies it (the
    builder of a report registration, the class of a reader instance, ...).
    """
    if name in store:
        first, second = definition(defined_by(store[name])), definition(defined_by(value))
        if first != second:
            raise DuplicateNameError(f"{kind} {name!r} is registered twice: {first} and {second}")
    store[name] = value
