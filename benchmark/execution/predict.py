"""GA for new images with a method trained and saved by a run (``benchmark predict``).

The save/load contract a method follows to be usable here (benchmark/contract/base.py):

- ``save(self, path: Path) -> None`` writes the fitted model into the folder ``path``
  (the runner calls it with ``cells/<cell_id>/model/``);
- ``load(cls, path: Path) -> BaseMethod`` is a classmethod returning a fitted instance,
  parameters included.  Torch weights are read with ``torch.load(weights_only=True)``;
  nothing is unpickled.

A model is named by a run folder (``--method`` picks the cell when several have a model),
a cell folder, or the cell's ``model/`` folder (or a file inside it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmark.contract.domain import GA_RANGE
from benchmark.contract.errors import InputError, first_line
from benchmark.execution.predict_inputs import view_from_dataset, view_from_files

__all__ = [
    "SavedModel",
    "ga_range_flag",
    "load_method",
    "predict_images",
    "resolve_model",
    "view_from_dataset",
    "view_from_files",
    "with_own_lung_maps",
    "write_lung_maps",
]


@dataclass
class SavedModel:
    method: str
    label: str
    params: dict[str, Any]
    model_dir: Path
    split: str = ""
    seed: int = 0
    fold: int = 0
    #: said on the terminal when the choice among a label's cells was made for the user
    note: str = ""


def _cell(cell_dir: Path) -> SavedModel:
    meta = json.loads((cell_dir / "cell.json").read_text())
    params = meta.get("params") or {}
    if isinstance(params, str):
        params = json.loads(params or "{}")
    return SavedModel(
        meta["method"],
        meta.get("label") or meta["method"],
        params,
        cell_dir / "model",
        str(meta.get("split") or ""),
        int(meta.get("seed") or 0),
        int(meta.get("fold") or 0),
    )


def resolve_model(path: Path, method: str | None = None) -> SavedModel:
    path = Path(path)
    if path.is_file():
        path = path.parent
    if not path.is_dir():
        raise InputError(f"{path}: no such run, cell or model folder")
    if path.name == "model" and (path.parent / "cell.json").is_file():
        path = path.parent
    if (path / "cell.json").is_file():
        found = _cell(path)
        if not found.model_dir.is_dir():
            raise InputError(f"{path}: this cell saved no model (its method has no save hook)")
        return found
    cells = [_cell(c) for c in sorted((path / "cells").glob("*")) if (c / "cell.json").is_file()]
    if not cells:
        if method:  # a bare model folder: the user names the method
            return SavedModel(method, method, {}, path)
        raise InputError(f"{path}: not a run, cell or model folder (no cells/*/cell.json)")
    saved = [c for c in cells if c.model_dir.is_dir()]
    if method:
        exact = [c for c in saved if c.label == method]  # a label beats a method name
        saved = exact or [c for c in saved if method in (c.label, c.method)]
    if len({c.label for c in saved}) == 1 and len(saved) > 1:
        # one method, several folds/seeds (k-fold or --seeds): each is a model trained on
        # part of the cohort; take the first and say which (a cell folder picks another)
        saved.sort(key=lambda c: (c.seed, c.fold))
        first = saved[0]
        first.note = (
            f"{len(saved)} saved models of {first.label} ({first.split}, one per "
            f"seed/fold): using seed {first.seed} fold {first.fold} "
            f"({first.model_dir.parent.name}); give --model a cell folder for "
            "another"
        )
        return first
    if len(saved) != 1:
        labels = sorted({c.label for c in (saved or [c for c in cells if c.model_dir.is_dir()])})
        what = (
            "several saved models"
            if len(saved) > 1
            else "no saved model" + (f" for {method!r}" if method else "")
        )
        raise InputError(
            f"{path}: {what}; choose with --method "
            f"({', '.join(labels) if labels else 'none saved in this run'})"
        )
    return saved[0]


def load_method(saved: SavedModel, device: str = "auto"):
    from benchmark.contract.registry import create_method

    cls = type(create_method(saved.method, **saved.params))
    if not cls.saves:
        raise InputError(f"method {saved.method!r} cannot be reloaded (it does not save models)")
    try:  # BaseMethod.load takes the device (nets place their weights at load time)
        method = cls.load(saved.model_dir, device="cpu" if device == "auto" else device)
    except InputError:
        raise
    except Exception as exc:
        first = first_line(exc)
        raise InputError(
            f"{saved.model_dir}: cannot load {saved.method} ({type(exc).__name__}: {first})"
        ) from None
    method.device = device
    method.random_state = 0
    return method


class _OwnLungMaps:
    """Image loader that fills a missing traced mask with the method's own lung map.

    Methods that sample lung patches from ``record.mask`` then work on untraced images;
    the map is ``segment(record) >= 0.5``, the same threshold the DSC uses.
    """

    def __init__(self, method, load) -> None:
        self._method, self._load = method, load
        # segmenting is the slow part; masks are kept bit-packed (1/8 of a bool array)
        self._packed: dict[str, tuple[np.ndarray, tuple[int, ...]]] = {}
        self.empty: set[str] = set()

    def __call__(self, image_id: str):
        from dataclasses import replace

        record = self._load(image_id)
        if record.mask is not None:
            return record
        if image_id not in self._packed:
            lung = np.asarray(self._method.segment(record), np.float32) >= 0.5
            if not lung.any():
                self.empty.add(image_id)
            self._packed[image_id] = (np.packbits(lung), lung.shape)
        bits, shape = self._packed[image_id]
        lung = np.unpackbits(bits, count=int(np.prod(shape))).reshape(shape).view(bool)
        return replace(record, mask=lung)


def with_own_lung_maps(method, view):
    """The view, with untraced images given the method's own lung map (if it can segment).

    For figures only (``docs/figures/make_public_thorax_demo.py`` draws the map): estimates
    are made on the view as given, as a run makes them (:func:`predict_images`)."""
    from benchmark.data.cohort import TestView

    if not method.segments:
        return view, None
    loader = _OwnLungMaps(method, view.load_image)
    own = TestView(view.patients, view.images, loader)
    own.dataset_key = f"{view.dataset_key}-own-lung-maps"
    return own, loader


def own_lung_found(method, record) -> str:
    """What a segmenting method's own map of ``record`` holds, said in words (the threshold
    is the DSC's, 0.5): ``no lung found`` or ``lung found (N% of the image)``."""
    lung = np.asarray(method.segment(record), np.float32) >= 0.5
    return f"lung found ({100 * lung.mean():.0f}% of the image)" if lung.any() else NO_LUNG_FOUND


