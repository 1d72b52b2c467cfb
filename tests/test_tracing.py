"""Tracing rules of the synthetic lung masks (datasets/_synth_tracing.py): slivers and
islands are dropped, a lung split by a shadow is traced in one or two parts as the rules
say, and generated frames obey the documented width."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from scipy import ndimage

from benchmark.data.sources import list_datasets

SPACING = 0.2  # mm per pixel, like the default cohort's frames


@pytest.fixture(scope="module")
def tr():
    list_datasets()  # the plugin loader puts datasets/ under benchmark._plugins
    return importlib.import_module("benchmark._plugins.datasets._synth_tracing")


def _mm(v: float) -> int:
    return int(round(v / SPACING))


def _canvas() -> np.ndarray:
    return np.zeros((_mm(80), _mm(80)), bool)


def _one_lung(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    return np.ones(len(rows), int)


def _split_at(col_mm: float):
    """Two lungs: left of the column ``col_mm`` and right of it."""
    return lambda rows, cols: np.where(cols < _mm(col_mm), 1, 2)


def _parts(mask: np.ndarray) -> int:
    return ndimage.label(mask, np.ones((3, 3)))[1]


def test_a_sliver_between_shadows_is_dropped(tr):
    visible = _canvas()
    visible[_mm(10) : _mm(40), _mm(10) : _mm(40)] = True  # the lung, 30 × 30 mm
    visible[_mm(10) : _mm(40), _mm(45) : _mm(47)] = True  # a 2 mm strip beyond a rib shadow
    traced = tr.trace(visible, _one_lung, SPACING)
    assert _parts(traced) == 1
    assert not traced[:, _mm(45) : _mm(47)].any()
    assert traced[_mm(25), _mm(25)] and (traced <= visible).all()


def test_an_island_below_the_area_threshold_is_dropped(tr):
    visible = _canvas()
    visible[_mm(10) : _mm(40), _mm(10) : _mm(40)] = True
    # an island on the other lung: wide enough (4 mm) but 16 mm² < MIN_AREA_MM2
    visible[_mm(60) : _mm(64), _mm(60) : _mm(64)] = True
    assert 16 < tr.MIN_AREA_MM2
    traced = tr.trace(visible, _split_at(50), SPACING)
    assert not traced[_mm(60) : _mm(64), _mm(60) : _mm(64)].any()
    assert _parts(traced) == 1


@pytest.mark.parametrize(
    ("cut_mm", "expected_parts"),
    [(28.0, 2), (46.0, 1)],  # halves 28/30 mm: both traced; 46/12 mm: the larger only
)
def test_a_lung_split_by_a_shadow(tr, cut_mm, expected_parts):
    visible = _canvas()
    visible[_mm(10) : _mm(30), _mm(10) : _mm(70)] = True  # a 20 × 60 mm lung
    visible[:, _mm(10 + cut_mm) : _mm(12 + cut_mm)] = False  # a 2 mm rib shadow across it
    traced = tr.trace(visible, _one_lung, SPACING)
    assert _parts(traced) == expected_parts
    if expected_parts == 1:  # the larger part is the one kept
        assert traced[_mm(20), _mm(30)] and not traced[_mm(20), _mm(65)].any()


def test_two_lungs_get_one_outline_each(tr):
    visible = _canvas()
    visible[_mm(10) : _mm(40), _mm(10) : _mm(30)] = True
    visible[_mm(10) : _mm(40), _mm(31) : _mm(50)] = True  # the other lung, 1 mm away
    assert _parts(tr.trace(visible, _split_at(30.5), SPACING)) == 2
    # the same two parts on one lung: the smaller (19 of 20 mm wide) is still ≥ 50 %
    assert _parts(tr.trace(visible, _one_lung, SPACING)) == 2


def test_generated_frames_obey_the_rules(tr):
    gen = importlib.import_module("benchmark._plugins.datasets._synth_generate")
    cohort = importlib.import_module("benchmark._plugins.datasets._synth_cohort")
    table = cohort.make_cohort(6, 0)
    for _, row in table.iterrows():
        fr, _ = gen.frame(row, 0, 0, 512)
        assert (fr.mask <= fr.visible).all() and (fr.visible <= fr.lung).all()
        st = tr.part_stats(fr.mask, fr.spacing_mm)
        assert 1 <= st["parts"] <= 2 * tr.MAX_PARTS_PER_LUNG
        assert st["min_part_radius_mm"] >= tr.MIN_WIDTH_MM / 2
        assert st["min_part_area_mm2"] >= tr.MIN_AREA_MM2


def test_the_real_hand_tracings_are_one_outline_per_lung(tr):
    """The real side of results/realism/tracings.csv: each hand-traced frame has its two
    lungs, inside its thorax outline."""
    import json
    from pathlib import Path

    check = importlib.import_module("benchmark._plugins.datasets._tracing_realism")
    realism = importlib.import_module("benchmark._plugins.datasets._realism")
    if not realism.REAL_DIR.is_dir():
        pytest.skip(f"public thorax images not found at {realism.REAL_DIR}")
    drawn = Path(__file__).parents[1] / "results/realism/public_thorax_tracings.json"
    real, traced = check.real_side(realism.REAL_DIR, json.loads(drawn.read_text()))
    assert len(real) == 20 and real["features"].notna().all()
    assert (traced["parts"] == 2).all()
    assert traced["lung_share_of_thorax"].between(0.1, 0.6).all()
