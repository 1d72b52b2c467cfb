"""The "traditional" method: GA from routine biometry (BPD, HC, AC, FL).

- ``biometry-hadlock``: Hadlock et al., Radiology 1984;152:497-501, all 15 regression
  combinations (inputs in cm); default BPD+HC+AC+FL, the multi-parameter estimate the
  paper compares against.
- ``biometry-intergrowth``: Papageorghiou et al., UOG 2016;48:719-726 (HC + FL, mm → days).
- ``biometry-fit``: a scikit-learn regression fitted on the training patients' biometry.

Biometry is per patient, so every image of a patient gets the patient's estimate.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from benchmark import BaseMethod, register_method
from benchmark.data.cohort import BIOMETRY_COLUMNS

Formula = Callable[..., np.ndarray]

#: Hadlock 1984: measurement names (cm) → GA in weeks.
HADLOCK: dict[str, Formula] = {
    "BPD": lambda BPD: 9.54 + 1.482 * BPD + 0.1676 * BPD**2,
    "HC": lambda HC: 8.96 + 0.540 * HC + 0.0003 * HC**3,
    "AC": lambda AC: 8.14 + 0.753 * AC + 0.0036 * AC**2,
    "FL": lambda FL: 10.35 + 2.460 * FL + 0.170 * FL**2,
    "BPD+HC": lambda BPD, HC: 10.32 + 0.009 * HC**2 + 1.32 * BPD + 0.00012 * HC**3,
    "BPD+AC": lambda BPD, AC: 9.57 + 0.524 * AC + 0.122 * BPD**2,
    "BPD+FL": lambda BPD, FL: 10.50 + 0.197 * BPD * FL + 0.950 * FL + 0.730 * BPD,
    "HC+AC": lambda HC, AC: 10.31 + 0.012 * HC**2 + 0.385 * AC,
    "HC+FL": lambda HC, FL: 11.19 + 0.070 * HC * FL + 0.263 * HC,
    "AC+FL": lambda AC, FL: 10.47 + 0.442 * AC + 0.314 * FL**2 - 0.0121 * FL**3,
    "BPD+HC+AC": lambda BPD, HC, AC: 10.58 + 0.005 * HC**2 + 0.3635 * AC + 0.02864 * BPD * AC,
    "BPD+HC+FL": lambda BPD, HC, FL: 11.38 + 0.070 * HC * FL + 0.98 * BPD,
    "BPD+AC+FL": lambda BPD, AC, FL: 10.61 + 0.175 * BPD * FL + 0.297 * AC + 0.710 * FL,
    "HC+AC+FL": lambda HC, AC, FL: 10.33 + 0.031 * HC * FL + 0.361 * HC + 0.0298 * AC * FL,
    "BPD+HC+AC+FL": lambda BPD, HC, AC, FL: 10.85 + 0.060 * HC * FL + 0.670 * BPD + 0.168 * AC,
}


def hadlock_ga(combination: str, **cm: np.ndarray) -> np.ndarray:
    """GA (weeks) by one Hadlock 1984 formula; measurements in **cm**."""
    if combination not in HADLOCK:
        raise ValueError(f"unknown Hadlock combination {combination!r}; one of {list(HADLOCK)}")
    return HADLOCK[combination](
        **{k: np.asarray(cm[k], dtype=float) for k in combination.split("+")}
    )


def intergrowth_ga_days(hc_mm: np.ndarray, fl_mm: np.ndarray) -> np.ndarray:
    """INTERGROWTH-21st (Papageorghiou 2016): GA in **days** from HC and FL in **mm**."""
    ln_hc = np.log(np.asarray(hc_mm, dtype=float))
    return np.exp(0.03243 * ln_hc**2 + 0.001644 * np.asarray(fl_mm, dtype=float) * ln_hc + 3.813)


class _Biometric(BaseMethod):
    """Shared plumbing: per-patient estimate broadcast to the patient's images."""

    needs: tuple[str, ...] = BIOMETRY_COLUMNS

    def skip(self, dataset) -> tuple[bool, str | None]:
        missing = [c for c in self._needed() if c not in dataset.patient_columns]
        if missing:
            return True, f"the dataset has no {', '.join(missing)} column(s)"
        return False, None

    def _needed(self) -> tuple[str, ...]:
        return self.needs

    def _patient_estimate(self, patients: pd.DataFrame) -> pd.Series:
        raise NotImplementedError

    def fit(self, train) -> _Biometric:
        return self

    def predict(self, test) -> pd.Series:
        per_patient = self._patient_estimate(test.patients)
        missing = per_patient[~np.isfinite(per_patient)].index
        if len(missing):
            raise ValueError(f"biometry missing or invalid for patient(s) {list(missing)[:5]}")
        return test.images["patient_id"].map(per_patient).astype(float)


@register_method
class HadlockBiometry(_Biometric):
    name = "biometry-hadlock"
    summary = "Hadlock 1984 multi-parameter biometry (the paper's traditional method)"
    parameters = {"combination": ["BPD+HC+AC+FL"]}
    role = "reference"  # the traditional method the paper compares against (Table 2)

    def _needed(self) -> tuple[str, ...]:
        return tuple(f"{m.lower()}_mm" for m in self.combination.split("+"))

    def _patient_estimate(self, patients: pd.DataFrame) -> pd.Series:
        cm = {m: patients[f"{m.lower()}_mm"].to_numpy() / 10.0 for m in self.combination.split("+")}
        return pd.Series(hadlock_ga(self.combination, **cm), index=patients.index)


@register_method
class IntergrowthBiometry(_Biometric):
    name = "biometry-intergrowth"
    summary = "INTERGROWTH-21st GA from HC and FL (Papageorghiou 2016)"
    needs = ("hc_mm", "fl_mm")

    def _patient_estimate(self, patients: pd.DataFrame) -> pd.Series:
        days = intergrowth_ga_days(patients["hc_mm"].to_numpy(), patients["fl_mm"].to_numpy())
        return pd.Series(days / 7.0, index=patients.index)


@register_method
class FittedBiometry(_Biometric):
    name = "biometry-fit"
    summary = "scikit-learn regression of GA on the training patients' biometry"
    parameters = {"model": ["ridge"], "alpha": [1.0]}

    def fit(self, train) -> FittedBiometry:
        from sklearn.linear_model import Ridge
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import PolynomialFeatures, StandardScaler

        if self.model != "ridge":
            raise ValueError(f"biometry-fit: unknown model {self.model!r} (only 'ridge')")
        x = train.patients[list(self.needs)].to_numpy(dtype=float)
        # quadratic terms: growth curves flatten late in pregnancy
        self.model_ = make_pipeline(
            PolynomialFeatures(2, include_bias=False), StandardScaler(), Ridge(alpha=self.alpha)
        ).fit(x, train.patients["ga_weeks"].to_numpy(dtype=float))
        return self

    def _patient_estimate(self, patients: pd.DataFrame) -> pd.Series:
        x = patients[list(self.needs)].to_numpy(dtype=float)
        if not np.isfinite(x).all():
            bad = patients.index[~np.isfinite(x).all(axis=1)]
            raise ValueError(f"biometry missing or invalid for patient(s) {list(bad)[:5]}")
        return pd.Series(self.model_.predict(x), index=patients.index)
