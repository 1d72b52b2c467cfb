"""Fault-injection methods for the engine's tests (not shipped: load with FLB_METHODS_PATH).

Each one misbehaves in a single, named way; the engine must record that cell as failed
with the reason and finish the others.  ``fault-ok`` and ``fault-count`` behave, the
latter logging every completed computation to ``$FLB_FAULT_LOG`` (the crash-resume
harness uses it to prove that no finished cell is recomputed).
"""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import pandas as pd

from benchmark import BaseMethod, register_method


class _Mean(BaseMethod):
    def fit(self, train) -> _Mean:
        self.mean_ = float(train.patients["ga_weeks"].mean())
        return self

    def predict(self, test) -> pd.Series:
        return pd.Series(self.mean_, index=test.images.index, dtype=float)


@register_method
class FaultOk(_Mean):
    name = "fault-ok"
    summary = "behaves (training mean)"


@register_method
class FaultRaise(_Mean):
    name = "fault-raise"
    summary = "raises in fit"

    def fit(self, train) -> FaultRaise:
        raise RuntimeError("injected failure in fit")


@register_method
class FaultHang(_Mean):
    name = "fault-hang"
    summary = "never returns from fit (needs --timeout)"

    def fit(self, train) -> FaultHang:
        while True:
            time.sleep(0.1)


@register_method
class FaultMemory(_Mean):
    name = "fault-oom"
    summary = "allocates 1 TiB in fit (MemoryError under --memory-limit, or the OOM killer)"

    def fit(self, train) -> FaultMemory:
        self.block_ = np.ones(2**37, dtype=np.float64)  # 1 TiB: beyond any CI machine
        return super().fit(train)


@register_method
class FaultMemoryError(_Mean):
    name = "fault-memoryerror"
    summary = "raises MemoryError in predict (in-process out-of-memory)"

    def predict(self, test) -> pd.Series:
        raise MemoryError("injected: cannot allocate")


@register_method
class FaultCrash(_Mean):
    name = "fault-crash"
    summary = "kills its own process in fit (a segfault or OOM kill)"

    def fit(self, train) -> FaultCrash:
        os.kill(os.getpid(), signal.SIGKILL)
        return self


@register_method
class FaultNan(_Mean):
    name = "fault-nan"
    summary = "predicts NaN for one image and inf for another"

    def predict(self, test) -> pd.Series:
        pred = super().predict(test)
        pred.iloc[0] = np.nan
        pred.iloc[-1] = np.inf
        return pred


@register_method
class FaultCount(_Mean):
    name = "fault-short"
    summary = "returns one prediction too few"

    def predict(self, test) -> pd.Series:
        return super().predict(test).iloc[1:]


@register_method
class FaultCounted(_Mean):
    name = "fault-count"
    summary = "sleeps, then predicts mean + k/100; logs each completed computation"
    parameters = {"k": [0], "sleep": [0.0]}

    def fit(self, train) -> FaultCounted:
        time.sleep(float(self.sleep))
        return super().fit(train)

    def predict(self, test) -> pd.Series:
        pred = super().predict(test) + float(self.k) / 100
        path = os.environ.get("FLB_FAULT_LOG")
        if path:
            with open(path, "a") as fh:  # one short O_APPEND line: atomic enough
                fh.write(f"{self.k} {self.random_state} {os.getpid()}\n")
        return pred
