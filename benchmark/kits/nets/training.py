"""One training stage: fresh patches every epoch, warm-up + cosine lr, early stopping.

- **Data**: ``draw(epoch)`` returns a fresh set of patches and targets for each epoch
  (:class:`benchmark.kits.nets.sampler.PatchPool`, seeded by fit seed, stage and epoch), so the
  net sees new windows every epoch instead of a fixed handful per image.
- **Augmentation**: each patch is mirrored left–right with probability ½.  Only that: the
  ultrasound beam runs top to bottom, so a lateral mirror is a physically possible image,
  while a vertical flip or a 90° rotation would put attenuation, time-gain compensation and
  acoustic shadows the wrong way round and swap the axial and lateral speckle sizes (speckle
  is ~2× longer laterally); grey-level jitter would erase echogenicity, one of the signals.
- **Optimiser**: Adam; the learning rate rises linearly over ``warmup_steps`` and then
  either follows a cosine to 0 at ``max_steps`` (the budget, in optimiser steps), stays
  constant (the paper), or — ``schedule="plateau"``, the light profile — stays constant until
  the watched validation figure stalls for ``patience`` epochs, is then multiplied by
  ``decay``, and after ``max_decays`` such decays a further stall ends the stage: the
  step budget is only a cap, the validation curve decides.  ``budget_s`` (seconds of
  training, off by default because it is not reproducible) can stop earlier.
- **Early stopping**: after every epoch ``validate(model)`` returns validation scores and
  ``monitor`` names the one that stops (stage 2: ``val_one_minus_r``, 1 − the
  patient-level Pearson r on the validation patients, or ``val_mae_weeks``, their MAE in
  weeks; stage 1: ``val_loss``, the validation MSE); an
  epoch improves if the metric is below ``(1 − min_delta)`` × the best so far; stop
  after ``patience`` epochs without improvement; the best epoch's weights are restored
  (the rule: :class:`benchmark.kits.nets.stopping.PlateauRule`).
  Without validation patients the stage runs its whole budget.  Optional (off by default,
  see ``docs/nets.md``): ``smoothing`` > 0 watches an exponential moving average of the
  metric instead of its raw value, and ``min_steps`` forbids stopping before that many
  steps — for a validation figure whose epoch-to-epoch noise is larger than its trend.
- **Stopping record**: :class:`StageResult` says whether the stage ended by its stopping
  rule (``stopped_by = "criterion"``) or at a cap (``"cap"``: the step budget, the epoch
  cap, ``budget_s``, no validation split, no data) — a stage that ended at a cap has not
  shown that it converged, and the report says so.
- **Progress**: :func:`benchmark.contract.progress.report` after every step (steps, the
  budget, the latest validation figure); a no-op unless the engine listens.
- **Stability**: optional gradient-norm clipping (``clip_norm``; the light profile uses 1).
- **Speed**: channels-last memory format, batched inference; on CUDA mixed precision
  (``torch.autocast`` + gradient scaling), pinned host memory and non-blocking copies.

A final batch of a single patch is skipped (batch-norm layers cannot train on one sample).
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from benchmark.kits.nets.stopping import CUT, IMPROVED, STALLED, STOP, PlateauRule

MIN_VAL_PATIENTS = 2
#: losses of dense (map) targets: the paper's per-pixel MSE, or BCE + soft Dice
DENSE_LOSSES = ("mse", "bce+dice")


@dataclass
class StageConfig:
    lr: float
    batch_size: int
    max_steps: int
    patience: int
    warmup_steps: int = 0
    schedule: str = "cosine"  # or "constant" (the paper's plain Adam) or "plateau"
    #: an epoch improves only if below ``(1 − min_delta)`` × the best (relative; torch's
    #: ``ReduceLROnPlateau`` threshold, rel mode: ``benchmark.kits.nets.stopping``)
    min_delta: float = 0.005
    #: gradient-norm clipping (None: off, the paper's plain Adam): keeps a deep net without
    #: normalisation layers from being knocked into dead ReLUs / a saturated sigmoid
    clip_norm: float | None = None
    max_epochs: int = 0  # optional epoch cap (0: the step budget alone)
    budget_s: float | None = None
    #: the key of ``validate``'s dict that early stopping watches (lower is better)
    monitor: str = "val_loss"
    #: loss of dense (map) targets: "mse" (the paper's loss, per pixel) or "bce+dice"
    dense_loss: str = "mse"
    #: early stopping watches ``s_t = smoothing · s_(t−1) + (1 − smoothing) · monitor_t``
    #: (0: the raw metric, today's rule); the best *smoothed* epoch's weights are restored
    smoothing: float = 0.0
    #: no stop by the criterion before this many optimiser steps (0: none, today's rule)
    min_steps: int = 0
    #: ``schedule="plateau"``: each time the watched figure stalls for ``patience`` epochs the
    #: lr is multiplied by ``decay``; after ``max_decays`` decays a further stall stops the
    #: stage (by the criterion).  Keras' ReduceLROnPlateau + EarlyStopping, in one rule
    decay: float = 0.3
    max_decays: int = 2


SCHEDULES = ("cosine", "constant", "plateau")
#: one row per epoch of a stage (``StageResult.history``, a net's ``training_curves_``);
#: ``val_r``: the patient-level Pearson r on the validation patients (stage 2)
CURVE_COLUMNS = ("stage", "epoch", "step", "lr", "train_loss", "val_loss", "val_mae_weeks", "val_r")
#: how a stage ended: by its stopping rule, or at a cap (not shown to have converged)
STOPPED_BY = ("criterion", "cap")


@dataclass
class StageResult:
    history: list[dict[str, Any]] = field(default_factory=list)
    steps: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # process CPU time (all threads) of the training loops
    patches_seen: int = 0
    best_epoch: int = 0
    start_digest: str = ""  # weights the stage started from (see state_digest)
    flops_per_step: int = 0  # set by the caller (benchmark.kits.nets.cost.count_flops)
    stage: str = ""
    max_steps: int = 0  # the stage's step budget (its cap)
    monitor: str = ""  # the validation figure the stopping rule watched
    #: "criterion" (the stopping rule ended it) or "cap" (see ``stop_reason``)
    stopped_by: str = "cap"
    #: patience | max_steps | max_epochs | budget_s | no_validation | no_data
    stop_reason: str = "max_steps"
    best_value: float = math.nan  # best (smoothed, if smoothing) monitored value

    def record(self, peak_flops_per_s: float = math.nan) -> dict[str, Any]:
        """The stage's stopping and throughput record (``TwoStageNet.training_stages_``);
        ``pct_of_peak``: achieved FLOP/s (wall clock) as % of the machine's fp32 matmul peak."""
        achieved = self.flops_per_step * self.steps / self.seconds if self.seconds else math.nan
        return {
            "patches_per_s": round(self.patches_seen / self.seconds, 1) if self.seconds else None,
            "pct_of_peak": round(100 * achieved / peak_flops_per_s, 1)
            if peak_flops_per_s and math.isfinite(achieved)
            else None,
            "stage": self.stage,
            "steps": self.steps,
            "max_steps": self.max_steps,
            "epochs": len(self.history),
            "best_epoch": self.best_epoch,
            "stopped_by": self.stopped_by,
            "stop_reason": self.stop_reason,
            "monitor": self.monitor,
            "best_value": self.best_value,
        }


