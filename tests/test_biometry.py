"""Biometric formulas against values hand-computed from Hadlock et al. 1984's tables."""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchmark.contract.registry import discover, get_method_class

discover()
biometry = __import__("benchmark._plugins.methods.biometry", fromlist=["HADLOCK"])

# BPD 8.0, HC 30.0, AC 28.0, FL 6.0 cm, evaluated from Hadlock 1984's table text (not this code)
EXPECTED_32WK = {
    "BPD": 32.122400,
    "HC": 33.260000,
    "AC": 32.046400,
    "FL": 31.230000,
    "BPD+HC": 32.220000,
    "BPD+AC": 32.050000,
    "BPD+FL": 31.496000,
    "HC+AC": 31.890000,
    "HC+FL": 31.680000,
    "AC+FL": 31.536400,
    "BPD+HC+AC": 31.673360,
    "BPD+HC+FL": 31.820000,
    "BPD+AC+FL": 31.586000,
    "HC+AC+FL": 31.746400,
    "BPD+HC+AC+FL": 31.714000,
}
CM = {"BPD": 8.0, "HC": 30.0, "AC": 28.0, "FL": 6.0}


@pytest.mark.parametrize("combination", sorted(EXPECTED_32WK))
def test_hadlock_matches_hand_computed(combination):
    ga = biometry.hadlock_ga(combination, **CM)
    assert float(ga) == pytest.approx(EXPECTED_32WK[combination], abs=1e-6)


def test_all_fifteen_hadlock_combinations_exist():
    assert len(biometry.HADLOCK) == 15 == len(EXPECTED_32WK)


def test_hadlock_rejects_unknown_combination():
    with pytest.raises(ValueError, match="unknown Hadlock combination"):
        biometry.hadlock_ga("BPD+XX", BPD=8.0)


def test_intergrowth_hc_fl_in_mm_gives_days():
    # INTERGROWTH-21st standard means at 32+0 weeks: HC 294.4 mm, FL 59.4 mm
    days = biometry.intergrowth_ga_days(np.array([294.4]), np.array([59.4]))
    ln_hc = math.log(294.4)
    by_hand = math.exp(0.03243 * ln_hc**2 + 0.001644 * 59.4 * ln_hc + 3.813)
    assert days[0] == pytest.approx(by_hand)
    assert days[0] / 7 == pytest.approx(32.0, abs=0.3)  # the standard's own mean at 32 wk


def test_hadlock_default_is_the_four_parameter_formula():
    cls = get_method_class("biometry-hadlock")
    assert cls().combination == "BPD+HC+AC+FL"
    assert len(cls.parameters["combination"]) == 1  # --methods all runs one row, not 15
