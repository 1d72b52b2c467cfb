"""The two-stage transfer protocol as a :class:`BaseMethod`, shared by the U-Net and timm.

Protocol (``docs/paper.md``; details and choices in ``docs/nets.md``)
----------------------------------------------------------------------
1. One cached patch set of the training images (:func:`benchmark.patches.build_patch_set`):
   ``lung_per_image`` lung and ``nonlung_per_image`` non-lung 32 mm patches per image.
2. **Stage 1** (transfer variants only): lung (target 1) vs non-lung (target 0), balanced
   50/50 by randomly dropping the surplus class; MSE on the sigmoid output.
3. **Stage 2**: the lung patches only, target = (GA − 20) / 24, i.e. GA normalised to 0–1
   over 20–44 weeks (the suite's valid GA range, so every real GA maps inside [0, 1]).
   The transfer variant starts from the stage-1 weights ("transfer is done simply by
   swapping the training data"); the scratch variant starts from a fresh initialisation
   and gets the same stage-2 epoch cap and stopping rule, i.e. the same step budget.
4. Each stage stops early on a patient-level validation split of the training patients
   (``benchmark.nets.training``); per-epoch losses → ``training_curves_``.

Prediction: each test image gives ``test_lung_per_image`` lung patches from its traced
mask; image GA = mean of its patch predictions, patient GA = mean over all the patient's
lung patches (:meth:`predict_patients`).  An image whose lung holds no whole patch uses
the windows with the highest lung coverage instead; an image smaller than a patch gets
the training mean.  Both are counted in ``artifacts_["patch_fallbacks.csv"]``.

Segmentation (:meth:`segment`, transfer variants): sliding patch classification with the
*stage-1* weights (kept aside before stage 2 retargets the net): patches every
``seg_stride_mm`` over the image, each patch's lung score assigned to its centre,
bilinearly interpolated to every pixel (nearest score beyond the outermost centres).
The engine thresholds at 0.5 and scores DSC.  Scratch variants never learn lung vs
non-lung, so they have no ``segment``.

Profiles (same code path, only sizes differ)
--------------------------------------------
``paper``: the paper's hyper-parameters (Adam lr 1e-5, batch 16), 32 mm patches on 64 px
(0.5 mm/px), U-Net width 64, 25 + 25 patches per image (the paper: 16,268 stage-1 patches
from 166 women, i.e. ~49 per image with two images each), up to 200 epochs per stage,
patience 10, lung maps every 2 mm.  Intended for a GPU.  **On the embedded synthetic
cohort it cannot train**: no fetal lung there holds a whole 32 mm square (the largest
inscribed square is 8–21 mm; fetal lungs in a four-chamber view are ~15–30 mm across), and
the fit stops with a one-line error saying so.

``light`` (default): sized for a 2-core CPU, and for lungs of real fetal size: **8 mm**
patches on 16 px (0.5 mm/px, the speckle-preserving resolution argued in
``benchmark.patches``), width 8, 6 lung + 6 non-lung patches per training image, 8 lung
patches per test image, caps of 4 (stage 1) and 6 (stage 2) epochs, patience 2, lung maps
every 8 mm (the dominant cost of a fit + predict + segment cell).  **Its learning rate
is 1e-3, not the paper's 1e-5**: with a few hundred CPU steps Adam at 1e-5 barely moves
the weights, so the light profile would measure nothing.  The ``paper`` profile keeps
1e-5, and ``lr``, ``patch_mm``, ``grid``, ``max_epochs``, ``seg_stride_mm`` (and
``width`` for the U-Net) are parameters of every variant, e.g.
``unet-transfer[profile=paper]`` or ``unet-transfer[patch_mm=12,lr=1e-5]``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from benchmark.base import BaseMethod
from benchmark.nets.profiles import (  # noqa: F401  (re-exported: tests and plugins)
    GA_MAX,
    GA_MIN,
    PROFILES,
    Profile,
    ga_to_target,
    resolve_profile,
    target_to_ga,
)
from benchmark.patches import (
    PatchSpec,
    best_lung_centres,
    build_patch_set,
    extract_patches,
)


class TwoStageNet(BaseMethod):
    """Base of ``unet-*`` and ``timm-*``: subclasses set ``transfer`` and ``build_model``."""

    requirements: ClassVar[tuple[str, ...]] = ("torch",)
    uses_images: ClassVar[bool] = True
    relative_cost: ClassVar[float] = 100.0
    #: True: stage 1 then stage 2 from stage-1 weights; False: stage 2 only (the control)
    transfer: ClassVar[bool] = True
    parameters: ClassVar[dict[str, list[Any]]] = {
        "profile": ["light"],  # select the faithful one with unet-transfer[profile=paper]
        "lr": [None],  # None = the profile's
        "max_epochs": [None],  # cap of each stage; None = the profile's
        "grid": [None],  # patch pixels per side (multiple of 16); None = the profile's
        "patch_mm": [None],  # physical patch side; None = the profile's (paper 32, light 8)
        "seg_stride_mm": [None],  # lung-map sliding stride; None = the profile's
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

    def patch_spec(self, prof: Profile) -> PatchSpec:
        return PatchSpec(size_mm=prof.size_mm, grid=prof.grid)

    # -- fit ---------------------------------------------------------------------------------
    def fit(self, train) -> TwoStageNet:
        from benchmark.nets import runtime
        from benchmark.nets.cost import count_flops, training_cost
        from benchmark.nets.training import StageConfig, patient_split, train_stage

        prof = self.resolved_profile()
        spec = self.patch_spec(prof)
        seed = int(self.random_state)
        self.device_ = runtime.resolve_device(self.device)
        self.profile_ = prof
        self.ga_mean_ = float(train.patients["ga_weeks"].mean())
        patches = build_patch_set(train, spec, prof.lung_per_image, prof.nonlung_per_image,
                                  seed=seed)
        index = patches.index
        rng = np.random.default_rng([seed, 17])
        val_patients = set(patient_split(index["patient_id"].to_numpy(), prof.val_fraction,
                                         rng))
        is_val = index["patient_id"].isin(val_patients).to_numpy()
        ga = train.ga_by_image.reindex(index["image_id"]).to_numpy(dtype=float)
        lung = index["label"].to_numpy() == 1
        stage1 = self._balanced(lung, rng) if self.transfer else np.zeros(len(index), bool)
        self.n_patches_ = {"stage1": int(stage1.sum()), "stage2": int(lung.sum())}
        where = (f"{len(patches.skipped)} of {len(train)} training images skipped, e.g. "
                 f"{patches.skipped[0][0]}: {patches.skipped[0][1]}" if patches.skipped else "")
        if lung.sum() == 0:
            raise ValueError(
                f"no training image has a lung region that holds a whole {spec.size_mm:g} mm "
                f"patch ({where}); try a smaller patch_mm"
            )
        if self.transfer and stage1.sum() == 0:
            raise ValueError(
                f"stage 1 needs non-lung patches too, but no {spec.size_mm:g} mm square lies "
                f"entirely outside the lung inside any training image ({where}); "
                "try a smaller patch_mm"
            )
        self.skipped_train_ = list(patches.skipped)
        x_all = np.asarray(patches.patches)  # a few MB at the light sizes

        with runtime.deterministic(seed, self.device_):
            import torch

            model = self.build_model(prof).to(self.device_)
            self.init_state_ = {k: v.detach().clone() for k, v in model.state_dict().items()}
            cfg1 = StageConfig(prof.lr, prof.batch_size, prof.max_epochs_stage1, prof.patience)
            cfg2 = StageConfig(prof.lr, prof.batch_size, prof.max_epochs_stage2, prof.patience)
            self.flops_per_step_ = count_flops(model, prof.grid, prof.batch_size, self.device_)
            results = []
            self.stage1_state_ = None
            if self.transfer:
                tr, va = stage1 & ~is_val, stage1 & is_val
                y1 = lung.astype(np.float32)
                results.append(train_stage(model, x_all[tr], y1[tr], x_all[va], y1[va], cfg1,
                                           rng, self.device_, "stage1"))
                self.stage1_state_ = {k: v.detach().cpu().clone()
                                      for k, v in model.state_dict().items()}
            y2 = ga_to_target(ga).astype(np.float32)
            tr, va = lung & ~is_val, lung & is_val
            results.append(train_stage(model, x_all[tr], y2[tr], x_all[va], y2[va], cfg2, rng,
                                       self.device_, "stage2"))
            self.model_ = model.eval()
            peak = runtime.matmul_peak(self.device_)
            threads = torch.get_num_threads()
        #: {stage: digest of the weights it started from}: stage 2 of a transfer fit starts
        #: from the stage-1 weights, a scratch fit from the seeded initialisation
        self.stage_start_digest_ = {r.history[0]["stage"]: r.start_digest
                                    for r in results if r.history}
        self.training_curves_ = pd.DataFrame(
            [row for r in results for row in r.history],
            columns=["stage", "epoch", "train_loss", "val_loss"],
        )
        self.cost_ = {
            **training_cost(results, self.flops_per_step_, peak, threads, self.device_),
            "n_stage1_patches": self.n_patches_["stage1"],
            "n_stage2_patches": self.n_patches_["stage2"],
            "val_patients": len(val_patients),
            "train_images_skipped": len(patches.skipped),
            **self.describe_model(),
        }
        return self

    @staticmethod
    def _balanced(lung: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Stage-1 rows: all of the rarer class and as many, drawn at random, of the other."""
        pos, neg = np.flatnonzero(lung), np.flatnonzero(~lung)
        k = min(len(pos), len(neg))
        keep = np.zeros(len(lung), bool)
        keep[np.sort(rng.choice(pos, k, replace=False))] = True
        keep[np.sort(rng.choice(neg, k, replace=False))] = True
        return keep

    # -- predict ---------------------------------------------------------------------------
    def _image_patches(self, view) -> tuple[np.ndarray, pd.DataFrame]:
        """Lung patches of every image of ``view``, with the fallbacks documented above."""
        prof, spec = self.profile_, self.patch_spec(self.profile_)
        ps = build_patch_set(view, spec, prof.test_lung_per_image, 0,
                             seed=int(self.random_state) + 1)
        parts = [np.asarray(ps.patches)]
        index = [ps.index[["image_id"]].assign(source="lung")]
        for image_id, _reason in ps.skipped:
            record = view.load_image(image_id)
            centres = best_lung_centres(record, prof.test_lung_per_image, spec)
            if len(centres):
                parts.append(extract_patches(record.pixels, record.spacing_mm, centres, spec))
                index.append(pd.DataFrame({"image_id": image_id,
                                           "source": "best_coverage"}, index=range(len(centres))))
        return np.concatenate(parts), pd.concat(index, ignore_index=True)

    def _patch_predictions(self, view) -> pd.DataFrame:
        from benchmark.nets.runtime import deterministic
        from benchmark.nets.training import predict_scores

        patches, index = self._image_patches(view)
        t0 = time.perf_counter()
        with deterministic(int(self.random_state), self.device_):
            scores = predict_scores(self.model_, patches, self.device_)
        if len(patches):
            self.cost_["infer_patches_per_s"] = round(len(patches) /
                                                      (time.perf_counter() - t0), 1)
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
        report["source"] = report["image_id"].map(fallbacks).fillna("training_mean")
        self.artifacts_ = {"patch_fallbacks.csv": report[report["source"] != "lung"]}
        image = pd.concat([image, pd.Series(self.ga_mean_, index=missing)])
        return image.reindex(test.images.index).astype(float)

    def predict_patients(self, test, image_pred: pd.Series) -> pd.Series:
        """Patient GA = mean over all of the patient's lung patches (the paper's rule)."""
        per_patch = getattr(self, "patch_predictions_", None)
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
        """Lung probability per pixel from the stage-1 weights (``benchmark.nets.lungmap``)."""
        from benchmark.nets.lungmap import sliding_lung_map

        if self.stage1_state_ is None:
            raise RuntimeError(f"{self.name} has no stage-1 (lung) weights to segment with")
        prof = self.profile_
        return sliding_lung_map(self._stage1_model(), record, self.patch_spec(prof),
                                prof.seg_stride_mm, self.device_, int(self.random_state))

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
        from benchmark.nets.persistence import save_net

        save_net(self, path)

    @classmethod
    def load(cls, path: str | Path, device: str = "cpu") -> TwoStageNet:
        """A fitted method from :meth:`save`'s folder (weights loaded with weights_only)."""
        from benchmark.nets.persistence import load_net

        return load_net(cls, path, device)
