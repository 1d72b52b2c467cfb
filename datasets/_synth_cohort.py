"""Synthetic cohort table: GA design, maternal data, biometry, latent lung maturity.

Every number here is a documented assumption (see ``docs/synthetic.md``); none is tuned
to the paper's results.  Randomness comes from per-purpose generators seeded by
``(seed, stream, ...)`` so that a row never depends on how many rows came before it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._synth_routes import Routes
from ._synth_sites import site_presets

#: Paper's group sizes (24–30, >30–36, >36 wk) and the GA range drawn uniformly in each.
GROUP_SIZES = (90, 123, 103)
GROUP_RANGES = ((24.0, 30.0), (30.0, 36.0), (36.0, 40.5))  # 40.5: "to birth", term scans

#: Paper Table 1 (whole cohort): maternal age 25–38, 32.62 ± 3.39 y.
MATERNAL_AGE = (32.62, 3.39, 25.0, 38.0)
#: Paper: 73 of 316 multiparous.
P_MULTIPAROUS = 73 / 316
#: Paper: delivery 39–41 wk, 39.32 ± 1.21 wk (uncomplicated singletons).
DELIVERY_GA = (39.32, 1.21, 37.0, 41.9)
#: Paper: Apgar 9–10, 9.92 ± 0.31 → P(10) ≈ 0.92.
P_APGAR_10 = 0.92

#: Latent maturity m = (GA + δ − 24) / 16: 0 at 24 wk, 1 at 40 wk (linear in GA, the
#: paper's own hypothesis "maturity is proportional to GA").
MATURITY_GA0, MATURITY_SPAN = 24.0, 16.0
#: SD of δ, biological variation between fetuses in weeks-equivalent (an assumption).
#: The GA at which amniotic-fluid markers of surfactant maturity (L/S ≥ 2) appear varies by
#: several weeks between normal pregnancies (Gluck 1971 and later series); SD 1.2 wk sits
#: inside that spread.
MATURITY_BIO_SD_WEEKS = 1.2
#: SD of the per-image jitter of maturity (weeks-equivalent): different frames/sections of
#: the same lung differ a little (fetal breathing, section level).
MATURITY_IMAGE_SD_WEEKS = 0.3

#: Share of the biometric z-score variance that is a per-fetus size factor common to all
#: measures; the rest is measure-specific (shape + measurement error).  Correlations
#: of 0.5–0.7 between biometric z-scores are typical of normal fetuses.
SIZE_SHARED_VARIANCE = 0.6


def group_counts(patients: int) -> list[int]:
    """Scale the paper's group sizes to ``patients`` (largest-remainder rounding)."""
    raw = np.asarray(GROUP_SIZES, float) * patients / sum(GROUP_SIZES)
    counts = np.floor(raw).astype(int)
    for i in np.argsort(-(raw - counts), kind="stable")[: patients - counts.sum()]:
        counts[i] += 1
    return counts.tolist()


def _rng(seed: int, *stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, *stream])


def _truncnorm(
    rng: np.random.Generator, mean: float, sd: float, lo: float, hi: float, n: int
) -> np.ndarray:
    # rejection is exact and cheap here: the bounds lie within ±3 SD of the mean
    out = rng.normal(mean, sd, n)
    bad = (out < lo) | (out > hi)
    while bad.any():
        out[bad] = rng.normal(mean, sd, bad.sum())
        bad = (out < lo) | (out > hi)
    return out


def _group_ga(rng: np.random.Generator, counts: list[int]) -> tuple[np.ndarray, np.ndarray]:
    groups = np.repeat(np.arange(len(counts)), counts)
    lo = np.array([GROUP_RANGES[g][0] for g in groups])
    hi = np.array([GROUP_RANGES[g][1] for g in groups])
    # GA is dated in whole days; groups are right-closed, so draw days in (lo, hi]
    days = rng.integers(np.round(lo * 7).astype(int) + 1, np.floor(hi * 7).astype(int) + 1)
    return groups, days / 7.0


