"""B-mode image formation in beam space, then scan conversion to a square pixel grid.

Pipeline per frame (vectorised numpy/scipy):

1. beam grid: depth r × steering angle θ of a convex probe (virtual apex behind the skin);
2. tissue labels → echogenicity (backscatter power) and attenuation per sample, plus a
   side-lobe/reverberation clutter term (blurred echogenicity, tens of dB down);
3. random scatterers: complex Gaussian × √echogenicity; in the lung, a K-distributed
   amplitude (gamma-distributed local scatterer number) and a structural modulation;
4. point-spread function: Gaussian pulse envelope along r (a short separable filter: it
   spans a few samples), Gaussian beam along θ whose width grows away from the transmit
   focus (per-row transfer function, FFT);
5. round-trip attenuation (tissue-dependent, so bones cast shadows), electronic noise,
   time-gain compensation;
6. envelope |IQ|, log compression over a dynamic range, optional speckle reduction on the
   log image, display map to 8 bit;
7. scan conversion (bilinear) to the output pixel grid; mask and labels by nearest
   neighbour from the same coordinates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.fft as sfft
from scipy import ndimage

from . import _synth_anatomy as an
from ._synth_sites import GENERIC, SitePreset

#: Speed of sound in soft tissue, mm/µs.
C_MM_PER_US = 1.54
#: Echogenicity (backscatter power relative to myocardium) per label; rationale:
#: blood is 30–40 dB below tissue and amniotic fluid lower still (Shung 1976; haze from
#: side lobes keeps them above zero), connective tissue and valves 5–7 dB above, specular
#: bone surfaces ≈ 20 dB above.
#: The lung's value is replaced per frame by the maturity model.
ECHO = np.array(
    [
        10**-4.5,  # FLUID (amniotic fluid)
        1.0,  # WALL (replaced by a layered profile)
        1.2,  # SOFT (chest wall, mediastinum)
        1.0,  # MYO (reference tissue)
        10**-3.0,  # BLOOD
        4.0,  # VALVE
        100.0,  # BONE
        1.0,  # LUNG (set from maturity)
        2.5,  # PERICARDIUM
    ],
    np.float32,
)
#: Attenuation, dB/cm/MHz (Goss 1978 / Duck 1990 tables): water ≈ 0.002, blood 0.15,
#: soft tissue 0.5–0.7; bone ≈ 10–20 (adult), lower for thin, partly ossified fetal bone.
ALPHA = np.array([0.002, 0.7, 0.6, 0.55, 0.15, 0.6, 8.0, 0.6, 0.6], np.float32)
#: Maternal abdominal wall, depth fraction → echogenicity: skin, fat, fascia, rectus
#: muscle, fascia, myometrium.
WALL_LAYERS = ((0.05, 2.5), (0.35, 0.35), (0.40, 3.0), (0.65, 0.8), (0.70, 3.0), (1.0, 0.9))
#: Extra (bone) attenuation beyond which a sonographer sees the lung as shadowed, dB.
SHADOW_DB = 6.0
#: Echo level (dB re. reference tissue) shown as white: specular bone echoes saturate.
DISPLAY_TOP_DB = 30.0
#: Smoothing (σ, mm) of one step of speckle reduction; about half a speckle cell.
SRI_AXIAL_MM, SRI_LATERAL_MM = 0.08, 0.35
#: Spatial extent (σ, mm) over which side lobes and reverberation gather clutter.
CLUTTER_MM = 6.0


@dataclass
class Acquisition:
    """Probe and scanner settings (the nuisances): drawn per exam, gain re-set per frame."""

    f0_mhz: float  # centre frequency; C1-5 probe, 2–5 MHz band
    bandwidth: float  # −6 dB fractional bandwidth of the pulse
    fnumber: float  # focal depth / aperture (sets lateral resolution)
    probe_radius_mm: float  # curvature of the convex array
    sector_deg: float  # field-of-view angle
    gain_db: float  # overall gain offset
    dynamic_range_db: float  # log-compression range
    tgc_slope: float  # dB/cm/MHz the TGC compensates (tissue: ≈ 0.5–0.7)
    noise_db: float  # electronic noise floor below reference tissue at the skin
    wall_mm: float  # maternal abdominal wall thickness
    gamma: float  # display grey map exponent
    sri: float  # speckle-reduction strength (scanner post-processing, 0 = off)
    clutter_db: float  # side-lobe / reverberation haze relative to the surrounding echo


def draw_acquisition(rng: np.random.Generator, site: SitePreset = GENERIC) -> Acquisition:
    """Settings within what a sonographer uses for a third-trimester fetal heart; a site
    preset narrows the ranges of frequency, focus, speckle reduction, dynamic range, grey
    map, gain and TGC habit to one centre's (``_synth_sites``)."""
    sri_levels, sri_p = site.sri
    return Acquisition(
        f0_mhz=float(rng.uniform(*site.f0_mhz)),  # lower end when penetration is needed
        bandwidth=0.5,  # typical of clinical convex arrays (≈ 50–70 %)
        fnumber=float(rng.uniform(*site.fnumber)),  # dynamic receive focusing: F# ≈ const
        probe_radius_mm=50.0,  # GE C1-5: ≈ 50 mm radius of curvature
        sector_deg=float(rng.uniform(55.0, 75.0)),  # narrowed for cardiac frame rate
        gain_db=float(rng.normal(*site.gain_db)),
        dynamic_range_db=float(rng.uniform(*site.dynamic_range_db)),
        tgc_slope=float(rng.normal(*site.tgc_slope)),  # sliders set by eye: imperfect
        noise_db=float(rng.uniform(70.0, 85.0)),
        wall_mm=float(rng.uniform(10.0, 35.0)),  # lean to obese maternal abdomen
        gamma=float(rng.uniform(*site.gamma)),  # grey maps darken mid-tones
        # SRI/CRI were on in 12 of 15 real Voluson frames of the public thorax set
        sri=float(rng.choice(np.array(sri_levels), p=np.array(sri_p))),
        # integrated side-lobe energy limits the contrast of anechoic cysts on clinical
        # scanners to about −15…−25 dB; reverberation in the abdominal wall adds haze
        clutter_db=float(rng.uniform(-22.0, -14.0)),
    )


