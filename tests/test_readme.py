"""Every `python -m benchmark ...` line of README.md runs and exits 0.

Commands are taken from the README itself, so an example can never silently break.  Only
their cost is changed — a tiny cohort, cheap settings — by the documented substitutions
below; a README line that no substitution or fixture covers fails the test.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from benchmark import cli

REPO = Path(__file__).resolve().parents[1]
TINY = ["--patients", "12", "--images-per-patient", "1"]
#: README text → fast variant (same command, same options, smaller work)
UNET = "'unet-transfer[max_epochs=1,patch_mm=4]'"
FAST = {  # first match wins for overlapping texts: specific before general
    "--dataset ./my-cohort --methods all": f"--dataset ./my-cohort --methods dummy-mean {UNET}",
    "--methods all": "--methods dummy-mean biometry-hadlock",
    "'unet*'": UNET,
    "--methods my-method": "--methods glcm-ridge --dataset-seeds 0 1",
    "--methods 'glcm-*' oracle": "--methods glcm-ridge oracle",  # one texture family, 4 worlds
    "init-dataset ./my-cohort": "init-dataset ./template-cohort",
}


def readme_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        for line in block.splitlines():
            line = line.split("  #")[0].strip()
            if line.startswith("python -m benchmark "):
                commands.append(line[len("python -m benchmark ") :])
    return commands


def _fast(command: str, last_run: Path | None) -> list[str]:
    for slow, fast in FAST.items():
        if slow in command:
            command = command.replace(slow, fast)
            break
    if "runs/<run>" in command:
        assert last_run is not None, f"README uses runs/<run> before any run: {command}"
        command = command.replace("runs/<run>", str(last_run))
    args = shlex.split(command)
    # every verb that generates its synthetic cohort(s) gets the tiny one (scenarios: four
    # worlds; at the default 316 patients the study alone cost minutes of CPU)
    synthetic_grid = args[0] in ("run", "null-check", "scenarios") and "--dataset" not in args
    return args + (TINY if synthetic_grid else [])


@pytest.mark.slow
def test_every_readme_command_runs(tmp_path, monkeypatch, capsys):
    pytest.importorskip("torch")
    from _cohorts import write_tabular_cohort

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FLB_CACHE", str(tmp_path / "cache"))
    write_tabular_cohort(tmp_path / "my-cohort", n=12, size=96)
    rng = np.random.default_rng(0)
    for name in ("scan1.png", "scan2.png"):
        Image.fromarray(rng.integers(0, 256, (200, 200), dtype=np.uint8)).save(name)
    commands = readme_commands()
    assert len(commands) >= 10 and any(c.startswith("predict ") for c in commands)
    last_run = None
    for command in commands:
        args = _fast(command, last_run)
        code = cli.main(args)
        out = capsys.readouterr()
        assert code == 0, f"README: python -m benchmark {command}\n{out.out[-2000:]}\n{out.err}"
        if args[0] == "run":
            last_run = Path(re.findall(r"run folder: (\S+)", out.out)[-1])
