"""GA for new images with a method trained and saved by a run (``benchmark predict``).

The save/load contract a method follows to be usable here (benchmark/base.py):

- ``save(self, path: Path) -> None`` writes the fitted model into the folder ``path``
  (the runner calls it with ``cells/<cell_id>/model/``);
- ``load(cls, path: Path) -> BaseMethod`` is a classmethod returning a fitted instance,
  parameters included.  Torch weights are read with ``torch.load(weights_only=True)``;
  nothing is unpickled.

A model is named by a run folder (``--method`` picks the cell when several have a model),
a cell folder, or the cell's ``model/`` folder (or a file inside it).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmark.io import InputError, file_suffix


@dataclass
class SavedModel:
    method: str
    label: str
    params: dict[str, Any]
    model_dir: Path


def _cell(cell_dir: Path) -> SavedModel:
    meta = json.loads((cell_dir / "cell.json").read_text())
    params = meta.get("params") or {}
    if isinstance(params, str):
        params = json.loads(params or "{}")
    return SavedModel(meta["method"], meta.get("label") or meta["method"], params,
                      cell_dir / "model")


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
        saved = [c for c in saved if method in (c.label, c.method)]
    if len(saved) != 1:
        labels = sorted({c.label for c in (saved or [c for c in cells if c.model_dir.is_dir()])})
        what = "several saved models" if len(saved) > 1 else "no saved model" + (
            f" for {method!r}" if method else "")
        raise InputError(f"{path}: {what}; choose with --method "
                         f"({', '.join(labels) if labels else 'none saved in this run'})")
    return saved[0]


def load_method(saved: SavedModel, device: str = "auto"):
    from benchmark.registry import create_method

    cls = type(create_method(saved.method, **saved.params))
    if not cls.saves:
        raise InputError(f"method {saved.method!r} cannot be reloaded (it does not save models)")
    load = cls.load
    import inspect

    kwargs = {}
    if "device" in inspect.signature(load).parameters:  # nets place weights at load time
        kwargs["device"] = "cpu" if device == "auto" else device
    try:
        method = load(saved.model_dir, **kwargs)
    except InputError:
        raise
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise InputError(f"{saved.model_dir}: cannot load {saved.method} "
                         f"({type(exc).__name__}: {first})") from None
    method.device = device
    method.random_state = 0
    return method


def _files_key(paths: list[Path], extra: str) -> str:
    digest = hashlib.sha256(extra.encode())
    for path in paths:
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def _per_image(values: list | None, n: int, name: str) -> list:
    if not values:
        return [None] * n
    if len(values) == 1:
        return list(values) * n
    if len(values) != n:
        raise InputError(f"--{name}: give one value, or one per image ({n})")
    return list(values)


def view_from_files(images: list[Path], masks: list[Path] | None = None,
                    spacing: list[float] | None = None, frame: int | None = None):
    """A prediction view over loose image files (each image its own patient)."""
    from benchmark.cohort import Cohort
    from benchmark.ingest.records import header_spacing

    images = [Path(p).resolve() for p in images]
    masks = [Path(p).resolve() for p in masks] if masks else None
    for path in images + (masks or []):
        if not path.is_file():
            raise InputError(f"{path}: file not found")
    mask_list = _per_image(masks, len(images), "mask") if masks else [None] * len(images)
    if masks and len(masks) != len(images):
        raise InputError(f"--mask: give one mask per image ({len(images)})")
    spacings = _per_image(spacing, len(images), "spacing")
    files = images + [m for m in mask_list if m is not None]
    root = Path(os.path.commonpath([str(p.parent) for p in files]))
    rows = []
    for path, mask, mm in zip(images, mask_list, spacings, strict=True):
        source = "--spacing"
        if mm is None:
            mm, source = header_spacing(path)
        if mm is None or not math.isfinite(mm) or mm <= 0:
            raise InputError(f"{path}: missing spacing: the file carries none; give --spacing "
                             "MM_PER_PIXEL")
        image_id = path.name[: -len(file_suffix(path))] if file_suffix(path) else path.name
        rows.append({"image_id": image_id, "patient_id": image_id,
                     "image_path": path.relative_to(root).as_posix(),
                     "pixel_spacing_mm": float(mm), "spacing_source": source,
                     "frame": frame,
                     "lung_mask_path": mask.relative_to(root).as_posix() if mask else None})
    table = pd.DataFrame(rows)
    if table["image_id"].duplicated().any():
        dup = table.loc[table["image_id"].duplicated(), "image_id"].iloc[0]
        raise InputError(f"two input images are both named {dup!r}; rename one")
    images_table = table.set_index("image_id")
    patients = pd.DataFrame(index=pd.Index(images_table["patient_id"], name="patient_id"))
    cohort = Cohort(root, patients, images_table, {"name": "predict"})
    key = _files_key(files, json.dumps(rows, default=str))
    return cohort.prediction_view(key), None


#: validation codes that do not matter when predicting (GA is what we estimate)
_PREDICT_IGNORES = {"ga-missing", "ga-range", "ga-conflict", "column", "enrolment-order",
                    "patient-no-images"}


def view_from_dataset(root: Path):
    """A prediction view over a dataset folder; GA, if given, is returned for comparison."""
    from benchmark.cohort import Cohort
    from benchmark.ingest.manifest import read_manifest
    from benchmark.ingest.records import header_spacing
    from benchmark.validate import Report, validate_tables

    manifest = read_manifest(root)
    report, specs = validate_tables(manifest)
    blocking = [p for p in report.errors if p.code not in _PREDICT_IGNORES
                or (p.code == "column" and "ga_weeks" not in p.what)]
    if blocking:
        Report(manifest.root, problems=blocking).raise_for_errors()
    images = manifest.images.copy()
    if "pixel_spacing_mm" not in images:
        images["pixel_spacing_mm"] = np.nan
    images["pixel_spacing_mm"] = pd.to_numeric(images["pixel_spacing_mm"], errors="coerce")
    images["spacing_source"] = "manifest"
    for i, spec in specs:
        if spec.spacing_mm is None:
            mm, source = header_spacing(spec.image_path)
            images.loc[images.index[i], ["pixel_spacing_mm", "spacing_source"]] = [mm, source]
    given = None
    if "ga_weeks" in manifest.patients:
        ga = pd.to_numeric(manifest.patients.set_index("patient_id")["ga_weeks"], "coerce")
        given = images["patient_id"].map(ga)
        given.index = images["image_id"]
    images = images.set_index("image_id")
    patients = manifest.patients.set_index("patient_id")
    cohort = Cohort(manifest.root, patients, images, dict(manifest.meta))
    files = sorted({s.image_path for _, s in specs} | {m for _, s in specs for m in s.mask_paths})
    return cohort.prediction_view(_files_key(files, images.to_json())), given


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
    """The view, with untraced images given the method's own lung map (if it can segment)."""
    from benchmark.cohort import TestView

    if not method.segments:
        return view, None
    loader = _OwnLungMaps(method, view.load_image)
    own = TestView(view.patients, view.images, loader)
    own.dataset_key = f"{view.dataset_key}-own-lung-maps"
    return own, loader


