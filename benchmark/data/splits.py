"""Patient-level splits (``paper``, ``kfold:K``, ``site``, ``site:NAME``) and GA groups.

``site`` leaves one site out at a time (fold k = the k-th site in sorted order is the test
set, every other site trains); ``site:NAME`` holds out that site only.  Both read the
patients table's ``site`` column (real cohorts bring it; synthetic cohorts get it with
``--sites K``).  Performance measured at one centre overstates it elsewhere; this is the
split that shows by how much.

``linked`` groups of patients (a look-alike cluster found by ``validate``: near-identical
frames filed under several patients) stay on one side, as one patient's images do: in
``paper`` the whole group goes where its first-enrolled member goes, in ``kfold`` to its
first member's fold; a ``site`` split cannot move a patient to another site, so a group
spanning sites is an error naming it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from benchmark.contract.domain import DEFAULT_GROUP_EDGES

#: The paper trains on the first 166 of 316 women by enrolment order.
PAPER_TRAIN_FRACTION = 166 / 316


class LeakageError(RuntimeError):
    """A patient is in both the training and the test set."""


@dataclass(frozen=True)
class Split:
    scheme: str  # "paper" or "kfold:5"
    seed: int
    fold: int
    train_ids: tuple[str, ...]
    test_ids: tuple[str, ...]

    def __post_init__(self) -> None:
        check_disjoint(self.train_ids, self.test_ids)

    @property
    def label(self) -> str:
        return f"{self.scheme}/seed{self.seed}/fold{self.fold}"


def check_disjoint(train_ids: Sequence[str], test_ids: Sequence[str]) -> None:
    overlap = set(train_ids) & set(test_ids)
    if overlap:
        raise LeakageError(
            f"{len(overlap)} patient(s) in both train and test, e.g. {sorted(overlap)[:3]}"
        )


def _anchors(patients: pd.DataFrame, linked: Sequence[Sequence[str]]) -> dict[str, str]:
    """Each linked patient → its group's first-enrolled member (the side the group takes)."""
    order = patients["enrolment_order"] if "enrolment_order" in patients else None
    anchor = {}
    for group in linked:
        members = [p for p in group if p in patients.index]
        if len(members) < 2:
            continue  # the rest were left out (--skip-invalid): nothing to keep together
        first = min(members, key=lambda p: (order[p], p) if order is not None else (0, p))
        anchor.update({p: first for p in members})
    return anchor


def _paper(
    patients: pd.DataFrame, fraction: float, seed: int, anchor: dict[str, str]
) -> list[Split]:
    order = patients.sort_values("enrolment_order", kind="stable").index
    n_train = int(round(len(order) * fraction))
    if not 0 < n_train < len(order):
        raise ValueError(f"paper split with fraction {fraction} leaves an empty side")
    in_train = set(order[:n_train])
    side = {p: anchor.get(p, p) in in_train for p in order}
    train = tuple(p for p in order if side[p])
    test = tuple(p for p in order if not side[p])
    return [Split("paper", seed, 0, train, test)]


