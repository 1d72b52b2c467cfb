"""Anatomy v5: the four-chamber view's published normal values hold on generated frames."""

from __future__ import annotations

import numpy as np
import pytest
from _cohorts import generator_module as _private


@pytest.fixture(scope="module")
def per_frame():
    # another seed than the committed table's: the constraints hold, not one sample
    return _private("_anatomy_realism").anatomy_table(frames=40, seed=11)


def test_every_literature_quantity_is_inside_its_range(per_frame) -> None:
    table = _private("_anatomy_realism").summarise(per_frame)
    outside = table[table["inside"] != "yes"]
    assert outside.empty, outside[["quantity", "literature_range", "synthetic_median"]]


def test_right_lung_larger_and_heart_left_in_every_frame(per_frame) -> None:
    assert (per_frame["lung_area_right_over_left"] > 1).all()
    assert (per_frame["heart_share_left_of_midline"] > 0.5).all()
    assert (per_frame["lung_share_posterior_to_heart_centre"] > 0.5).all()
    assert (per_frame["lung_anterior_to_heart_share"] < 0.08).all()


def test_axis_and_ctar_spread_like_normal_fetuses(per_frame) -> None:
    axis = per_frame["cardiac_axis_deg"]
    assert 40 < axis.median() < 50 and 4 < axis.std() < 12  # drawn N(45, 8°), measured
    ctar = per_frame["cardiothoracic_area_ratio"]
    assert ((ctar > 0.2) & (ctar < 0.4)).all()


def test_heart_is_measured_not_read_back() -> None:
    """Turning the drawn axis turns the measured outline by the same angle."""
    import dataclasses

    anat, check = _private("_synth_anatomy"), _private("_anatomy_realism")
    base = anat.draw_anatomy(np.random.default_rng(3), 32.0, 0.0)
    angles = []
    for deg in (30.0, 55.0):
        an = dataclasses.replace(base, heart_axis=np.deg2rad(deg))
        angles.append(check.measure(an, anat)["cardiac_axis_deg"])
    assert abs((angles[1] - angles[0]) - 25.0) < 3.0


def test_rib_sections_are_short_arcs() -> None:
    """Every rib section is short (a few mm along the wall) and lies in the chest wall."""
    anat = _private("_synth_anatomy")
    from scipy import ndimage

    an = anat.draw_anatomy(np.random.default_rng(5), 34.0, 0.0)
    an.limbs = []
    an.rib_angles, an.rib_arcs = [1.0, -1.5, 2.2], [max(anat.RIB_HALF_ARC)] * 3
    lab, origin, res = anat.raster(an)
    bone = lab == anat.BONE
    parts, n = ndimage.label(bone)
    axis = origin + np.arange(lab.shape[0]) * res
    x, y = np.meshgrid(axis, axis)
    a_t = an.radius * np.sqrt(an.ellipticity)
    b_t = an.radius / np.sqrt(an.ellipticity)
    rib_like = 0
    for k in range(1, n + 1):
        part = parts == k
        rad = np.sqrt((x[part] / a_t) ** 2 + (y[part] / b_t) ** 2)
        if rad.min() > 0.85:  # in the chest wall: a rib, not the spine
            rib_like += 1
            extent = np.hypot(np.ptp(x[part]), np.ptp(y[part]))
            assert 0.1 * an.radius < extent < 0.35 * an.radius
    assert rib_like == len(an.rib_angles)
