"""Prediction provenance and the ``--fallback`` modes (docs/methods.md).

Every prediction a cell stores says how it was obtained: ``measured``, or
``fallback:<how>`` when the method predicted an image by a documented fallback (no usable
lung, ...).  ``--fallback predict`` keeps such rows, marked; ``--fallback exclude`` leaves
them out and lists them, so nothing is counted or dropped silently.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from benchmark.contract.base import FALLBACK_PREFIX, MEASURED, BaseMethod
from benchmark.data.cohort import TestView

#: what to do with images a method predicted by a documented fallback (``--fallback``):
#: ``predict`` keeps them (marked in ``provenance``), ``exclude`` leaves them out of the
#: predictions and lists them in the cell's ``excluded.csv``
FALLBACK_MODES = ("predict", "exclude")


def check_predictions(pred: Any, test: TestView) -> pd.Series:
    """The method's output must be one finite GA per test image, indexed by image_id."""
    if not isinstance(pred, pd.Series):
        raise TypeError(f"predict returned {type(pred).__name__}, expected a pandas Series")
    expected = set(test.images.index)
    got = set(pred.index.astype(str))
    if len(pred) != len(expected) or got != expected:
        raise ValueError(
            f"predict returned {len(pred)} predictions for {len(expected)} test images"
            + (f" (e.g. missing {sorted(expected - got)[:2]})" if expected - got else "")
        )
    values = pd.to_numeric(pred, errors="coerce").astype(float)
    if not np.isfinite(values.to_numpy()).all():
        raise ValueError(f"predict returned {int((~np.isfinite(values)).sum())} NaN/inf values")
    values.index = values.index.astype(str)
    return values


def check_provenance(prov: Any, index: pd.Index) -> pd.Series:
    """One ``measured`` / ``fallback:<how>`` string per test image."""
    if not isinstance(prov, pd.Series):
        raise TypeError(
            f"prediction_provenance returned {type(prov).__name__}, expected a pandas Series"
        )
    prov = prov.copy()
    prov.index = prov.index.astype(str)
    prov = prov.reindex(index)
    bad = prov[
        ~prov.map(
            lambda v: (
                v == MEASURED
                or (
                    isinstance(v, str)
                    and v.startswith(FALLBACK_PREFIX)
                    and len(v) > len(FALLBACK_PREFIX)
                )
            )
        )
    ]
    if len(bad):
        raise ValueError(
            f"prediction_provenance: {len(bad)} image(s) without 'measured' or "
            f"'fallback:<how>' (e.g. {bad.index[0]}: {bad.iloc[0]!r})"
        )
    return prov.astype(object)


def patient_provenance(image_prov: pd.Series, patient_of: pd.Series) -> pd.Series:
    """A patient is ``measured`` when all its images are; otherwise it carries the first
    fallback among its images (its GA mixes in a fallback)."""
    fallback = image_prov[image_prov != MEASURED]
    by_patient = fallback.groupby(patient_of.loc[fallback.index]).first()
    patients = pd.Index(patient_of.unique())
    return by_patient.reindex(patients).fillna(MEASURED).astype(object)


def predict_with_provenance(
    method: BaseMethod, test: TestView, fallback: str
) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series, pd.DataFrame]:
    """Image and patient predictions with their provenance, and the rows excluded."""
    if fallback not in FALLBACK_MODES:
        raise ValueError(f"fallback must be one of {FALLBACK_MODES}, got {fallback!r}")
    image_pred = check_predictions(method.predict(test), test)
    image_prov = check_provenance(method.prediction_provenance(test), image_pred.index)
    patient_of = test.images["patient_id"].copy()
    patient_of.index = patient_of.index.astype(str)
    excluded = pd.DataFrame(columns=["level", "image_id", "patient_id", "provenance"])
    if fallback == "exclude":
        drop = image_prov[image_prov != MEASURED]
        excluded = pd.DataFrame(
            {
                "level": "image",
                "image_id": drop.index,
                "patient_id": patient_of.loc[drop.index].to_numpy(),
                "provenance": drop.to_numpy(),
            }
        )
        image_pred, image_prov = image_pred.drop(drop.index), image_prov.drop(drop.index)
    patient_pred = method.predict_patients(test, image_pred)
    if fallback == "exclude":  # a patient with no measured image has no measured GA
        gone = patient_pred.index[~np.isfinite(patient_pred.to_numpy(dtype=float))]
        first = excluded.groupby("patient_id")["provenance"].first()
        excluded = pd.concat(
            [
                excluded,
                pd.DataFrame(
                    {
                        "level": "patient",
                        "image_id": "",
                        "patient_id": gone,
                        "provenance": first.reindex(gone)
                        .fillna("fallback:no-measured-image")
                        .to_numpy(),
                    }
                ),
            ],
            ignore_index=True,
        )
        patient_pred = patient_pred.drop(gone)
    patient_prov = patient_provenance(image_prov, patient_of.loc[image_prov.index])
    return image_pred, patient_pred, image_prov, patient_prov, excluded
