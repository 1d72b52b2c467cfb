"""The method check suite (scikit-learn's estimator checks, timm's per-model tests).

:func:`method_checks` yields one named check per contract, each run on the tiny check
cohort (:func:`~benchmark.testing.cohort.write_check_cohort`) with the class's declared
``test_params``:

- ``declarations``: roles, capabilities and test declarations are valid and implemented;
- ``init``: ``__init__`` stores the parameters and nothing fitted;
- ``skip``: ``skip`` takes the GA-free :class:`~benchmark.data.cohort.DatasetInfo`;
- ``no_leak``: no attribute path from a test view reaches GA, post-scan outcomes or (unless
  the method ``reads_truth``) simulation truth;
- ``fit``: ``fit`` returns ``self``;
- ``predict``: one finite GA per test image, indexed by ``image_id``, in the valid range;
- ``provenance``: ``measured`` or ``fallback:<how>`` per test image;
- ``optional_outputs``: ``training_curves_``, ``cost_``, ``artifacts_`` are None or of the
  types :class:`~benchmark.contract.base.BaseMethod` declares;
- ``deterministic``: the same seed gives the same predictions;
- ``segment``: when declared, a map of the image's shape with values in [0, 1];
- ``save_load``: when declared, save → ``load(path, device="cpu")`` gives identical
  predictions, and nothing in the model folder is a pickle (torch files must load with
  ``weights_only=True``).

The checks of one method share one fit (and ``deterministic`` a second one), so running
them one test each costs what one :func:`check_method` call costs.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmark.contract.base import BaseMethod
from benchmark.contract.registry import check_declarations, get_method_class
from benchmark.data.cohort import Cohort
from benchmark.testing._core import CheckError, CheckPairs, make_checks, run_checks
from benchmark.testing.cohort import write_check_cohort
from benchmark.testing.leaks import find_leaks

#: predictions must lie in the suite's valid GA range (weeks)
GA_RANGE = (20.0, 44.0)
#: file names that hold pickles (the byte check below catches renamed ones)
_PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib")
#: columns of ``training_curves_`` (docs/methods.md)
CURVE_COLUMNS = ("stage", "epoch", "train_loss", "val_loss")

#: the failing checks of a method raise this (kept for callers of the first suite)
MethodCheckError = CheckError


#: temporary folders kept alive until the interpreter exits (then removed)
_KEEP: list[tempfile.TemporaryDirectory] = []


class DependencyFailed(Exception):
    """A check needs a fit (or predictions) that already failed in its own check."""


@cache
def default_check_cohort() -> Path:
    """One tiny check cohort per process, written on first use (removed at exit)."""
    _KEEP.append(tempfile.TemporaryDirectory(prefix="flb-checks-"))
    return write_check_cohort(Path(_KEEP[-1].name) / "cohort")


class _Fits:
    """The fits one method's checks share: computed on first use, errors remembered."""

    def __init__(
        self, cls: type[BaseMethod], params: dict[str, Any], root: Path | None, seed: int
    ) -> None:
        self.cls, self.params, self.root, self.seed = cls, params, root, seed
        self._memo: dict[str, Any] = {}

    def _get(self, key: str, make: Callable[[], Any]) -> Any:
        if key not in self._memo:
            try:
                self._memo[key] = make()
            except Exception as exc:
                self._memo[key] = exc
        found = self._memo[key]
        if isinstance(found, Exception):
            raise DependencyFailed(
                f"needs {key}, which failed: {type(found).__name__}: "
                f"{str(found).splitlines()[0] if str(found) else ''}"
            )
        return found

    @property
    def cohort(self) -> Cohort:
        return self._get("cohort", lambda: Cohort.load(self.root or default_check_cohort()))

    @property
    def split(self) -> tuple[list, list]:
        ids = list(self.cohort.patients.index)
        return ids[: len(ids) * 3 // 5], ids[len(ids) * 3 // 5 :]

    def test_view(self):
        return self.cohort.test_view(self.split[1], include_truth=self.cls.reads_truth)

    def fit_predict(self) -> tuple[BaseMethod, Any, pd.Series]:
        method = self.cls(**self.params)
        method.random_state = self.seed
        method.device = "cpu"
        fitted = method.fit(
            self.cohort.train_view(self.split[0], include_truth=self.cls.reads_truth)
        )
        return method, fitted, method.predict(self.test_view())

    @property
    def first(self) -> tuple[BaseMethod, Any, pd.Series]:
        return self._get("fit", self.fit_predict)

    @property
    def predictions(self) -> pd.Series:
        from benchmark.execution.fallbacks import check_predictions

        return self._get("predict", lambda: check_predictions(self.first[2], self.test_view()))


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


def _check_optional_outputs(method: BaseMethod) -> None:
    curves, cost, artifacts = method.training_curves_, method.cost_, method.artifacts_
    if curves is not None:
        assert isinstance(curves, pd.DataFrame), (
            f"training_curves_ is a {type(curves).__name__}, not a DataFrame"
        )
        missing = [c for c in CURVE_COLUMNS if c not in curves]
        assert not missing, f"training_curves_ lacks column(s) {missing}"
    assert cost is None or isinstance(cost, dict), f"cost_ is a {type(cost).__name__}"
    if artifacts is not None:
        assert isinstance(artifacts, dict), f"artifacts_ is a {type(artifacts).__name__}"
        for name, frame in artifacts.items():
            assert isinstance(name, str) and "/" not in name and isinstance(frame, pd.DataFrame), (
                f"artifacts_[{name!r}] is not a file name → DataFrame"
            )


def method_checks(
    method: str | type[BaseMethod],
    cohort_root: str | Path | None = None,
    params: dict[str, Any] | None = None,
    seed: int = 0,
) -> CheckPairs:
    """``(check name, Check)`` for every contract ``method`` must keep (capability checks
    only when declared).  ``params`` default to the class's ``test_params``."""
    from benchmark.execution.fallbacks import check_predictions, check_provenance

    cls = get_method_class(method) if isinstance(method, str) else method
    params = dict(cls.test_params if params is None else params)
    fits = _Fits(cls, params, Path(cohort_root) if cohort_root else None, seed)

    def init() -> None:
        fresh = cls(**params)
        stored = {k: v for k, v in vars(fresh).items() if k not in ("random_state", "device")}
        expected = {k: params.get(k, grid[0]) for k, grid in cls.parameters.items()}
        assert stored == expected, (
            f"__init__ stored {sorted(stored)}, expected parameters {sorted(expected)} only"
        )
        assert fresh.get_params() == expected, "get_params does not return the parameters"

    def skip() -> None:
        skipped, reason = cls(**params).skip(fits.cohort.describe())
        assert isinstance(skipped, bool), f"skip returned {skipped!r}, expected a bool"
        assert not skipped, f"skips the check cohort ({reason})"

    def no_leak() -> None:
        leaks = find_leaks(fits.test_view(), allow_truth=cls.reads_truth)
        assert not leaks, f"a test view reaches hidden columns: {', '.join(leaks[:3])}"

    def fit() -> None:
        fitted_method, fitted, _ = fits.first
        assert fitted is fitted_method, f"fit returned {type(fitted).__name__}, not self"

    def predict() -> None:
        pred = check_predictions(fits.first[2], fits.test_view())  # its own error, unwrapped
        low, high = float(pred.min()), float(pred.max())
        assert GA_RANGE[0] <= low and high <= GA_RANGE[1], (
            f"predictions {low:.1f}-{high:.1f} weeks outside {GA_RANGE[0]:g}-{GA_RANGE[1]:g}"
        )

    def provenance() -> None:
        test = fits.test_view()
        check_provenance(fits.first[0].prediction_provenance(test), fits.predictions.index)

    def deterministic() -> None:
        again = check_predictions(fits.fit_predict()[2], fits.test_view())
        pd.testing.assert_series_equal(
            again, fits.predictions, check_exact=True, obj="predictions of a second fit"
        )

    def segment() -> None:
        for record in list(fits.test_view().iter_images())[:2]:
            prob = np.asarray(fits.first[0].segment(record), dtype=float)
            assert prob.shape == record.pixels.shape, (
                f"map of shape {prob.shape} for an image of shape {record.pixels.shape}"
            )
            assert np.isfinite(prob).all() and prob.min() >= 0 and prob.max() <= 1, (
                "map values outside [0, 1]"
            )

    def save_load() -> None:
        expected = fits.predictions
        with tempfile.TemporaryDirectory(prefix="flb-check-") as tmp:
            folder = Path(tmp) / "model"
            fits.first[0].save(folder)
            _check_saved_files(folder)
            loaded = cls.load(folder, device="cpu")
            assert isinstance(loaded, cls), f"load returned {type(loaded).__name__}"
            test = fits.test_view()
            pred = check_predictions(loaded.predict(test), test)
            pd.testing.assert_series_equal(
                pred, expected, check_exact=True, obj="predictions after save → load"
            )

    checks: list[tuple[str, Callable[[], Any]]] = [
        ("declarations", lambda: check_declarations(cls)),
        ("init", init),
        ("skip", skip),
        ("no_leak", no_leak),
        ("fit", fit),
        ("predict", predict),
        ("provenance", provenance),
        ("optional_outputs", lambda: _check_optional_outputs(fits.first[0])),
        ("deterministic", deterministic),
    ]
    if cls.segments:
        checks.append(("segment", segment))
    if cls.saves:
        checks.append(("save_load", save_load))
    yield from make_checks(cls.name or cls.__qualname__, checks, cls.expected_failed_checks)


def check_method(
    method: str | type[BaseMethod],
    cohort_root: str | Path | None = None,
    params: dict[str, Any] | None = None,
    seed: int = 0,
) -> list[str]:
    """Run every check on one method (all of them, whatever fails); returns the names of
    the checks run.  Raises :class:`MethodCheckError` listing the failures, first first."""
    return run_checks(method_checks(method, cohort_root, params, seed))
