"""The project's dependencies on a GPU machine without a network: which wheels to bring, and
installing the ones that machine lacks.

The GPU machine (docs/gpu-check.md) has Python 3.12 with torch, timm, scikit-learn,
scikit-image, pandas, scipy, statsmodels and matplotlib, nothing else and no network.

- ``list``: ``name==version`` of every distribution the project needs there: the closure of
  ``[project] dependencies`` + the ``images`` and ``cluster`` extras + pytest (the CUDA tests),
  as installed in *this* environment (the versions the suite passes with), minus the
  packages the GPU machine has (:data:`PROVIDED`) and the closure of its torch stack.  The
  provided packages' own small requirements are listed all the same (a different release
  there may not pull them: statsmodels 0.14.6 needs formulaic, older ones do not), and so
  is pandas: the project needs pandas >= 3 and that machine's may be older.  ``install``
  skips whatever is already there.
- ``install WHEELS SITE``: ``pip install --no-index --no-deps --target SITE`` of each wheel
  in WHEELS whose distribution this interpreter lacks or has at a version the project's
  requirement rejects; prints SITE's path for PYTHONPATH (nothing to install: nothing).
- ``missing``: the project requirements this interpreter does not satisfy, one a line.

Run with the interpreter whose environment counts (``list``: the full test env here;
``install``/``missing``: the GPU machine's Python).
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename

ROOT = Path(__file__).resolve().parents[1]
#: what the GPU machine has (left out of the wheel list; their requirements are not)
PROVIDED = (
    "numpy",
    "scikit-learn",
    "scikit-image",
    "scipy",
    "statsmodels",
    "matplotlib",
    "pandas",
)
#: provided with everything they require (CUDA libraries included: gigabytes)
TORCH_STACK = ("torch", "torchvision", "timm")
#: provided, but the project floors a version that machine may not meet: shipped anyway
SHIPPED_ANYWAY = ("pandas",)
#: beyond the project's own requirements: the CUDA tests need pytest, and pyproject's
#: ``addopts = --benchmark-disable`` needs pytest-benchmark to parse
EXTRA_ROOTS = ("pytest", "pytest-benchmark")
#: markers are evaluated for the GPU machine, not for this one
TARGET_ENV = {
    "python_version": "3.12",
    "python_full_version": "3.12.3",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "os_name": "posix",
}


def project_requirements() -> list[Requirement]:
    """``[project] dependencies`` + the ``images`` and ``cluster`` extras (no torch/test)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    return [Requirement(r) for r in project["dependencies"] + extras["images"] + extras["cluster"]]


def _applies(req: Requirement, extras: set[str]) -> bool:
    if req.marker is None:
        return True
    envs = [{**TARGET_ENV, "extra": e} for e in (extras or {""})]
    return any(Marker(str(req.marker)).evaluate(env) for env in envs)


def closure(roots: list[Requirement]) -> dict[str, str]:
    """{canonical name: installed version} of ``roots`` and everything they require."""
    found: dict[str, str] = {}
    todo = [(r, set(r.extras)) for r in roots]
    while todo:
        req, extras = todo.pop()
        name = canonicalize_name(req.name)
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            sys.exit(f"{req.name} is not installed here: run `list` with the full test env")
        if name in found and not extras:
            continue
        found[name] = dist.version
        for raw in dist.requires or []:
            try:
                sub = Requirement(raw)
            except InvalidRequirement:
                continue
            if _applies(sub, extras):
                todo.append((sub, set(sub.extras)))
    return found


def wheel_list() -> list[str]:
    needed = closure(project_requirements() + [Requirement(r) for r in EXTRA_ROOTS])
    torch_stack = closure([Requirement(r) for r in TORCH_STACK])
    provided = {canonicalize_name(n) for n in PROVIDED} - set(SHIPPED_ANYWAY)
    keep = set(needed) - set(torch_stack) - provided
    return sorted(f"{name}=={needed[name]}" for name in keep)


def _specs() -> dict[str, Requirement]:
    reqs = project_requirements() + [Requirement(r) for r in EXTRA_ROOTS]
    return {canonicalize_name(r.name): r for r in reqs}


def satisfied(name: str, specs: dict[str, Requirement]) -> bool:
    """This interpreter has ``name`` at a version the project accepts."""
    try:
        version = metadata.version(name)
    except metadata.PackageNotFoundError:
        return False
    req = specs.get(canonicalize_name(name))
    return req is None or req.specifier.contains(version, prereleases=True)


def install(wheels: Path, site: Path) -> int:
    files = sorted(wheels.glob("*.whl"))
    if not files:
        print(f"{wheels}: no wheels there; bring them with scripts/fetch_gpu_wheels.sh {wheels}")
        return 2
    specs = _specs()
    todo = [f for f in files if not satisfied(parse_wheel_filename(f.name)[0], specs)]
    if todo:
        site.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "pip", "install", "--no-index", "--no-deps", "--quiet"]
        done = subprocess.run([*cmd, "--upgrade", "--target", str(site), *map(str, todo)])
        if done.returncode:
            print(f"pip could not install {len(todo)} wheel(s) from {wheels} into {site}")
            return done.returncode
    names = ", ".join(re.sub(r"-.*", "", f.name) for f in todo) or "none"
    print(f"installed from {wheels}: {names}", file=sys.stderr)
    return 0


def missing() -> list[str]:
    specs = _specs()
    return [str(r) for name, r in specs.items() if not satisfied(name, specs)]


def main(argv: list[str]) -> int:
    if argv[:1] == ["list"]:
        print("\n".join(wheel_list()))
        return 0
    if argv[:1] == ["install"] and len(argv) == 3:
        return install(Path(argv[1]), Path(argv[2]))
    if argv[:1] == ["missing"]:
        print("\n".join(missing()))
        return 0
    print("usage: gpu_check_deps.py list | install WHEELS SITE | missing", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
