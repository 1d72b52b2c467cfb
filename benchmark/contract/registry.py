"""Method registry: a decorator, ``list_methods('glob*')`` and ``create_method(name, **kw)``.

Plugins are discovered, never imported by name from the engine:

- built-in plugins are the ``*.py`` files of the repository's ``methods/`` folder, loaded
  by path under the private ``benchmark._plugins`` namespace (no top-level ``methods``
  package is installed);
- extra folders come from ``$FLB_METHODS_PATH`` (``os.pathsep``-separated);
- installed packages declare the entry-point group ``fetal_lung_bench.methods``.

A plugin file that fails to import, or a method whose requirements are missing, is listed
as *unavailable* with a one-line reason; it never stops discovery.  A second, different
class registered under a taken name (or a second factory for a taken family prefix) is
refused at registration with both definitions named (:mod:`benchmark.contract.naming`);
the file that tried is listed as unavailable with that reason.
"""

from __future__ import annotations

import fnmatch
import hashlib
import importlib.util
import inspect
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmark.contract.base import ROLES, BaseMethod
from benchmark.contract.naming import claim
from benchmark.contract.plugins import REPO_ROOT, load_plugin_folder

ENTRY_POINT_GROUP = "fetal_lung_bench.methods"
_METHODS: dict[str, type[BaseMethod]] = {}
_FAMILIES: dict[str, _Family] = {}
_BROKEN: dict[str, str] = {}
_discovered: str | None = None  # the $FLB_METHODS_PATH the plugins were loaded with


@dataclass
class _Family:
    """A name pattern (``timm-*``) whose members are built on demand by a factory."""

    prefix: str
    factory: Callable[[str], type[BaseMethod]]
    presets: tuple[str, ...] = ()
    summary: str = ""


@dataclass
class MethodInfo:
    name: str
    available: bool
    reason: str | None = None
    summary: str = ""
    parameters: dict[str, list[Any]] = field(default_factory=dict)
    source: str = ""
    #: declared on the class (docs/methods.md)
    role: str | None = None
    control_of: str | None = None
    capabilities: tuple[str, ...] = ()


def check_declarations(cls: type[BaseMethod]) -> type[BaseMethod]:
    """Refuse a class whose declared capabilities/roles do not match what it implements."""
    where = f"{cls.__qualname__} ({cls.name or 'no name'})"
    if not cls.name:
        raise ValueError(f"{cls.__qualname__} has no `name`")
    if cls.role is not None and cls.role not in ROLES:
        raise ValueError(f"{where}: role {cls.role!r} is not one of {ROLES} or None")
    if cls.control_of is not None and (
        not isinstance(cls.control_of, str) or cls.control_of == cls.name
    ):
        raise ValueError(f"{where}: control_of must name another method, got {cls.control_of!r}")
    if not isinstance(inspect.getattr_static(cls, "load"), classmethod):
        raise ValueError(f"{where}: load must be a classmethod returning a fitted instance")
    if cls.saves and (cls.save is BaseMethod.save or cls.load.__func__ is BaseMethod.load.__func__):  # type: ignore[attr-defined]
        raise ValueError(f"{where}: declares saves = True but does not implement save and load")
    if cls.segments and cls.segment is BaseMethod.segment:
        raise ValueError(f"{where}: declares segments = True but does not implement segment")
    unknown = sorted(set(cls.test_params) - set(cls.parameters))
    if unknown:
        raise ValueError(f"{where}: test_params names unknown parameter(s) {unknown}")
    if not all(
        isinstance(k, str) and isinstance(v, str) and v
        for k, v in cls.expected_failed_checks.items()
    ):
        raise ValueError(f"{where}: expected_failed_checks must map check names to reasons")
    return cls


def register_method(cls: type[BaseMethod]) -> type[BaseMethod]:
    """Class decorator: make ``cls`` available as ``cls.name``."""
    check_declarations(cls)
    claim(_METHODS, cls.name, cls, "method")
    return cls


def register_family(
    prefix: str,
    factory: Callable[[str], type[BaseMethod]],
    presets: Iterable[str] = (),
    summary: str = "",
) -> None:
    """Register every name starting with ``prefix`` (e.g. ``timm-``); ``presets`` are the
    members that ``--methods all`` includes."""
    claim(
        _FAMILIES,
        prefix,
        _Family(prefix, factory, tuple(presets), summary),
        "method family",
        defined_by=lambda family: family.factory,
    )


def discover(force: bool = False) -> None:
    """Import every plugin once; again only if ``$FLB_METHODS_PATH`` changed since (a
    reused worker process may get a task from a run with other plugin folders)."""
    global _discovered
    extra = os.environ.get("FLB_METHODS_PATH", "")
    if _discovered == extra and not force:
        return
    _discovered = extra
    folders = [REPO_ROOT / "methods"]
    folders += [Path(p) for p in extra.split(os.pathsep) if p]
    for folder in folders:
        _BROKEN.update(load_plugin_folder(folder, "methods"))
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            ep.load()
        except Exception as exc:  # a broken third-party plugin must not stop the others
            _BROKEN[ep.name] = f"entry point {ep.value}: {type(exc).__name__}: {exc}"


