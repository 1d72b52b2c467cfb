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
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmark.errors import InputError
from benchmark.io import file_suffix, read_raw


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
    return SavedModel(meta["method"], meta.get("label") or meta["method"], params,
                      cell_dir / "model", str(meta.get("split") or ""),
                      int(meta.get("seed") or 0), int(meta.get("fold") or 0))


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
        first.note = (f"{len(saved)} saved models of {first.label} ({first.split}, one per "
                      f"seed/fold): using seed {first.seed} fold {first.fold} "
                      f"({first.model_dir.parent.name}); give --model a cell folder for "
                      "another")
        return first
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
    load = getattr(cls, "load", None)
    if not callable(load):
        raise InputError(f"method {saved.method!r} cannot be reloaded (it defines no load hook)")
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
        raise InputError(f"--{name}: give one value, or one per image ({n})", "input",
                         f"give one --{name} for all images or one per image, in order")
    return list(values)


_FRAME_SUFFIX = re.compile(r"(?P<path>.+):(?P<frame>\d+)")


def parse_image_argument(text: str) -> tuple[Path, int | None]:
    """``scan.dcm`` or ``scan.dcm:2`` (frame 2, 0-based) → (path, frame)."""
    path = Path(text)
    found = _FRAME_SUFFIX.fullmatch(text)
    if not path.exists() and found and Path(found["path"]).exists():
        return Path(found["path"]), int(found["frame"])
    return path, None


def _frames(paths: list[Path], frames: list[int | None], default: int | None
            ) -> list[int | None]:
    """Per image: its ``:N``, else ``--frame`` for multi-frame files only; a multi-frame
    file with neither is reported by the file checks (naming ``IMAGE:N``)."""
    out = []
    for path, frame in zip(paths, frames, strict=True):
        if frame is None and default is not None and path.is_file():
            try:
                frame = default if read_raw(path).n_frames > 1 else None
            except InputError:
                frame = None  # the file check reports it
        out.append(frame)
    return out


#: file-check codes that concern a cohort, not loose images to predict on
_PREDICT_FILE_IGNORES = {"duplicate-image", "near-duplicate", "mask-none"}
#: fixes said in predict's own terms (there is no manifest row to set or remove)
_PREDICT_FIXES = {
    "multi-frame": "name the frame after the file: IMAGE:N (0-based), e.g. loop.dcm:2",
    "unreadable": "re-export the file (PNG/DICOM)",
}


def check_prediction_inputs(manifest, specs) -> None:
    """The file checks of ``validate`` on the inputs: warnings and errors one line each on
    stderr; any error → InputError (nothing is predicted, nothing written)."""
    from benchmark.validate import Report, validate_files

    report = validate_files(manifest, specs, Report(manifest.root))
    from dataclasses import replace

    from benchmark.errors import DEFAULT_FIXES

    def fix(p):  # a generic fix in predict's terms; specific fixes are kept
        return _PREDICT_FIXES[p.code] if p.code in _PREDICT_FIXES and \
            p.fix == DEFAULT_FIXES.get(p.code) else p.fix

    problems = [replace(p, fix=fix(p)) for p in report.problems
                if p.code not in _PREDICT_FILE_IGNORES]
    for problem in problems:
        print(problem.line(), file=sys.stderr)
    errors = [p for p in problems if p.level == "error"]
    if errors:
        first = errors[0]
        raise InputError(f"{len(errors)} input problem(s), nothing predicted; first: "
                         f"{first.where}: {first.what}", first.code, first.fix)


def view_from_files(images: list[str | Path], masks: list[Path] | None = None,
                    spacing: list[float] | None = None, frame: int | None = None):
    """A prediction view over loose image files (each image its own patient).

    ``images`` may name a frame: ``scan.dcm:2``; ``frame`` is the default for multi-frame
    files named without one.  Every file gets ``validate``'s per-file checks first.
    """
    from benchmark.cohort import Cohort
    from benchmark.ingest.manifest import Manifest
    from benchmark.ingest.records import ImageSpec, header_spacing

    parsed = [parse_image_argument(str(p)) for p in images]
    given = [str(p) for p in images]
    paths = [p.resolve() for p, _ in parsed]
    masks = [Path(p).resolve() for p in masks] if masks else None
    for text, path in zip(given + [str(m) for m in masks or []], paths + (masks or []),
                          strict=True):
        if not path.is_file():
            raise InputError(f"{text}: file not found", "file-missing",
                             "check the path (a frame is written IMAGE:N)")
    if masks and len(masks) != len(paths):
        raise InputError(f"--mask: give one mask per image ({len(paths)})", "input",
                         "repeat --mask once per image, in the order of the images")
    mask_list = masks or [None] * len(paths)
    spacings = _per_image(spacing, len(paths), "spacing")
    frames = _frames(paths, [f for _, f in parsed], frame)
    files = paths + [m for m in mask_list if m is not None]
    root = Path(os.path.commonpath([str(p.parent) for p in files]))
    rows = []
    for text, path, mask, mm, index in zip(given, paths, mask_list, spacings, frames,
                                           strict=True):
        source = "--spacing"
        if mm is None:
            mm, source = header_spacing(path)
        if mm is None or not math.isfinite(mm) or mm <= 0:
            raise InputError(f"{text}: missing spacing: the file carries none; give --spacing "
                             "MM_PER_PIXEL", "spacing-missing")
        image_id = path.name[: -len(file_suffix(path))] if file_suffix(path) else path.name
        if index is not None and [p for p in paths if p == path][1:]:
            image_id = f"{image_id}_frame{index}"  # one file, several frames
        rows.append({"image_id": image_id, "patient_id": image_id,
                     "image_path": path.relative_to(root).as_posix(),
                     "pixel_spacing_mm": float(mm), "spacing_source": source,
                     "frame": index,
                     "lung_mask_path": mask.relative_to(root).as_posix() if mask else None})
    table = pd.DataFrame(rows)
    if table["image_id"].duplicated().any():
        dup = table.loc[table["image_id"].duplicated(), "image_id"].iloc[0]
        raise InputError(f"two input images are both named {dup!r}; rename one", "input",
                         "give each input image a distinct file name")
    wheres = [f"input {k + 1}" for k in range(len(given))]  # the message names the file
    manifest = Manifest(root, pd.DataFrame({"patient_id": table["patient_id"]}),
                        table.astype(object).where(table.notna(), None), wheres, wheres,
                        "predict inputs")
    specs = [(i, ImageSpec.from_row(root, row, wheres[i]))
             for i, row in enumerate(manifest.images.to_dict("records"))]
    check_prediction_inputs(manifest, specs)
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
    check_prediction_inputs(manifest, specs)
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

    if not callable(getattr(method, "segment", None)):
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
        elif callable(getattr(method, "segment", None)):
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
