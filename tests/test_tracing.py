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


def _canvas() -> tuple[np.ndarray, np.ndarray]:
    return np.zeros((_mm(80), _mm(80)), bool), np.zeros((_mm(80), _mm(80)), np.uint8)


def _parts(mask: np.ndarray) -> int:
    return ndimage.label(mask, np.ones((3, 3)))[1]


def test_a_sliver_between_shadows_is_dropped(tr):
    visible, side = _canvas()
    visible[_mm(10) : _mm(40), _mm(10) : _mm(40)] = True  # the lung, 30 × 30 mm
    visible[_mm(10) : _mm(40), _mm(45) : _mm(47)] = True  # a 2 mm strip beyond a rib shadow
    side[visible] = 1
    traced = tr.trace(visible, side, SPACING)
    assert _parts(traced) == 1
    assert not traced[:, _mm(45) : _mm(47)].any()
    assert traced[_mm(25), _mm(25)] and (traced <= visible).all()


def test_an_island_below_the_area_threshold_is_dropped(tr):
    visible, side = _canvas()
    visible[_mm(10) : _mm(40), _mm(10) : _mm(40)] = True
    side[visible] = 1
    # an island on the other lung: wide enough (4 mm) but 16 mm² < MIN_AREA_MM2
    visible[_mm(60) : _mm(64), _mm(60) : _mm(64)] = True
    side[_mm(60) : _mm(64), _mm(60) : _mm(64)] = 2
    assert 16 < tr.MIN_AREA_MM2
    traced = tr.trace(visible, side, SPACING)
    assert not traced[_mm(60) : _mm(64), _mm(60) : _mm(64)].any()
    assert _parts(traced) == 1


@pytest.mark.parametrize(
    ("cut_mm", "expected_parts"),
    [(28.0, 2), (46.0, 1)],  # halves 28/30 mm: both traced; 46/12 mm: the larger only
)
def test_a_lung_split_by_a_shadow(tr, cut_mm, expected_parts):
    visible, side = _canvas()
    visible[_mm(10) : _mm(30), _mm(10) : _mm(70)] = True  # a 20 × 60 mm lung
    side[visible] = 1
    visible[:, _mm(10 + cut_mm) : _mm(12 + cut_mm)] = False  # a 2 mm rib shadow across it
    traced = tr.trace(visible, side, SPACING)
    assert _parts(traced) == expected_parts
    if expected_parts == 1:  # the larger part is the one kept
        assert traced[_mm(20), _mm(30)] and not traced[_mm(20), _mm(65)].any()


def test_two_lungs_get_one_outline_each(tr):
    visible, side = _canvas()
    visible[_mm(10) : _mm(40), _mm(10) : _mm(30)] = True
    visible[_mm(10) : _mm(40), _mm(31) : _mm(50)] = True  # the other lung, 1 mm away
    side[:, : _mm(30)] = 1
    side[:, _mm(30) :] = 2
    side[~visible] = 0
    assert _parts(tr.trace(visible, side, SPACING)) == 2


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
