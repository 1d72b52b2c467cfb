"""Pluggable execution backends for the grid's cells.

A backend maps :func:`benchmark.execution.isolation.execute_cell` (which is
:func:`benchmark.execution.cell.run_cell`, optionally in a killable child process) over cell specs
and yields each summary record as it finishes.  Add one with :func:`register_backend`;
the runner selects by name and passes ``n_jobs``, ``limits`` and its ``backend_options``.

GPU routing: a method whose class sets ``uses_gpu = True`` (default: it requires
``torch``) is a *device job*.  When CUDA devices are visible and ``--device`` is not
``cpu``, device jobs never share a device: locally they run one per device (each gets
``device="cuda:<i>"``) beside the CPU cells; on Dask they ask for the worker resource
``GPU=1`` (start one worker per GPU with ``--resources GPU=1``).
"""

from __future__ import annotations

import dataclasses
import glob
import logging
import os
import queue
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any, Protocol

from benchmark.contract.registry import get_method_class
from benchmark.execution.cell import CellSpec
from benchmark.execution.isolation import Limits, execute_cell, flb_env
from benchmark.execution.store import RunStore

log = logging.getLogger("benchmark")


class Backend(Protocol):
    def run(self, specs: Sequence[CellSpec], run_dir: str) -> Iterator[dict[str, Any]]: ...


_BACKENDS: dict[str, Callable[..., Backend]] = {}


def register_backend(name: str) -> Callable[[Callable[..., Backend]], Callable[..., Backend]]:
    def decorator(factory: Callable[..., Backend]) -> Callable[..., Backend]:
        _BACKENDS[name] = factory
        return factory

    return decorator


def create_backend(name: str, **options: Any) -> Backend:
    if name not in _BACKENDS:
        raise LookupError(f"unknown backend {name!r}; choose from {sorted(_BACKENDS)}")
    return _BACKENDS[name](**options)


def list_backends() -> list[str]:
    return sorted(_BACKENDS)


# -- device routing ---------------------------------------------------------------------
def uses_gpu(spec: CellSpec) -> bool:
    """Whether this cell is a device job (may use a GPU if one is visible)."""
    if spec.device == "cpu":
        return False
    try:
        cls = get_method_class(spec.method)
    except LookupError:
        return False
    declared = cls.uses_gpu
    return bool(declared if declared is not None else "torch" in cls.requirements)


def _no_gpu_device_nodes() -> bool:
    """On Linux, torch sees a GPU only through NVIDIA (/dev/nvidia0, ...) or ROCm (/dev/kfd)
    device nodes; without them the answer is 0 and the runner need not import torch,
    which would cost it ~400 MiB of the run's memory budget for nothing."""
    if not sys.platform.startswith("linux"):
        return False
    return not (glob.glob("/dev/nvidia[0-9]*") or os.path.exists("/dev/kfd"))


def cuda_device_count() -> int:
    """Visible CUDA devices (0 without torch); imports torch only when a GPU may exist."""
    if _no_gpu_device_nodes():
        return 0
    try:
        import torch
    except ImportError:
        return 0
    return int(torch.cuda.device_count()) if torch.cuda.is_available() else 0


def split_device_jobs(specs: Sequence[CellSpec]) -> tuple[list[CellSpec], list[CellSpec]]:
    """→ (CPU cells, device cells); device cells only when a GPU is visible."""
    device = [s for s in specs if uses_gpu(s)]
    if not device or cuda_device_count() == 0:
        return list(specs), []
    ids = {id(s) for s in device}
    return [s for s in specs if id(s) not in ids], device


class _DevicePool:
    """Runs device jobs one per GPU: a job borrows a free device id for its whole run."""

    def __init__(self, n_devices: int, limits: Limits | None) -> None:
        self.free: queue.Queue[int] = queue.Queue()
        for i in range(n_devices):
            self.free.put(i)
        self.limits = limits
        self.executor = ThreadPoolExecutor(max_workers=n_devices, thread_name_prefix="gpu")

    def _one(self, spec: CellSpec, run_dir: str) -> dict[str, Any]:
        device = self.free.get()
        try:
            return execute_cell(
                dataclasses.replace(spec, device=f"cuda:{device}"), run_dir, self.limits
            )
        finally:
            self.free.put(device)

    def submit(self, specs: Sequence[CellSpec], run_dir: str) -> list:
        return [self.executor.submit(self._one, s, run_dir) for s in specs]


