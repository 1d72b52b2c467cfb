"""Profiles of the two-stage nets: the sizes and hyper-parameters a fit uses.

Every field can be overridden by a method parameter of the same meaning
(:func:`resolve_profile`); ``docs/nets.md`` explains each profile's choices.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from benchmark.contract.domain import GA_RANGE
from benchmark.kits.nets.sampler import NORMS
from benchmark.kits.nets.training import DENSE_LOSSES, SCHEDULES, StageConfig

#: GA normalisation range (weeks): target = (GA − GA_MIN) / (GA_MAX − GA_MIN)
GA_MIN, GA_MAX = GA_RANGE


@dataclass(frozen=True)
class Profile:
    grid: int  # patch pixels per side (a multiple of 16 for the U-Net)
    width: int  # U-Net filters of the first block
    lr: float  # Adam's (peak) learning rate
    batch_size: int
    lung_per_image: int  # fresh lung patches drawn per training image and epoch
    nonlung_per_image: int  # stage 1: the same for non-lung (and edge) patches
    test_lung_per_image: int  # lung patches per test / validation image
    max_steps_stage1: int  # budget in optimiser steps
    max_steps_stage2: int
    patience: int  # epochs without validation improvement before stopping
    val_fraction: float  # share of training patients held out for early stopping
    seg_stride_mm: float  # lung maps of nets without a dense output: sliding stride
    dropout: float = 0.1
    #: physical patch side; None = ``grid`` pixels at the image's native spacing (paper-px)
    size_mm: float | None = 32.0
    #: input normalisation: "fixed" (the paper), "image" (per image) or "patch" (per window)
    norm: str = "fixed"
    #: U-Net normalisation layers: "none" (the paper) or "batch" (BatchNorm after each conv)
    norm_layers: str = "none"
    #: stage-1 targets: "patch" (the paper: whole-lung = 1 vs whole-non-lung = 0 patches)
    #: or "dense" (lung, non-lung and edge patches with their lung-mask crop as target)
    stage1: str = "patch"
    #: ``stage1="dense"``: side in grid pixels of the stage-1 tiles (0 = ``grid``).  A fully
    #: convolutional net takes any size, so stage 1 can see lung-sized context while
    #: stage 2 keeps the small patch
    stage1_grid: int = 0
    #: ``stage1="dense"``: loss of the lung map, "mse" (the paper's loss) or "bce+dice"
    stage1_loss: str = "mse"
    warmup_steps: int = 0
    #: "constant" (the paper), "cosine" (to 0 at the step budget) or "plateau" (decay the lr
    #: by ``decay`` when the watched figure stalls, stop after ``max_decays``; docs/nets.md)
    schedule: str = "constant"
    decay: float = 0.3
    max_decays: int = 2
    clip_norm: float | None = None  # gradient-norm clipping (None: the paper's plain Adam)
    max_epochs: int = 0  # optional cap on epochs per stage besides the step budget (0: none)
    #: what early stopping watches (docs/nets.md, "Stopping"): "" = each stage's own figure
    #: (stage 1 the validation MSE, stage 2 the patient-level validation MAE) raw (the paper
    #: profiles), "ema" (the same figures smoothed over epochs by an EMA of weight ``ema``:
    #: the light profile), "val_loss" (both stages: the validation loss over every
    #: validation patch) or "val_loss_ema" (that, smoothed)
    stop_on: str = ""
    ema: float = 0.7  # weight of the previous smoothed value (``stop_on`` ending in "ema")
    min_steps: int = 0  # no stop by the criterion before this many steps of a stage
    #: an epoch counts as an improvement only if the watched figure beats the best by more
    #: than this share (torch's ReduceLROnPlateau threshold, rel mode; docs/nets.md)
    min_delta: float = 0.005
    #: stage-2 validation patches per validation image (0: ``test_lung_per_image``)
    val_lung_per_image: int = 0
    #: stage 2's own figure (``stop_on`` "" or "ema"): "val_mae_weeks", the patient-level
    #: validation MAE (the paper profiles), or "val_one_minus_r", 1 − the patient-level
    #: Pearson r (the light profile: the MAE of shrunken estimates hardly moves while r
    #: climbs; docs/nets.md, "Stopping")
    stage2_figure: str = "val_mae_weeks"


#: the paper's hyper-parameters; only the patch geometry differs between the two readings
_PAPER = dict(
    width=64,
    lr=1e-5,
    batch_size=16,
    lung_per_image=25,
    nonlung_per_image=25,
    test_lung_per_image=25,
    max_steps_stage1=20_000,
    max_steps_stage2=20_000,
    patience=10,
    val_fraction=0.2,
    seg_stride_mm=2.0,
)

PROFILES: dict[str, Profile] = {
    # sized for a 2-core CPU and for lungs of real fetal size (docs/nets.md)
    "light": Profile(
        grid=16,
        width=8,
        lr=1e-3,
        batch_size=128,
        lung_per_image=32,
        nonlung_per_image=16,
        test_lung_per_image=64,
        max_steps_stage1=8000,  # caps only: the validation curve ends each stage
        max_steps_stage2=8000,
        patience=4,
        val_fraction=0.2,
        seg_stride_mm=8.0,
        size_mm=8.0,
        # the image's grey map undone: the paper's fixed grey levels fail the positive
        # control (docs/nets.md, "Why the fixed-input net does not learn")
        norm="image",
        stage1="dense",
        stage1_grid=128,
        stage1_loss="bce+dice",
        warmup_steps=30,
        schedule="plateau",
        clip_norm=1.0,
        stop_on="ema",
        ema=0.7,
        min_steps=1000,
        # the smoothed figure's own epoch-to-epoch noise in the noisiest default stage
        # (unet-transfer stage 1: 1.99 %): smaller "improvements" are noise (docs/nets.md)
        min_delta=0.02,
        val_lung_per_image=128,
        # scale-free: the patient MAE stayed flat while the validation r climbed 0.39 -> 0.57
        # (docs/nets.md, "Stopping"), so the best-MAE epoch was the first
        stage2_figure="val_one_minus_r",
    ),
    # "32 mm × 32 mm" read physically: 32 mm on 64 px (0.5 mm/px)
    "paper": Profile(grid=64, size_mm=32.0, **_PAPER),
    # "32 × 32" read as pixels at the image's native spacing (no resampling)
    "paper-px": Profile(grid=32, size_mm=None, **_PAPER),
}

#: method parameter → the profile field(s) it overrides (None values keep the profile's)
_OVERRIDES = {
    "lr": ("lr",),
    "max_steps": ("max_steps_stage1", "max_steps_stage2"),
    "max_steps_stage1": ("max_steps_stage1",),
    "max_steps_stage2": ("max_steps_stage2",),
    "batch_size": ("batch_size",),
    "grid": ("grid",),
    "patch_mm": ("size_mm",),
    "seg_stride_mm": ("seg_stride_mm",),
    "width": ("width",),
    "norm": ("norm",),
    "norm_layers": ("norm_layers",),
    "stage1": ("stage1",),
    "stage1_px": ("stage1_grid",),
    "max_epochs": ("max_epochs",),
    "patience": ("patience",),
    "stage1_loss": ("stage1_loss",),
    "stop_on": ("stop_on",),
    "ema": ("ema",),
    "min_steps": ("min_steps",),
    "min_delta": ("min_delta",),
    "val_patches": ("val_lung_per_image",),
    "schedule": ("schedule",),
    "max_decays": ("max_decays",),
    "stage2_figure": ("stage2_figure",),
}
_CASTS = {
    "lr": float,
    "patch_mm": float,
    "seg_stride_mm": float,
    "norm": str,
    "norm_layers": str,
    "stage1": str,
    "stage1_loss": str,
    "stop_on": str,
    "ema": float,
    "min_delta": float,
    "schedule": str,
    "stage2_figure": str,
}
#: values of ``stop_on`` ("" = each stage's own figure, raw)
STOP_ON = ("", "ema", "val_loss", "val_loss_ema")
#: stage 2's own validation figures (lower is better), keys of ``stage2_data``'s scores
STAGE2_FIGURES = ("val_mae_weeks", "val_one_minus_r")


def own_figure(prof: Profile, stage: str) -> str:
    """The figure ``stage`` watches under ``prof`` unless ``stop_on`` says the validation
    loss: stage 1 its validation loss, stage 2 ``prof.stage2_figure``."""
    return prof.stage2_figure if stage == "stage2" else "val_loss"


def unset_defaults(name: str, method_name: str, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` with every override that leaves the resolved profile as it is put back to
    None: ``norm="image"`` under ``light`` is the light profile's own norm, the same fit.
    Settings the profile rejects are returned as given (the fit reports them)."""
    out = dict(params)
    try:
        resolved = resolve_profile(name, method_name, out)
        for param in _OVERRIDES:
            if out.get(param) is not None:
                if resolve_profile(name, method_name, {**out, param: None}) == resolved:
                    out[param] = None
    except ValueError:
        return dict(params)
    return out


