"""The common method check suite (scikit-learn's ``check_estimator``, timm's per-model tests).

:func:`check_method` runs every contract a plugin must keep on a tiny generated cohort
(:func:`write_check_cohort`) and raises :class:`MethodCheckError` naming the first broken
check:

- ``init``: ``__init__`` stores the parameters and nothing fitted;
- ``declarations``: roles and capabilities are valid and implemented (``saves`` → ``save``
  and a classmethod ``load``; ``segments`` → ``segment``);
- ``skip``: ``skip`` takes the GA-free :class:`~benchmark.data.cohort.DatasetInfo`;
- ``no_leak``: no attribute path from a test view reaches GA, post-scan outcomes or (unless
  the method ``reads_truth``) simulation truth;
- ``fit``: ``fit`` returns ``self``;
- ``predict``: one finite GA per test image, indexed by ``image_id``, in the valid range;
- ``provenance``: ``measured`` or ``fallback:<how>`` per test image;
- ``deterministic``: the same seed gives the same predictions;
- ``segment``: when declared, a map of the image's shape with values in [0, 1];
- ``save_load``: when declared, save → load gives identical predictions, and nothing in
  the model folder is a pickle (torch files must load with ``weights_only=True``).

``tests/test_common.py`` runs it over every registered, available method.
"""

from __future__ import annotations

import inspect
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmark.contract.base import BaseMethod
from benchmark.contract.errors import first_line
from benchmark.contract.registry import check_declarations, get_method_class
from benchmark.data.cohort import GA_COLUMNS, OUTCOME_COLUMNS, TRUTH_PREFIX, Cohort, TestView

#: predictions must lie in the suite's valid GA range (weeks)
GA_RANGE = (20.0, 44.0)
#: fast values for parameters the check cohort does not need at full size (by parameter
#: name, so a new plugin with the same knobs gets them too)
FAST_PARAMS: dict[str, Any] = {"max_epochs": 1, "inner_folds": 2}
#: file names that hold pickles (the byte check below catches renamed ones)
_PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib")


class MethodCheckError(AssertionError):
    """A plugin broke a contract; the message names the method and the check."""


# -- the tiny cohort --------------------------------------------------------------------------
def textured_frame(mask: np.ndarray, ga_weeks: float,
                   rng: np.random.Generator) -> np.ndarray:
    """An 8-bit frame whose speckle grain (px) grows with GA: bright lung inside ``mask``,
    darker tissue outside; the tiny cohorts' only route from GA to pixels."""
    from scipy import ndimage

    grain = 0.5 + 2.0 * (ga_weeks - 24.0) / 16.0
    noise = ndimage.gaussian_filter(rng.normal(size=mask.shape), grain)
    noise /= noise.std()
    pixels = np.where(mask, 170 + 30 * noise, 70 + 15 * noise)
    return np.clip(pixels, 1, 255).astype(np.uint8)


