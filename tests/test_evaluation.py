"""Evaluation a journal asks for (issue 25): calibration, decision curves, maturity
hypothesis, equivalence/ACOG, subgroups, TRIPOD+AI checklist, key findings, planner."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmark.report.data import RunData
from benchmark.stats import calibration, equivalence, outcome_risk, power, subgroups


def _pooled(truth: np.ndarray, preds: dict[str, np.ndarray]) -> pd.DataFrame:
    ids = [f"P{i:03d}" for i in range(len(truth))]
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "label": k,
                    "patient_id": ids,
                    "ga_true": truth,
                    "ga_pred": v,
                    "group": "all",
                    "measured": True,
                }
            )
            for k, v in preds.items()
        ],
        ignore_index=True,
    )


# ---------------------------------------------------------------- calibration
def test_calibration_is_perfect_on_perfect_estimates_and_spread_on_noisy_ones():
    rng = np.random.default_rng(0)
    ga = rng.uniform(24, 40, 200)
    perfect = calibration.calibration_line(ga, ga)
    assert perfect["slope"] == pytest.approx(1.0)
    assert perfect["intercept"] == pytest.approx(0.0, abs=1e-9)
    assert perfect["citl"] == pytest.approx(0.0)
    noisy = calibration.calibration_line(ga, ga + rng.normal(0, 3, 200))  # too spread
    assert noisy["slope_hi"] < 1
    shrunk = calibration.calibration_line(ga, 32 + 0.5 * (ga - 32))  # hedged to the mean
    assert shrunk["slope"] == pytest.approx(2.0)


def test_calibration_groups_by_the_estimate_and_skips_tiny_groups():
    rng = np.random.default_rng(1)
    est = rng.uniform(24, 40, 120)
    ga = est + rng.normal(0, 0.5, 120)  # calibrated: E[true | estimate] = estimate
    table = calibration.calibration_table(_pooled(ga, {"m": est}), (30.0, 36.0))
    assert list(table["group"]) == ["all", "24–30", ">30–36", ">36"]
    # grouped by the estimate, a calibrated method keeps slope ≈ 1 inside a group
    assert all(lo < 1 < hi for lo, hi in zip(table["slope_lo"], table["slope_hi"]))
    tiny = calibration.calibration_line(ga[:4], ga[:4])
    assert np.isnan(tiny["slope"]) and tiny["n"] == 4


# ---------------------------------------------------------------- decision curves
def test_decision_curve_matches_dcurves_and_the_reference_strategies_on_a_hand_case():
    y = np.array([1, 1, 0, 0, 0, 1, 0, 0, 0, 0])
    risk = np.array([0.9, 0.6, 0.55, 0.2, 0.1, 0.35, 0.3, 0.05, 0.15, 0.4])
    t = np.array([0.1, 0.3, 0.5])
    curve = outcome_risk.decision_curve(y, {"m": risk}, t)
    nb = curve.pivot(index="threshold", columns="model", values="net_benefit")
    # by hand at t = 0.3: risk ≥ 0.3 → 6 treated, TP 3, FP 3: 3/10 − 3/10 × 0.3/0.7
    assert nb.loc[0.3, "m"] == pytest.approx(0.3 - 0.3 * 0.3 / 0.7)
    prevalence = y.mean()
    np.testing.assert_allclose(nb["all"], prevalence - (1 - prevalence) * t / (1 - t))
    np.testing.assert_allclose(nb["none"], 0.0)
    # the vectorised formula the bootstrap uses equals dcurves
    np.testing.assert_allclose(outcome_risk.net_benefit(y, risk, t)[0], nb["m"].to_numpy())


def test_outcome_risk_is_out_of_fold_and_skipped_with_too_few_events():
    rng = np.random.default_rng(2)
    ga = rng.uniform(24, 40, 150)
    y = (rng.uniform(size=150) < 1 / (1 + np.exp(ga - 32))).astype(int)
    outcome = pd.Series(y, index=[f"P{i:03d}" for i in range(150)])
    pooled = _pooled(ga, {"m": ga + rng.normal(0, 1, 150)})
    frame = outcome_risk.risk_frame(pooled, outcome)
    assert len(frame) == 150 and frame["risk"].between(0, 1).all()
    few = outcome.copy()
    few[:] = 0
    few.iloc[:3] = 1
    assert outcome_risk.risk_frame(pooled, few).empty


# ---------------------------------------------------------------- equivalence, ACOG, rejection
def test_acog_windows_use_the_committee_opinion_thresholds():
    labels, tol = equivalence.acog_window(np.array([23.0, 27.9, 28.0, 39.0, 17.0]))
    assert list(tol) == [14, 14, 21, 21, 10]
    assert labels[2] == "≥28+0 wk"
    ga = np.array([25.0, 25.0, 30.0, 30.0])
    est = ga + np.array([13, 15, 20, 22]) / 7  # within, beyond, within, beyond
    table = equivalence.acog_tolerance(_pooled(ga, {"m": est}))
    assert table.set_index("window").loc["all", "within"] == 0.5


def test_tost_finds_equivalence_only_inside_the_margin():
    rng = np.random.default_rng(3)
    ga = rng.uniform(24, 40, 300)
    noise = rng.normal(0, 1, 300)
    pooled = _pooled(ga, {"ref": ga + noise, "same": ga + noise * 1.01, "worse": ga + noise * 3})
    table = equivalence.equivalence(pooled, "ref", margin_days=2.0).set_index("method")
    assert table.loc["same", "p_tost"] < 0.05
    assert table.loc["worse", "p_tost"] > 0.05 and table.loc["worse", "diff_lo"] > 2


def test_rejection_curve_falls_when_wide_intervals_flag_large_errors():
    rng = np.random.default_rng(4)
    ga = rng.uniform(24, 40, 200)
    err = rng.normal(0, 1, 200) * np.linspace(0.2, 3, 200)
    frame = pd.DataFrame(
        {
            "label": "m",
            "patient_id": [f"P{i}" for i in range(200)],
            "ga_true": ga,
            "ga_pred": ga + err,
            "lower": ga + err - np.linspace(0.2, 3, 200) * 2,
            "upper": ga + err + np.linspace(0.2, 3, 200) * 2,
        }
    )
    curve = equivalence.rejection_curve(frame)
    assert curve["mae_kept"].iloc[-1] < 0.7 * curve["mae_kept"].iloc[0]


# ---------------------------------------------------------------- subgroups
def test_subgroup_with_a_tiny_group_is_reported_too_small_not_as_a_number():
    rng = np.random.default_rng(5)
    ga = rng.uniform(24, 40, 60)
    pooled = _pooled(ga, {"m": ga + rng.normal(0, 1, 60)})
    site = pd.Series(["big"] * 57 + ["tiny"] * 3, index=[f"P{i:03d}" for i in range(60)])
    table = subgroups.subgroup_table(pooled, pd.DataFrame(), {"site": site})
    tiny = table[table["subgroup"] == "tiny"].iloc[0]
    assert tiny["n"] == 3 and tiny["status"].startswith("too small")
    assert np.isnan(tiny["mae_days"]) and np.isnan(tiny["slope"])
    big = table[table["subgroup"] == "big"].iloc[0]
    assert big["status"] == "computed" and big["mae_days"] > 0


# ---------------------------------------------------------------- power and pilot size
def test_power_rises_with_n_and_equals_alpha_at_no_effect():
    rng = np.random.default_rng(6)
    ga = rng.uniform(24, 40, 300)
    a = ga + rng.normal(0, 1.0, 300)
    b = ga + rng.normal(0, 1.4, 300)
    pairs = power.Pairs(ga, a, b)
    curve = power.resampled_power(pairs, "mae", (20, 60, 200), n_sim=600)
    assert list(curve["power"]) == sorted(curve["power"]) and curve["power"].iloc[-1] > 0.8
    # the same draws with the differences centred on 0: type I error ≈ α
    assert curve["type1_no_effect"].between(0.02, 0.09).all()
    # no effect by construction: Williams' t on simulated equal correlations
    null = power.power_from_summary_r(0.6, 0.6, 0.5, (100,), n_sim=800)
    assert null["power"].iloc[0] == pytest.approx(0.05, abs=0.025)


def test_riley_criteria_reproduce_pmsampsize_published_example():
    # pmsampsize(type = "b", csrsquared = 0.288, parameters = 24, prevalence = 0.174)
    out = power.riley_binary(0.174, 24, 0.288)
    assert out["n"] == 662 and out["n_criterion1"] == 623 and out["n_criterion3"] == 221
    assert out["epp"] == pytest.approx(4.8, abs=0.01)


# ---------------------------------------------------------------- key findings
def _run_data(pooled: pd.DataFrame, roles: dict[str, str]) -> RunData:
    preds = pooled.assign(
        level="patient", seed=0, fold=0, image_id="", provenance="measured", cell_id=pooled["label"]
    )
    cells = pd.DataFrame(
        {
            "label": list(roles),
            "cell_id": list(roles),
            "method": list(roles),
            "role": list(roles.values()),
        }
    )
    return RunData(Path("."), preds, cells, {}, pd.DataFrame(), pd.DataFrame())


def test_key_finding_names_no_best_method_when_the_floor_is_not_beaten():
    from benchmark.report.findings import best_method_finding

    rng = np.random.default_rng(7)
    ga = rng.uniform(24, 40, 20)
    pooled = _pooled(
        ga,
        {
            "net": ga.mean() + rng.normal(0, 2.5, 20) + 0.2 * (ga - ga.mean()),
            "floor": np.full(20, ga.mean()),
        },
    )
    text = best_method_finding(_run_data(pooled, {"net": "", "floor": "floor"}))
    assert text.startswith("No method is distinguishable from the floor on these 20 patients")
    assert "patients to detect a difference of this size" in text
    good = _pooled(ga, {"net": ga + rng.normal(0, 0.3, 20), "floor": np.full(20, ga.mean())})
    text = best_method_finding(_run_data(good, {"net": "", "floor": "floor"}))
    assert text.startswith("Most accurate method overall: <b>net</b>")


# ---------------------------------------------------------------- the real pipeline
@pytest.fixture(scope="module")
def enriched_run(tmp_path_factory) -> Path:
    """The preterm-enriched synthetic cohort through the real runner and report:
    oracle (reads the simulated maturity) and biometry (size only)."""
    from benchmark.execution import runner
    from benchmark.report import build

    tmp = tmp_path_factory.mktemp("enriched")
    mp = pytest.MonkeyPatch()
    mp.setenv("FLB_CACHE", str(tmp / "cache"))
    try:
        config = runner.RunConfig(
            dataset="synthetic",
            dataset_options={
                "patients": 240,
                "images_per_patient": 1,
                "size": 96,
                "enrich_preterm": True,
                "progress": False,
            },
            methods=["oracle", "biometry-hadlock", "dummy-mean"],
            runs_dir=str(tmp / "runs"),
        )
        result = runner.run(config)
        build(result.run_dir, options=None)
    finally:
        mp.undo()
    return result.run_dir


def test_enriched_cohort_has_events_and_the_oracle_residual_adds_to_ga(enriched_run):
    meta = json.loads((enriched_run / "run.json").read_text())["dataset_meta"]
    assert meta["options"]["enrich_preterm"] is True
    hyp = pd.read_csv(enriched_run / "tables" / "maturity_hypothesis.csv").set_index("method")
    assert hyp.loc["oracle", "events"] >= 30 and hyp.loc["oracle", "p"] < 0.05
    assert hyp.loc["oracle", "or_hi"] < 1  # a more mature reading = less morbidity
    assert hyp.loc["biometry-hadlock", "p"] > 0.05
    auc = pd.read_csv(enriched_run / "tables" / "outcome_auc.csv")
    assert auc["auc_lo"].notna().all()  # enough events for DeLong CIs
    dca = pd.read_csv(enriched_run / "tables" / "decision_curve.csv")
    assert (dca["status"] == "computed").all() and dca["diff_lo"].notna().all()


def test_maturity_class_probability_has_a_brier_score_and_reliability_curve(enriched_run):
    table = pd.read_csv(enriched_run / "tables" / "maturity_class_calibration.csv")
    table = table.set_index("method")
    for informative in ("oracle", "biometry-hadlock"):  # GA carries the class: beats the share
        assert table.loc[informative, "brier"] < table.loc[informative, "null_brier"]
    assert table.loc["dummy-mean", "status"].startswith("not computed: a constant estimate")
    assert np.isnan(table.loc["dummy-mean", "brier"])
    assert list(enriched_run.glob("**/fig_maturity_reliability.png"))


def test_tripod_checklist_names_an_existing_file_for_every_available_item(enriched_run):
    text = (enriched_run / "tripod_ai.md").read_text()
    rows = [line.split(" | ") for line in text.splitlines() if line.startswith("| ")][2:]
    statuses = {row[2] for row in rows}
    assert statuses <= {"available", "not available", "not applicable"}
    available = [row for row in rows if row[2] == "available"]
    assert len(available) >= 15
    for row in available:
        files = row[4].rstrip(" |").split(", ")
        for name in files:
            assert (enriched_run / name).is_file(), f"item {row[0]} names missing {name}"


def test_enrich_option_leaves_the_default_cohort_alone():
    from _cohorts import generator_module

    cohort = generator_module("_synth_cohort")
    outcome = generator_module("_synth_outcome")
    table = cohort.make_cohort(50, seed=0)
    delivery = outcome.delivery_soon_after_scan(table, 0)
    gap_days = np.round((delivery - table["ga_weeks"].to_numpy()) * 7)
    assert gap_days.min() >= 0 and gap_days.max() <= 2
    generate = generator_module("_synth_generate")
    routes = generator_module("_synth_routes").SCENARIOS["synthetic"]
    base = {"patients": 5, "images_per_patient": 1, "seed": 0, "size": 96, "sites": 1}
    assert generate.cache_key(
        "synthetic", {**base, "routes": routes.as_dict()}
    ) != generate.cache_key(
        "synthetic", {**base, "enrich_preterm": True, "routes": routes.as_dict()}
    )


def test_plan_command_writes_power_table_and_curve(tmp_path, capsys):
    from benchmark.cli import main

    results = Path(__file__).resolve().parents[1] / "results"
    if not (results / "predictions.csv").is_file():
        pytest.skip("results/ has no predictions.csv")
    out = tmp_path / "plan"
    assert (
        main(
            [
                "plan",
                str(results),
                "--compare",
                "glcm-ridge",
                "biometry-hadlock",
                "--n",
                "20",
                "80",
                "--n-sim",
                "100",
                "--metric",
                "mae",
                "r",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    table = pd.read_csv(out / "power_mae.csv")
    assert list(table["n"]) == [20, 80] and table["power"].iloc[1] >= table["power"].iloc[0]
    assert (out / "fig_power_mae.png").is_file() and (out / "power_r.csv").is_file()
    assert (
        main(["plan", str(results), "--compare", "no-such", "biometry-hadlock", "--out", str(out)])
        == 2
    )
    assert "no-such" in capsys.readouterr().err