def stage_config(prof: Profile, steps: int, stage: str) -> StageConfig:
    """One stage's training settings under ``prof``, ``steps`` its budget and ``stage``
    ("stage1" | "stage2") naming the figure it watches (:func:`own_figure`, or the
    validation loss if ``stop_on`` says so): what a fit trains with and what the replay of
    its curves reads (one reading of the profile)."""
    monitor = own_figure(prof, stage)
    return StageConfig(
        prof.lr,
        prof.batch_size,
        steps,
        prof.patience,
        prof.warmup_steps,
        prof.schedule,
        monitor="val_loss" if prof.stop_on.startswith("val_loss") else monitor,
        clip_norm=prof.clip_norm,
        max_epochs=prof.max_epochs,
        smoothing=prof.ema if prof.stop_on.endswith("ema") else 0.0,
        min_steps=prof.min_steps,
        min_delta=prof.min_delta,
        decay=prof.decay,
        max_decays=prof.max_decays,
    )


def ga_to_target(ga: np.ndarray) -> np.ndarray:
    return (np.asarray(ga, dtype=float) - GA_MIN) / (GA_MAX - GA_MIN)


def target_to_ga(y: np.ndarray) -> np.ndarray:
    return GA_MIN + np.asarray(y, dtype=float) * (GA_MAX - GA_MIN)


