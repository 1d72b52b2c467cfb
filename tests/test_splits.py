from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from benchmark.data.splits import AgeGroups, LeakageError, Split, make_splits


def _patients(n: int = 316, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {"ga_weeks": rng.uniform(24, 40, n), "enrolment_order": rng.permutation(n)},
        index=pd.Index([f"P{i:03d}" for i in range(n)], name="patient_id"),
    )


def test_paper_split_takes_first_166_of_316_by_enrolment():
    patients = _patients()
    (split,) = make_splits(patients, "paper")
    assert len(split.train_ids) == 166 and len(split.test_ids) == 150
    first = patients.sort_values("enrolment_order").index[:166]
    assert set(split.train_ids) == set(first)


@pytest.mark.parametrize("scheme", ["paper", "paper:0.7", "kfold:5"])
def test_no_patient_overlap_and_everyone_tested(scheme):
    patients = _patients(120)
    splits = make_splits(patients, scheme, seeds=[0, 1])
    for s in splits:
        assert not set(s.train_ids) & set(s.test_ids)
        assert set(s.train_ids) | set(s.test_ids) == set(patients.index)
    if scheme.startswith("kfold"):
        tested = [pid for s in splits if s.seed == 0 for pid in s.test_ids]
        assert sorted(tested) == sorted(patients.index)  # each patient tested once per seed


def test_kfold_is_deterministic_per_seed_and_differs_across_seeds():
    patients = _patients(100)
    a = make_splits(patients, "kfold:4", seeds=[3])
    b = make_splits(patients, "kfold:4", seeds=[3])
    c = make_splits(patients, "kfold:4", seeds=[4])
    assert a == b
    assert [s.test_ids for s in a] != [s.test_ids for s in c]


def test_kfold_is_ga_stratified():
    patients = _patients(200)
    for s in make_splits(patients, "kfold:5"):
        test_ga = patients.loc[list(s.test_ids), "ga_weeks"]
        assert abs(test_ga.mean() - patients["ga_weeks"].mean()) < 1.0


def test_overlap_is_a_hard_error():
    with pytest.raises(LeakageError, match="both train and test"):
        Split("paper", 0, 0, ("A", "B"), ("B", "C"))


def test_group_edges_land_where_the_paper_puts_them():
    groups = AgeGroups()
    labels = groups.assign(np.array([24.0, 30.0, 30.01, 36.0, 36.01, 41.0])).tolist()
    assert labels == ["24–30", "24–30", ">30–36", ">30–36", ">36", ">36"]


def test_groups_are_configurable():
    groups = AgeGroups(edges=(28.0, 32.0, 36.0))
    assert groups.labels == ["24–28", ">28–32", ">32–36", ">36"]
    assert groups.assign(np.array([32.0])).tolist() == [">28–32"]


def test_unknown_scheme_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown split"):
        make_splits(_patients(10), "holdout")


def test_leave_one_site_out_and_a_named_site():
    patients = _patients(60).assign(site=["A"] * 20 + ["B"] * 25 + ["C"] * 15)
    splits = make_splits(patients, "site", seeds=[0])
    assert [s.fold for s in splits] == [0, 1, 2]
    for split, site in zip(splits, "ABC"):
        assert set(patients.loc[list(split.test_ids), "site"]) == {site}
        assert site not in set(patients.loc[list(split.train_ids), "site"])
        assert len(split.train_ids) + len(split.test_ids) == 60
    (only,) = make_splits(patients, "site:B")
    assert only.scheme == "site:B" and only.fold == 1 and len(only.test_ids) == 25


@pytest.mark.parametrize(
    ("patients_site", "scheme", "message"),
    [
        (None, "site", "has none"),
        (["A"] * 60, "site", "at least two sites"),
        (["A"] * 30 + ["B"] * 30, "site:Z", "no such site; sites: A, B"),
        (["A"] * 59 + [None], "site", r"1 patient\(s\) without a site"),
    ],
)
def test_site_split_errors_are_one_line(patients_site, scheme, message):
    patients = _patients(60)
    if patients_site is not None:
        patients = patients.assign(site=patients_site)
    with pytest.raises(ValueError, match=message):
        make_splits(patients, scheme)
