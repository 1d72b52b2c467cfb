"""Predicts the training patients' mean GA: the floor every method must beat."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from benchmark import BaseMethod, register_method


@register_method
class DummyMean(BaseMethod):
    name = "dummy-mean"
    summary = "training mean GA for every image (the no-skill floor)"
    role = "floor"
    saves = True

    def fit(self, train) -> DummyMean:
        self.mean_ = float(train.patients["ga_weeks"].mean())
        return self

    def predict(self, test) -> pd.Series:
        return pd.Series(self.mean_, index=test.images.index, dtype=float)

    def save(self, path: Path) -> None:
        """Persist the fitted mean as JSON (no pickle: safe to load from anywhere)."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        (path / "model.json").write_text(json.dumps({"method": self.name, "mean_": self.mean_}))

    @classmethod
    def load(cls, path: Path, device: str = "cpu") -> DummyMean:
        data = json.loads((Path(path) / "model.json").read_text())
        method = cls()
        method.mean_ = float(data["mean_"])
        return method
