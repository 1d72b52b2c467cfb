"""Every statistic against scipy/statsmodels directly or a hand-worked example."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from sklearn.metrics import mean_absolute_error, root_mean_squared_error
from statsmodels.stats.multitest import multipletests

from benchmark import stats


def _xy(n=40, seed=0, noise=2.0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(24, 40, n)
    return x, x + rng.normal(0, noise, n)


# --- correlation ------------------------------------------------------------------------


def test_fisher_ci_matches_the_textbook_formula():
    x, y = _xy()
    c = stats.pearson_fisher_ci(x, y)
    r = np.corrcoef(x, y)[0, 1]
    half = sps.norm.ppf(0.975) / np.sqrt(len(x) - 3)
    assert c.r == pytest.approx(r)
    assert (c.lo, c.hi) == pytest.approx(
        (np.tanh(np.arctanh(r) - half), np.tanh(np.arctanh(r) + half))
    )
    assert c.p == pytest.approx(sps.pearsonr(x, y).pvalue)


def test_paper_r_ci_is_not_the_fisher_interval_for_n150():
    # hand-worked: atanh(0.773) = 1.0277, ± 1.96/√147 = ± 0.1617 → tanh → [0.6994, 0.8304]
    from benchmark.report.tables import paper_check_table

    check = paper_check_table().data.set_index("quantity")
    lo = check.loc["r CI low (Fisher z, n = 150)", "recomputed"]
    hi = check.loc["r CI high (Fisher z, n = 150)", "recomputed"]
    assert (lo, hi) == pytest.approx((0.6994, 0.8304), abs=5e-4)
    assert abs(lo - 0.6893) > 0.005  # the published lower bound is not Fisher's


def test_degenerate_correlation_is_nan_not_an_error():
    c = stats.pearson_fisher_ci(np.arange(10.0), np.full(10, 3.0))
    assert np.isnan(c.r) and np.isnan(c.lo)
    assert np.isnan(stats.bootstrap_r_ci(np.arange(3.0), np.arange(3.0), np.arange(3))).all()


def test_patient_bootstrap_ci_agrees_with_scipy_bootstrap():
    x, y = _xy(n=60, noise=4.0)
    lo, hi = stats.bootstrap_r_ci(x, y, np.arange(len(x)), n_boot=4000)
    ref = sps.bootstrap(
        (x, y),
        lambda a, b: sps.pearsonr(a, b).statistic,
        paired=True,
        vectorized=False,
        n_resamples=4000,
        method="percentile",
        random_state=1,
    ).confidence_interval
    assert lo == pytest.approx(ref.low, abs=0.03)
    assert hi == pytest.approx(ref.high, abs=0.03)
    assert lo < np.corrcoef(x, y)[0, 1] < hi


def test_image_level_bootstrap_resamples_patients_not_images():
    # each patient's image duplicated 3×: r is unchanged, and so must be the cluster CI
    x, y = _xy(n=30, noise=3.0)
    patients = np.arange(30)
    lo, hi = stats.bootstrap_r_ci(x, y, patients)
    rep = np.repeat(np.arange(30), 3)
    lo3, hi3 = stats.bootstrap_r_ci(x[rep], y[rep], patients[rep])
    assert (lo3, hi3) == pytest.approx((lo, hi))
    # an image-level (non-cluster) bootstrap would be far narrower: 90 "independent" rows
    lo_naive, hi_naive = stats.bootstrap_r_ci(x[rep], y[rep], np.arange(90))
    assert hi_naive - lo_naive < 0.8 * (hi - lo)


def test_bootstrap_blocks_do_not_change_the_resamples():
    # the report draws resamples block by block to keep memory flat; the numbers must be
    # those of one full (n_boot, n) draw, whatever the block size
    from benchmark.stats.metrics import BOOT_SEED, cluster_bootstrap_blocks

    full = np.random.default_rng(BOOT_SEED).integers(0, 37, size=(600, 37))
    for block in (1, 7, 256, 600, 1000):
        got = np.vstack(list(cluster_bootstrap_blocks(np.arange(37), 600, BOOT_SEED, block)))
        np.testing.assert_array_equal(got, full)
    # image level: the same patient draws, each expanded to that patient's rows
    clusters = np.repeat(np.arange(37), 2)
    rows = [r for b in cluster_bootstrap_blocks(clusters, 600, BOOT_SEED, 64) for r in b]
    np.testing.assert_array_equal(np.vstack(rows)[:, ::2] // 2, full)


def test_blocked_bootstrap_r_equals_one_resample_at_a_time():
    from benchmark.stats.metrics import BOOT_SEED, bootstrap_correlations

    x, y = _xy(n=50, noise=3.0)
    draws = np.random.default_rng(BOOT_SEED).integers(0, 50, size=(300, 50))
    one_by_one = [np.corrcoef(x[i], y[i])[0, 1] for i in draws]
    np.testing.assert_allclose(
        bootstrap_correlations(x, y, np.arange(50), 300), one_by_one, rtol=1e-12
    )


# --- agreement ---------------------------------------------------------------------------


def test_bland_altman_hand_worked():
    # diffs 1, −1, 1, 2: bias 0.75; SD (ddof 1) = √(4.75/3) = 1.2583
    ba = stats.bland_altman(np.array([30, 32, 34, 36.0]), np.array([31, 31, 35, 38.0]))
    assert ba.bias == pytest.approx(0.75)
    assert ba.sd == pytest.approx(np.sqrt(4.75 / 3))
    assert ba.lower == pytest.approx(0.75 - 1.96 * 1.258306, abs=1e-5)
    assert ba.upper == pytest.approx(0.75 + 1.96 * 1.258306, abs=1e-5)


def test_agreement_matches_sklearn_and_scipy():
    x, y = _xy()
    a = stats.agreement(x, y, np.arange(len(x)), bootstrap=False)
    assert a["mae"] == pytest.approx(mean_absolute_error(x, y))
    assert a["rmse"] == pytest.approx(root_mean_squared_error(x, y))
    assert a["mae_sd"] == pytest.approx(np.std(np.abs(y - x), ddof=1))
    assert a["bias"] == pytest.approx(np.mean(y - x))
    assert a["spearman"] == pytest.approx(sps.spearmanr(x, y).statistic)
    assert a["n_patients"] == len(x)


def _long(seeds=(0, 1), n=20, labels=("a", "b"), seed=0):
    rng = np.random.default_rng(seed)
    ga = rng.uniform(24, 40, n)
    rows = []
    for label in labels:
        for s in seeds:
            pred = ga + rng.normal(0, 1 + labels.index(label), n)
            for i in range(n):
                rows.append(
                    {
                        "label": label,
                        "seed": s,
                        "fold": 0,
                        "level": "patient",
                        "patient_id": f"P{i:02d}",
                        "image_id": "",
                        "ga_true": ga[i],
                        "ga_pred": pred[i],
                        "group": "24–30" if ga[i] <= 30 else (">30–36" if ga[i] <= 36 else ">36"),
                    }
                )
    return pd.DataFrame(rows)


def test_pooled_predictions_average_over_seeds_and_aggregate_is_mean_sd():
    preds = _long()
    pooled = stats.pooled_patient_predictions(preds)
    expected = preds.groupby(["label", "patient_id"])["ga_pred"].mean()
    got = pooled.set_index(["label", "patient_id"])["ga_pred"]
    pd.testing.assert_series_equal(got, expected, check_names=False)
    per_split = stats.split_metrics(preds, bootstrap=False)
    agg = stats.aggregate_splits(per_split).set_index(["method", "group"])
    a_all = per_split[(per_split["method"] == "a") & (per_split["group"] == "all")]
    assert agg.loc[("a", "all"), "mae_mean"] == pytest.approx(a_all["mae"].mean())
    assert agg.loc[("a", "all"), "mae_sd"] == pytest.approx(a_all["mae"].std(ddof=1))
    assert agg.loc[("a", "all"), "n_splits"] == 2


def test_dsc_summary_in_percent():
    dsc = pd.DataFrame({"label": ["m", "m", "m"], "dsc": [0.5, 0.7, 0.9]})
    row = stats.dsc_summary(dsc).iloc[0]
    assert (row["dsc_mean"], row["dsc_sd"], row["n_images"]) == pytest.approx((70, 20, 3))


# --- Table 2 ------------------------------------------------------------------------------


def test_ttest_from_summary_equals_ttest_on_raw_data():
    rng = np.random.default_rng(3)
    a, b = rng.normal(2, 0.6, 30), rng.normal(1.5, 0.8, 25)
    for equal_var in (True, False):
        res = stats.ttest_from_summary(
            a.mean(), a.std(ddof=1), 30, b.mean(), b.std(ddof=1), 25, equal_var=equal_var
        )
        raw = sps.ttest_ind(a, b, equal_var=equal_var)
        assert res.t == pytest.approx(raw.statistic)
        assert res.p == pytest.approx(raw.pvalue)
        assert res.df == pytest.approx(raw.df)


@pytest.mark.parametrize(
    "group, m1, s1, m2, s2, n, published, reproduced",
    [
        (">30–36", 1.07, 0.24, 2.44, 0.57, 60, 17.159, True),
        (">36", 0.83, 0.11, 1.09, 0.17, 49, 8.988, True),
        ("24–30", 2.49, 0.63, 1.93, 0.75, 41, 1.700, False),
    ],
)
def test_paper_table2_t_values_from_summary_statistics(
    group, m1, s1, m2, s2, n, published, reproduced
):
    # the paper (Yao et al., Table 2): >30–36 and >36 match an unpaired t with the test-group
    # sizes (60, 49); 24–30 (n = 41) gives 3.661, not the published 1.700
    t = abs(stats.ttest_from_summary(m1, s1, n, m2, s2, n).t)
    assert (round(t, 3) == published) is reproduced
    if not reproduced:
        assert round(t, 3) == 3.661


def test_holm_hand_worked_and_statsmodels():
    p = pd.Series([0.01, 0.04, 0.03, np.nan])
    # sorted 0.01·3 = 0.03; 0.03·2 = 0.06; 0.04·1 = 0.04 → monotone max 0.06
    assert stats.holm(p).iloc[:3].tolist() == pytest.approx([0.03, 0.06, 0.06])
    assert np.isnan(stats.holm(p).iloc[3])
    rng = np.random.default_rng(0)
    q = pd.Series(rng.uniform(0, 0.2, 12))
    assert stats.holm(q).to_numpy() == pytest.approx(multipletests(q, method="holm")[1])


def test_holm_forces_no_garbage_collection(monkeypatch):
    # statsmodels' Holm calls gc.collect() each time (0.1 s in a report process, 6 per build)
    import gc

    calls = []
    monkeypatch.setattr(gc, "collect", lambda *a: calls.append(a) or 0)
    stats.holm(pd.Series([0.01, 0.04, 0.03]))
    assert calls == []
    assert gc.collect is not None and gc.collect() == 0 and len(calls) == 1  # restored


def test_table2_paired_and_unpaired_tests_match_scipy():
    preds = _long(seeds=(0,), n=40, labels=("biometry-hadlock", "net"))
    t2 = stats.table2(preds, reference="biometry-hadlock")
    pooled = stats.pooled_patient_predictions(preds)
    err = (pooled["ga_pred"] - pooled["ga_true"]).abs()
    e_ref = err[pooled["label"] == "biometry-hadlock"].to_numpy()
    e_net = err[pooled["label"] == "net"].to_numpy()
    row = t2[(t2["method"] == "net") & (t2["group"] == "all")].iloc[0]
    assert row["t"] == pytest.approx(sps.ttest_rel(e_net, e_ref).statistic)
    assert row["p_t"] == pytest.approx(sps.ttest_rel(e_net, e_ref).pvalue)
    assert row["p_w"] == pytest.approx(sps.wilcoxon(e_net, e_ref).pvalue)
    assert row["n_pairs"] == 40 and row["mae"] == pytest.approx(e_net.mean())
    tested = t2["p_t"].notna()
    assert t2.loc[tested, "p_t_holm"].to_numpy() == pytest.approx(
        multipletests(t2.loc[tested, "p_t"], method="holm")[1]
    )
    ref_rows = t2[t2["method"] == "biometry-hadlock"]
    assert ref_rows["t"].isna().all()
    unpaired = stats.table2(preds, reference="biometry-hadlock", unpaired=True)
    urow = unpaired[(unpaired["method"] == "net") & (unpaired["group"] == "all")].iloc[0]
    assert urow["t"] == pytest.approx(sps.ttest_ind(e_net, e_ref).statistic)
    assert urow["p_w"] == pytest.approx(sps.mannwhitneyu(e_net, e_ref).pvalue)


def test_table2_unknown_reference_is_a_clear_error():
    with pytest.raises(LookupError, match="reference method 'nope'"):
        stats.table2(_long(), reference="nope")


# --- dependent correlations --------------------------------------------------------------


def test_williams_t_hand_worked():
    # psych::r.test(n = 103, r12 = .4, r13 = .5, r23 = .1): t = −0.89, p = 0.37
    # by hand: |R| = 0.62, r̄ = 0.45, denominator 2·102/100·0.62 + 0.2025·0.729 = 1.41242,
    # t = −0.1·√(102·1.1 / 1.41242) = −0.8913
    t, p = stats.williams_t(0.4, 0.5, 0.1, 103)
    assert t == pytest.approx(-0.8913, abs=5e-4)
    assert p == pytest.approx(2 * sps.t.sf(0.8913, 100), abs=1e-3)
    assert stats.williams_t(0.5, 0.5, 0.3, 50)[0] == 0
    assert stats.williams_t(0.5, 0.4, 0.1, 103)[0] == pytest.approx(-t, abs=0.05)


def test_paired_bootstrap_difference_and_pairs():
    x, y = _xy(n=50, noise=1.0)
    rng = np.random.default_rng(1)
    z = x + rng.normal(0, 5, 50)
    lo, hi, p = stats.paired_bootstrap_r_diff(x, y, z, np.arange(50))
    diff = np.corrcoef(x, y)[0, 1] - np.corrcoef(x, z)[0, 1]
    assert lo < diff < hi and lo > 0 and p < 0.05
    lo0, hi0, _ = stats.paired_bootstrap_r_diff(x, y, y, np.arange(50))
    assert lo0 == hi0 == 0


# --- Table 1 -------------------------------------------------------------------------------


def test_lsd_p_values_and_anova_match_hand_computation():
    rng = np.random.default_rng(5)
    groups = {
        k: rng.normal(mu, 3, n)
        for k, mu, n in (
            ("train|a", 32, 12),
            ("test|a", 33, 9),
            ("train|b", 31, 15),
            ("test|b", 35, 8),
        )
    }
    values = pd.Series(np.concatenate(list(groups.values())))
    subsets = pd.Series(np.repeat(list(groups), [len(v) for v in groups.values()]))
    f, f_p, lsd = stats.lsd_anova(values, subsets, [("train|a", "test|a"), ("train|b", "test|b")])
    ref = sps.f_oneway(*groups.values())
    assert (f, f_p) == pytest.approx((ref.statistic, ref.pvalue))
    n_total, k = len(values), len(groups)
    mse = sum(((v - v.mean()) ** 2).sum() for v in groups.values()) / (n_total - k)
    for pair in (("train|a", "test|a"), ("train|b", "test|b")):
        a, b = groups[pair[0]], groups[pair[1]]
        t = (a.mean() - b.mean()) / np.sqrt(mse * (1 / len(a) + 1 / len(b)))
        assert lsd[pair] == pytest.approx(2 * sps.t.sf(abs(t), n_total - k))


def test_count_test_chi2_hand_worked_and_fisher_when_sparse():
    # χ² = N(ad − bc)² / (r1 r2 c1 c2) = 60·(100 − 400)² / 30⁴ = 6.667, p = 0.00982
    name, p = stats.count_test(np.array([[10, 20], [20, 10]]))
    assert name == "χ²" and p == pytest.approx(sps.chi2.sf(60 * 300**2 / 30**4, 1))
    assert p == pytest.approx(0.00982, abs=1e-5)
    name, p = stats.count_test(np.array([[1, 9], [6, 4]]))
    assert name == "Fisher"
    assert p == pytest.approx(sps.fisher_exact([[1, 9], [6, 4]]).pvalue)


def test_table1_rows_and_missing_columns_are_reported():
    rng = np.random.default_rng(2)
    n = 40
    patients = pd.DataFrame(
        {
            "side": np.where(np.arange(n) < 20, "train", "test"),
            "group": rng.choice(["24–30", ">30–36"], n),
            "ga_weeks": rng.uniform(24, 36, n),
            "maternal_age": rng.normal(32, 3, n),
            "parity": rng.choice(["primiparous", "multiparous"], n),
        }
    )
    table, notes = stats.table1(patients, ["24–30", ">30–36"])
    assert set(table["variable"]) == {
        "n patients",
        "maternal age (y)",
        "GA at scan (wk)",
        "multiparous / primiparous",
    }
    assert any("delivery_ga_weeks" in note for note in notes)
    assert any("apgar" in note for note in notes)
    counts = table[table["variable"] == "n patients"]
    assert counts["train"].astype(int).sum() == 20 and counts["test"].astype(int).sum() == 20


# --- conformal intervals, days and thresholds ------------------------------------------------
def test_days_and_within_thresholds_by_hand():
    true = np.array([30.0, 30.0, 30.0, 30.0])
    pred = np.array([30.5, 31.0, 32.0, 27.0])  # |err| = 3.5, 7, 14, 21 days
    a = stats.agreement(true, pred, np.arange(4), bootstrap=False)
    assert a["mae_days"] == pytest.approx((3.5 + 7 + 14 + 21) / 4)
    assert a["within_7d"] == 0.5 and a["within_14d"] == 0.75  # the limits are inclusive


def test_binomial_band_by_hand():
    from benchmark.stats.intervals import binomial_band

    # Bin(10, 0.9): P(X <= 7) = 0.070 > 0.025 >= P(X <= 6) = 0.013; P(X <= 9) = 0.65 < 0.975
    assert binomial_band(10, 0.9) == (0.7, 1.0)


def test_conformal_half_width_is_the_other_folds_order_statistic():
    from benchmark.stats.intervals import conformal_intervals, coverage_table

    n = 20
    pooled = pd.DataFrame(
        {
            "label": "m",
            "patient_id": [f"P{i:02d}" for i in range(n)],
            "ga_true": 30.0 + np.arange(1, n + 1) * 0.1,
            "ga_pred": 30.0,
            "group": ">30–36",
        }
    )
    out = conformal_intervals(pooled, (30.0, 36.0), level=0.9, folds=2)
    # 10 calibration residuals, level 0.9: rank ceil(11 * 0.9) = 10 = the largest of them
    for fold in (0, 1):
        other = out[out["fold"] != fold]
        half = (other["ga_true"] - other["ga_pred"]).abs().max()
        mine = out[out["fold"] == fold]
        assert np.allclose(mine["upper"] - mine["ga_pred"], half)
        assert np.allclose(mine["ga_pred"] - mine["lower"], half)
    cov = coverage_table(out, 0.9).set_index("grouping").loc["all"]
    inside = ((out["ga_true"] >= out["lower"]) & (out["ga_true"] <= out["upper"])).sum()
    assert cov["covered"] == inside and cov["n"] == n
    assert cov["mean_width"] == pytest.approx((out["upper"] - out["lower"]).mean())


def test_conformal_coverage_is_near_nominal_on_exchangeable_data():
    from benchmark.stats.intervals import conformal_intervals, coverage_table

    rng = np.random.default_rng(1)
    rows = []
    for rep in range(20):
        true = rng.uniform(24, 40, 150)
        rows.append(
            pd.DataFrame(
                {
                    "label": f"m{rep:02d}",
                    "patient_id": [f"P{i:03d}" for i in range(150)],
                    "ga_true": true,
                    "ga_pred": true + rng.normal(0, 1.5, 150),
                    "group": "all",
                }
            )
        )
    out = conformal_intervals(pd.concat(rows), (30.0, 36.0), level=0.9)
    cov = coverage_table(out, 0.9)
    pooled = cov[cov["grouping"] == "all"]
    assert 0.88 < pooled["covered"].sum() / pooled["n"].sum() < 0.93
    assert pooled["inside_band"].mean() >= 0.85  # ~95 % of 20 methods inside their band


# --- maturity classes and maturity beyond GA ------------------------------------------------
def test_maturity_classes_kappa_auc_and_confusion_by_hand():
    from benchmark.stats.maturity import maturity_classes

    true = [25.0, 28.0, 33.0, 35.0, 37.0, 39.0]
    pred = [26.0, 31.0, 32.0, 35.5, 35.0, 40.0]  # classes: A A B B C C vs A B B B B C
    pooled = pd.DataFrame(
        {"label": "m", "patient_id": list("abcdef"), "ga_true": true, "ga_pred": pred, "group": "x"}
    )
    t = maturity_classes(pooled, (30.0, 36.0), preterm_weeks=34.0).set_index("task")
    g = t.loc["GA groups"]
    assert g["accuracy"] == pytest.approx(4 / 6)
    # κ = (po − pe)/(1 − pe): po = 4/6; pe = (2·1 + 2·4 + 2·1)/36 = 12/36
    assert g["kappa"] == pytest.approx((4 / 6 - 12 / 36) / (1 - 12 / 36))
    assert g["n 24–30 as >30–36"] == 1 and g["n >36 as >30–36"] == 1
    # class 24–30 scored by −estimate: both of its patients rank above the other four
    assert g["auc 24–30"] == 1.0
    # >36 scored by +estimate: positives 35.0, 40.0 vs 26, 31, 32, 35.5 → 3 + 4 of 8 pairs
    assert g["auc >36"] == pytest.approx(7 / 8)
    p = t.loc["preterm lung (< 34 wk)"]
    # immature (true < 34): a b c; called (< 34): a b c → perfect
    assert p["accuracy"] == 1.0 and p["kappa"] == 1.0 and p["auc preterm"] == 1.0
    assert p["sensitivity"] == 1.0 and p["specificity"] == 1.0


def test_maturity_beyond_ga_recovers_the_deviation():
    from benchmark.stats.maturity import maturity_beyond_ga, maturity_deviation

    rng = np.random.default_rng(0)
    ga = rng.uniform(24, 40, 300)
    delta = rng.normal(0, 1.2, 300)
    ids = [f"P{i:03d}" for i in range(300)]
    patients = pd.DataFrame(
        {"patient_id": ids, "ga_weeks": ga, "truth_maturity": (ga + delta - 24) / 16}
    )
    dev = maturity_deviation(patients)
    assert np.corrcoef(dev.to_numpy(), delta)[0, 1] > 0.999
    pooled = pd.concat(
        [
            pd.DataFrame(
                {"label": "reads-maturity", "patient_id": ids, "ga_true": ga, "ga_pred": ga + delta}
            ),
            pd.DataFrame(
                {
                    "label": "size-only",
                    "patient_id": ids,
                    "ga_true": ga,
                    "ga_pred": ga + rng.normal(0, 1, 300),
                }
            ),
        ]
    )
    out = maturity_beyond_ga(pooled, dev).set_index("method")
    assert out.loc["reads-maturity", "r"] > 0.99
    assert out.loc["size-only", "r_lo"] < 0 < out.loc["size-only", "r_hi"]
    assert maturity_deviation(patients.drop(columns="truth_maturity")).empty


# --- outcome AUC and DeLong ------------------------------------------------------------------
def test_delong_auc_and_variance_by_hand():
    from benchmark.stats.outcome import delong

    y = np.array([1, 1, 0, 0, 0])
    score = np.array([0.9, 0.4, 0.5, 0.2, 0.1])
    auc, cov = delong(score, y)
    # positives 0.9 (beats 3 of 3), 0.4 (beats 2 of 3): V10 = [1, 2/3]; AUC = 5/6
    # negatives 0.5 (beaten by 1 of 2), 0.2, 0.1 (by 2 of 2): V01 = [1/2, 1, 1]
    assert auc[0] == pytest.approx(5 / 6)
    var = np.var([1, 2 / 3], ddof=1) / 2 + np.var([0.5, 1, 1], ddof=1) / 3
    assert cov[0, 0] == pytest.approx(var)
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(3)
    yy = rng.integers(0, 2, 80)
    s = yy + rng.normal(0, 1, 80)
    assert delong(s, yy)[0][0] == pytest.approx(roc_auc_score(yy, s))


def test_outcome_auc_pairs_method_with_ga_alone():
    from benchmark.stats.outcome import outcome_auc

    rng = np.random.default_rng(5)
    n = 400
    ga = rng.uniform(24, 40, n)
    delta = rng.normal(0, 1.5, n)
    event = (rng.uniform(size=n) < 1 / (1 + np.exp(2 * delta))).astype(int)  # immature → event
    ids = pd.Index([f"P{i:03d}" for i in range(n)])
    pooled = pd.concat(
        [
            pd.DataFrame(
                {"label": "sees-maturity", "patient_id": ids, "ga_true": ga, "ga_pred": ga + delta}
            ),
            pd.DataFrame({"label": "ga-copy", "patient_id": ids, "ga_true": ga, "ga_pred": ga}),
        ]
    )
    out = outcome_auc(pooled, pd.Series(event, index=ids)).set_index("method")
    assert out.loc["sees-maturity", "diff_lo"] > 0 and out.loc["sees-maturity", "p"] < 0.05
    assert out.loc["ga-copy", "diff"] == 0 and np.isnan(out.loc["ga-copy", "p"])
    assert out.loc["ga-copy", "events"] == event.sum()
    none = outcome_auc(pooled, pd.Series(0, index=ids))
    assert none["auc"].isna().all() and (none["events"] == 0).all()
    few = pd.Series(0, index=ids)
    few.iloc[:4] = 1  # 4 events: AUCs shown, no DeLong CI or p
    rare = outcome_auc(pooled, few)
    assert rare["auc"].notna().all() and rare["auc_lo"].isna().all() and rare["p"].isna().all()
