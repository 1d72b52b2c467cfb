"""The report of a run whose inputs did not change (a cached re-run of ``run``).

Budget: a cached ``run --methods all`` recomputes no cell and must finish in < 5 s; the
report's share is this benchmark (it was ~6 s of the 9.7 s before the report remembered
its inputs). A full rebuild is measured beside it for scale.
"""

from __future__ import annotations

from benchmark.execution.runner import RunConfig, run

SMOKE = ["dummy-mean", "biometry-*"]


def _run(small_synthetic_root, tmp_path):
    result = run(
        RunConfig(
            dataset=str(small_synthetic_root),
            run_dir=str(tmp_path / "run"),
            methods=SMOKE,
            device="cpu",
        )
    )
    assert result.n_failed == 0
    return result.run_dir


def test_bench_report_unchanged_inputs(benchmark, small_synthetic_root, tmp_path):
    from benchmark.report import build

    run_dir = _run(small_synthetic_root, tmp_path)
    build(run_dir)  # the first build writes the outputs and remembers its inputs
    result = benchmark(build, run_dir)
    assert result.reused


def test_bench_report_full_rebuild(benchmark, small_synthetic_root, tmp_path):
    from benchmark.report import build

    run_dir = _run(small_synthetic_root, tmp_path)

    def rebuild():
        (run_dir / "report_inputs.json").unlink(missing_ok=True)
        return build(run_dir, figures=False)

    result = benchmark.pedantic(rebuild, rounds=2, iterations=1)
    assert not result.reused
