"""Scanner / site presets (the ``site`` column and ``sites=K``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _cohorts import generator_module as _private

from benchmark.data.sources import resolve_dataset


def test_default_cohort_is_one_generic_site() -> None:
    df = _private("_synth_cohort").make_cohort(50, seed=0)
    assert set(df["site"]) == {"generic"}


def test_k_sites_mix_the_first_k_presets_independently_of_ga() -> None:
    cohort, sites = _private("_synth_cohort"), _private("_synth_sites")
    df = cohort.make_cohort(3000, seed=1, sites=3)
    names = [p.name for p in sites.PRESETS[:3]]
    assert sorted(df["site"].unique()) == sorted(names)
    shares = df["site"].value_counts(normalize=True)
    assert (abs(shares - 1 / 3) < 0.04).all()
    # site is not a GA proxy: mean GA per site within sampling error of the whole
    se = df["ga_weeks"].std() / np.sqrt(len(df) / 3)
    assert (abs(df.groupby("site")["ga_weeks"].mean() - df["ga_weeks"].mean()) < 4 * se).all()
    # adding sites leaves every other column as it was
    base = cohort.make_cohort(3000, seed=1)
    pd.testing.assert_frame_equal(base.drop(columns="site"), df.drop(columns="site"))


@pytest.mark.parametrize("k", [0, 5, -1])
def test_impossible_site_count_is_refused(k: int) -> None:
    with pytest.raises(ValueError, match="sites must be"):
        _private("_synth_sites").site_presets(k)


def test_presets_stay_inside_the_generic_ranges() -> None:
    sites = _private("_synth_sites")
    g = sites.GENERIC
    for p in sites.PRESETS:
        for field in ("f0_mhz", "fnumber", "dynamic_range_db", "gamma"):
            lo, hi = getattr(p, field)
            assert getattr(g, field)[0] <= lo <= hi <= getattr(g, field)[1], (p.name, field)
        assert set(p.sri[0]) <= set(g.sri[0]) and abs(sum(p.sri[1]) - 1) < 1e-9


def test_site_settings_reach_the_acquisition() -> None:
    scanner, sites = _private("_synth_scanner"), _private("_synth_sites")
    for preset in sites.PRESETS:
        rng = np.random.default_rng(0)
        acqs = [scanner.draw_acquisition(rng, preset) for _ in range(50)]
        assert all(preset.f0_mhz[0] <= a.f0_mhz <= preset.f0_mhz[1] for a in acqs)
        assert {a.sri for a in acqs} <= set(preset.sri[0])


def test_sites_option_writes_the_site_column(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("FLB_CACHE", str(tmp_path))
    opts = {"patients": 8, "images_per_patient": 1, "size": 96, "progress": False}
    mixed = resolve_dataset("synthetic", sites=2, **opts)
    single = resolve_dataset("synthetic", **opts)
    assert mixed != single
    patients = pd.read_csv(mixed / "patients.csv")
    assert set(patients["site"]) <= {p.name for p in _private("_synth_sites").PRESETS[:2]}
    assert set(pd.read_csv(single / "patients.csv")["site"]) == {"generic"}


def test_cli_sites_reaches_the_dataset_options() -> None:
    import argparse

    from benchmark.cli.commands import run

    parser = argparse.ArgumentParser()
    run.add_arguments(parser)
    config = run.config_from_args(parser.parse_args(["--sites", "3", "--n-jobs", "1"]))
    assert config.dataset_options["sites"] == 3


def test_multi_site_cohort_loads_and_validates(tmp_path, monkeypatch) -> None:
    """The real pipeline reads the site column: the cohort loads, validates without
    errors, and every patient keeps its site."""
    from benchmark.data.cohort import Cohort
    from benchmark.data.validate import validate_dataset

    monkeypatch.setenv("FLB_CACHE", str(tmp_path))
    path = resolve_dataset(
        "synthetic", sites=4, patients=12, images_per_patient=1, size=96, progress=False
    )
    cohort = Cohort.load(path)
    assert cohort.patients["site"].nunique() > 1
    report = validate_dataset(path)
    assert not report.errors, report.errors