# INTERGROWTH-21st fetal growth standards (Papageorghiou 2014), GA in weeks, mm.
def intergrowth_mean_sd(measure: str, ga: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and SD (mm) of ``hc``, ``bpd``, ``ac`` or ``fl`` at GA (exact weeks)."""
    g = np.asarray(ga, float)
    lg = np.log(g)
    if measure == "hc":
        mu = -28.2849 + 1.69267 * g**2 - 0.397485 * g**2 * lg
        sd = 1.98735 + 0.0136772 * g**3 - 0.00726264 * g**3 * lg + 0.000976253 * g**3 * lg**2
    elif measure == "bpd":
        mu = 5.60878 + 0.158369 * g**2 - 0.00256379 * g**3
        sd = np.exp(
            0.101242 + 0.00150557 * g**3 - 0.000771535 * g**3 * lg + 0.0000999638 * g**3 * lg**2
        )
    elif measure == "ac":
        mu = -81.3243 + 11.6772 * g - 0.000561865 * g**3
        sd = -4.36302 + 0.121445 * g**2 - 0.0130256 * g**3 + 0.00282143 * g**3 * lg
    elif measure == "fl":
        mu = -39.9616 + 4.32298 * g - 0.0380156 * g**2
        sd = np.exp(0.605843 - 42.0014 * g**-2.0 + 0.00000917972 * g**3)
    else:
        raise ValueError(f"unknown biometric measure {measure!r}")
    return mu, sd


def _interleave(rng: np.random.Generator, groups: np.ndarray) -> np.ndarray:
    """Enrolment order that spreads every group evenly over time (stratified positions),
    so any prefix split (the paper's first-166) holds every group in proportion."""
    pos = np.empty(len(groups))
    for g in np.unique(groups):
        idx = np.flatnonzero(groups == g)
        rng.shuffle(idx)
        pos[idx] = (np.arange(len(idx)) + rng.uniform(0, 1, len(idx))) / len(idx)
    return np.argsort(np.argsort(pos, kind="stable"), kind="stable") + 1


def make_cohort(
    patients: int, seed: int, null: bool = False, routes: Routes | None = None, sites: int = 1
) -> pd.DataFrame:
    """One row per patient, in enrolment order.

    Columns: the public ones of ``docs/data-format.md``, ``truth_maturity`` (the maturity
    the lung texture shows) and private ``_``-prefixed latents that drive the images:
    ``_image_ga`` / ``_size_z`` (anatomy size), ``_zoom_ga`` / ``_zoom_size_z`` (framing,
    hence pixel spacing), ``_texture_maturity`` and ``_echo_maturity``.

    Each route of ``routes`` (default: all on; ``null=True``: all off) takes its latent
    either from the patient (GA, size factor, maturity) or from an independent draw of the
    same design, so a route that is off shares nothing with ``ga_weeks``.

    ``site`` names the scanner preset of the patient's centre (``_synth_sites``): every
    patient ``generic`` for ``sites=1``, else one of the first ``sites`` presets drawn with
    equal probability, independently of GA (a site shift must not be a GA shift).
    """
    if routes is None:
        routes = Routes(0.0, 0.0, False, False) if null else Routes()
    counts = group_counts(patients)
    groups, ga = _group_ga(_rng(seed, 1), counts)
    n = len(ga)
    rng = _rng(seed, 2)
    maternal_age = np.round(_truncnorm(rng, *MATERNAL_AGE, n))
    parity = np.where(rng.uniform(size=n) < P_MULTIPAROUS, "multiparous", "primiparous")
    delivery = _truncnorm(rng, *DELIVERY_GA, n)
    # delivery cannot precede the scan; term scans deliver within days
    delivery = np.maximum(delivery, ga + rng.exponential(0.5, n))
    delivery = np.round(np.floor(delivery * 7) / 7, 4)
    apgar = np.where(rng.uniform(size=n) < P_APGAR_10, 10.0, 9.0)

    rng = _rng(seed, 3)
    size_z = rng.normal(size=n)
    bio = {}
    for k, measure in enumerate(("bpd", "hc", "ac", "fl")):
        own = _rng(seed, 4, k).normal(size=n)
        z = np.sqrt(SIZE_SHARED_VARIANCE) * size_z + np.sqrt(1 - SIZE_SHARED_VARIANCE) * own
        mu, sd = intergrowth_mean_sd(measure, ga)
        bio[f"{measure}_mm"] = np.round(mu + z * sd, 1)

    # same design, independent draw: an "image GA" that shares nothing with ga_weeks
    _, free_ga = _group_ga(_rng(seed, 101), counts)
    free_ga = _rng(seed, 102).permutation(free_ga)
    free_size_z = _rng(seed, 103).normal(size=n)
    delta = _rng(seed, 5).normal(0.0, MATURITY_BIO_SD_WEEKS, n)
    maturity = (ga + delta - MATURITY_GA0) / MATURITY_SPAN
    free_maturity = (free_ga + delta - MATURITY_GA0) / MATURITY_SPAN

    def pick(on: bool | float, own: np.ndarray, free: np.ndarray) -> np.ndarray:
        return own if on else free

    texture_maturity = pick(routes.microstructure, maturity, free_maturity)

    presets = site_presets(sites)
    site = np.array([p.name for p in presets])[_rng(seed, 8).integers(len(presets), size=n)]

    order = _interleave(_rng(seed, 6), groups)
    df = pd.DataFrame(
        {
            "enrolment_order": order,
            "ga_weeks": np.round(ga, 4),
            **bio,
            "maternal_age": maternal_age,
            "parity": parity,
            "delivery_ga_weeks": delivery,
            "apgar": apgar,
            "site": site,
            "truth_maturity": np.round(texture_maturity, 5),
            "_image_ga": pick(routes.size, ga, free_ga),
            "_size_z": pick(routes.size, size_z, free_size_z),
            "_zoom_ga": pick(routes.zoom, ga, free_ga),
            "_zoom_size_z": pick(routes.zoom, size_z, free_size_z),
            "_texture_maturity": texture_maturity,
            "_echo_maturity": pick(routes.echogenicity, maturity, free_maturity),
        }
    )
    df = df.sort_values("enrolment_order", kind="stable").reset_index(drop=True)
    df.insert(0, "patient_id", [f"S{i:04d}" for i in df["enrolment_order"]])
    return df