def write_check_cohort(root: Path, n_patients: int = 10, images_per_patient: int = 2,
                       size: int = 96, spacing: float = 0.25, seed: int = 0) -> Path:
    """A cohort with everything some method reads: images whose lung texture coarsens with
    GA, traced lung masks (one image left untraced, so fallbacks show), biometry, simulated
    ``truth_maturity`` and the columns a test view must hide."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "masks").mkdir(exist_ok=True)
    ga = np.linspace(24.0, 40.0, n_patients)
    mask = np.zeros((size, size), bool)
    mask[size // 10: size - size // 10, size // 16: size // 2] = True  # 10 x 19 mm
    Image.fromarray(mask.astype(np.uint8) * 255).save(root / "masks" / "lung.png")
    ln = np.log(ga)
    patients = pd.DataFrame({
        "patient_id": [f"C{i:02d}" for i in range(n_patients)],
        "ga_weeks": ga.round(2),
        "enrolment_order": np.arange(1, n_patients + 1),
        # INTERGROWTH-21st fetal growth means (Papageorghiou 2014), mm, ±3 %
        "hc_mm": (-28.2849 + 1.69267 * ga**2 - 0.397485 * ga**2 * ln),
        "bpd_mm": (5.60878 + 0.158369 * ga**2 - 0.00256379 * ga**3),
        "ac_mm": (-81.3243 + 11.6772 * ga - 0.000561865 * ga**3),
        "fl_mm": (-39.9616 + 4.32298 * ga - 0.0380156 * ga**2),
        "delivery_ga_weeks": np.full(n_patients, 39.5),
        "truth_maturity": (ga - 20.0) / 24.0 + rng.normal(0, 0.02, n_patients),
    })
    for col in ("hc_mm", "bpd_mm", "ac_mm", "fl_mm"):
        patients[col] = (patients[col] * rng.normal(1, 0.03, n_patients)).round(1)
    rows = []
    for pid, g in zip(patients["patient_id"], ga, strict=True):
        for k in range(images_per_patient):
            image_id = f"{pid}_{k}"
            Image.fromarray(textured_frame(mask, g, rng)).save(
                root / "images" / f"{image_id}.png")
            untraced = len(rows) == n_patients * images_per_patient - 1
            rows.append({"image_id": image_id, "patient_id": pid,
                         "image_path": f"images/{image_id}.png", "pixel_spacing_mm": spacing,
                         "lung_mask_path": "" if untraced else "masks/lung.png"})
    patients.to_csv(root / "patients.csv", index=False)
    pd.DataFrame(rows).to_csv(root / "images.csv", index=False)
    return root


# -- leak detection ---------------------------------------------------------------------------
def _hidden(column: Any, allow_truth: bool) -> bool:
    text = str(column)
    return text in GA_COLUMNS or text in OUTCOME_COLUMNS or (
        not allow_truth and text.startswith(TRUTH_PREFIX))


def find_leaks(obj: Any, allow_truth: bool = False, max_depth: int = 8) -> list[str]:
    """Attribute paths from ``obj`` to a table or series holding GA, a post-scan outcome or
    (unless ``allow_truth``) simulation truth."""
    leaks: list[str] = []
    seen: set[int] = set()
    stack: list[tuple[Any, str, int]] = [(obj, "view", 0)]
    while stack:
        item, path, depth = stack.pop()
        if id(item) in seen or depth > max_depth:
            continue
        seen.add(id(item))
        if isinstance(item, pd.DataFrame):
            names = [*item.columns, *item.index.names]
            leaks += [f"{path}[{c!r}]" for c in names if _hidden(c, allow_truth)]
            continue
        if isinstance(item, pd.Series | pd.Index):
            if _hidden(item.name, allow_truth):
                leaks.append(f"{path} (named {item.name!r})")
            continue
        for child, where in _children(item, path):
            stack.append((child, where, depth + 1))
    return sorted(set(leaks))


def _children(item: Any, path: str) -> Iterator[tuple[Any, str]]:
    if item is None or isinstance(item, str | bytes | int | float | bool | np.ndarray | Path
                                  | type) or inspect.ismodule(item) or inspect.isroutine(item):
        return
    if isinstance(item, dict):
        for key, value in item.items():
            if _hidden(key, False):
                yield pd.Series(dtype=float, name=key), f"{path}[{key!r}]"
            yield value, f"{path}[{key!r}]"
        return
    if isinstance(item, list | tuple | set | frozenset):
        for i, value in enumerate(item):
            yield value, f"{path}[{i}]"
        return
    for name, value in getattr(item, "__dict__", {}).items():
        yield value, f"{path}.{name}"
    for name in getattr(type(item), "__slots__", ()):
        if hasattr(item, name):
            yield getattr(item, name), f"{path}.{name}"


# -- the checks -------------------------------------------------------------------------------
def _fit_predict(cls: type[BaseMethod], params: dict, cohort: Cohort, split, seed: int):
    method = cls(**params)
    method.random_state = seed
    method.device = "cpu"
    train = cohort.train_view(split[0], include_truth=cls.reads_truth)
    test = cohort.test_view(split[1], include_truth=cls.reads_truth)
    fitted = method.fit(train)
    return method, fitted, test, method.predict(test)


def _check_saved_files(folder: Path) -> None:
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if path.suffix in _PICKLE_SUFFIXES:
            raise AssertionError(f"{path.name} is a pickle file")
        head = path.read_bytes()[:2]
        if path.suffix == ".pt":
            import torch

            torch.load(path, weights_only=True, map_location="cpu")  # refuses pickled code
        elif head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
            raise AssertionError(f"{path.name} is a pickle stream")


def _load(cls: type[BaseMethod], folder: Path) -> BaseMethod:
    kwargs = {"device": "cpu"} if "device" in inspect.signature(cls.load).parameters else {}
    return cls.load(folder, **kwargs)


def check_method(method: str | type[BaseMethod], cohort_root: str | Path,
                 params: dict[str, Any] | None = None, seed: int = 0) -> list[str]:
    """Run every check on one method; returns the names of the checks run (skipped
    capability checks are left out). Raises :class:`MethodCheckError` on the first failure."""
    from benchmark.execution.fallbacks import check_predictions, check_provenance

    cls = get_method_class(method) if isinstance(method, str) else method
    if params is None:
        params = {k: v for k, v in FAST_PARAMS.items() if k in cls.parameters}
    cohort = Cohort.load(cohort_root)
    ids = list(cohort.patients.index)
    split = (ids[: len(ids) * 3 // 5], ids[len(ids) * 3 // 5:])
    done: list[str] = []
    state: dict[str, Any] = {}

    def check(name: str, fn: Callable[[], Any]) -> None:
        try:
            fn()
        except MethodCheckError:
            raise
        except Exception as exc:
            first = first_line(exc)
            raise MethodCheckError(f"{cls.name or cls.__qualname__}: {name}: "
                                   f"{type(exc).__name__}: {first}") from exc
        done.append(name)

    def init() -> None:
        fresh = cls(**params)
        stored = {k: v for k, v in vars(fresh).items() if k not in ("random_state", "device")}
        expected = {k: params.get(k, grid[0]) for k, grid in cls.parameters.items()}
        assert stored == expected, f"__init__ stored {sorted(stored)}, expected parameters " \
            f"{sorted(expected)} only"
        assert fresh.get_params() == expected, "get_params does not return the parameters"

    def skip() -> None:
        skipped, reason = cls(**params).skip(cohort.describe())
        assert isinstance(skipped, bool), f"skip returned {skipped!r}, expected a bool"
        assert not skipped, f"skips the check cohort ({reason})"

    def no_leak() -> None:
        test = cohort.test_view(split[1], include_truth=cls.reads_truth)
        leaks = find_leaks(test, allow_truth=cls.reads_truth)
        assert not leaks, f"a test view reaches hidden columns: {', '.join(leaks[:3])}"

    def fit() -> None:
        method, fitted, test, pred = _fit_predict(cls, params, cohort, split, seed)
        assert fitted is method, f"fit returned {type(fitted).__name__}, not self"
        state.update(method=method, test=test, raw=pred)

    def predict() -> None:
        test: TestView = state["test"]
        pred = check_predictions(state["raw"], test)
        low, high = float(pred.min()), float(pred.max())
        assert GA_RANGE[0] <= low and high <= GA_RANGE[1], \
            f"predictions {low:.1f}-{high:.1f} weeks outside {GA_RANGE[0]:g}-{GA_RANGE[1]:g}"
        state["pred"] = pred

    def provenance() -> None:
        check_provenance(state["method"].prediction_provenance(state["test"]),
                         state["pred"].index)

    def deterministic() -> None:
        again = _fit_predict(cls, params, cohort, split, seed)[3]
        pd.testing.assert_series_equal(check_predictions(again, state["test"]), state["pred"],
                                       check_exact=True, obj="predictions of a second fit")

    def segment() -> None:
        for record in list(state["test"].iter_images())[:2]:
            prob = np.asarray(state["method"].segment(record), dtype=float)
            assert prob.shape == record.pixels.shape, \
                f"map of shape {prob.shape} for an image of shape {record.pixels.shape}"
            assert np.isfinite(prob).all() and prob.min() >= 0 and prob.max() <= 1, \
                "map values outside [0, 1]"

    def save_load() -> None:
        with tempfile.TemporaryDirectory(prefix="flb-check-") as tmp:
            folder = Path(tmp) / "model"
            state["method"].save(folder)
            _check_saved_files(folder)
            loaded = _load(cls, folder)
            assert isinstance(loaded, cls), f"load returned {type(loaded).__name__}"
            pred = check_predictions(loaded.predict(state["test"]), state["test"])
            pd.testing.assert_series_equal(pred, state["pred"], check_exact=True,
                                           obj="predictions after save → load")

    check("declarations", lambda: check_declarations(cls))
    for name, fn in (("init", init), ("skip", skip), ("no_leak", no_leak), ("fit", fit),
                     ("predict", predict), ("provenance", provenance),
                     ("deterministic", deterministic)):
        check(name, fn)
    if cls.segments:
        check("segment", segment)
    if cls.saves:
        check("save_load", save_load)
    return done
