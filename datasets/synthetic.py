"""The embedded synthetic cohort: simulated four-chamber-view B-mode images with known
truth (GA, latent lung maturity, lung masks).  See ``docs/synthetic.md``.

One generator, four registered scenarios (``_synth_routes.SCENARIOS``) that differ only in
which routes carry GA to the pixels:

- ``synthetic`` (default): lung microstructure, lung echogenicity, anatomy size and zoom,
  each at its literature magnitude;
- ``synthetic-texture``: the positive control: only lung-local texture carries GA;
- ``synthetic-anatomy``: only anatomy size and zoom carry GA;
- ``synthetic-null``: nothing does (a leak detector, on which no image method may
  correlate with GA).

Any scenario takes ``enrich_preterm=True`` (``run --enrich-preterm``): every fetus is
delivered within 48 h of its scan, as lung-maturity studies sample (``_synth_outcome``),
so the outcome has enough events for CIs; the images are unchanged.

Every entry of ``SCENARIOS`` is registered here with the tags a study asks for
(``scenario``; ``null`` when no route carries GA; ``sites``: every scenario takes the
``sites`` option), so a new scenario is one entry in that table and nothing else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmark.data.sources import register_dataset

from ._synth_routes import SCENARIOS, SUMMARIES


def _check(kw: dict[str, Any]) -> tuple[bool, int | None]:
    progress = bool(kw.pop("progress", True))
    n_jobs = kw.pop("n_jobs", None)
    if kw:
        raise TypeError(f"unknown synthetic-dataset option(s): {', '.join(sorted(kw))}")
    return progress, n_jobs


def _tags(name: str) -> tuple[str, ...]:
    return ("scenario", "sites") + (() if SCENARIOS[name].any else ("null",))


def _summary(name: str) -> str:
    # a new scenario may come without prose: its routes say what it is
    routes = SCENARIOS[name]
    return SUMMARIES.get(name) or "synthetic scenario; routes " + ", ".join(
        f"{k}={v}" for k, v in routes.as_dict().items()
    )


def _scenario(name: str):
    def factory(
        cache_dir: Path,
        patients: int = 316,
        images_per_patient: int = 2,
        seed: int = 0,
        size: int = 512,
        sites: int = 1,
        enrich_preterm: bool = False,
        **kw: Any,
    ) -> Path:
        """Generate (once, cached) and return the dataset folder."""
        progress, n_jobs = _check(kw)
        from . import _synth_generate  # scipy.fft etc.: only when generating, not `list`

        return _synth_generate.generate(
            Path(cache_dir),
            name,
            routes=SCENARIOS[name],
            patients=patients,
            images_per_patient=images_per_patient,
            seed=seed,
            size=size,
            sites=sites,
            progress=progress,
            n_jobs=n_jobs,
            enrich_preterm=bool(enrich_preterm),
        )

    factory.__name__ = name.replace("-", "_")
    # the source checks need a valid cohort, not a realistic one: few patients, small frames
    cheap = {"patients": 12, "size": 128, "progress": False}
    return register_dataset(name, summary=_summary(name), test_options=cheap, tags=_tags(name))(
        factory
    )


FACTORIES = {name: _scenario(name) for name in SCENARIOS}
#: the default world's factory, called by name where a test or script generates it directly
synthetic = FACTORIES["synthetic"]
