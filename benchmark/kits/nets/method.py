"""The two-stage transfer protocol as a :class:`BaseMethod`, shared by the U-Net and timm.

Protocol (Yao et al., ``docs/paper-protocol.md``; choices and measurements: ``docs/nets.md``)
---------------------------------------------------------------------------------------------
1. Every training image is resampled once to the patch grid
   (:class:`benchmark.kits.nets.sampler.PatchPool`); each epoch draws fresh windows from it.
2. The training patients are split (seeded, by patient) into fit and validation patients.
3. **Stage 1** (transfer variants only): lung vs non-lung (``benchmark.kits.nets.stages``).
4. **Stage 2**: lung patches, target = (GA − 20) / 24, i.e. GA normalised to 0–1 over
   20–44 weeks (the suite's valid GA range).  The transfer variant starts from the stage-1
   weights ("transfer is done simply by swapping the training data"); the scratch variant
   from the same seeded initialisation, with the same stage-2 budget and stopping rule.
5. Each stage: Adam, warm-up + schedule, budget in optimiser steps, early stopping on the
   validation patients (``benchmark.kits.nets.training``); per-epoch losses →
   ``training_curves_``, how each stage ended (criterion or cap) → ``training_stages_``.

Prediction: ``test_lung_per_image`` lung windows per test image; image GA = mean of its
patch predictions, patient GA = mean over all the patient's lung patches
(:meth:`predict_patients`).  An image whose lung holds no whole patch uses the windows of
highest lung coverage; an image without any gets the training mean.  Both are listed in
``artifacts_["patch_fallbacks.csv"]``.

Lung maps (:meth:`segment`, transfer variants): from the *stage-1* weights
(``benchmark.kits.nets.lungmap``); scratch variants never learn lung vs non-lung and have no
``segment``.  Profiles: ``benchmark.kits.nets.profiles``.
"""

from __future__ import annotations

import time
import zlib
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from benchmark.contract.base import BaseMethod
from benchmark.kits.nets.profiles import (  # noqa: F401  (re-exported: tests and plugins)
    GA_MAX,
    GA_MIN,
    PROFILES,
    Profile,
    ga_to_target,
    resolve_profile,
    stage_config,
    target_to_ga,
    unset_defaults,
)