def resolve_profile(name: str, method_name: str, params: dict[str, Any]) -> Profile:
    """The named profile with every non-None override in ``params`` applied."""
    if name not in PROFILES:
        raise ValueError(f"{method_name}: profile must be one of {list(PROFILES)}, got {name!r}")
    changes: dict[str, Any] = {}
    for param, fields in _OVERRIDES.items():
        value = params.get(param)
        if value is not None:
            changes.update(dict.fromkeys(fields, _CASTS.get(param, int)(value)))
    prof = replace(PROFILES[name], **changes)
    if prof.norm not in NORMS:
        raise ValueError(f"{method_name}: norm must be one of {NORMS}, got {prof.norm!r}")
    if prof.norm_layers not in ("none", "batch"):
        raise ValueError(
            f"{method_name}: norm_layers must be 'none' or 'batch', got {prof.norm_layers!r}"
        )
    if prof.stage1 not in ("patch", "dense"):
        raise ValueError(f"{method_name}: stage1 must be 'patch' or 'dense', got {prof.stage1!r}")
    if prof.stage1_loss not in DENSE_LOSSES:
        raise ValueError(
            f"{method_name}: stage1_loss must be one of {DENSE_LOSSES}, got {prof.stage1_loss!r}"
        )
    if prof.stop_on not in STOP_ON:
        raise ValueError(
            f"{method_name}: stop_on must be one of {[v for v in STOP_ON if v]} "
            f"(or unset), got {prof.stop_on!r}"
        )
    if prof.schedule not in SCHEDULES:
        raise ValueError(
            f"{method_name}: schedule must be one of {SCHEDULES}, got {prof.schedule!r}"
        )
    if prof.stage2_figure not in STAGE2_FIGURES:
        raise ValueError(
            f"{method_name}: stage2_figure must be one of {STAGE2_FIGURES}, "
            f"got {prof.stage2_figure!r}"
        )
    if not 0.0 <= prof.ema < 1.0:
        raise ValueError(f"{method_name}: ema must be in [0, 1), got {prof.ema!r}")
    if not 0.0 <= prof.min_delta < 1.0:
        raise ValueError(f"{method_name}: min_delta must be in [0, 1), got {prof.min_delta!r}")
    return prof
