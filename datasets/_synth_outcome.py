"""Neonatal respiratory morbidity (NRM) of the synthetic cohort: the ``outcome`` column.

Model (every number an assumption from the literature, none tuned to a method):

- The lung's maturity at delivery, in weeks-equivalent, is the GA at delivery plus the
  fetus's biological maturity deviation δ (the same δ that drives the lung texture:
  ``truth_maturity`` = (GA + δ − 24) / 16, docs/synthetic.md).
- The risk of NRM (respiratory distress syndrome or transient tachypnoea of the newborn)
  falls steeply with maturity at birth: among term and near-term births its odds roughly
  halve with each additional week of gestation (Hibbard et al. 2010, Consortium on Safe
  Labor, JAMA; Tita et al. 2009, NEJM, elective repeat caesarean at 37–39 weeks), and at
  39 weeks about 2 % of newborns have a respiratory complication (Tita et al. 2009).
  So: logit P(NRM) = logit(0.02) − ln 2 × (maturity at delivery − 39 wk).
- The outcome is a Bernoulli draw from that risk with its own seeded generator, so it
  never changes any other column or image.

The synthetic deliveries are uncomplicated term births (37–42 wk, as the paper's cohort),
so NRM is rare (≈ 2 %): AUCs on it have wide DeLong intervals — that is the honest size
of this question at this cohort size, not a defect.  In Burgos-Artizzu et al. (2019),
where the texture signal predicted NRM beyond GA, the cohort was enriched for preterm
deliveries.

Preterm-enriched option (``enrich_preterm``, CLI ``run --enrich-preterm``): the cohort is
sampled as the lung-maturity studies sample it.  Burgos-Artizzu et al. (Sci Rep 2019;
quantusFLM 3.0: 790 images at 24+0–38+6 weeks, NRM ≈ 20 %) and Palacio et al. (AJOG 2017)
took the lung image **within 48 hours of delivery**, so every gestational age at the scan
is also (nearly) the age at birth and preterm births are frequent.  Here each patient then
delivers 0, 1 or 2 days after the scan (uniform; its own seeded stream), nothing else
changes (same GA design, same images, same latent maturity), and the outcome follows the
same cited risk model.  The event rate is whatever that model gives on the paper's GA
design (scans spread over 24–40.5 wk, not the study's mostly late-preterm mix), stated
in docs/synthetic.md; it was not tuned.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import _synth_cohort as cohort

#: P(NRM) at 39 weeks of maturity at delivery (Tita et al. 2009).
RISK_AT_39_WEEKS = 0.02
#: Odds ratio per week of maturity at delivery (halving per week: Hibbard et al. 2010).
ODDS_RATIO_PER_WEEK = 0.5


def maturity_at_delivery(patients: pd.DataFrame) -> np.ndarray:
    """GA at delivery + δ, δ = the simulated lung maturity minus the true GA (weeks).

    In the default scenario that is the fetus's biological deviation; in scenarios whose
    texture does not follow GA (synthetic-null) it is whatever the texture shows beyond
    GA, so the outcome there carries no clinical meaning (documented in docs/report.md)."""
    delta = (
        patients["truth_maturity"].to_numpy(float) * cohort.MATURITY_SPAN
        + cohort.MATURITY_GA0
        - patients["ga_weeks"].to_numpy(float)
    )
    return patients["delivery_ga_weeks"].to_numpy(float) + delta


def respiratory_morbidity(patients: pd.DataFrame, seed: int) -> np.ndarray:
    """The binary ``outcome`` (1 = NRM) of every patient of a synthetic cohort table."""
    logit = np.log(RISK_AT_39_WEEKS / (1 - RISK_AT_39_WEEKS)) + np.log(ODDS_RATIO_PER_WEEK) * (
        maturity_at_delivery(patients) - 39.0
    )
    risk = 1 / (1 + np.exp(-logit))
    draw = np.random.default_rng([seed, 7]).uniform(size=len(patients))
    return (draw < risk).astype(int)


#: Burgos-Artizzu et al. 2019 / Palacio et al. 2017: the image within 48 h of delivery.
SCAN_TO_DELIVERY_DAYS = (0, 2)


def delivery_soon_after_scan(patients: pd.DataFrame, seed: int) -> np.ndarray:
    """Delivery GA (weeks, whole days) 0–2 days after the scan, for the enriched cohort."""
    lo, hi = SCAN_TO_DELIVERY_DAYS
    days = np.random.default_rng([seed, 9]).integers(lo, hi + 1, size=len(patients))
    return np.round((np.round(patients["ga_weeks"].to_numpy(float) * 7) + days) / 7, 4)
