"""Backends: every way of executing the grid gives byte-identical results."""

from __future__ import annotations

import subprocess
import sys

import pytest
from _engine_helpers import fault_plugins

from benchmark.contract.base import BaseMethod
from benchmark.data.splits import Split
from benchmark.execution import backends
from benchmark.execution.cell import CellSpec
from benchmark.execution.runner import RunConfig, run

METHODS = ["dummy-mean", "biometry-hadlock", "biometry-fit", "fault-count[k=[0,1]]"]


def _grid(cohort, run_dir, **kw) -> RunConfig:
    return RunConfig(
        dataset=str(cohort), run_dir=str(run_dir), methods=METHODS, split="kfold:2", **kw
    )


@pytest.fixture(scope="module")
def sequential_run(tabular_cohort, tmp_path_factory):
    with fault_plugins():
        result = run(_grid(tabular_cohort, tmp_path_factory.mktemp("seq") / "run"))
    assert result.n_failed == 0 and result.n_computed == 10
    return result.run_dir


def test_joblib_matches_sequential(tabular_cohort, tmp_path, sequential_run):
    with fault_plugins():
        result = run(_grid(tabular_cohort, tmp_path / "run", backend="joblib", n_jobs=2))
    assert result.n_failed == 0
    assert (result.run_dir / "predictions.csv").read_bytes() == (
        sequential_run / "predictions.csv"
    ).read_bytes()


@pytest.mark.slow
def test_dask_local_cluster_matches_sequential(tabular_cohort, tmp_path, sequential_run):
    """Two worker processes on loopback; each writes its cells into the run folder."""
    pytest.importorskip("dask.distributed")
    with fault_plugins():  # workers inherit FLB_METHODS_PATH (and get it passed per task)
        result = run(
            _grid(
                tabular_cohort,
                tmp_path / "run",
                backend="dask",
                n_jobs=2,
                backend_options={"cluster": "local"},
            )
        )
    assert result.n_failed == 0 and result.n_computed == 10
    assert (result.run_dir / "predictions.csv").read_bytes() == (
        sequential_run / "predictions.csv"
    ).read_bytes()


def test_backend_registry_and_errors():
    assert {"sequential", "joblib", "dask"} <= set(backends.list_backends())
    with pytest.raises(LookupError, match="unknown backend 'slurm'"):
        backends.create_backend("slurm")
    with pytest.raises(ValueError, match="--scheduler"):
        backends.create_backend("dask")

    @backends.register_backend("test-reversed")
    class Reversed:  # a third-party backend plugs in by name, no engine change
        def __init__(self, **_):
            pass

        def run(self, specs, run_dir):
            for spec in reversed(specs):
                yield {"cell_id": spec.cell_id, "status": "done"}

    try:
        assert isinstance(backends.create_backend("test-reversed", n_jobs=3), Reversed)
    finally:
        del backends._BACKENDS["test-reversed"]


def test_device_jobs_are_torch_methods_unless_cpu(monkeypatch):
    from benchmark.contract import registry

    class NetLike(BaseMethod):
        name = "test-netlike"
        requirements = ("torch",)

    class CpuOnly(NetLike):
        name = "test-cpuonly"
        uses_gpu = False

    monkeypatch.setitem(registry._METHODS, NetLike.name, NetLike)
    monkeypatch.setitem(registry._METHODS, CpuOnly.name, CpuOnly)
    split = Split("paper", 0, 0, ("a",), ("b",))

    def spec(method, device="auto"):
        return CellSpec("/data", "d", "f", split, method, device=device)

    assert backends.uses_gpu(spec("test-netlike"))
    assert not backends.uses_gpu(spec("test-netlike", device="cpu"))
    assert not backends.uses_gpu(spec("test-cpuonly"))
    assert not backends.uses_gpu(spec("dummy-mean"))
    cells = [spec("test-netlike"), spec("dummy-mean")]
    cpu, device = backends.split_device_jobs(cells)
    if backends.cuda_device_count() == 0:  # no GPU here: nothing is held back for a device
        assert (cpu, device) == (cells, [])
    else:
        assert (cpu, device) == ([cells[1]], [cells[0]])


def test_runner_counts_gpus_without_importing_torch_on_a_gpu_less_machine():
    # torch costs the runner ~400 MiB; without GPU device nodes the answer is known to be 0
    if not backends._no_gpu_device_nodes():
        pytest.skip("this machine has GPU device nodes: torch is the one to ask")
    code = (
        "import sys; from benchmark.execution.backends import cuda_device_count; "
        "print(cuda_device_count(), 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.split() == ["0", "False"], out.stderr


def test_schedule_starts_the_costliest_cells_and_puts_controls_after_their_method():
    """A run never ends before its longest cell: the costliest cells start first, and of
    two cells of one declared cost the control (the same net without its transfer stage)
    comes after the method it controls, so the two-stage net never queues behind it."""
    from benchmark.contract.registry import get_method_class
    from benchmark.execution.gridspec import expand
    from benchmark.execution.runner import schedule

    split = Split("paper", 0, 0, ("a",), ("b",))
    specs = [
        CellSpec("root", "d", "fp", split, name, params, label)
        for name, params, label in expand(["all"])
    ]
    order = [s.method for s in schedule(specs)]
    cost = {m: get_method_class(m).relative_cost for m in order}
    assert cost[order[0]] == max(cost.values())
    controls = [(m, get_method_class(m).control_of) for m in order]
    pairs = [(m, c) for m, c in controls if c in order and cost[m] == cost[c]]
    assert pairs, "--methods all holds no control of equal cost: the check would be empty"
    for control, controlled in pairs:
        assert order.index(controlled) < order.index(control), (control, controlled)
    # the two workers' first cells: no control among them while its method waits
    assert not any(get_method_class(m).control_of in order[2:] for m in order[:2])
