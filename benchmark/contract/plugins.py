"""Load plugin folders (``methods/``, ``datasets/``) by path, isolating broken files."""

from __future__ import annotations

import importlib.util
import os
import sys
import types
from pathlib import Path

from benchmark.contract.errors import first_line


def _project_root() -> Path:
    """The checkout holding ``methods/`` and ``datasets/``: beside the package when installed
    editable (the documented way), else ``$FLB_ROOT`` or the working directory."""
    for candidate in (os.environ.get("FLB_ROOT"), Path(__file__).resolve().parents[2]):
        if candidate and (Path(candidate) / "methods").is_dir():
            return Path(candidate).resolve()
    return Path.cwd()


REPO_ROOT = _project_root()
_NAMESPACE = "benchmark._plugins"


def _ensure_namespace(kind: str, folder: Path) -> str:
    for name in (_NAMESPACE, f"{_NAMESPACE}.{kind}"):
        if name not in sys.modules:
            module = types.ModuleType(name)
            module.__path__ = []  # a package, so plugins can be imported as submodules
            sys.modules[name] = module
    package = sys.modules[f"{_NAMESPACE}.{kind}"]
    if str(folder) not in package.__path__:
        # lets a plugin import its private helpers: `from . import _helpers`
        package.__path__.append(str(folder))
    return f"{_NAMESPACE}.{kind}"


def load_plugin_folder(folder: Path, kind: str) -> dict[str, str]:
    """Import every ``*.py`` in ``folder`` (not starting with ``_``).

    Returns ``{plugin name: one-line reason}`` for files that failed to import; the name is
    the file stem with ``_`` turned into ``-`` (the convention for one-method files).
    """
    broken: dict[str, str] = {}
    if not folder.is_dir():
        return broken
    package = _ensure_namespace(kind, folder)
    for path in sorted(folder.glob("*.py")):
        if path.name.startswith("_"):
            continue
        modname = f"{package}.{path.stem}"
        if modname in sys.modules:
            loaded = getattr(sys.modules[modname], "__file__", None)
            if loaded and Path(loaded).resolve() != path.resolve():
                # one module name per file stem: a same-named file in a second folder would
                # otherwise be skipped without a word (keyed by its path: its stem may be a
                # working plugin's name, which would hide the entry)
                broken[str(path)] = (
                    f"not loaded: a plugin file of the same name was loaded "
                    f"from {loaded}; rename one"
                )
            continue
        spec = importlib.util.spec_from_file_location(modname, path)
        assert spec is not None and spec.loader is not None  # a *.py path always has a loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[modname] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:  # isolate: a broken plugin is listed, not fatal
            del sys.modules[modname]
            first = first_line(exc)
            broken[path.stem.replace("_", "-")] = (
                f"{path.name} failed to import: {type(exc).__name__}: {first}"
            )
    return broken
