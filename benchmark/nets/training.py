"""One training stage: MSE on a sigmoid scalar, Adam, mini-batches, early stopping.

"Train until the loss is stable" (the paper) is read as early stopping on a patient-level
validation split of the training patients (:func:`patient_split`):

- after every epoch the validation MSE is computed (model in eval mode);
- an epoch *improves* if its validation loss is below ``(1 − min_rel_delta)`` × the best
  so far (default: 1 % lower);
- training stops after ``patience`` consecutive epochs without improvement, or at the
  epoch cap ``max_epochs``;
- the weights of the best validation epoch are restored at the end of the stage.

With fewer than ``MIN_VAL_PATIENTS`` validation patients there is no split: all training
patients are used and every stage runs to its cap (reported as ``val_loss`` NaN).
Batches are drawn by a numpy generator seeded by the fit's seed, so a CPU fit is exactly
reproducible.  A final batch of a single patch is skipped (batch-norm layers, e.g. in
timm nets, cannot train on one sample); the epoch's shuffle puts another patch last.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MIN_VAL_PATIENTS = 2


@dataclass
class StageConfig:
    lr: float
    batch_size: int
    max_epochs: int
    patience: int
    min_rel_delta: float = 0.01


@dataclass
class StageResult:
    history: list[dict[str, Any]] = field(default_factory=list)
    steps: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # process CPU time (all threads) of the training loops
    patches_seen: int = 0
    best_epoch: int = 0
    start_digest: str = ""  # weights the stage started from (see state_digest)


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

    x = torch.from_numpy(np.ascontiguousarray(batch)).to(device=device, dtype=torch.float32)
    x = x.unsqueeze(1)
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x


def predict_scores(
    model, patches: np.ndarray, device: str, batch_size: int = 256, channels_last: bool = False
) -> np.ndarray:
    """The model's scalar output for uint8 patches (k, g, g) → float (k,)."""
    import torch

    model.eval()
    out = np.empty(len(patches), dtype=np.float64)
    with torch.no_grad():
        for start in range(0, len(patches), batch_size):
            x = _as_tensor(patches[start:start + batch_size], device, channels_last)
            out[start:start + len(x)] = model(x).double().cpu().numpy()
    return out


def _val_loss(model, x: np.ndarray, y: np.ndarray, device: str, channels_last: bool) -> float:
    if len(x) == 0:
        return math.nan
    pred = predict_scores(model, x, device, channels_last=channels_last)
    return float(np.mean((pred - y) ** 2))


def train_stage(
    model,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    cfg: StageConfig,
    rng: np.random.Generator,
    device: str,
    stage: str,
    channels_last: bool = False,
) -> StageResult:
    """Train ``model`` in place (Adam, MSE) and restore its best-validation weights."""
    import torch

    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    loss_fn = torch.nn.MSELoss()
    result = StageResult(start_digest=state_digest(model.state_dict()))
    best, best_state, wait = math.inf, None, 0
    y_all = torch.as_tensor(y_train, dtype=torch.float32)
    for epoch in range(1, cfg.max_epochs + 1):
        model.train()
        order = rng.permutation(len(x_train))
        t0, c0 = time.perf_counter(), time.process_time()
        total, seen = 0.0, 0
        for start in range(0, len(order), cfg.batch_size):
            idx = np.sort(order[start:start + cfg.batch_size])  # sorted: memmap-friendly
            if len(idx) < 2 < len(order):
                continue  # a lone leftover patch: batch-norm nets cannot train on one
            xb = _as_tensor(x_train[idx], device, channels_last)
            yb = y_all[idx].to(device)
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            total += loss.detach().item() * len(idx)
            seen += len(idx)
            result.steps += 1
        result.seconds += time.perf_counter() - t0
        result.cpu_seconds += time.process_time() - c0
        result.patches_seen += seen
        val = _val_loss(model, x_val, y_val, device, channels_last)
        result.history.append({"stage": stage, "epoch": epoch,
                               "train_loss": total / max(seen, 1), "val_loss": val})
        if math.isnan(val):
            continue  # no validation split: run to the cap
        if val < best * (1.0 - cfg.min_rel_delta):
            best, wait, result.best_epoch = val, 0, epoch
            best_state = copy.deepcopy(model.state_dict())
        else:
            wait += 1
            if wait >= cfg.patience:
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    else:
        result.best_epoch = len(result.history)
    return result
