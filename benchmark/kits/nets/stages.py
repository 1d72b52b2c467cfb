"""What each stage trains on: fresh per-epoch draws and a fixed validation draw.

Stage 1 (lung), two readings (profile field ``stage1``):

- ``patch`` (the paper): ``nonlung_per_image`` whole-lung windows (target 1) and as many
  whole-non-lung windows (target 0) per training image and epoch — balanced by
  construction; MSE on the scalar output.
- ``dense``: the same lung and non-lung windows plus ``nonlung_per_image`` *edge* windows
  (partly lung), each with its lung-mask crop as target.  A net with a dense output (the
  U-Net's decoder map, ``dense_output = True``) learns the mask per pixel — which is what
  makes its lung maps trace the lung; any other net learns the crop's lung fraction, which
  is what its scalar is read as anyway ("how much of this patch is lung").

Stage 2: ``lung_per_image`` lung windows per training image and epoch, target = the
image's normalised GA.  Validation: a fixed draw (seeded once) of ``test_lung_per_image``
(or ``val_lung_per_image``) lung windows per validation image; ``val_mae_weeks`` is the
patient-level MAE (mean of a patient's patch predictions vs the patient's GA) and
``val_one_minus_r`` 1 − the Pearson r of those patient means with GA (the light profile's
stopping figure: scale-free, so it sees a net learning while its estimates are still
shrunk towards the mean); ``val_loss`` is the per-patch MSE (``stop_on``).

Every draw uses ``numpy.random.default_rng([seed, stage, epoch])``: the same fit seed draws
the same patches, epoch by epoch (tested).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from benchmark.kits.nets.profiles import Profile, ga_to_target, target_to_ga
from benchmark.kits.nets.sampler import PatchPool

Draw = Callable[[int], tuple[np.ndarray, np.ndarray]]
Validate = Callable[[Any], dict[str, float]]


def _stage1_batch(
    pool: PatchPool, images: np.ndarray, prof: Profile, dense_model: bool, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    n = prof.nonlung_per_image
    kinds = ("lung", "nonlung", "edge") if prof.stage1 == "dense" else ("lung", "nonlung")
    xs, ys = [], []
    for kind in kinds:
        x, _, cover = pool.draw(kind, n, rng, images, with_cover=True)
        if prof.stage1 == "patch":
            y = np.full(len(x), 1.0 if kind == "lung" else 0.0, np.float32)
        elif dense_model:
            y = cover.astype(np.float32)
        else:
            y = cover.mean(axis=(1, 2)).astype(np.float32)
        xs.append(x)
        ys.append(y)
    return np.concatenate(xs), np.concatenate(ys)


def stage1_data(
    pool: PatchPool,
    train_imgs: np.ndarray,
    val_imgs: np.ndarray,
    prof: Profile,
    seed: int,
    dense_model: bool,
    device: str,
) -> tuple[Draw, Validate | None]:
    from benchmark.kits.nets.training import predict_scores

    def draw(epoch: int) -> tuple[np.ndarray, np.ndarray]:
        return _stage1_batch(
            pool, train_imgs, prof, dense_model, np.random.default_rng([seed, 1, epoch])
        )

    if not len(val_imgs):
        return draw, None
    xv, yv = _stage1_batch(pool, val_imgs, prof, dense_model, np.random.default_rng([seed, 11]))
    dense = yv.ndim == 3

    def validate(model) -> dict[str, float]:
        pred = predict_scores(model, xv, device, dense=dense)
        return {"val_loss": float(np.mean((pred - yv) ** 2))}

    return draw, validate


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson r; 0 where either side is constant (a net that outputs one value for every
    patient has found nothing, and 1 − r must stay a number the stopping rule can read)."""
    if len(a) < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def stage2_data(
    pool: PatchPool,
    train_imgs: np.ndarray,
    val_imgs: np.ndarray,
    prof: Profile,
    seed: int,
    image_ga: np.ndarray,
    device: str,
) -> tuple[Draw, Validate | None]:
    from benchmark.kits.nets.training import predict_scores

    target = ga_to_target(image_ga).astype(np.float32)

    def draw(epoch: int) -> tuple[np.ndarray, np.ndarray]:
        x, owner, _ = pool.draw(
            "lung", prof.lung_per_image, np.random.default_rng([seed, 2, epoch]), train_imgs
        )
        return x, target[owner]

    if not len(val_imgs):
        return draw, None
    xv, owner, _ = pool.draw(
        "lung",
        prof.val_lung_per_image or prof.test_lung_per_image,
        np.random.default_rng([seed, 12]),
        val_imgs,
    )
    patients = np.array([pool.images[i].patient_id for i in owner])
    truth = pd.Series(image_ga[owner]).groupby(patients).mean()

    def validate(model) -> dict[str, float]:
        pred = predict_scores(model, xv, device)
        by_patient = pd.Series(target_to_ga(pred)).groupby(patients).mean()
        return {
            "val_loss": float(np.mean((pred - target[owner]) ** 2)),
            "val_mae_weeks": float(np.mean(np.abs(by_patient - truth))),
            "val_one_minus_r": 1.0 - _pearson(by_patient.to_numpy(), truth.to_numpy()),
        }

    return draw, validate
