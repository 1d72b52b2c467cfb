"""Stage 2, epoch by epoch: what the validation figures saw and what the test r was.

    python scripts/stage2_epochs.py synthetic unet-scratch /tmp/stage2.csv
    python scripts/stage2_epochs.py synthetic-texture "unet-scratch[max_steps=2000]" t.csv

One fit on the dataset's paper split (seed 0), with the weights of every stage-2 epoch
kept; afterwards each epoch's weights predict the *test* patients.  The test r is for
diagnosing a stopping rule only (which epoch it restored, what later epochs would have
given): nothing here chooses anything by it.  This is how docs/nets.md ("Stage 2 watches
1 − r") found that the MAE criterion restored the first epoch's weights.

Columns: epoch, val_loss, val_mae_weeks, val_one_minus_r (the validation scores the rule
reads), val_sd_pred (SD of the validation patients' estimates, weeks: how shrunk they
are), test_r, test_mae.
"""

from __future__ import annotations

import copy
import sys
import time

import numpy as np
import pandas as pd

import benchmark.kits.nets.stages as stages
from benchmark.contract.registry import create_method
from benchmark.data.cohort import Cohort
from benchmark.data.sources import resolve_dataset
from benchmark.data.splits import make_splits
from benchmark.execution.gridspec import expand
from benchmark.kits.nets.profiles import target_to_ga
from benchmark.kits.nets.training import predict_scores

SNAPSHOTS: list[tuple[dict, dict]] = []
_stage2_data = stages.stage2_data


def _keeping_every_epoch(pool, train_imgs, val_imgs, prof, seed, image_ga, device):
    """``stage2_data`` whose ``validate`` also keeps the weights and the estimates' SD."""
    draw, validate = _stage2_data(pool, train_imgs, val_imgs, prof, seed, image_ga, device)
    per_image = prof.val_lung_per_image or prof.test_lung_per_image
    xv, owner, _ = pool.draw("lung", per_image, np.random.default_rng([seed, 12]), val_imgs)
    patients = np.array([pool.images[i].patient_id for i in owner])

    def validate_and_keep(model):
        scores = validate(model)
        estimates = pd.Series(target_to_ga(predict_scores(model, xv, device)))
        scores["val_sd_pred"] = float(estimates.groupby(patients).mean().std())
        SNAPSHOTS.append((scores, copy.deepcopy(model.state_dict())))
        return scores

    return draw, validate_and_keep


def main(world: str, spec: str, out: str) -> None:
    stages.stage2_data = _keeping_every_epoch
    cohort = Cohort.load(resolve_dataset(world))
    split = make_splits(cohort.patients, "paper", [0])[0]
    name, params, _ = expand([spec])[0]
    method = create_method(name, **params)
    method.random_state, method.device = 0, "cpu"
    train, test = cohort.train_view(split.train_ids), cohort.test_view(split.test_ids)
    start = time.time()
    method.fit(train)
    print(f"fit {time.time() - start:.0f} s", method.training_stages_, flush=True)
    truth = cohort.patients.loc[test.patients.index, "ga_weeks"]
    rows = []
    for epoch, (scores, weights) in enumerate(SNAPSHOTS, start=1):
        method.model_.load_state_dict(weights)
        patches = method._patch_predictions(test)
        est = patches.groupby("patient_id")["ga_pred"].mean().reindex(truth.index)
        test_r = float(np.corrcoef(est, truth)[0, 1])
        rows.append(
            {
                "epoch": epoch,
                **scores,
                "test_r": test_r,
                "test_mae": float((est - truth).abs().mean()),
            }
        )
        print(
            f"epoch {epoch}: val r {1 - scores['val_one_minus_r']:.3f}, "
            f"val MAE {scores['val_mae_weeks']:.2f}, test r {test_r:.3f}",
            flush=True,
        )
    pd.DataFrame(rows).to_csv(out, index=False)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: python scripts/stage2_epochs.py DATASET METHOD OUT.csv")
    main(*sys.argv[1:])