@dataclass
class LungTexture:
    """What maturity changes in the lung (see ``_synth_generate.lung_texture``)."""

    echo_db: float  # echogenicity relative to myocardium
    density_per_mm2: float  # scatterers per mm² of section
    corr_mm: float  # correlation length of the structural modulation
    mod_sd: float  # SD of the structural log-amplitude modulation (nepers)


@dataclass
class Frame:
    image: np.ndarray  # uint8 (size, size)
    mask: np.ndarray  # bool, the exported mask: visible lung here, traced by _synth_generate
    spacing_mm: float
    labels: np.ndarray | None = None  # uint8 tissue labels on the pixel grid (debug/realism)
    lung: np.ndarray | None = None  # bool, the whole simulated lung in the sector (truth)
    visible: np.ndarray | None = None  # bool, lung minus shadow (before tracing)
    thorax: np.ndarray | None = None  # bool, the thorax in the sector (only with labels)


def _gauss_tf(n: int, sigma: np.ndarray | float) -> np.ndarray:
    """Fourier transfer function of a unit-area Gaussian (σ in samples), along the last
    axis of length ``n``; ``sigma`` may be a column to vary per row."""
    k = sfft.fftfreq(n).astype(np.float32)
    return np.exp(-2.0 * np.pi**2 * np.asarray(sigma, np.float32) ** 2 * k**2)


def _structure(
    rng: np.random.Generator, shape: tuple[int, int], corr: tuple[float, float]
) -> np.ndarray:
    """Unit-variance Gaussian random field with Gaussian correlation (σ in samples)."""
    f = sfft.rfft2(rng.standard_normal(shape, dtype=np.float32))
    ky = sfft.fftfreq(shape[0]).astype(np.float32)[:, None]
    kx = sfft.rfftfreq(shape[1]).astype(np.float32)[None, :]
    f *= np.exp(-2.0 * np.pi**2 * ((corr[0] * ky) ** 2 + (corr[1] * kx) ** 2))
    g = sfft.irfft2(f, shape)
    return g / max(float(g.std()), 1e-6)


LabelFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


