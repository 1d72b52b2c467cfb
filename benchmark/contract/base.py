"""The method contract: a thin base class with optional hooks (benchopt style).

A method follows scikit-learn's estimator contract: ``__init__`` stores parameters only,
``fit`` returns ``self``, fitted attributes end in ``_``.  ``fit`` receives a
:class:`~benchmark.data.cohort.TrainView` (GA visible); ``predict`` a
:class:`~benchmark.data.cohort.TestView` (GA not reachable) and returns GA in weeks per image.

Capabilities and roles are **declared** as class attributes and read by the engine (never
probed with ``getattr`` or recognised by a method's name):

- ``saves``: ``save``/``load`` are implemented (``benchmark predict`` can reuse the model);
- ``segments``: ``segment`` returns a lung probability map (scored by DSC);
- ``reads_truth``: the method may see simulation truth (``truth_*`` columns);
- ``role``: ``"ceiling"`` (an oracle: the best any method can do), ``"floor"`` (a no-skill
  baseline a method must beat), ``"reference"`` (the comparison method of Table 2) or None;
- ``control_of``: the name of the method this one is the control of (``unet-scratch`` is the
  no-transfer control of ``unet-transfer``); the cell record then names the controlled
  cell's label with the same parameters.

Hooks a method may override:

- ``skip(dataset) -> (bool, reason)``: decline a dataset it cannot run on; ``dataset`` is a
  :class:`~benchmark.data.cohort.DatasetInfo` (column names and counts, no GA).
- ``segment(record) -> ndarray``: when ``segments``: a lung probability map for one image.
- ``prediction_provenance(test) -> Series``: after ``predict``, per test image
  ``"measured"`` or ``"fallback:<how>"`` (e.g. ``fallback:train-mean``) when the method
  predicted an image by a documented fallback rather than by measuring it; default: all
  measured.  The engine writes it into every prediction row and, with ``--fallback
  exclude``, leaves fallback rows out of the predictions (listed in ``excluded.csv``).
- ``canonical_params(cls, params) -> dict``: a classmethod; ``params`` (every parameter
  set) in one spelling per configuration.  A method whose ``None`` means "mine to resolve"
  (the nets' profile settings) puts a value that only spells that resolution out back to
  ``None``, so the engine sees ``unet-transfer[norm=image]`` and ``unet-transfer`` as one
  cell; default: as given (a declared default is already one spelling).
- ``save(self, path)`` / ``load(cls, path, device="cpu")``: when ``saves``: persist a
  fitted model for ``benchmark predict``.  ``save`` writes into the folder ``path`` (created
  by the runner as ``cells/<id>/model/``); the classmethod ``load`` returns a fitted
  instance with its parameters, its weights placed on ``device`` (a method without weights
  ignores it).  No pickle: JSON, CSV, or torch state dicts read with
  ``torch.load(weights_only=True)``, so a model folder from elsewhere is safe to load.

Optional outputs, declared below with their types (None until ``fit`` sets them; the engine
reads them as attributes, never probes for them):

- ``training_curves_``: a DataFrame (stage, epoch, train_loss, val_loss);
- ``cost_``: a dict of extra cost figures (patches/s, FLOP/s, ...);
- ``training_stages_``: a list with one dict per training stage: ``stage``, ``steps``,
  ``stopped_by`` (``"criterion"``: its stopping rule ended it; ``"cap"``: a step or time
  cap did, so it is not shown to have converged) and any detail; the cell writes
  ``stopped_by`` / ``stage_steps`` columns into cells.csv and the report flags a cap.
  Progress during ``fit``: :func:`benchmark.contract.progress.report`.
- ``artifacts_``: a dict ``{file name: DataFrame}`` saved beside the predictions
  (feature importances, ...).

For the common checks (:mod:`benchmark.testing`) a class declares ``test_params``, cheap
values of its own parameters for the tiny check cohort (fewer epochs, fewer inner folds),
and ``expected_failed_checks``, ``{check name: reason}`` for a check it is known to fail
(marked xfail with the reason, scikit-learn's ``expected_failed_checks``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from benchmark.data.cohort import DatasetInfo, ImageRecord, TestView, TrainView

#: the roles a method may declare (``role`` class attribute)
ROLES = ("ceiling", "floor", "reference")
#: provenance of a prediction measured from the image / data (see ``prediction_provenance``)
MEASURED = "measured"
FALLBACK_PREFIX = "fallback:"


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
    #: ``save``/``load`` persist a fitted model (no pickle) for ``benchmark predict``.
    saves: ClassVar[bool] = False
    #: ``segment`` gives a lung probability map per image (the engine scores its DSC).
    segments: ClassVar[bool] = False
    #: side in mm of the square of lung one patch of the default parameters needs: an
    #: image whose mask holds none gets a fallback estimate (``validate`` warns, naming the
    #: method); None: the method does not sample lung patches
    min_lung_mm: ClassVar[float | None] = None
    #: ``"ceiling"``, ``"floor"``, ``"reference"`` or None (see :data:`ROLES`).
    role: ClassVar[str | None] = None
    #: name of the method this one is the control of, e.g. ``"unet-transfer"``.
    control_of: ClassVar[str | None] = None
    #: parameter settings ``--methods all`` runs beside the defaults, each one cell labelled
    #: ``name[setting]``, e.g. ``("norm=image",)`` → ``unet-transfer[norm=image]``
    all_variants: ClassVar[tuple[str, ...]] = ()
    #: cheap values of some ``parameters`` for the common checks' tiny cohort
    test_params: ClassVar[dict[str, Any]] = {}
    #: ``{check name: reason}``: checks this method is known to fail (xfail in the suite)
    expected_failed_checks: ClassVar[dict[str, str]] = {}

    # -- optional outputs, set by ``fit`` (class-level None: "not produced") -------------
    #: per-epoch losses: columns stage, epoch, train_loss, val_loss
    training_curves_: pd.DataFrame | None = None
    #: extra cost figures for the costs table (patches/s, FLOP/s, ...)
    cost_: dict[str, Any] | None = None
    #: ``{file name: table}`` written beside the cell's predictions
    artifacts_: dict[str, pd.DataFrame] | None = None
    #: one mapping per training stage: stage, steps, stopped_by ("criterion" | "cap"), ...
    training_stages_: list[dict[str, Any]] | None = None

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
    def skip(self, dataset: DatasetInfo) -> tuple[bool, str | None]:
        """Return ``(True, reason)`` to decline a dataset; default runs everywhere."""
        return False, None

    def fit(self, train: TrainView) -> BaseMethod:
        raise NotImplementedError

    def predict(self, test: TestView) -> pd.Series:
        """GA in weeks, indexed by ``image_id``, one value per test image."""
        raise NotImplementedError

    def prediction_provenance(self, test: TestView) -> pd.Series:
        """After ``predict``: ``"measured"`` or ``"fallback:<how>"`` per test image."""
        import pandas as pd

        return pd.Series(MEASURED, index=test.images.index, dtype=object)

    def segment(self, record: ImageRecord) -> np.ndarray:
        """Lung probability map (the image's shape, values in [0, 1]); needs ``segments``."""
        raise NotImplementedError(f"{self.name} does not segment (segments = False)")

    def save(self, path: str | Path) -> None:
        """Write the fitted model into the folder ``path``; needs ``saves``."""
        raise NotImplementedError(f"{self.name} does not save models (saves = False)")

    @classmethod
    def load(cls, path: str | Path, device: str = "cpu") -> BaseMethod:
        """A fitted instance from :meth:`save`'s folder, weights on ``device``; needs
        ``saves``."""
        raise NotImplementedError(f"{cls.name} does not save models (saves = False)")

    def predict_patients(self, test: TestView, image_pred: pd.Series) -> pd.Series:
        """Patient-level GA; default: the mean of the patient's image predictions."""
        by_patient = image_pred.groupby(test.images.loc[image_pred.index, "patient_id"])
        return by_patient.mean().reindex(test.patients.index)

    # -- parameters (scikit-learn style) -------------------------------------------------
    @classmethod
    def canonical_params(cls, params: dict[str, Any]) -> dict[str, Any]:
        """``params`` with a setting that spells out what the method resolves by default
        put back to its declared default (see the module docstring); default: as given."""
        return dict(params)

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
