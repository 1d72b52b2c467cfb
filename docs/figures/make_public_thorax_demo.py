"""Make docs/figures/public_thorax_demo.png: a DEMONSTRATION, not a result.

The 20 public FETAL_PLANES_DB four-chamber screen grabs (no GA, no masks, no spacing) go
through the bring-your-own path: a manifest with hand-read spacing (lung_rois.csv) and
INVENTED GA values, ``validate``, then ``predict`` with a net trained on the synthetic
cohort, whose own lung map is overlaid.

    python docs/figures/make_public_thorax_demo.py --model runs/<synthetic run> \
        [--method unet-transfer]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[2]
# a local copy of the FETAL_PLANES_DB frames (never copied into this repository);
# $FLB_PUBLIC_THORAX points at it, else the folder beside the checkout
THORAX = Path(
    os.environ.get("FLB_PUBLIC_THORAX", REPO.parent / "shared" / "data" / "public-thorax")
)


def demo_dataset(root: Path) -> Path:
    """Symlinks (no copies) + a manifest with hand-read spacing and INVENTED GA."""
    (root / "images").mkdir(parents=True)
    labels = pd.read_csv(THORAX / "labels.csv")
    spacing = pd.read_csv(THORAX / "lung_rois.csv").groupby("image")["spacing_mm"].first()
    rng = np.random.default_rng(0)
    invented = {p: round(float(rng.uniform(24, 38)), 1) for p in labels["Patient_num"]}
    rows = []
    for name, patient in zip(labels["Image_name"], labels["Patient_num"], strict=True):
        (root / "images" / f"{name}.png").symlink_to(THORAX / f"{name}.png")
        rows.append(
            {
                "image_id": name,
                "patient_id": f"FPDB{patient:05d}",
                "image_path": f"images/{name}.png",
                "pixel_spacing_mm": spacing[f"{name}.png"],
                "ga_weeks": invented[patient],
            }
        )  # INVENTED: the images have no GA
    pd.DataFrame(rows).to_csv(root / "manifest.csv", index=False)
    return root


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from benchmark.data.validate import validate_dataset
    from benchmark.execution.predict import (
        load_method,
        predict_images,
        resolve_model,
        view_from_dataset,
        with_own_lung_maps,
    )

    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--method", default="unet-transfer")
    parser.add_argument("--out", default=str(Path(__file__).with_name("public_thorax_demo.png")))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = demo_dataset(Path(tmp) / "public-thorax-demo")
        report = validate_dataset(root)
        print(report.format())
        saved = resolve_model(Path(args.model), args.method)
        method = load_method(saved, "cpu")
        view, given = view_from_dataset(root)
        own = with_own_lung_maps(method, view)
        own_view = own[0]
        table = predict_images(method, view, saved.label).set_index("image_id")
        fig, axes = plt.subplots(4, 5, figsize=(17, 12.5))
        for ax, image_id in zip(axes.ravel(), view.images.index, strict=True):
            record = own_view.load_image(image_id)
            ax.imshow(record.pixels, cmap="gray", vmin=0, vmax=255)
            lung = np.ma.masked_where(~record.mask, record.mask.astype(float))
            ax.imshow(lung, cmap="autumn", alpha=0.4, vmin=0, vmax=1)
            ax.set_title(
                f"{image_id.replace('_Plane6', '')}\npredicted "
                f"{table.at[image_id, 'ga_pred_weeks']:.1f} wk · invented "
                f"{given[image_id]:.1f} wk",
                fontsize=7,
            )
            ax.axis("off")
        fig.suptitle(
            "DEMONSTRATION, NOT A RESULT — 20 public FETAL_PLANES_DB screen grabs (CC BY 4.0) "
            f"with the lung map (yellow) of {saved.label} trained on the SYNTHETIC cohort.\n"
            "GA values are INVENTED (the images have none); spacing read by hand from the "
            "on-screen scale; no traced lungs exist, so no DSC.",
            fontsize=10,
        )
        fig.tight_layout(rect=(0, 0, 1, 0.94))
        fig.savefig(args.out, dpi=80)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
