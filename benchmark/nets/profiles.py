"""Profiles of the two-stage nets: the sizes and hyper-parameters a fit uses.

Every field can be overridden by a method parameter of the same meaning
(:func:`resolve_profile`); ``docs/nets.md`` explains each profile's choices.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

#: GA normalisation range (weeks): target = (GA − GA_MIN) / (GA_MAX − GA_MIN)
GA_MIN, GA_MAX = 20.0, 44.0


@dataclass(frozen=True)
class Profile:
    grid: int
    width: int
    lr: float
    batch_size: int
    lung_per_image: int
    nonlung_per_image: int
    test_lung_per_image: int
    max_epochs_stage1: int
    max_epochs_stage2: int
    patience: int
    val_fraction: float
    seg_stride_mm: float
    dropout: float = 0.1
    size_mm: float = 32.0


PROFILES: dict[str, Profile] = {
    "light": Profile(grid=16, width=8, lr=1e-3, batch_size=16, lung_per_image=6,
                     nonlung_per_image=6, test_lung_per_image=8, max_epochs_stage1=4,
                     max_epochs_stage2=6, patience=2, val_fraction=0.2, seg_stride_mm=8.0,
                     size_mm=8.0),
    "paper": Profile(grid=64, width=64, lr=1e-5, batch_size=16, lung_per_image=25,
                     nonlung_per_image=25, test_lung_per_image=25, max_epochs_stage1=200,
                     max_epochs_stage2=200, patience=10, val_fraction=0.2, seg_stride_mm=2.0),
}

#: method parameter → the profile field it overrides (None values keep the profile's)
_OVERRIDES = {"lr": ("lr",), "max_epochs": ("max_epochs_stage1", "max_epochs_stage2"),
              "grid": ("grid",), "patch_mm": ("size_mm",), "seg_stride_mm": ("seg_stride_mm",),
              "width": ("width",)}


def ga_to_target(ga: np.ndarray) -> np.ndarray:
    return (np.asarray(ga, dtype=float) - GA_MIN) / (GA_MAX - GA_MIN)


def target_to_ga(y: np.ndarray) -> np.ndarray:
    return GA_MIN + np.asarray(y, dtype=float) * (GA_MAX - GA_MIN)


def resolve_profile(name: str, method_name: str, params: dict[str, Any]) -> Profile:
    """The named profile with every non-None override in ``params`` applied."""
    if name not in PROFILES:
        raise ValueError(f"{method_name}: profile must be one of {list(PROFILES)}, got {name!r}")
    prof = PROFILES[name]
    changes: dict[str, Any] = {}
    for param, fields in _OVERRIDES.items():
        value = params.get(param)
        if value is None:
            continue
        cast = type(getattr(prof, fields[0]))
        for f in fields:
            changes[f] = cast(value)
    return replace(prof, **changes)