def _failed(spec: CellSpec, run_dir: str, error: str) -> dict[str, Any]:
    """Record a cell whose worker vanished (the cell itself could not record it)."""
    record = {**spec.describe(), "status": "failed", "error": error}
    RunStore(run_dir).record_failure(spec.cell_id, record)
    return record


# -- backends ---------------------------------------------------------------------------
@register_backend("sequential")
class SequentialBackend:
    """In this process, one cell after the other (default for ``--n-jobs 1``)."""

    def __init__(self, limits: Limits | None = None, **_: Any) -> None:
        self.limits = limits

    def run(self, specs: Sequence[CellSpec], run_dir: str) -> Iterator[dict[str, Any]]:
        for spec in specs:
            yield execute_cell(spec, run_dir, self.limits)


@register_backend("joblib")
class JoblibBackend:
    """Local worker processes (loky); each cell is independent and writes its own result.

    With limits, each cell already runs in its own child process, so the workers are
    threads that supervise those children (no second layer of processes).
    """

    def __init__(self, n_jobs: int = -1, limits: Limits | None = None, **_: Any) -> None:
        self.n_jobs = n_jobs
        self.limits = limits

    def run(self, specs: Sequence[CellSpec], run_dir: str) -> Iterator[dict[str, Any]]:
        from joblib import Parallel, delayed

        cpu, device = split_device_jobs(specs)
        pool = _DevicePool(cuda_device_count(), self.limits) if device else None
        gpu_futures = pool.submit(device, run_dir) if pool else []
        isolated = self.limits is not None and self.limits.isolated
        parallel = Parallel(
            n_jobs=self.n_jobs,
            return_as="generator_unordered",
            prefer="threads" if isolated else None,
        )
        env = flb_env()  # loky reuses workers across runs: hand them this run's settings
        yield from parallel(delayed(execute_cell)(s, run_dir, self.limits, env) for s in cpu)
        for future in as_completed(gpu_futures):
            yield future.result()
        if pool:
            pool.executor.shutdown()


@register_backend("dask")
class DaskBackend:
    """Cells as Dask tasks: ``scheduler="tcp://host:8786"`` joins a running cluster,
    ``cluster="local"`` starts a :class:`dask.distributed.LocalCluster` on loopback with
    ``n_jobs`` single-threaded worker processes.

    Workers must see the dataset folder and the run folder at the same paths (a shared
    filesystem); each writes its finished cells directly into the run folder.
    """

    def __init__(
        self,
        scheduler: str | None = None,
        cluster: str | None = None,
        n_jobs: int = 2,
        limits: Limits | None = None,
        **_: Any,
    ) -> None:
        if not scheduler and cluster != "local":
            raise ValueError("dask backend: give --scheduler tcp://HOST:PORT or --cluster local")
        self.scheduler = scheduler
        self.cluster = cluster
        self.n_jobs = max(1, n_jobs if n_jobs > 0 else 2)
        self.limits = limits

    def _client(self):
        import dask
        from dask.distributed import Client, LocalCluster

        if self.scheduler:
            return Client(self.scheduler, timeout="30s"), None
        # non-daemonic workers may fork cell children (--timeout) from the fast forkserver
        with dask.config.set({"distributed.worker.daemon": False}):
            cluster = LocalCluster(
                n_workers=self.n_jobs,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
        return Client(cluster), cluster

    def run(self, specs: Sequence[CellSpec], run_dir: str) -> Iterator[dict[str, Any]]:
        from dask.distributed import as_completed as dask_completed

        client, cluster = self._client()
        try:
            gpu_workers = [
                w
                for w in client.scheduler_info()["workers"].values()
                if w.get("resources", {}).get("GPU")
            ]
            env = flb_env()
            futures = {}
            for spec in specs:
                resources = {"GPU": 1} if gpu_workers and uses_gpu(spec) else None
                future = client.submit(
                    execute_cell,
                    spec,
                    run_dir,
                    self.limits,
                    env,
                    key=f"cell-{spec.cell_id}",
                    pure=False,
                    resources=resources,
                )
                futures[future] = spec
            for future in dask_completed(futures):
                spec = futures[future]
                try:
                    yield future.result()
                except Exception as exc:  # the worker died (KilledWorker, lost connection)
                    log.error("cell %s (%s): dask task failed: %r", spec.cell_id, spec.label, exc)
                    yield _failed(
                        spec,
                        run_dir,
                        f"dask worker failed: {type(exc).__name__}: "
                        f"{str(exc).splitlines()[0] if str(exc) else ''}",
                    )
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
