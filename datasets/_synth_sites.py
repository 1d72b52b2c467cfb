"""Scanner / site presets: how one centre's machine and habits set the nuisances.

A multicentre cohort (Palacio 2017: 20 centres) mixes scanners and sonographers: probe
frequency, beam focusing, speckle reduction (SRI/CRI, on or off and how strong), dynamic
range, grey map and how TGC sliders are set.  Each preset below narrows the broad
per-exam ranges of ``_synth_scanner.draw_acquisition`` (which stay the single-site
``generic`` default) to one centre's habits; every preset range lies inside the broad one,
so no site shows a setting the default world never shows.  The values are plausible
habits, not measurements of named products.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SitePreset:
    """Per-exam setting ranges (uniform unless noted) of one centre."""

    name: str
    f0_mhz: tuple[float, float] = (2.5, 4.0)  # probe centre frequency
    fnumber: tuple[float, float] = (2.0, 3.0)  # beam focusing (lateral resolution)
    sri: tuple[tuple[float, ...], tuple[float, ...]] = ((0.0, 1.0, 2.0), (0.2, 0.4, 0.4))
    dynamic_range_db: tuple[float, float] = (50.0, 66.0)
    gamma: tuple[float, float] = (1.2, 1.6)  # grey map exponent
    tgc_slope: tuple[float, float] = (0.55, 0.08)  # mean, SD: how TGC sliders are set
    gain_db: tuple[float, float] = (0.0, 3.0)  # mean, SD of the overall gain
    note: str = ""


GENERIC = SitePreset("generic", note="the broad single-site mixture (default)")

#: Named presets mixed by ``sites=K`` (the first K).  Frequencies within a C1-5 convex
#: array's 2–5 MHz band; SRI levels as on Voluson-class scanners (off / 1 / 2).
PRESETS: tuple[SitePreset, ...] = (
    SitePreset(
        "hf-smooth",
        f0_mhz=(3.5, 4.0),
        fnumber=(2.0, 2.4),
        sri=((2.0,), (1.0,)),
        dynamic_range_db=(60.0, 66.0),
        gamma=(1.4, 1.6),
        tgc_slope=(0.60, 0.04),
        note="higher frequency, tight focus, strong speckle reduction, wide range",
    ),
    SitePreset(
        "lf-penetration",
        f0_mhz=(2.5, 3.0),
        fnumber=(2.6, 3.0),
        sri=((1.0,), (1.0,)),
        dynamic_range_db=(50.0, 56.0),
        gamma=(1.2, 1.3),
        tgc_slope=(0.50, 0.04),
        gain_db=(1.5, 2.0),
        note="low frequency for deep/obese patients, narrow range, flat grey map",
    ),
    SitePreset(
        "mid-raw",
        f0_mhz=(3.0, 3.5),
        fnumber=(2.2, 2.8),
        sri=((0.0,), (1.0,)),
        dynamic_range_db=(55.0, 62.0),
        gamma=(1.3, 1.5),
        tgc_slope=(0.55, 0.10),
        note="no speckle reduction, TGC set loosely by eye",
    ),
    SitePreset(
        "mid-contrast",
        f0_mhz=(3.0, 3.8),
        fnumber=(2.0, 2.6),
        sri=((1.0, 2.0), (0.5, 0.5)),
        dynamic_range_db=(50.0, 58.0),
        gamma=(1.5, 1.6),
        tgc_slope=(0.48, 0.04),
        gain_db=(-1.5, 2.0),
        note="high-contrast grey map, TGC under-compensating depth",
    ),
)


def site_presets(sites: int) -> tuple[SitePreset, ...]:
    """``sites=1``: the generic single site; ``sites=K`` (2 ≤ K ≤ 4): the first K presets."""
    if sites == 1:
        return (GENERIC,)
    if not 2 <= sites <= len(PRESETS):
        raise ValueError(
            f"sites must be 1 (generic) or 2–{len(PRESETS)} named presets, got {sites}"
        )
    return PRESETS[:sites]


def by_name(name: str) -> SitePreset:
    for preset in (GENERIC, *PRESETS):
        if preset.name == name:
            return preset
    raise LookupError(f"unknown site preset {name!r}")