def _missing_requirements(cls: type[BaseMethod]) -> list[str]:
    missing = []
    for module in cls.requirements:
        try:
            if importlib.util.find_spec(module) is None:
                missing.append(module)
        except (ImportError, ValueError):
            missing.append(module)
    return missing


def _lookup(name: str) -> type[BaseMethod]:
    if name in _METHODS:
        return _METHODS[name]
    for prefix, family in _FAMILIES.items():
        if name.startswith(prefix) and len(name) > len(prefix):
            cls = check_declarations(family.factory(name))
            _METHODS[name] = cls
            return cls
    if name in _BROKEN:
        raise LookupError(f"method {name!r} is unavailable: {_BROKEN[name]}")
    raise LookupError(
        f"unknown method {name!r}; `python -m benchmark list` shows the available ones"
    )


def method_info(name: str) -> MethodInfo:
    discover()
    if name in _BROKEN and name not in _METHODS:
        return MethodInfo(name, False, _BROKEN[name], source="plugin")
    cls = _lookup(name)
    missing = _missing_requirements(cls)
    reason = f"missing package(s): {', '.join(missing)}" if missing else None
    return MethodInfo(
        name,
        not missing,
        reason,
        cls.summary,
        dict(cls.parameters),
        sys.modules.get(cls.__module__, None).__file__ if cls.__module__ in sys.modules else "",  # type: ignore[union-attr, arg-type]
        cls.role,
        cls.control_of,
        tuple(c for c in ("saves", "segments", "reads_truth") if getattr(cls, c)),
    )


def _all_names() -> list[str]:
    discover()
    names = set(_METHODS) | set(_BROKEN)
    for family in _FAMILIES.values():
        names.update(family.presets)
    return sorted(names)


def list_methods(
    pattern: str | Iterable[str] = "*", available_only: bool = False, variants: bool = False
) -> list[str]:
    """Method names matching one or more globs; ``'all'`` means ``'*'``.

    ``variants``: also each matched method's ``all_variants`` as ``name[setting]`` selections
    (what a run of the pattern executes; the names alone are what ``list`` shows).

    Members of a family (``timm-resnet34``) match by exact name even if not a preset.
    """
    patterns = [pattern] if isinstance(pattern, str) else list(pattern)
    known = _all_names()
    out: list[str] = []
    for pat in patterns:
        pat = "*" if pat == "all" else pat
        hits = fnmatch.filter(known, pat)
        if not hits and not any(c in pat for c in "*?["):
            hits = [pat]  # exact family member or unknown: resolved (or refused) later
        out.extend(h for h in hits if h not in out)
    if available_only:
        out = [n for n in out if _is_available(n)]
    if variants:
        out = [
            v
            for n in out
            # a glob takes the variants; a method asked for by its exact name comes alone
            for v in [n, *(f"{n}[{s}]" for s in _all_variants(n) if n not in patterns)]
        ]
    return out


def _all_variants(name: str) -> tuple[str, ...]:
    try:
        return tuple(_lookup(name).all_variants)
    except LookupError:
        return ()


def _is_available(name: str) -> bool:
    try:
        return method_info(name).available
    except LookupError:
        return False


def get_method_class(name: str) -> type[BaseMethod]:
    discover()
    return _lookup(name)


def declares(name: str, capability: str, default: bool = False) -> bool:
    """Whether the registered method ``name`` declares a capability (``uses_images``,
    ``reads_truth``, …); ``default`` when no such method is registered here."""
    try:
        return bool(getattr(get_method_class(name), capability))
    except LookupError:
        return default


def method_source_digest(name: str) -> str:
    """Digest of the source files that define a method (its class and every base class
    outside the standard library), so a finished cell is never reused after the method's
    code changed."""
    cls = get_method_class(name)
    digest = hashlib.sha256()
    files = []
    for klass in cls.__mro__:
        module = sys.modules.get(klass.__module__)
        path = getattr(module, "__file__", None)
        if path and path not in files and klass is not object:
            files.append(path)
    for path in files:
        try:
            digest.update(Path(path).read_bytes())
        except OSError:  # e.g. a zipped install: fall back to the class source
            digest.update(inspect.getsource(cls).encode())
    return digest.hexdigest()[:12]


def create_method(name: str, **params: Any) -> BaseMethod:
    """Instantiate a registered method with parameters (unknown ones raise)."""
    cls = get_method_class(name)
    missing = _missing_requirements(cls)
    if missing:
        raise LookupError(f"method {name!r} needs missing package(s): {', '.join(missing)}")
    return cls(**params)
