"""Scenarios: which routes carry GA to the pixels, and that each cut route really is cut."""

from __future__ import annotations

import filecmp
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _cohorts import generator_module as _private

from benchmark.data.sources import list_datasets, resolve_dataset

SCENARIO_NAMES = ("synthetic", "synthetic-texture", "synthetic-anatomy", "synthetic-null")
N = 3000
BOUND = 4 / np.sqrt(N)  # |r| of independent columns stays below this (≈ 1e-4 chance)


def _r(a, b) -> float:
    return float(np.corrcoef(np.asarray(a, float), np.asarray(b, float))[0, 1])


def test_every_scenario_is_registered() -> None:
    names = list_datasets()
    for name in SCENARIO_NAMES:
        assert name in names and not names[name].startswith("unavailable")


@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_each_route_latent_follows_ga_exactly_when_the_route_is_on(name: str) -> None:
    routes = _private("_synth_routes").SCENARIOS[name]
    df = _private("_synth_cohort").make_cohort(N, seed=4, routes=routes)
    latents = {
        "_image_ga": routes.size,
        "_zoom_ga": routes.zoom,
        "_texture_maturity": routes.microstructure,
        "_echo_maturity": routes.echogenicity,
    }
    for column, on in latents.items():
        r = _r(df[column], df["ga_weeks"])
        assert (r > 0.9) if on else (abs(r) < BOUND), (column, r)
    for column, on in (("_size_z", routes.size), ("_zoom_size_z", routes.zoom)):
        # the size factor is the biometry's: shared with hc_mm's z-score when on
        z_hc = df["hc_mm"] - df.groupby(df["ga_weeks"].round())["hc_mm"].transform("mean")
        r = _r(df[column], z_hc)
        assert (r > 0.5) if on else (abs(r) < BOUND), (column, r)


def test_tabular_side_is_identical_across_scenarios() -> None:
    cohort, routes = _private("_synth_cohort"), _private("_synth_routes")
    tables = [cohort.make_cohort(200, seed=1, routes=routes.SCENARIOS[n]) for n in SCENARIO_NAMES]
    public = [c for c in tables[0].columns if not c.startswith("_") and c != "truth_maturity"]
    for t in tables[1:]:
        pd.testing.assert_frame_equal(tables[0][public], t[public])


def _frames(name: str, n: int, size: int = 128):
    gen, routes = _private("_synth_generate"), _private("_synth_routes")
    df = _private("_synth_cohort").make_cohort(n, seed=6, routes=routes.SCENARIOS[name])
    out = []
    for _, row in df.iterrows():
        fr, m = gen.frame(row, 0, 6, size, routes=routes.SCENARIOS[name])
        out.append((row["ga_weeks"], fr.spacing_mm, fr.mask.sum() * fr.spacing_mm**2, m))
    return pd.DataFrame(out, columns=["ga", "spacing", "lung_mm2", "maturity"])


def test_texture_scenario_cuts_spacing_and_lung_area_from_ga() -> None:
    """Rendered frames: in synthetic-texture neither pixel spacing nor traced lung area
    tracks GA (they do in the default world); the lung's maturity still does."""
    n = 80
    bound = 3.5 / np.sqrt(n)
    texture, default = _frames("synthetic-texture", n), _frames("synthetic", n)
    assert abs(_r(texture["spacing"], texture["ga"])) < bound
    assert abs(_r(texture["lung_mm2"], texture["ga"])) < bound
    assert _r(texture["maturity"], texture["ga"]) > 0.9
    assert _r(default["spacing"], default["ga"]) > 0.6
    assert _r(default["lung_mm2"], default["ga"]) > 0.5


def test_anatomy_scenario_cuts_texture_from_ga() -> None:
    frames = _frames("synthetic-anatomy", 60)
    assert abs(_r(frames["maturity"], frames["ga"])) < 3.5 / np.sqrt(60)
    assert _r(frames["spacing"], frames["ga"]) > 0.6