def _kfold(patients: pd.DataFrame, k: int, seed: int, anchor: dict[str, str]) -> list[Split]:
    from sklearn.model_selection import StratifiedKFold  # ~2 s to import: only when used

    from benchmark.contract.errors import InputError

    if k < 2:
        raise InputError(f"kfold:{k}: K must be at least 2", "split", "use kfold:5")
    if k > len(patients):  # said in patients, before scikit-learn says "samples"
        raise InputError(
            f"kfold:{k} needs at least {k} patients; this cohort has {len(patients)}",
            "split",
            f"use kfold:{max(2, len(patients))} or add patients",
        )
    # stratify on GA quantile bins so every fold spans the GA range
    n_bins = max(2, min(10, len(patients) // (2 * k)))
    strata = pd.qcut(patients["ga_weeks"].rank(method="first"), n_bins, labels=False)
    cv = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    ids = np.asarray(patients.index)
    fold_of = {ids[i]: fold for fold, (_, te) in enumerate(cv.split(ids, strata)) for i in te}
    fold_of = {p: fold_of[anchor.get(p, p)] for p in ids}  # a linked group: its anchor's fold
    return [
        Split(
            f"kfold:{k}",
            seed,
            fold,
            tuple(p for p in ids if fold_of[p] != fold),
            tuple(p for p in ids if fold_of[p] == fold),
        )
        for fold in range(k)
    ]


def site_names(patients: pd.DataFrame) -> list[str]:
    """Sorted site names; a one-line error when the column is missing or incomplete."""
    if "site" not in patients:
        raise ValueError(
            "split 'site' needs a 'site' column in the patients table; this "
            "cohort has none (synthetic cohorts: --sites K)"
        )
    sites = patients["site"]
    missing = sites.isna() | (sites.astype(str).str.strip() == "")
    if missing.any():
        raise ValueError(
            f"split 'site': {int(missing.sum())} patient(s) without a site, "
            f"e.g. {list(patients.index[missing][:3])}"
        )
    return sorted(sites.astype(str).unique())


def _site(patients: pd.DataFrame, name: str, seed: int, anchor: dict[str, str]) -> list[Split]:
    sites = site_names(patients)
    site = patients["site"].astype(str)
    groups: dict[str, list[str]] = {}
    for p, a in anchor.items():
        groups.setdefault(a, []).append(p)
    for members in groups.values():
        if len({site[p] for p in members}) > 1:
            from benchmark.contract.errors import InputError

            shown = ", ".join(f"{p} (site {site[p]})" for p in sorted(members))
            raise InputError(
                f"split 'site': patients {shown} have look-alike images (validate: "
                "near-duplicate) but sit at different sites, so they would be on both sides",
                "split",
                "remove the copied frames, or give these patients one site",
            )
    ids = np.asarray(patients.index)
    if name:
        if name not in sites:
            raise ValueError(f"split 'site:{name}': no such site; sites: {', '.join(sites)}")
        held_out = [name]
    else:
        if len(sites) < 2:
            raise ValueError(
                f"split 'site' needs at least two sites; the cohort has {', '.join(sites)} only"
            )
        held_out = sites
    scheme = f"site:{name}" if name else "site"
    return [
        Split(
            scheme,
            seed,
            sites.index(s),
            tuple(ids[(site != s).to_numpy()]),
            tuple(ids[(site == s).to_numpy()]),
        )
        for s in held_out
    ]


def make_splits(
    patients: pd.DataFrame,
    scheme: str,
    seeds: Sequence[int] = (0,),
    linked: Sequence[Sequence[str]] = (),
) -> list[Split]:
    """``paper`` | ``paper:FRACTION`` | ``kfold:K`` | ``site`` | ``site:NAME`` → one Split
    per (seed, fold); each ``linked`` group of patient ids stays on one side."""
    name, _, arg = scheme.partition(":")
    anchor = _anchors(patients, linked)
    out: list[Split] = []
    for seed in seeds:
        if name == "paper":
            out += _paper(patients, float(arg) if arg else PAPER_TRAIN_FRACTION, seed, anchor)
        elif name == "kfold":
            out += _kfold(patients, int(arg or 5), seed, anchor)
        elif name == "site":
            out += _site(patients, arg, seed, anchor)
        else:
            raise ValueError(
                f"unknown split {scheme!r}; use 'paper', 'paper:0.6', 'kfold:5', "
                "'site' or 'site:NAME'"
            )
    return out


@dataclass(frozen=True)
class AgeGroups:
    """Right-closed GA groups: with edges (30, 36): ≤30, (30, 36], >36 (as the paper)."""

    edges: tuple[float, ...] = DEFAULT_GROUP_EDGES
    low: float = 24.0

    @property
    def labels(self) -> list[str]:
        bounds = [self.low, *self.edges]
        labels = [f"{_fmt(bounds[0])}–{_fmt(bounds[1])}"]
        labels += [f">{_fmt(a)}–{_fmt(b)}" for a, b in zip(bounds[1:-1], bounds[2:])]
        return labels + [f">{_fmt(self.edges[-1])}"]

    def assign(self, ga_weeks: pd.Series | np.ndarray) -> pd.Series:
        bins = [-np.inf, *self.edges, np.inf]
        cut = pd.cut(pd.Series(ga_weeks), bins=bins, labels=self.labels, right=True)
        return cut.astype(str)


def _fmt(x: float) -> str:
    return f"{x:g}"
