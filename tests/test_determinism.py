"""The same command twice on CPU gives byte-identical predictions files."""

from __future__ import annotations

import subprocess
import sys

import pytest
from _engine_helpers import REPO, subprocess_env

from benchmark.contract.registry import list_methods

#: one of each family, at its smallest setting (those not installed/landed are left out)
CANDIDATES = [
    "dummy-mean",
    "biometry-fit",
    "glcm-ridge",
    "radiomics-ridge",
    "unet-transfer[max_epochs=1]",
]


@pytest.fixture(scope="module")
def small_synthetic(tmp_path_factory):
    from benchmark.data.sources import resolve_dataset

    try:
        return resolve_dataset("synthetic", patients=24, images_per_patient=1, size=256)
    except LookupError as exc:
        pytest.skip(f"synthetic cohort unavailable: {exc}")


@pytest.mark.slow
def test_same_command_twice_gives_identical_predictions(small_synthetic, tmp_path):
    methods = [m for m in CANDIDATES if list_methods(m.split("[")[0], available_only=True)]
    outputs = []
    for name in ("first", "second"):
        run_dir = tmp_path / name
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmark",
                "run",
                "--dataset",
                str(small_synthetic),
                "--run-dir",
                str(run_dir),
                "--device",
                "cpu",
                "--no-figures",  # predictions are compared; figures would cost ~8 CPU s a run
                "--methods",
                *methods,
            ],
            cwd=REPO,
            env=subprocess_env(),
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        outputs.append(run_dir)
    first, second = outputs
    assert not list(first.glob("figures/*.png"))  # run --no-figures drew none
    assert (first / "predictions.csv").read_bytes() == (second / "predictions.csv").read_bytes()
    cells = sorted(p.relative_to(first) for p in first.glob("cells/*/predictions.csv"))
    assert len(cells) == len(methods)
    for rel in cells:
        assert (first / rel).read_bytes() == (second / rel).read_bytes(), rel