def test_texture_strength_widens_the_lung_texture_span() -> None:
    gen, routes = _private("_synth_generate"), _private("_synth_routes")
    weak, strong = routes.Routes(), routes.SCENARIOS["synthetic-texture"]
    span = {}
    for label, r in (("weak", weak), ("strong", strong)):
        lo, hi = gen.lung_texture(0.0, routes=r), gen.lung_texture(1.0, routes=r)
        span[label] = (hi.echo_db - lo.echo_db, np.log(hi.density_per_mm2 / lo.density_per_mm2))
    assert strong.microstructure > 1
    assert span["strong"][0] > span["weak"][0] > 0 and span["strong"][1] > span["weak"][1] > 0
    # the mid-gestation lung is the same whatever the strength
    assert gen.lung_texture(0.5, routes=weak) == gen.lung_texture(0.5, routes=strong)


def test_route_strength_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="route strength"):
        _private("_synth_routes").Routes(microstructure=-1.0)


SMALL = {"patients": 4, "images_per_patient": 1, "size": 128, "progress": False}


def test_same_seed_same_scenario_is_byte_identical(tmp_path, monkeypatch) -> None:
    """Two generations of one scenario into separate caches give identical files."""
    gen = _private("synthetic")
    a = gen.FACTORIES["synthetic-texture"](tmp_path / "a", seed=2, **SMALL)
    b = gen.FACTORIES["synthetic-texture"](tmp_path / "b", seed=2, **SMALL)
    names = sorted(p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file())
    _, mismatch, errors = filecmp.cmpfiles(a, b, names, shallow=False)
    assert not mismatch and not errors


def test_cache_key_distinguishes_scenarios(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("FLB_CACHE", str(tmp_path))
    paths = {name: resolve_dataset(name, seed=1, **SMALL) for name in SCENARIO_NAMES}
    assert len({p.name for p in paths.values()}) == len(SCENARIO_NAMES)
    images = {name: (p / "images" / "S0001_01.png").read_bytes() for name, p in paths.items()}
    assert len(set(images.values())) == len(SCENARIO_NAMES)
    for name, path in paths.items():
        meta = json.loads((path / "dataset.json").read_text())
        routes = _private("_synth_routes").SCENARIOS[name]
        assert meta["name"] == name and meta["routes"] == routes.as_dict()
        assert ("null_guarantee" in meta) == (name == "synthetic-null")


def test_null_scenario_matches_the_null_flag() -> None:
    cohort, routes = _private("_synth_cohort"), _private("_synth_routes")
    pd.testing.assert_frame_equal(
        cohort.make_cohort(50, seed=3, null=True),
        cohort.make_cohort(50, seed=3, routes=routes.SCENARIOS["synthetic-null"]),
    )


def test_texture_frames_do_not_read_ga_through_size_or_zoom() -> None:
    """Changing a synthetic-texture patient's GA moves its lung texture only: anatomy
    (labels) and spacing are unchanged, the pixels change."""
    gen, routes = _private("_synth_generate"), _private("_synth_routes")
    rts = routes.SCENARIOS["synthetic-texture"]
    row = _private("_synth_cohort").make_cohort(4, seed=5, routes=rts).iloc[1]
    a, _ = gen.frame(row, 0, 5, 128, keep_labels=True, routes=rts)
    older = row.copy()
    older["_texture_maturity"] += 0.5
    older["_echo_maturity"] += 0.5
    b, _ = gen.frame(older, 0, 5, 128, keep_labels=True, routes=rts)
    assert a.spacing_mm == b.spacing_mm and np.array_equal(a.labels, b.labels)
    assert np.array_equal(a.mask, b.mask) and not np.array_equal(a.image, b.image)


def test_dataset_json_routes_for_default(tmp_path) -> None:
    path = _private("synthetic").synthetic(tmp_path, seed=0, **SMALL)
    meta = json.loads((Path(path) / "dataset.json").read_text())
    assert meta["routes"] == {
        "microstructure": 1.0,
        "echogenicity": 1.0,
        "size": True,
        "zoom": True,
    }