#: said wherever a segmenting method's own lung map has no pixel >= 0.5
NO_LUNG_FOUND = "no lung found"


def predict_images(method, view, label: str) -> pd.DataFrame:
    """One row per image: the GA estimate, how it was obtained (``provenance``, as a run's
    cell writes it), whether it lies outside the accepted GA range, and the lung map.

    An untraced image is predicted exactly as a run predicts it (the method decides; the
    nets give the training mean, marked ``fallback:train-mean``): ``predict`` and ``run``
    agree for the same saved model.  A method that segments also says what its own lung
    map finds (``own_lung_map``), so an empty map is named, not hidden.
    """
    from benchmark.execution.fallbacks import predict_with_provenance

    masks = view.images.get("lung_mask_path", pd.Series(index=view.images.index, dtype=object))
    traced = masks.map(lambda v: isinstance(v, str) and v.strip() != "")
    try:
        pred, _, prov, _, _ = predict_with_provenance(method, view, "predict")
    except InputError:
        raise
    except Exception as exc:
        first = first_line(exc)
        raise InputError(f"{label}: prediction failed ({type(exc).__name__}: {first})") from None
    table = pd.DataFrame(
        {
            "image_id": pred.index,
            "ga_pred_weeks": pred.round(2).to_numpy(),
            "provenance": prov.reindex(pred.index).to_numpy(),
            "ga_flag": [ga_range_flag(v) for v in pred.to_numpy()],
            "lung_map": np.where(
                traced.reindex(pred.index).fillna(False), "traced mask", "none (untraced)"
            ),
        }
    )
    if method.segments:
        table["own_lung_map"] = [own_lung_found(method, view.load_image(i)) for i in pred.index]
    table["pixel_spacing_mm"] = view.images.loc[pred.index, "pixel_spacing_mm"].to_numpy()
    table["method"] = label
    return table


def ga_range_flag(weeks: float) -> str:
    """Empty inside the accepted GA range; else what is wrong (the estimate is kept as is:
    an estimate is never clipped into the range silently)."""
    low, high = GA_RANGE
    if weeks < low:
        return f"below {low:g} wk"
    if weeks > high:
        return f"above {high:g} wk"
    return ""


def write_lung_maps(method, view, out_dir: Path) -> list[Path]:
    """Per image: the lung map PNG (method's own, or the traced mask) and an overlay PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for record in view.iter_images():
        if record.mask is not None:
            prob, source = record.mask.astype(np.float32), "traced mask"
        elif method.segments:
            prob = np.asarray(method.segment(record), np.float32)
            source = "own lung map" + (
                "" if (prob >= 0.5).any() else f": {NO_LUNG_FOUND} (no pixel >= 0.5)"
            )
        else:
            continue
        Image.fromarray(np.clip(prob * 255, 0, 255).astype(np.uint8)).save(
            out_dir / f"{record.image_id}_lung_map.png"
        )
        fig, ax = plt.subplots(figsize=(5, 5 * record.pixels.shape[0] / record.pixels.shape[1]))
        ax.imshow(record.pixels, cmap="gray", vmin=0, vmax=255)
        ax.imshow(np.ma.masked_less(prob, 0.05), cmap="autumn", alpha=0.35, vmin=0, vmax=1)
        ax.contour(prob, levels=[0.5], colors="yellow", linewidths=0.8)
        ax.set_title(f"{record.image_id}: {source}", fontsize=8)
        ax.axis("off")
        path = out_dir / f"{record.image_id}_overlay.png"
        fig.savefig(path, dpi=100, bbox_inches="tight")
        plt.close(fig)
        written.append(path)
    return written
