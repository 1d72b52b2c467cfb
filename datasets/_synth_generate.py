"""Assemble frames (anatomy × maturity × acquisition) and write the dataset folder."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import multiprocessing as mp
import os
import shutil
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from . import _synth_anatomy as anat
from . import _synth_cohort as cohort
from . import _synth_outcome as outcome
from . import _synth_scanner as scanner
from . import _synth_tracing as tracing
from ._synth_routes import SCENARIOS, Routes
from ._synth_sites import by_name as site_preset
from ._synth_sites import site_presets

DEFAULT_ROUTES = SCENARIOS["synthetic"]

#: Bump whenever output bytes change: it is part of the cache key.
GENERATOR_VERSION = "8"

# --- maturity → lung texture (assumptions; see docs/synthetic.md) ------------------------
#: Lung echogenicity relative to myocardium at maturity 0 and 1, dB (an assumption).
#: Quantitative grey-level studies see lung echogenicity rise through the third trimester
#: (Maeda 1999: lung/liver histogram-width ratio < 1 at 24–29 wk, ≥ 1 at 30–35 wk), while
#: visual lung-vs-liver grading found no clinically useful relation (Fried 1985): a real
#: but small effect next to gain and scanner variation, hence a few dB over 16 weeks.
LUNG_ECHO_DB = (-1.5, 3.0)
#: Scatterers per mm² of section: saccules and alveoli multiply the fluid–tissue interfaces
#: (canalicular → saccular → alveolar stage), so density rises about tenfold.
LUNG_DENSITY = (3.0, 30.0)
#: Correlation length of the bronchovascular structural pattern, mm: coarse branching
#: airways and vessels early, finer parenchyma later.
LUNG_CORR_MM = (1.6, 0.8)
#: SD of the structural log-amplitude modulation (nepers; 0.35 ≈ 3 dB).
LUNG_MOD_SD = 0.35


#: Maturity range the mappings are evaluated on: at literature strength the ±2.5 SD tails
#: of the cohort stay inside −0.5…1.5; a strengthened route (a positive control) may
#: extrapolate further, up to −1…2.
MATURITY_CLIP = (-1.0, 2.0)


def _effective(maturity: float, strength: float) -> float:
    """Maturity seen by a route of the given strength: its span around mid-gestation
    (m = 0.5) is multiplied by ``strength``; strength 0 is handled by the cohort (the route
    then reads a GA-independent maturity at strength 1)."""
    gain = strength if strength > 0 else 1.0
    return float(np.clip(0.5 + gain * (maturity - 0.5), *MATURITY_CLIP))


def lung_texture(
    maturity: float, echo_maturity: float | None = None, routes: Routes = DEFAULT_ROUTES
) -> scanner.LungTexture:
    """Lung texture for a microstructure maturity and an echogenicity maturity (the same
    one unless a route is cut)."""
    m = _effective(maturity, routes.microstructure)
    e = _effective(maturity if echo_maturity is None else echo_maturity, routes.echogenicity)

    def lerp(pair: tuple[float, float], t: float) -> float:
        return pair[0] + (pair[1] - pair[0]) * t

    return scanner.LungTexture(
        echo_db=lerp(LUNG_ECHO_DB, e),
        density_per_mm2=float(np.exp(lerp(tuple(np.log(LUNG_DENSITY)), m))),
        corr_mm=max(lerp(LUNG_CORR_MM, m), 0.3),
        mod_sd=LUNG_MOD_SD,
    )


# --- geometry of the view -----------------------------------------------------------------
#: Fraction of the image width the thorax fills: sonographers zoom on the heart.
ZOOM_FILL = (0.6, 0.85)
#: Amniotic fluid between the uterine wall and the fetal chest, mm.
FLUID_GAP_MM = (3.0, 30.0)
#: Thickness of an anterior placenta, mm (20–40 mm in the third trimester).
PLACENTA_MM = (20.0, 40.0)
#: Pose jitter between saved frames of one exam, degrees.
FRAME_ROTATION_SD_DEG = 10.0


def frame_anatomy(
    row: pd.Series, image_index: int, seed: int
) -> tuple[anat.Anatomy, scanner.Acquisition, float, np.random.Generator, np.random.Generator]:
    """The anatomy, settings and fluid gap (mm) of one frame (what ``frame`` renders;
    also what the anatomy check measures), and the two generators in their states after."""
    patient_rng = np.random.default_rng([seed, 1000, int(row["enrolment_order"])])
    rng = np.random.default_rng([seed, 2000, int(row["enrolment_order"]), image_index])
    a = anat.draw_anatomy(patient_rng, float(row["_image_ga"]), float(row["_size_z"]))
    acq = scanner.draw_acquisition(patient_rng, site_preset(str(row["site"])))
    wall_gap = patient_rng.uniform(*FLUID_GAP_MM)
    # per frame: pose, ribs in the section, valve phase, gain, zoom, maturity jitter
    section = anat.draw_anatomy(rng, float(row["_image_ga"]), 0.0)  # ribs in this section
    a = dataclasses.replace(
        a,
        rotation=a.rotation + np.deg2rad(rng.normal(0, FRAME_ROTATION_SD_DEG)),
        rib_angles=section.rib_angles,
        rib_arcs=section.rib_arcs,
        valves_open=bool(rng.integers(2)),
    )
    acq = dataclasses.replace(acq, gain_db=acq.gain_db + rng.normal(0, 1.0))
    return a, acq, wall_gap, patient_rng, rng


def frame(
    row: pd.Series,
    image_index: int,
    seed: int,
    size: int,
    keep_labels: bool = False,
    routes: Routes = DEFAULT_ROUTES,
) -> tuple[scanner.Frame, float]:
    """One image of one patient; returns the frame and the image's (microstructure)
    maturity.  Which latents of ``row`` carry GA was decided by the cohort; ``routes``
    only sets the texture routes' strengths."""
    a, acq, wall_gap, patient_rng, rng = frame_anatomy(row, image_index, seed)
    jitter = rng.normal(0, cohort.MATURITY_IMAGE_SD_WEEKS / cohort.MATURITY_SPAN)
    maturity = float(row["_texture_maturity"]) + jitter
    echo_maturity = float(row["_echo_maturity"]) + jitter

    outer = a.radius * np.sqrt(a.ellipticity)
    # the sonographer frames the thorax the zoom route sees (the same one unless cut)
    framed = outer * _zoom_radius(row) / _zoom_radius(row, "_image_ga", "_size_z")
    width = 2 * framed / rng.uniform(*ZOOM_FILL)
    spacing = round(width / size, 6)
    width = spacing * size
    zc = acq.wall_mm + wall_gap + outer
    xc = rng.normal(0, 0.05 * width)
    x0 = xc - width / 2 + rng.normal(0, 0.04 * width)
    y0 = max(0.0, zc - width / 2 + rng.normal(0, 0.04 * width))

    grid = anat.raster(a)
    # an anterior placenta (about 40 % of pregnancies) lies under the uterine wall
    placenta = rng.uniform(*PLACENTA_MM) if patient_rng.uniform() < 0.4 else 0.0

    def label_fn(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        lab = anat.sample(grid, *anat.to_fetal(a, x, y, xc, zc))
        if placenta:
            lab[(lab == anat.FLUID) & (y < acq.wall_mm + placenta)] = anat.SOFT
        return lab

    fr = scanner.render(
        label_fn,
        lung_texture(maturity, echo_maturity, routes),
        acq,
        x0=x0,
        y0=y0,
        size=size,
        spacing=spacing,
        focus_mm=zc + rng.normal(0, 5.0),
        rng=rng,
        keep_labels=keep_labels,
    )
    # what a sonographer traces (the visible lung stays on fr.visible, the truth on fr.lung)
    fr.mask = tracing.trace(fr.visible, _lung_side(a, x0, y0, spacing, xc, zc), spacing)
    if keep_labels:  # realism measures: the thorax (skin outline) on the pixel grid
        rows, cols = np.indices(fr.lung.shape)
        s = fr.spacing_mm
        xf, yf = anat.to_fetal(a, x0 + (cols + 0.5) * s, y0 + (rows + 0.5) * s, xc, zc)
        a_t, b_t = a.radius * np.sqrt(a.ellipticity), a.radius / np.sqrt(a.ellipticity)
        fr.thorax = ((xf / a_t) ** 2 + (yf / b_t) ** 2 <= 1) & (fr.labels != 255)
    return fr, maturity


def _lung_side(a: anat.Anatomy, x0: float, y0: float, s: float, xc: float, zc: float):
    """Which lung a pixel position (row, col) lies in (1: one side of the fetal midline,
    2: the other): the two lungs may touch in the section, one outline each is traced."""

    def side(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        xf, _ = anat.to_fetal(a, x0 + (cols + 0.5) * s, y0 + (rows + 0.5) * s, xc, zc)
        return np.where(xf < 0, 1, 2)

    return side


def _zoom_radius(row: pd.Series, ga: str = "_zoom_ga", size_z: str = "_zoom_size_z") -> float:
    """Abdominal circumference (mm; the thorax radius is proportional to it) at a row's
    latents: the zoom route's over the drawn one rescales the framing when the two
    routes are decoupled."""
    mu, sd = cohort.intergrowth_mean_sd("ac", np.array([float(row[ga])]))
    return float(mu[0] + float(row[size_z]) * sd[0])


def _write_png(path: Path, array: np.ndarray) -> None:
    # fixed compression level: byte-identical output for a given zlib/Pillow
    Image.fromarray(array).save(path, compress_level=1)


def cache_key(name: str, options: dict) -> str:
    """Options + generator version + a digest of the generator's source and the numeric
    libraries it depends on: a forgotten version bump or a numpy upgrade (random streams)
    can never serve a stale cached cohort."""
    import PIL
    import scipy

    source = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("_synth_*.py")):
        source.update(path.read_bytes())
    blob = json.dumps(
        {
            "name": name,
            "version": GENERATOR_VERSION,
            **options,
            "source": source.hexdigest(),
            "libs": [np.__version__, scipy.__version__, PIL.__version__],
        },
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


NULL_NOTE = (
    "Null variant: the GA the anatomy, zoom/pixel spacing and lung texture are drawn at, "
    "the thorax size factor and the latent maturity are all independent of ga_weeks; "
    "image ids, file names and enrolment order carry no GA either. Only the tabular "
    "columns ga_weeks, biometry (bpd/hc/ac/fl) and delivery_ga_weeks relate to GA."
)


def _render_patient(
    root: Path, row: pd.Series, images_per_patient: int, seed: int, size: int, routes: Routes
) -> list[dict]:
    out = []
    for j in range(images_per_patient):
        fr, maturity = frame(row, j, seed, size, routes=routes)
        image_id = f"{row['patient_id']}_{j + 1:02d}"
        _write_png(root / "images" / f"{image_id}.png", fr.image)
        _write_png(root / "masks" / f"{image_id}.png", fr.mask.astype(np.uint8) * 255)
        # the whole simulated lung (shadows included): truth, hidden from non-oracle methods
        _write_png(root / "truth_masks" / f"{image_id}.png", fr.lung.astype(np.uint8) * 255)
        out.append(
            {
                "image_id": image_id,
                "patient_id": row["patient_id"],
                "image_path": f"images/{image_id}.png",
                "pixel_spacing_mm": fr.spacing_mm,
                "lung_mask_path": f"masks/{image_id}.png",
                "truth_maturity": round(maturity, 5),
                "truth_lung_mask_path": f"truth_masks/{image_id}.png",
            }
        )
    return out


#: Below this many frames, worker start-up costs more than it saves.
MIN_PARALLEL_IMAGES = 40


def default_jobs() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def write_dataset(
    root: Path,
    name: str,
    patients: int,
    images_per_patient: int,
    seed: int,
    size: int,
    routes: Routes,
    sites: int = 1,
    progress: bool = True,
    n_jobs: int | None = None,
    enrich_preterm: bool = False,
) -> None:
    """Write the whole folder into ``root`` (which must exist and be empty).

    Every frame has its own seeded generator, so the output is the same for any
    ``n_jobs`` (patients are rendered in parallel processes, results kept in order).
    """
    from tqdm.auto import tqdm

    table = cohort.make_cohort(patients, seed, routes=routes, sites=sites)
    if enrich_preterm:  # sampled within 48 h of delivery (docs in _synth_outcome)
        table["delivery_ga_weeks"] = outcome.delivery_soon_after_scan(table, seed)
    table["outcome"] = outcome.respiratory_morbidity(table, seed)  # model: _synth_outcome.py
    (root / "images").mkdir()
    (root / "masks").mkdir()
    (root / "truth_masks").mkdir()
    n_jobs = default_jobs() if n_jobs is None else n_jobs
    # small cohorts are not worth the worker start-up; workers are forked because this
    # module lives in a namespace that exists only in the parent (plugin loader)
    # (daemonic workers, e.g. inside a process pool, may not have children)
    if (
        len(table) * images_per_patient < MIN_PARALLEL_IMAGES
        or "fork" not in mp.get_all_start_methods()
        or mp.current_process().daemon
    ):
        n_jobs = 1
    args = [(root, row, images_per_patient, seed, size, routes) for _, row in table.iterrows()]
    rows = []
    with contextlib.ExitStack() as stack:
        bar = stack.enter_context(
            tqdm(
                total=len(table) * images_per_patient,
                unit="img",
                desc=f"generating {name}",
                disable=not progress,
            )
        )
        if n_jobs > 1:
            pool = stack.enter_context(ProcessPoolExecutor(n_jobs, mp.get_context("fork")))
            chunks = pool.map(_render_patient, *zip(*args, strict=True), chunksize=4)
        else:
            chunks = (_render_patient(*a) for a in args)
        for chunk in chunks:  # in submission order: deterministic manifests
            rows.extend(chunk)
            bar.update(len(chunk))
    public = table[[c for c in table.columns if not c.startswith("_")]]
    public.to_csv(root / "patients.csv", index=False)
    pd.DataFrame(rows).to_csv(root / "images.csv", index=False)
    meta = {
        "name": name,
        "description": "Simulated four-chamber-view B-mode ultrasound of the fetal thorax "
        "(fetal-lung-bench embedded cohort; docs/synthetic.md).",
        "license": "CC0-1.0 (generated data)",
        "generator_version": GENERATOR_VERSION,
        "options": {
            "patients": patients,
            "images_per_patient": images_per_patient,
            "seed": seed,
            "size": size,
            "sites": sites,
            # only when set: the default cohort's dataset.json stays byte-identical
            **({"enrich_preterm": True} if enrich_preterm else {}),
        },
        "routes": routes.as_dict(),
        "truth_columns": ["truth_maturity", "truth_lung_mask_path"],
    }
    if not routes.any:
        meta["null_guarantee"] = NULL_NOTE
    (root / "dataset.json").write_text(json.dumps(meta, indent=2) + "\n")


def generate(
    cache_dir: Path,
    name: str,
    *,
    patients: int,
    images_per_patient: int,
    seed: int,
    size: int,
    routes: Routes | None = None,
    sites: int = 1,
    progress: bool = True,
    n_jobs: int | None = None,
    enrich_preterm: bool = False,
) -> Path:
    """Generate into ``cache_dir/<name>-<key>`` once (atomically); reuse afterwards.
    ``routes`` defaults to the named scenario's."""
    routes = SCENARIOS[name] if routes is None else routes
    if patients < 1 or images_per_patient < 1:
        raise ValueError("patients and images_per_patient must be ≥ 1")
    if size < 64:
        raise ValueError("size must be ≥ 64 pixels")
    site_presets(int(sites))  # refuses a bad K before any work
    options = {
        "patients": int(patients),
        "images_per_patient": int(images_per_patient),
        "seed": int(seed),
        "size": int(size),
        "sites": int(sites),
    }
    if enrich_preterm:  # absent by default: the default cohort's cache key is unchanged
        options["enrich_preterm"] = True
    cache_dir = Path(cache_dir)
    final = cache_dir / f"{name}-{cache_key(name, {**options, 'routes': routes.as_dict()})}"
    if (final / "dataset.json").is_file():
        return final
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=cache_dir))
    try:
        write_dataset(tmp, name, routes=routes, progress=progress, n_jobs=n_jobs, **options)
        try:
            os.rename(tmp, final)
        except OSError:
            if not (final / "dataset.json").is_file():  # not a lost race: a real error
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return final