def state_digest(state: dict) -> str:
    """Content hash of a state_dict: records which weights a stage started from."""
    import hashlib

    digest = hashlib.sha256()
    for key in sorted(state):
        digest.update(key.encode())
        digest.update(state[key].detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def patient_split(
    patient_ids: np.ndarray, val_fraction: float, rng: np.random.Generator
) -> np.ndarray:
    """Validation patients: a seeded share of the unique training patients (may be empty)."""
    unique = np.unique(np.asarray(patient_ids).astype(str))
    n_val = int(round(val_fraction * len(unique)))
    if n_val < MIN_VAL_PATIENTS or len(unique) - n_val < 1:
        return np.array([], dtype=str)
    return np.sort(rng.permutation(unique)[:n_val])


def _as_tensor(batch: np.ndarray, device: str, channels_last: bool):
    import torch

    x = torch.from_numpy(np.ascontiguousarray(batch))
    if device.startswith("cuda"):
        x = x.pin_memory().to(device, non_blocking=True)
    x = x.to(dtype=torch.float32).unsqueeze(1)
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x


def _autocast(device: str):
    import contextlib

    import torch

    if device.startswith("cuda"):
        return torch.autocast("cuda", dtype=torch.float16)
    return contextlib.nullcontext()


def predict_scores(
    model,
    patches: np.ndarray,
    device: str,
    batch_size: int = 1024,
    channels_last: bool = True,
    dense: bool = False,
) -> np.ndarray:
    """The model's scalar output (or dense map) for uint8 patches (k, g, g), batched."""
    import torch

    model.eval()
    shape = patches.shape if dense else (len(patches),)
    out = np.empty(shape, dtype=np.float32)
    with torch.no_grad(), _autocast(device):
        for start in range(0, len(patches), batch_size):
            x = _as_tensor(patches[start : start + batch_size], device, channels_last)
            y = model.dense(x)[:, 0] if dense else model(x)
            out[start : start + len(x)] = y.float().cpu().numpy()
    return out


def lr_factor(step: int, warmup: int, total: int, schedule: str = "cosine") -> float:
    """Linear warm-up to 1 over ``warmup`` steps, then a cosine to 0 at ``total`` (or 1)."""
    if step < warmup:
        return (step + 1) / warmup
    if schedule in ("constant", "plateau"):  # plateau: decays applied by train_stage
        return 1.0
    span = max(total - warmup, 1)
    return 0.5 * (1.0 + math.cos(math.pi * min(step - warmup, span) / span))


def stage_loss(out, target, kind: str = "mse"):
    """MSE (the paper's, both stages), or for lung maps the segmentation standard
    binary cross-entropy + soft Dice (Milletari et al. 2016): per-pixel MSE on a map that is
    mostly background rewards predicting "no lung" everywhere, Dice scores the overlap the
    DSC reads.  Computed in fp32 outside autocast (BCE is not autocast-safe)."""
    import torch

    f = torch.nn.functional
    if kind == "mse":
        return f.mse_loss(out, target)
    if kind not in DENSE_LOSSES:
        raise ValueError(f"dense loss must be one of {DENSE_LOSSES}, got {kind!r}")
    p, t = out.clamp(1e-6, 1 - 1e-6).flatten(1), target.flatten(1)
    dice = 1 - (2 * (p * t).sum(1) + 1) / (p.sum(1) + t.sum(1) + 1)
    return f.binary_cross_entropy(p, t) + dice.mean()


def _flip_half(x, gen):
    import torch

    flip = torch.rand(x.shape[0], generator=gen) < 0.5
    if flip.any():
        x = x.clone()
        x[flip.to(x.device)] = x[flip.to(x.device)].flip(-1)
    return x, flip


def train_stage(
    model,
    draw: Callable[[int], tuple[np.ndarray, np.ndarray]],
    validate: Callable[[Any], dict[str, float]] | None,
    cfg: StageConfig,
    rng: np.random.Generator,
    device: str,
    stage: str,
    channels_last: bool = True,
    dense_target: bool = False,
) -> StageResult:
    """Train ``model`` in place and restore its best-validation weights.

    ``draw(epoch)`` → ``(patches (N, g, g) uint8, targets (N,) or (N, g, g) float)``;
    ``dense_target``: targets are maps, the loss is the MSE of ``model.dense``.
    """
    import torch

    from benchmark.contract import progress

    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    rule = PlateauRule.from_stage(cfg)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt,
        lambda s: (
            lr_factor(s, cfg.warmup_steps, cfg.max_steps, cfg.schedule) * cfg.decay**rule.decays
        ),
    )
    cuda = device.startswith("cuda")
    scaler = torch.amp.GradScaler("cuda", enabled=cuda)
    gen = torch.Generator().manual_seed(int(rng.integers(2**31)))
    result = StageResult(
        start_digest=state_digest(model.state_dict()),
        stage=stage,
        max_steps=cfg.max_steps,
        monitor=cfg.monitor,
    )
    best, best_state, epoch = math.nan, None, 0
    decision, figures = STALLED, {}
    t_start = time.perf_counter()
    while result.steps < cfg.max_steps and not (cfg.max_epochs and epoch >= cfg.max_epochs):
        epoch += 1
        x_epoch, y_epoch = draw(epoch)
        if len(x_epoch) == 0:
            result.stop_reason = "no_data"
            break
        model.train()
        order = rng.permutation(len(x_epoch))
        t0, c0 = time.perf_counter(), time.process_time()
        total, seen = 0.0, 0
        for start in range(0, len(order), cfg.batch_size):
            if result.steps >= cfg.max_steps:
                break
            idx = order[start : start + cfg.batch_size]
            if len(idx) < 2 < len(order):
                continue  # a lone leftover patch: batch-norm nets cannot train on one
            xb, flipped = _flip_half(_as_tensor(x_epoch[idx], device, channels_last), gen)
            yb = torch.from_numpy(np.ascontiguousarray(y_epoch[idx], dtype=np.float32))
            if dense_target:
                yb[flipped] = yb[flipped].flip(-1)
                yb = yb.unsqueeze(1)
            yb = yb.to(device, non_blocking=cuda)
            opt.zero_grad(set_to_none=True)
            with _autocast(device):
                out = model.dense(xb) if dense_target else model(xb)
            loss = stage_loss(out.float(), yb, cfg.dense_loss if dense_target else "mse")
            scaler.scale(loss).backward()
            if cfg.clip_norm:
                scaler.unscale_(opt)
                torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip_norm)
            scaler.step(opt)
            scaler.update()
            sched.step()
            total += loss.detach().item() * len(idx)
            seen += len(idx)
            result.steps += 1
            progress.report(stage, result.steps, cfg.max_steps, **figures)
        result.seconds += time.perf_counter() - t0
        result.cpu_seconds += time.process_time() - c0
        result.patches_seen += seen
        scores = validate(model) if validate is not None else {}
        val = scores.get(cfg.monitor, math.nan)
        result.history.append(
            {
                "stage": stage,
                "epoch": epoch,
                "step": result.steps,
                "lr": opt.param_groups[0]["lr"],
                "train_loss": total / max(seen, 1),
                "val_loss": scores.get("val_loss", math.nan),
                "val_mae_weeks": scores.get("val_mae_weeks", math.nan),
                "val_r": 1.0 - scores.get("val_one_minus_r", math.nan),
            }
        )
        if not math.isnan(val):
            decision = rule.update(val, result.steps, epoch)
            figures = {cfg.monitor + ("_ema" if cfg.smoothing else ""): rule.smoothed}
            if rule.max_decays:  # how far the plateau rule is: it stops after the last cut
                figures[f"lr_cuts_of_{rule.max_decays}"] = rule.decays
        progress.report(stage, result.steps, cfg.max_steps, **figures)
        if cfg.budget_s is not None and time.perf_counter() - t_start > cfg.budget_s:
            result.stop_reason = "budget_s"
            break
        if math.isnan(val):
            result.stop_reason = "no_validation"
            continue  # no validation split: run the whole budget
        if decision == IMPROVED:
            best, result.best_epoch = rule.smoothed, epoch
            best_state = copy.deepcopy(model.state_dict())
        elif decision == CUT:  # stalled: a smaller step first (rule.decays counts it)
            sched.last_epoch -= 1  # re-evaluate the lambda at the same step
            sched.step()
        elif decision == STOP:
            result.stopped_by, result.stop_reason = "criterion", "patience"
            break
    else:  # the loop ran out: which cap ended it
        if result.steps < cfg.max_steps and result.stop_reason == "max_steps":
            result.stop_reason = "max_epochs"
    result.best_value = best
    if best_state is not None:
        model.load_state_dict(best_state)
    else:
        result.best_epoch = len(result.history)
    return result