def predict_images(method, view, label: str, own=None) -> pd.DataFrame:
    """One row per image: GA estimate and where the lung map came from.

    ``own``: a ``with_own_lung_maps(method, view)`` result to reuse (segmenting is costly).
    """
    from benchmark.cell import check_predictions

    masks = view.images.get("lung_mask_path", pd.Series(index=view.images.index, dtype=object))
    traced = masks.map(lambda v: isinstance(v, str) and v.strip() != "")
    view, own_maps = own or with_own_lung_maps(method, view)
    try:
        pred = check_predictions(method.predict(view), view)
    except InputError:
        raise
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise InputError(f"{label}: prediction failed ({type(exc).__name__}: {first})") from None
    own = f"own segmentation ({label})" if own_maps else "none (method uses no lung map)"
    source = pd.Series(np.where(traced.reindex(pred.index).fillna(False), "traced mask", own),
                       index=pred.index)
    for image_id in own_maps.empty if own_maps else ():
        source[image_id] = f"own segmentation ({label}) found no lung"
    return pd.DataFrame({
        "image_id": pred.index,
        "ga_pred_weeks": pred.round(2).to_numpy(),
        "lung_map": source.to_numpy(),
        "pixel_spacing_mm": view.images.loc[pred.index, "pixel_spacing_mm"].to_numpy(),
        "method": label,
    })


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
            prob, source = np.asarray(method.segment(record), np.float32), "own lung map"
        else:
            continue
        Image.fromarray(np.clip(prob * 255, 0, 255).astype(np.uint8)).save(
            out_dir / f"{record.image_id}_lung_map.png")
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
