from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from benchmark import create_method, list_methods
from benchmark.contract.registry import method_info
from benchmark.execution.gridspec import expand, parse_selection

REPO = Path(__file__).resolve().parents[1]


def _cli(*args: str, env: dict | None = None, cwd: Path | None = None):
    return subprocess.run(
        [sys.executable, "-m", "benchmark", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd or REPO,
        timeout=300,
    )


def test_list_methods_globs():
    assert {"biometry-hadlock", "biometry-intergrowth", "biometry-fit"} <= set(
        list_methods("biometry-*")
    )
    assert "dummy-mean" in list_methods("all")
    assert list_methods(["dummy-*", "biometry-fit"]) == ["dummy-mean", "biometry-fit"]


def test_create_method_stores_params_only():
    method = create_method("biometry-hadlock", combination="HC+FL")
    assert method.get_params() == {"combination": "HC+FL"}
    assert not [k for k in vars(method) if k.endswith("_")]  # nothing fitted yet
    with pytest.raises(TypeError, match="unknown parameter"):
        create_method("biometry-hadlock", wrong=1)
    with pytest.raises(LookupError, match="unknown method"):
        create_method("no-such-method")


def test_parameter_grid_selection():
    name, overrides = parse_selection("biometry-hadlock[combination=[HC+FL,AC+FL]]")
    assert name == "biometry-hadlock" and overrides == {"combination": ["HC+FL", "AC+FL"]}
    cells = expand(["biometry-hadlock[combination=[HC+FL,AC+FL]]", "dummy-mean"])
    labels = [label for _, _, label in cells]
    assert labels == [
        "biometry-hadlock[combination=HC+FL]",
        "biometry-hadlock[combination=AC+FL]",
        "dummy-mean",
    ]
    assert expand(["biometry-hadlock"])[0][2] == "biometry-hadlock"  # defaults: plain name


def test_missing_requirement_makes_method_unavailable(tmp_path):
    plugin = tmp_path / "needs_missing.py"
    plugin.write_text(
        textwrap.dedent("""
        from benchmark import BaseMethod, register_method

        @register_method
        class NeedsMissing(BaseMethod):
            name = "needs-missing"
            requirements = ("a_package_that_is_not_installed",)
    """)
    )
    out = _cli("list", env={"FLB_METHODS_PATH": str(tmp_path)})
    assert out.returncode == 0
    line = next(ln for ln in out.stdout.splitlines() if "needs-missing" in ln)
    assert "unavailable" in line and "a_package_that_is_not_installed" in line


def test_broken_plugin_is_listed_not_fatal(tmp_path):
    (tmp_path / "exploding_plugin.py").write_text("raise RuntimeError('boom at import')\n")
    out = _cli("list", env={"FLB_METHODS_PATH": str(tmp_path)})
    assert out.returncode == 0, out.stderr
    line = next(ln for ln in out.stdout.splitlines() if "exploding-plugin" in ln)
    assert "unavailable" in line and "boom at import" in line
    assert "Traceback" not in out.stdout + out.stderr
    assert "dummy-mean" in out.stdout  # the others are still there


def test_copied_method_file_appears_and_runs(tmp_path, tabular_cohort):
    source = (REPO / "methods" / "dummy_mean.py").read_text()
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "my_median.py").write_text(
        source.replace('"dummy-mean"', '"my-median"')
        .replace("class DummyMean", "class MyMedian")
        .replace(".mean())", ".median())")
        .replace("-> DummyMean", "-> MyMedian")
    )
    env = {"FLB_METHODS_PATH": str(plugins)}
    assert "my-median" in _cli("list", env=env).stdout
    out = _cli(
        "run",
        "--dataset",
        str(tabular_cohort),
        "--methods",
        "my-median",
        "--runs-dir",
        str(tmp_path / "runs"),
        env=env,
    )
    assert out.returncode == 0, out.stderr
    assert "my-median" in out.stdout
    assert method_info("dummy-mean").available


def test_installed_package_entry_point_plugin(tmp_path):
    site = tmp_path / "site"
    (site / "flb_thirdparty-0.1.dist-info").mkdir(parents=True)
    (site / "flb_thirdparty-0.1.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: flb-thirdparty\nVersion: 0.1\n"
    )
    (site / "flb_thirdparty-0.1.dist-info" / "entry_points.txt").write_text(
        "[fetal_lung_bench.methods]\nthirdparty = flb_thirdparty\n"
    )
    (site / "flb_thirdparty.py").write_text(
        textwrap.dedent("""
        from benchmark import BaseMethod, register_method

        @register_method
        class ThirdParty(BaseMethod):
            name = "thirdparty-constant"
            summary = "from an installed package"
    """)
    )
    out = _cli("list", env={"PYTHONPATH": str(site)})
    assert "thirdparty-constant" in out.stdout and "from an installed package" in out.stdout


def test_list_shows_declared_roles_and_controls(capsys):
    """`benchmark list` tells which rows are controls, from the declarations, not names."""
    from benchmark.cli import main

    assert main(["list", "oracle", "unet-scratch", "dummy-mean"]) == 0
    lines = {
        line.split()[1]: line
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("  ✓")
    }
    assert "role: ceiling" in lines["oracle"]
    assert "role: floor" in lines["dummy-mean"]
    assert "control of unet-transfer" in lines["unet-scratch"]
