"""End-to-end smoke run: a whole grid (cheap methods) plus the report, from a fresh folder."""

from __future__ import annotations

import itertools
import shutil

from benchmark.contract.registry import list_methods
from benchmark.execution.runner import RunConfig, run

#: every family at its cheapest: the shape of the CI smoke run without the nets' minutes
SMOKE = ["dummy-mean", "biometry-*", "glcm-ridge", "radiomics-ridge"]


def test_bench_e2e_smoke_run(benchmark, small_synthetic_root, tmp_path, monkeypatch):
    from benchmark.report.hook import build_report

    methods = [m for m in SMOKE if list_methods(m, available_only=True)]
    counter = itertools.count()

    def setup():
        k = next(counter)
        run_dir = tmp_path / f"run{k}"
        shutil.rmtree(run_dir, ignore_errors=True)
        # a cold feature/patch cache each round: measure the work, not the cache
        monkeypatch.setenv("FLB_CACHE", str(tmp_path / f"cache{k}"))
        return (
            RunConfig(
                dataset=str(small_synthetic_root),
                run_dir=str(run_dir),
                methods=methods,
                device="cpu",
            ),
        ), {}

    def smoke(config):
        result = run(config)
        build_report(result.run_dir, figures=False)
        return result

    result = benchmark.pedantic(smoke, setup=setup, rounds=2, iterations=1)
    assert result.n_failed == 0 and result.n_cached == 0
    assert (result.run_dir / "predictions.csv").stat().st_size > 0
    if benchmark.stats is not None:
        benchmark.extra_info["cells"] = int(result.n_computed)
