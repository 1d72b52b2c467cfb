"""The embedded synthetic cohort: simulated four-chamber-view B-mode images with known
truth (GA, latent lung maturity, lung masks).  See ``docs/synthetic.md``.

Two sources:

- ``synthetic``: lung texture is driven by a latent maturity = f(GA) + biological
  variation; anatomy and zoom scale with GA as in real scans;
- ``synthetic-null``: the same generator, but every image-side latent (the GA anatomy and
  texture are drawn at, the size factor, the maturity) is independent of ``ga_weeks``:
  a leak detector, on which no image method may correlate with GA.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmark.sources import register_dataset


def _check(kw: dict[str, Any]) -> tuple[bool, int | None]:
    progress = bool(kw.pop("progress", True))
    n_jobs = kw.pop("n_jobs", None)
    if kw:
        raise TypeError(f"unknown synthetic-dataset option(s): {', '.join(sorted(kw))}")
    return progress, n_jobs


@register_dataset(
    "synthetic",
    summary="simulated four-chamber B-mode cohort with known lung maturity (default, 316 "
            "patients)",
)
def synthetic(cache_dir: Path, patients: int = 316, images_per_patient: int = 2,
              seed: int = 0, size: int = 512, **kw: Any) -> Path:
    """Generate (once, cached) and return the dataset folder."""
    progress, n_jobs = _check(kw)
    from . import _synth_generate  # scipy.fft etc.: only when generating, not for `list`

    return _synth_generate.generate(
        Path(cache_dir), "synthetic", null=False, patients=patients,
        images_per_patient=images_per_patient, seed=seed, size=size, progress=progress,
        n_jobs=n_jobs)


@register_dataset(
    "synthetic-null",
    summary="as synthetic, but the images carry no GA information (leak detector)",
)
def synthetic_null(cache_dir: Path, patients: int = 316, images_per_patient: int = 2,
                   seed: int = 0, size: int = 512, **kw: Any) -> Path:
    """Generate (once, cached) and return the null-variant dataset folder."""
    progress, n_jobs = _check(kw)
    from . import _synth_generate  # scipy.fft etc.: only when generating, not for `list`

    return _synth_generate.generate(
        Path(cache_dir), "synthetic-null", null=True, patients=patients,
        images_per_patient=images_per_patient, seed=seed, size=size, progress=progress,
        n_jobs=n_jobs)