class TwoStageNet(BaseMethod):
    """Base of ``unet-*`` and ``timm-*``: subclasses set ``transfer`` and ``build_model``."""

    requirements: ClassVar[tuple[str, ...]] = ("torch",)
    uses_images: ClassVar[bool] = True
    relative_cost: ClassVar[float] = 100.0
    #: True: stage 1 then stage 2 from stage-1 weights; False: stage 2 only (the control)
    transfer: ClassVar[bool] = True
    #: the model has a dense (per-pixel) output ``model.dense(x)``: stage 1 can learn lung
    #: masks and lung maps are one fully-convolutional pass (declared, never probed)
    dense_output: ClassVar[bool] = False
    #: one patch of the default (light) profile: validate warns when a mask holds none
    min_lung_mm: ClassVar[float | None] = PROFILES["light"].size_mm
    parameters: ClassVar[dict[str, list[Any]]] = {
        "profile": ["light"],  # light (default), paper (32 mm), paper-px (32 px)
        "norm": [None],  # fixed (the paper) | image | patch; None = the profile's (light:
        # image, paper / paper-px: fixed)
        "norm_layers": [None],  # U-Net: none (the paper) | batch; None = the profile's
        "lr": [None],  # None = the profile's
        "max_steps": [None],  # budget of each stage in optimiser steps; None = the profile's
        "max_steps_stage1": [None],  # the same for one stage only (overrides max_steps)
        "max_steps_stage2": [None],
        "max_epochs": [None],  # optional epoch cap per stage on top of the step budget
        "patience": [None],  # epochs without validation improvement; None = the profile's
        "batch_size": [None],  # None = the profile's (light 128, paper 16)
        "grid": [None],  # patch pixels per side (multiple of 16); None = the profile's
        "patch_mm": [None],  # physical patch side; None = the profile's (paper 32, light 8)
        "stage1": [None],  # patch (the paper) | dense (patch masks); None = the profile's
        "stage1_px": [None],  # side of the dense stage-1 tiles in patch pixels (light 64)
        "stage1_loss": [None],  # dense stage 1: mse (the paper's loss) | bce+dice
        "seg_stride_mm": [None],  # lung-map stride of nets without a dense output
        # stopping (docs/nets.md, "Stopping"); None keeps today's rule
        # ema (light) = each stage's own figure smoothed | val_loss | val_loss_ema | "" (raw)
        "stop_on": [None],
        "ema": [None],  # stop_on=ema / val_loss_ema: weight of the past (light: 0.7)
        "min_steps": [None],  # no stop by the criterion before this many steps per stage
        "min_delta": [None],  # relative improvement that counts (torch's rel threshold)
        "val_patches": [None],  # stage-2 validation patches per image (light: 128)
        "schedule": [None],  # constant | cosine | plateau (light: lr decays on a stall)
        "max_decays": [None],  # plateau: lr decays before a stall stops (light: 2)
        # stage 2's figure: val_mae_weeks (paper) | val_one_minus_r (light: 1 - patient r)
        "stage2_figure": [None],
    }

    # -- to implement ----------------------------------------------------------------------
    def build_model(self, profile: Profile):
        """A torch module mapping (N, 1, g, g) float grey levels 0–255 to (N,) in [0, 1]."""
        raise NotImplementedError

    def describe_model(self) -> dict[str, Any]:
        return {}

    # -- configuration ---------------------------------------------------------------------
    def resolved_profile(self) -> Profile:
        return resolve_profile(self.profile, self.name, self.get_params())

    @classmethod
    def canonical_params(cls, params: dict[str, Any]) -> dict[str, Any]:
        """A setting the profile gives anyway is the setting unset (``None``): same fit."""
        profile = params.get("profile") or cls.parameters["profile"][0]
        return unset_defaults(str(profile), cls.name, params)

    def _pool(self, view, n_best: int = 0):
        from benchmark.kits.nets.sampler import PatchPool

        prof = self.profile_
        return PatchPool(view, prof.grid, prof.size_mm, prof.norm, n_best)

    def _side(self) -> str:
        prof = self.profile_
        return f"{prof.size_mm:g} mm" if prof.size_mm else f"{prof.grid} px"

    # -- fit ---------------------------------------------------------------------------------
    def fit(self, train) -> TwoStageNet:
        from benchmark.kits.nets import runtime
        from benchmark.kits.nets.cost import count_flops, training_cost
        from benchmark.kits.nets.stages import stage1_data, stage2_data
        from benchmark.kits.nets.training import CURVE_COLUMNS, patient_split, train_stage

        prof = self.profile_ = self.resolved_profile()
        seed = int(self.random_state)
        self.device_ = runtime.resolve_device(self.device)
        self.ga_mean_ = float(train.patients["ga_weeks"].mean())
        pool = self._pool(train)
        has_lung = pool.counts("lung") > 0
        where = (
            f"{len(pool.skipped)} of {len(pool)} training images skipped, e.g. "
            f"{pool.skipped[0][0]}: {pool.skipped[0][1]}"
            if pool.skipped
            else ""
        )
        if not has_lung.any():
            raise ValueError(
                f"no training image has a lung region that holds a whole "
                f"{self._side()} patch ({where}); try a smaller patch_mm"
            )
        if self.transfer and not (pool.counts("nonlung") > 0).any():
            raise ValueError(
                f"stage 1 needs non-lung patches too, but no {self._side()} "
                f"square lies entirely outside the lung inside any training "
                f"image ({where}); try a smaller patch_mm"
            )
        patients = np.array([im.patient_id for im in pool.images])
        rng = np.random.default_rng([seed, 17])
        val_patients = patient_split(patients, prof.val_fraction, rng)
        is_val = np.isin(patients, val_patients)
        fit_imgs, val_imgs = np.flatnonzero(~is_val), np.flatnonzero(is_val & has_lung)
        image_ga = train.ga_by_image.reindex([im.image_id for im in pool.images]).to_numpy(float)
        self.skipped_train_ = list(pool.skipped)

        with runtime.deterministic(seed, self.device_):
            import torch

            model = self.build_model(prof).to(self.device_)
            model = model.to(memory_format=torch.channels_last)
            self.init_state_ = {k: v.detach().clone() for k, v in model.state_dict().items()}
            self.flops_per_step_ = count_flops(model, prof.grid, prof.batch_size, self.device_)

            results = []
            self.stage1_state_ = None
            prof1 = prof  # stage 1's sizes (dense tiles differ from the stage-2 patch)
            if self.transfer:
                dense = self.dense_output and prof.stage1 == "dense"
                tiles = pool
                # tiles no larger than the smallest image (a multiple of 16, ≥ the patch)
                smallest = min(min(im.pixels.shape) for im in pool.images) // 16 * 16
                side = max(prof.grid, min(prof.stage1_grid or prof.grid, smallest))
                if dense and side != prof.grid:
                    # the same pixels per batch and per image as with small patches
                    shrink = (prof.grid / side) ** 2
                    tiles = pool.regrid(side)
                    prof1 = replace(
                        prof,
                        grid=side,
                        batch_size=max(2, round(prof.batch_size * shrink)),
                        nonlung_per_image=max(1, round(prof.nonlung_per_image * shrink)),
                    )
                draw, validate = stage1_data(
                    tiles, fit_imgs, val_imgs, prof1, seed, self.dense_output, self.device_
                )
                cfg1 = stage_config(prof, prof.max_steps_stage1, "stage1")
                cfg1.batch_size = prof1.batch_size
                cfg1.dense_loss = prof.stage1_loss
                results.append(
                    train_stage(
                        model, draw, validate, cfg1, rng, self.device_, "stage1", dense_target=dense
                    )
                )
                results[-1].flops_per_step = count_flops(
                    model, prof1.grid, prof1.batch_size, self.device_
                )
                self.stage1_state_ = {
                    k: v.detach().cpu().clone() for k, v in model.state_dict().items()
                }
            draw, validate = stage2_data(
                pool, fit_imgs[has_lung[fit_imgs]], val_imgs, prof, seed, image_ga, self.device_
            )
            results.append(
                train_stage(
                    model,
                    draw,
                    validate,
                    stage_config(prof, prof.max_steps_stage2, "stage2"),
                    rng,
                    self.device_,
                    "stage2",
                )
            )
            results[-1].flops_per_step = self.flops_per_step_
            self.model_ = model.eval()
            peak = runtime.matmul_peak(self.device_)
            threads = torch.get_num_threads()
        #: {stage: digest of the weights it started from}: stage 2 of a transfer fit starts
        #: from the stage-1 weights, a scratch fit from the seeded initialisation
        self.stage_start_digest_ = {
            r.history[0]["stage"]: r.start_digest for r in results if r.history
        }
        #: how each stage ended (``stopped_by``: criterion | cap) → cells.csv, the report
        self.training_stages_ = [r.record(peak) for r in results]
        self.training_curves_ = pd.DataFrame(
            [row for r in results for row in r.history],
            columns=list(CURVE_COLUMNS),
        )
        self.cost_ = {
            **training_cost(results, peak, threads, self.device_),
            "patches_seen": {r.history[0]["stage"]: r.patches_seen for r in results if r.history},
            "val_patients": len(val_patients),
            "norm": prof.norm,
            "stage1_px": prof1.grid if self.transfer else None,  # after clamping
            "train_images_skipped": len(pool.skipped),
            **self.describe_model(),
        }
        return self

    # -- predict ---------------------------------------------------------------------------
    def _patch_predictions(self, view) -> pd.DataFrame:
        from benchmark.kits.nets.runtime import deterministic
        from benchmark.kits.nets.training import predict_scores

        n = self.profile_.test_lung_per_image
        pool = self._pool(view, n_best=n)
        parts, owners, sources = [], [], []
        for i, im in enumerate(pool.images):
            kind = "lung" if len(im.windows["lung"]) else "best"
            cand = im.windows[kind]
            if not len(cand):
                continue
            # one stream per image, keyed by its id: an image's estimate must not depend on
            # which other images are predicted with it (`predict` on one scan = in a run)
            rng = np.random.default_rng(
                [int(self.random_state), 3, zlib.crc32(str(im.image_id).encode())]
            )
            flat = cand if kind == "best" else rng.choice(cand, min(n, len(cand)), replace=False)
            parts.append(pool.crop(i, np.sort(flat)))
            owners += [im.image_id] * len(flat)
            sources += ["lung" if kind == "lung" else "best_coverage"] * len(flat)
        g = self.profile_.grid
        patches = np.concatenate(parts) if parts else np.empty((0, g, g), np.uint8)
        t0 = time.perf_counter()
        with deterministic(int(self.random_state), self.device_):
            scores = predict_scores(self.model_, patches, self.device_)
        if len(patches):
            self.cost_["infer_patches_per_s"] = round(len(patches) / (time.perf_counter() - t0), 1)
        index = pd.DataFrame(
            {"image_id": owners, "source": sources}, columns=["image_id", "source"]
        )
        index["ga_pred"] = target_to_ga(scores)
        index["patient_id"] = view.images.loc[index["image_id"], "patient_id"].to_numpy()
        return index

    def predict(self, test) -> pd.Series:
        per_patch = self._patch_predictions(test)
        self.patch_predictions_ = per_patch
        image = per_patch.groupby("image_id")["ga_pred"].mean()
        missing = test.images.index.difference(image.index)
        fallbacks = per_patch.groupby("image_id")["source"].first()
        report = pd.DataFrame({"image_id": test.images.index})
        report["patches"] = report["image_id"].map(per_patch.groupby("image_id").size())
        report["patches"] = report["patches"].fillna(0).astype(int)
        report["source"] = report["image_id"].map(fallbacks).astype(object).fillna("training_mean")
        self.artifacts_ = {"patch_fallbacks.csv": report[report["source"] != "lung"]}
        self.image_sources_ = report.set_index("image_id")["source"]
        image = pd.concat([image, pd.Series(self.ga_mean_, index=missing)])
        return image.reindex(test.images.index).astype(float)

    #: provenance of each image's prediction by where its patches came from
    PROVENANCE: ClassVar[dict[str, str]] = {
        "lung": "measured",
        "best_coverage": "fallback:best-coverage-patches",
        "training_mean": "fallback:train-mean",
    }

    def prediction_provenance(self, test) -> pd.Series:
        """``measured`` (whole lung patches), else the fallback used (see the module doc)."""
        return self.image_sources_.reindex(test.images.index).map(self.PROVENANCE)

    def predict_patients(self, test, image_pred: pd.Series) -> pd.Series:
        """Patient GA = mean over all of the patient's lung patches (the paper's rule);
        only the patches of the images in ``image_pred`` (the engine may exclude some)."""
        per_patch = getattr(self, "patch_predictions_", None)
        if per_patch is not None:
            per_patch = per_patch[per_patch["image_id"].isin(image_pred.index)]
        if per_patch is None or per_patch.empty:
            return super().predict_patients(test, image_pred)
        patient = per_patch.groupby("patient_id")["ga_pred"].mean()
        fallback = super().predict_patients(test, image_pred)
        return patient.reindex(test.patients.index).fillna(fallback)

    # -- segmentation (transfer variants) --------------------------------------------------
    def segment(self, record) -> np.ndarray:
        """The engine's DSC hook; scratch variants set ``segment = None`` (no lung head)."""
        return self.lung_map(record)

    def lung_map(self, record) -> np.ndarray:
        """Lung probability per pixel from the stage-1 weights (``benchmark.kits.nets.lungmap``)."""
        from benchmark.kits.nets.lungmap import lung_map

        if self.stage1_state_ is None:
            raise RuntimeError(f"{self.name} has no stage-1 (lung) weights to segment with")
        prof = self.profile_
        return lung_map(
            self._stage1_model(),
            record,
            prof.grid,
            prof.size_mm,
            prof.norm,
            self.dense_output,
            prof.seg_stride_mm,
            self.device_,
            int(self.random_state),
        )

    def _stage1_model(self):
        cached = getattr(self, "_stage1_net", None)
        if cached is None:
            cached = self.build_model(self.profile_).to(self.device_)
            cached.load_state_dict(self.stage1_state_)
            self._stage1_net = cached.eval()
        return cached

    # -- persistence ---------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """``model.pt`` (stage-2 state_dict), ``stage1.pt`` if any, ``config.json``."""
        from benchmark.kits.nets.persistence import save_net

        save_net(self, path)

    @classmethod
    def load(cls, path: str | Path, device: str = "cpu") -> TwoStageNet:
        """A fitted method from :meth:`save`'s folder (weights loaded with weights_only)."""
        from benchmark.kits.nets.persistence import load_net

        return load_net(cls, path, device)