def render(
    label_fn: LabelFn,
    lung: LungTexture,
    acq: Acquisition,
    *,
    x0: float,
    y0: float,
    size: int,
    spacing: float,
    focus_mm: float,
    rng: np.random.Generator,
    keep_labels: bool = False,
) -> Frame:
    """Simulate one frame.  ``label_fn(x, y)`` gives tissue labels at probe coordinates
    (mm; x lateral, y depth below the skin); the window's top-left pixel edge is at
    (x0, y0) and it is ``size`` pixels of ``spacing`` mm wide and high."""
    rp = acq.probe_radius_mm
    half = np.deg2rad(acq.sector_deg) / 2
    grid = (np.arange(size, dtype=np.float32) + 0.5) * spacing
    px, py = (x0 + grid)[None, :], (y0 + grid)[:, None]  # broadcast, no meshgrid
    pr = np.hypot(px, py + rp)
    pth = np.arctan2(px, py + rp)
    depth = y0 + size * spacing  # depth setting: the window's bottom edge
    inside = (np.abs(pth) <= half) & (py >= 0) & (pr <= rp + depth)
    if not inside.any():
        raise ValueError("window lies outside the sector")

    # beam grid from the skin (attenuation accumulates from there) to the deepest pixel;
    # tissue maps live on a half-resolution grid (cost), speckle on the full one and only
    # from just above the window down (rows above it matter only for attenuation)
    wavelength = C_MM_PER_US / acq.f0_mhz
    fwhm_lat = wavelength * acq.fnumber  # focal beam width (amplitude FWHM)
    dr = spacing
    r_hi = float(pr[inside].max())
    nrh = int(np.ceil((r_hi - rp) / dr / 2)) + 2
    rh = (rp + (2 * np.arange(nrh) + 0.5) * dr).astype(np.float32)
    th_lo, th_hi = float(pth[inside].min()), float(pth[inside].max())
    lat_step = max(spacing, fwhm_lat / 2)  # lateral sampling need only resolve the beam
    dth = lat_step / r_hi
    nt = 2 * sfft.next_fast_len(int(np.ceil((th_hi - th_lo) / dth / 2)) + 2)  # FFT axis
    th0 = th_lo - dth
    thh = (th0 + (2 * np.arange(nt // 2) + 0.5) * dth).astype(np.float32)
    bx = rh[:, None] * np.sin(thh)[None, :]
    by = rh[:, None] * np.cos(thh)[None, :] - rp

    lab = label_fn(bx, by)
    wall = by < acq.wall_mm
    lab[wall] = an.WALL
    # round-trip attenuation (tissue-dependent: bones shadow) and TGC, in dB
    alpha = ALPHA[lab]
    step = 2 * acq.f0_mhz * 2 * dr / 10.0  # round trip, per half-res sample, per dB/cm/MHz
    att = np.cumsum(alpha, axis=0) * step
    bone_excess = np.cumsum((alpha - ALPHA[an.SOFT]) * (lab == an.BONE), axis=0) * step
    tgc = acq.tgc_slope * 2 * acq.f0_mhz * (rh - rp)[:, None] / 10.0

    top = max(0, int((float(pr[inside].min()) - rp) / dr / 2) - 3)  # first visible row
    v_lab, v_wall, v_by = lab[top:], wall[top:], by[top:]
    echo = ECHO[v_lab]
    bounds = np.array([b for b, _ in WALL_LAYERS[:-1]], np.float32)
    layer = np.searchsorted(bounds, v_by[v_wall] / acq.wall_mm)
    echo[v_wall] = np.array([e for _, e in WALL_LAYERS], np.float32)[layer]
    is_lung = v_lab == an.LUNG
    if is_lung.any():
        echo[is_lung] *= np.float32(10 ** (lung.echo_db / 10))
    # clutter: energy from neighbouring tissue leaking in through side lobes/reverberation
    haze = ndimage.gaussian_filter(
        echo, (CLUTTER_MM / dr / 2, CLUTTER_MM / lat_step / 2), truncate=2.0
    )
    echo += haze * np.float32(10 ** (acq.clutter_db / 10))
    amp = np.sqrt(echo * 0.5)
    if is_lung.any():
        # lung: structural modulation and gamma-distributed local scatterer number
        # (K-distributed amplitude: few scatterers per cell → spiky speckle)
        field = _structure(rng, echo.shape, (lung.corr_mm / dr / 2, lung.corr_mm / lat_step / 2))
        amp[is_lung] *= np.exp(lung.mod_sd * field[is_lung] - lung.mod_sd**2)  # power ≈ 1
    amp = amp.repeat(2, 0).repeat(2, 1)
    lung_full = is_lung.repeat(2, 0).repeat(2, 1)
    n_lung = int(lung_full.sum())
    if n_lung:
        shape = max(lung.density_per_mm2 * dr * lat_step, 1e-3)  # scatterers per sample
        amp[lung_full] *= np.sqrt(rng.gamma(shape, 1.0 / shape, n_lung)).astype(np.float32)

    # scatterers (complex baseband amplitude, unit power per unit echogenicity); the
    # electronic noise reuses the same white field shifted by half the grid, which is
    # independent of the local speckle (the PSF is local) and saves a random draw
    nr = amp.shape[0]
    r = (rp + (2 * top + np.arange(nr)) * dr).astype(np.float32)
    z = rng.standard_normal((nr, nt, 2), dtype=np.float32)  # (re, im) pairs: a complex view
    noise = np.roll(z, (nr // 2, nt // 2), axis=(0, 1)).view(np.complex64)[..., 0]
    z *= amp[..., None]

    # PSF: pulse envelope along r (a few samples long: a short separable filter), beam
    # along θ in the Fourier domain, its width growing off focus (depth of field
    # ≈ 7 λ F#², Gaussian-beam broadening)
    sig_ax = C_MM_PER_US / (2 * np.pi * acq.bandwidth * acq.f0_mhz / 2.3548) / 2 / dr
    dof = 7.0 * wavelength * acq.fnumber**2
    sig_lat_mm = fwhm_lat / 2.3548 * np.sqrt(1 + ((r - rp - focus_mm) / dof) ** 2)
    sig_th = (sig_lat_mm / r / dth)[:, None]
    ndimage.gaussian_filter1d(z, sig_ax, axis=0, output=z, mode="constant", truncate=3.0)
    h_lat = _gauss_tf(nt, sig_th)
    iq = sfft.fft(z.view(np.complex64)[..., 0], axis=1)
    iq *= h_lat
    iq = sfft.ifft(iq, axis=1, overwrite_x=True)
    # keep tissue of unit echogenicity at unit RMS whatever the PSF size
    ax_power = float(np.mean(_gauss_tf(256, sig_ax) ** 2))
    gain_norm = 1.0 / np.sqrt(ax_power * np.mean(h_lat**2, axis=1))

    # attenuation, TGC, electronic noise (before TGC), log compression
    gain = (gain_norm[::2, None] * 10 ** ((tgc[top:] - att[top:]) / 20)).astype(np.float32)
    iq *= gain.repeat(2, 0).repeat(2, 1)
    noise_gain = np.float32(10 ** (-acq.noise_db / 20)) * 10 ** (tgc[top:] / 20)
    iq += noise * noise_gain.repeat(2, 0).astype(np.float32)
    db = 20 * np.log10(np.abs(iq) + 1e-9) + acq.gain_db
    if acq.sri > 0:
        # speckle reduction acts on the log image over about one speckle
        ndimage.gaussian_filter(
            db,
            (acq.sri * SRI_AXIAL_MM / dr, acq.sri * SRI_LATERAL_MM / lat_step),
            output=db,
            truncate=2.5,
        )

    # display: the top of the range sits where strong specular echoes saturate
    v = np.clip((db - (DISPLAY_TOP_DB - acq.dynamic_range_db)) / acq.dynamic_range_db, 0, 1)
    grey = 255.0 * v**acq.gamma + 0.5

    # scan conversion (bilinear for the image, nearest for labels and mask)
    ir, it = (pr - r[0]) / dr, (pth - th0) / dth
    img = ndimage.map_coordinates(grey.astype(np.float32, copy=False), np.stack([ir, it]), order=1)
    img[~inside] = 0
    jr = np.clip(np.rint(ir / 2 - 0.25).astype(np.int32), 0, is_lung.shape[0] - 1)
    jt = np.clip(np.rint(it / 2 - 0.25).astype(np.int32), 0, is_lung.shape[1] - 1)
    lung_px = is_lung[jr, jt] & inside
    mask = (bone_excess[top:] < SHADOW_DB)[jr, jt] & lung_px
    labels = None
    if keep_labels:
        labels = v_lab[jr, jt]
        labels[~inside] = 255
    return Frame(img.astype(np.uint8), mask, spacing, labels, lung=lung_px, visible=mask)
