"""When a net stage cuts its learning rate and when it stops: one rule, epoch by epoch.

The rule is torch's ``ReduceLROnPlateau(mode="min", threshold_mode="rel")`` followed by
Keras' ``EarlyStopping``, with the same semantics (tested against torch's scheduler):

- an epoch **improves** only if the watched figure is below ``best · (1 − min_delta)``
  (torch's relative ``threshold``; Keras' ``min_delta``, relative here); ``best`` moves only
  on an improvement;
- after ``patience`` epochs without one the lr is **cut** (torch's ``patience`` + 1: torch
  cuts when ``num_bad_epochs > patience``) and the count restarts; after ``max_decays``
  cuts a further stall **stops** the stage — by the criterion;
- ``smoothing`` > 0 watches ``s_t = smoothing · s_(t−1) + (1 − smoothing) · v_t`` instead
  of the raw figure (``docs/nets.md``, "Stopping"); ``min_steps`` holds cuts and the stop
  back until that many optimiser steps.

The same object drives :func:`benchmark.kits.nets.training.train_stage` and the offline
replay of recorded curves (:mod:`benchmark.kits.nets.replay`), so a replayed decision is
the one a fit would have made on the same figures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from benchmark.kits.nets.training import StageConfig

IMPROVED, STALLED, CUT, STOP = "improved", "stalled", "cut", "stop"


@dataclass
class PlateauRule:
    patience: int
    #: relative improvement an epoch must beat the best by (torch's ``threshold``, rel mode)
    min_delta: float = 0.005
    smoothing: float = 0.0
    min_steps: int = 0
    #: lr cuts before a stall stops the stage (0: plain early stopping)
    max_decays: int = 0
    best: float = math.inf
    smoothed: float = math.nan
    wait: int = 0
    decays: int = 0
    best_epoch: int = 0

    @classmethod
    def from_stage(cls, cfg: StageConfig) -> PlateauRule:
        """The rule of one stage's settings: the only reading of them, shared by
        ``train_stage`` and the replay (no lr cuts unless the schedule is ``plateau``)."""
        return cls(
            cfg.patience,
            cfg.min_delta,
            cfg.smoothing,
            cfg.min_steps,
            cfg.max_decays if cfg.schedule == "plateau" else 0,
        )

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_delta < 1.0:
            raise ValueError(f"min_delta must be in [0, 1), got {self.min_delta!r}")

    def update(self, value: float, steps: int, epoch: int) -> str:
        """One epoch's validation figure (lower is better) after ``steps`` optimiser steps →
        ``IMPROVED`` (save the weights), ``STALLED``, ``CUT`` (multiply the lr) or ``STOP``."""
        if math.isnan(self.smoothed) or not self.smoothing:
            self.smoothed = value
        else:
            self.smoothed = self.smoothing * self.smoothed + (1.0 - self.smoothing) * value
        if self.smoothed < self.best * (1.0 - self.min_delta):
            self.best, self.wait, self.best_epoch = self.smoothed, 0, epoch
            return IMPROVED
        self.wait += 1
        if self.wait < self.patience or steps < self.min_steps:
            return STALLED
        if self.decays < self.max_decays:
            self.decays, self.wait = self.decays + 1, 0
            return CUT
        return STOP
