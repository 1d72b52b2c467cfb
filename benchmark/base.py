"""The method contract: a thin base class with optional hooks (benchopt style).

A method follows scikit-learn's estimator contract: ``__init__`` stores parameters only,
``fit`` returns ``self``, fitted attributes end in ``_``.  ``fit`` receives a
:class:`~benchmark.cohort.TrainView` (GA visible); ``predict`` a
:class:`~benchmark.cohort.TestView` (GA not reachable) and returns GA in weeks per image.

Optional hooks a method may define:

- ``skip(cohort) -> (bool, reason)``: decline a dataset it cannot run on.
- ``segment(record) -> ndarray``: a lung probability map for one image (scored by DSC).
- ``training_curves_``: a DataFrame (stage, epoch, train_loss, val_loss) after ``fit``.
- ``cost_``: a dict of extra cost figures (patches/s, FLOP/s, ...) after ``fit``.
- ``artifacts_``: a dict ``{file name: DataFrame}`` saved beside the predictions
  (feature importances, ...).
- ``save(self, path)`` / ``load(cls, path[, device])``: persist a fitted model for
  ``benchmark predict``.  ``save`` writes into the folder ``path`` (created by the
  runner as ``cells/<id>/model/``); the classmethod ``load`` returns a fitted instance
  with its parameters.  No pickle: JSON, CSV, or torch state dicts read with
  ``torch.load(weights_only=True)``, so a model folder from elsewhere is safe to load.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import pandas as pd

    from benchmark.cohort import Cohort, TestView, TrainView


class BaseMethod:
    """Base class of every GA estimator plugin."""

    #: Registry name, e.g. ``"biometry-hadlock"``.
    name: ClassVar[str] = ""
    #: One-line description shown by ``benchmark list``.
    summary: ClassVar[str] = ""
    #: Parameter grid: every combination is a separate cell (benchopt style).
    parameters: ClassVar[dict[str, list[Any]]] = {}
    #: Importable modules this method needs; missing ones make it "unavailable".
    requirements: ClassVar[tuple[str, ...]] = ()
    #: Whether ``predict`` needs images (the runner loads them lazily either way).
    uses_images: ClassVar[bool] = False
    #: Rough cost relative to a table lookup (nets ≫ texture ≫ biometry): the runner starts
    #: the longest cells first so parallel workers finish together.
    relative_cost: ClassVar[float] = 1.0
    #: Route to one job per GPU (None: decided by whether the method requires torch).
    uses_gpu: ClassVar[bool | None] = None
    #: Only oracle methods see simulation truth (``truth_*`` columns); everyone else doesn't.
    reads_truth: ClassVar[bool] = False

    def __init__(self, **params: Any) -> None:
        unknown = set(params) - set(self.parameters)
        if unknown:
            raise TypeError(
                f"{self.name}: unknown parameter(s) {sorted(unknown)}; "
                f"known: {sorted(self.parameters)}"
            )
        for key, grid in self.parameters.items():
            setattr(self, key, params.get(key, grid[0]))
        # run options set by the runner, not part of the parameter grid
        self.random_state = 0
        self.device = "auto"

    # -- hooks ---------------------------------------------------------------------------
    def skip(self, cohort: Cohort) -> tuple[bool, str | None]:
        """Return ``(True, reason)`` to decline a dataset; default runs everywhere."""
        return False, None

    def fit(self, train: TrainView) -> BaseMethod:
        raise NotImplementedError

    def predict(self, test: TestView) -> pd.Series:
        """GA in weeks, indexed by ``image_id``, one value per test image."""
        raise NotImplementedError

    def predict_patients(self, test: TestView, image_pred: pd.Series) -> pd.Series:
        """Patient-level GA; default: the mean of the patient's image predictions."""
        by_patient = image_pred.groupby(test.images.loc[image_pred.index, "patient_id"])
        return by_patient.mean().reindex(test.patients.index)

    # -- parameters (scikit-learn style) -------------------------------------------------
    def get_params(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in self.parameters}

    def set_params(self, **params: Any) -> BaseMethod:
        for key, value in params.items():
            if key not in self.parameters:
                raise TypeError(f"{self.name}: unknown parameter {key!r}")
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"
