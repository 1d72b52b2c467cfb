"""The CLI-verb check suite: one named check per contract of a ``benchmark/cli/commands/``
module (``HELP``, ``add_arguments(parser)``, ``main(args) -> int``).

- ``declarations``: a one-line ``HELP`` and callable ``add_arguments`` and ``main``;
- ``help_fast``: ``python -m benchmark VERB --help`` exits 0 with the verb's help, the
  parser built and printed in under :data:`HELP_SECONDS` of the process's CPU time (timed
  inside the process, so neither the interpreter's start-up nor the other processes of a
  loaded machine count: under pytest-xdist on a busy 2-core machine the wall time of every
  verb's --help passed 1 s);
- ``light_imports``: after ``--help`` none of :data:`HEAVY_MODULES` is imported (what
  makes ``--help`` fast on any machine, measured rather than timed);
- ``bad_option``: an unknown option exits 2 with argparse's error, no traceback.

A verb's checks share one fresh interpreter (``sys.modules`` of this one is whatever the
tests imported): ``--help`` runs first in it, so ``light_imports`` sees only what ``--help``
imported, then the bad option (exit code and messages do not depend on what is imported);
one interpreter start per verb instead of two.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import cache
from typing import Any

from benchmark.contract.plugins import REPO_ROOT
from benchmark.testing._core import CheckPairs, make_checks

#: ``--help`` answers within this (seconds, parser built and printed)
HELP_SECONDS = 1.0
#: libraries ``--help`` must not import: each costs seconds (torch ~2 s, pandas ~0.5 s)
HEAVY_MODULES = (
    "torch",
    "timm",
    "pandas",
    "scipy",
    "sklearn",
    "matplotlib",
    "statsmodels",
    "radiomics",
    "mahotas",
    "pydicom",
    "nibabel",
    "PIL",
)

_PROBE = """
import json, sys, time
t0 = time.process_time()
import benchmark.cli.commands
benchmark.cli.commands.__path__.extend({folders!r})
from benchmark.cli import main
found = []
for argv in {argvs!r}:
    for stream in (sys.stdout, sys.stderr):
        stream.write("\\n@@@\\n")
        stream.flush()
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    sys.stdout.flush()
    found.append({{"code": code, "seconds": time.process_time() - t0,
        "heavy": sorted(m for m in {heavy!r} if m in sys.modules)}})
    t0 = time.process_time()
sys.stderr.write("\\n@@" + json.dumps(found) + "\\n")
"""


@cache
def probes(
    argvs: tuple[tuple[str, ...], ...], folders: tuple[str, ...] = ()
) -> tuple[dict[str, Any], ...]:
    """Run ``main(argv)`` for each of ``argvs`` in turn in one fresh interpreter
    (``folders``: extra command folders); per argv: exit code, seconds (the first counts
    the import of the CLI), heavy modules imported by then, its stdout and stderr."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])
        ),
    }
    code = _PROBE.format(argvs=[list(a) for a in argvs], heavy=HEAVY_MODULES, folders=list(folders))
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=env,
        timeout=120,
    )
    head, _, tail = out.stderr.rpartition("\n@@")
    if not tail.startswith("["):
        raise AssertionError(
            f"the probe died (exit {out.returncode}): {out.stderr.strip().splitlines()[-1:]}"
        )
    stdouts = out.stdout.split("\n@@@\n")[1:]
    stderrs = head.split("\n@@@\n")[1:]
    return tuple(
        {**found, "stdout": stdout, "stderr": stderr}
        for found, stdout, stderr in zip(json.loads(tail), stdouts, stderrs, strict=True)
    )


def probe(argv: tuple[str, ...], folders: tuple[str, ...] = ()) -> dict[str, Any]:
    """Run ``main(argv)`` alone in a fresh interpreter (``folders``: extra command folders):
    exit code, seconds, heavy modules imported, stdout and stderr (less the probe's lines)."""
    return probes((tuple(argv),), folders)[0]


def cli_checks(verb: str, folders: tuple[str, ...] = ()) -> CheckPairs:
    """``(check name, Check)`` for the CLI verb ``verb`` (``folders``: command folders
    besides ``benchmark/cli/commands/``, for a verb added by a test)."""
    from benchmark.cli import command_modules

    def declarations() -> None:
        module = command_modules()[verb]
        help_text = getattr(module, "HELP", None)
        assert isinstance(help_text, str) and help_text.strip() and "\n" not in help_text, (
            f"HELP must be one line, got {help_text!r}"
        )
        for hook in ("add_arguments", "main"):
            assert callable(getattr(module, hook, None)), f"no callable {hook}"

    def verb_probes() -> tuple[dict[str, Any], ...]:
        # one interpreter: --help first (what light_imports measures), then the bad option
        return probes(((verb, "--help"), (verb, "--no-such-option-flb")), folders)

    def help_fast() -> None:
        found = verb_probes()[0]
        assert found["code"] == 0, f"--help exited {found['code']}: {found['stderr'][-200:]}"
        assert f"usage: python -m benchmark {verb}" in found["stdout"], "no usage line"
        assert found["seconds"] < HELP_SECONDS, (
            f"--help took {found['seconds']:.2f} s (limit {HELP_SECONDS:g} s)"
        )

    def light_imports() -> None:
        heavy = verb_probes()[0]["heavy"]
        assert not heavy, f"--help imports {', '.join(heavy)}"

    def bad_option() -> None:
        found = verb_probes()[1]
        assert found["code"] == 2, f"exited {found['code']}, not 2"
        assert "Traceback" not in found["stderr"], "a traceback for a bad option"
        assert "error:" in found["stderr"], f"no argparse error: {found['stderr'][-200:]!r}"

    checks = [
        ("declarations", declarations),
        ("help_fast", help_fast),
        ("light_imports", light_imports),
        ("bad_option", bad_option),
    ]
    yield from make_checks(f"cli-{verb}", checks)
