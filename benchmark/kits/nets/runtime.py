"""Device, threads, determinism and FLOP accounting for the nets (torch imported lazily).

- Device: ``"auto"`` → CUDA if available, else CPU; ``"cuda"`` without a GPU is a one-line
  error.
- Threads: CPU training uses ``$FLB_TORCH_THREADS`` threads (default 1).  One thread is
  the default because (a) results must be identical run to run, and a float reduction
  split over a different number of threads may round differently, and (b) on a shared
  or parallel-cell machine OpenMP spinning made 2 threads ~7× *slower* than 1 in our
  measurement (load average 6 on 2 cores).  Set ``FLB_TORCH_THREADS=2`` on an idle
  2-core machine running cells one at a time.
- Determinism: :func:`deterministic` seeds torch and fixes the thread count for the
  duration of a fit, then restores the previous global state.  On CUDA it also switches on
  ``torch.use_deterministic_algorithms`` (warn-only).  On CPU it does not: the ops used
  here are deterministic for a fixed thread count (tests/test_unet.py checks identical
  predictions), and the switch imports ``torch._inductor`` (seconds of start-up).
- FLOPs: :func:`step_flops` counts one training step (forward + backward) with
  ``torch.utils.flop_counter.FlopCounterMode``; :func:`matmul_peak` measures the
  machine's fp32 matmul FLOP/s once per (host, torch version, threads) and caches it
  under ``cache_root()/machine``.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import time
from collections.abc import Callable, Iterator
from typing import Any

from benchmark.data.sources import cache_root


def resolve_device(name: str | None) -> str:
    import torch

    name = (name or "auto").lower()
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("--device cuda asked for, but torch sees no CUDA device")
    if name not in ("cpu", "cuda") and not name.startswith("cuda:"):
        raise ValueError(f"unknown device {name!r}: use auto, cpu or cuda")
    return name


def torch_threads() -> int:
    raw = os.environ.get("FLB_TORCH_THREADS", "1")
    try:
        return max(1, int(raw))
    except ValueError:
        raise ValueError(f"FLB_TORCH_THREADS must be an integer, got {raw!r}") from None


@contextlib.contextmanager
def deterministic(seed: int, device: str) -> Iterator[None]:
    """Seeded, deterministic torch for a block; global torch settings restored after."""
    import torch

    prev_threads = torch.get_num_threads()
    cuda = device.startswith("cuda")
    prev_det = torch.are_deterministic_algorithms_enabled()
    prev_warn = torch.is_deterministic_algorithms_warn_only_enabled()
    if cuda:
        # cuBLAS needs this to be deterministic; harmless if already set
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
    torch.set_num_threads(torch_threads())
    torch.manual_seed(int(seed))
    try:
        yield
    finally:
        if cuda:
            torch.use_deterministic_algorithms(prev_det, warn_only=prev_warn)
        torch.set_num_threads(prev_threads)


def step_flops(step: Callable[[], Any]) -> int:
    """FLOPs of one call of ``step`` (a forward + backward), by torch's flop counter."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        step()
    return int(counter.get_total_flops())


def matmul_peak(device: str = "cpu", n: int = 1024, repeats: int = 8) -> float:
    """Measured fp32 matmul FLOP/s on ``device`` with the current thread count (cached).

    On CPU the time is the process's CPU time divided by the thread count, i.e. what the
    product takes on an idle machine even when other processes share the cores.
    """
    import torch

    threads = torch.get_num_threads()
    key = f"v2|{platform.node()}|{platform.processor()}|{torch.__version__}|{device}|{threads}"
    path = cache_root() / "machine" / "matmul_peak.json"
    try:
        cached = json.loads(path.read_text())
    except (OSError, ValueError):
        cached = {}
    if key in cached:
        return float(cached[key])
    a = torch.rand(n, n, device=device)
    b = torch.rand(n, n, device=device)
    cuda = device.startswith("cuda")
    # CPU: process CPU time per thread, so other processes on a shared machine do not
    # deflate the peak; GPU: wall clock.  Best of several repeats.
    clock = time.perf_counter if cuda else time.process_time
    # CPU time of T busy threads is T × the wall time of an idle machine
    per = 1 if cuda else threads
    a @ b  # warm-up (library initialisation)
    best = float("inf")
    for _ in range(repeats):
        if cuda:
            torch.cuda.synchronize()
        t0 = clock()
        a @ b
        if cuda:
            torch.cuda.synchronize()
        best = min(best, (clock() - t0) / per)
    peak = 2.0 * n**3 / best
    cached[key] = peak
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(cached, indent=1))
        os.replace(tmp, path)
    except OSError:
        pass  # read-only cache: measure again next time
    return peak
