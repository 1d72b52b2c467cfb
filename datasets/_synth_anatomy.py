"""Four-chamber-view anatomy: a tissue label map of the fetal thorax, scaled from GA.

Geometry is drawn in a fetal frame (mm; origin at the thorax centre, +y anterior, +x the
fetus's left) from a few named proportions, each with its source or rationale.  The
scanner module maps these labels to echogenicity and attenuation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import _synth_cohort as cohort

# tissue labels (uint8); the scanner holds their acoustic properties
FLUID, WALL, SOFT, MYO, BLOOD, VALVE, BONE, LUNG, PERICARDIUM = range(9)
N_LABELS = 9

#: Thoracic / abdominal circumference ≈ 0.89 in normal fetuses, stable with GA
#: (Chitkara 1987; Johnson 1987).
TC_OVER_AC = 0.89
#: Cardiothoracic area ratio 0.25–0.35 in normal fetuses (Paladini 1990).
CTAR_MEAN, CTAR_SD = 0.28, 0.025
#: Cardiac axis: 43 ± 7° in normal fetuses (Shipp 1995); 45 ± 20° is the normal range of
#: Comstock 1987.  Drawn N(45, 8°).
AXIS_MEAN_DEG, AXIS_SD_DEG = 45.0, 8.0
#: Heart long/short axis ratio of the 4-chamber outline (≈ 1.2–1.3, echocardiography
#: reference drawings); ventricles are longer than atria, so the AV plane sits baseward.
HEART_ASPECT, AV_PLANE = 1.25, -0.15
#: Heart centre left of the midline (fraction of the thorax radius): most of the heart lies
#: in the left chest with the apex to the left (ISUOG 2013 cardiac screening guideline).
HEART_LEFT, HEART_LEFT_SD = 0.16, 0.04
#: Tissue between the heart and the anterior chest wall (thymus, pericardial fat), fraction
#: of the radius: the right ventricle lies just behind the sternum, so almost no lung is
#: seen anterior to the heart in this view.
ANTERIOR_GAP = (0.01, 0.05)
#: Descending aorta centre (× R): left of the midline, anterior to the vertebral body at
#: −0.66 R (ISUOG 2013).
AORTA_XY = (0.12, -0.42)
#: Chest wall (skin, muscle, ribs) thickness as a fraction of the thorax radius.
CHEST_WALL = 0.10
#: Myocardial wall, interventricular and interatrial septum thickness / heart short axis;
#: fetal ventricular walls are ≈ 2–4 mm in the third trimester (≈ 0.15 of a 20 mm
#: semi-axis).
MYO_WALL, IVS, IAS = 0.24, 0.20, 0.06
#: The left ventricle forms the apex; the right ventricle ends short of it (fraction of the
#: long semi-axis) and is crossed near its apex by the moderator band; the tricuspid valve
#: inserts slightly more apically than the mitral valve (normal AV offset).
RV_APEX, MODERATOR_BAND, TRICUSPID_OFFSET = 0.72, 0.5, 0.07
#: Rib sections: short arcs of the rib cage (half-angle, rad) in the chest wall.
RIB_HALF_ARC = (0.07, 0.13)


@dataclass
class Anatomy:
    """Sizes (mm) and pose of one fetal thorax section."""

    radius: float  # mean thorax radius
    ellipticity: float  # transverse / AP radius ratio
    heart_axis: float  # radians, from the AP axis towards the fetal left
    ctar: float
    heart_offset: tuple[float, float]  # heart centre left of midline, anterior gap (× R)
    rib_angles: list[float] = field(default_factory=list)  # radians from anterior
    rib_arcs: list[float] = field(default_factory=list)  # half-angle of each rib section
    limbs: list[tuple[float, float, float]] = field(default_factory=list)  # angle, dist, tilt
    rotation: float = 0.0  # radians, pose of the section in the image
    mirror: bool = False  # viewed from the head vs the feet
    valves_open: bool = False


def draw_anatomy(rng: np.random.Generator, ga: float, size_z: float) -> Anatomy:
    """Thorax size from the INTERGROWTH-21st AC standard × the fetus's size factor."""
    mu, sd = cohort.intergrowth_mean_sd("ac", np.array([ga]))
    ac = float(mu[0] + size_z * sd[0])
    radius = TC_OVER_AC * ac / (2 * np.pi)
    ribs = []
    for side in (-1, 1):  # ribs cut obliquely along both lateral chest walls
        for _ in range(int(rng.integers(2, 5))):
            ribs.append(side * rng.uniform(0.25 * np.pi, 0.85 * np.pi))
    arcs = [float(rng.uniform(*RIB_HALF_ARC)) for _ in ribs]
    # arms, cord and other fetal parts lying against the chest in the same section
    limbs = [
        (
            float(rng.uniform(0, 2 * np.pi)),
            float(rng.uniform(1.2, 1.45)),
            float(rng.uniform(0, np.pi)),
        )
        for _ in range(int(rng.integers(1, 4)))
    ]
    return Anatomy(
        radius=radius,
        limbs=limbs,
        ellipticity=float(rng.uniform(1.0, 1.12)),
        heart_axis=np.deg2rad(rng.normal(AXIS_MEAN_DEG, AXIS_SD_DEG)),
        ctar=float(np.clip(rng.normal(CTAR_MEAN, CTAR_SD), 0.22, 0.38)),
        heart_offset=(
            float(rng.normal(HEART_LEFT, HEART_LEFT_SD)),
            float(rng.uniform(*ANTERIOR_GAP)),
        ),
        rib_angles=ribs,
        rib_arcs=arcs,
        rotation=float(rng.uniform(0, 2 * np.pi)),
        mirror=bool(rng.integers(2)),
        valves_open=bool(rng.integers(2)),
    )


class _Raster:
    """A regular label grid in the fetal frame; shapes are painted inside their bounding
    box only, so cost scales with shape area, not with the image."""

    def __init__(self, half_width: float, res: float) -> None:
        n = int(np.ceil(2 * half_width / res)) + 1
        self.res, self.origin = res, -half_width
        self.axis = (self.origin + np.arange(n) * res).astype(np.float32)
        self.out = np.full((n, n), FLUID, np.uint8)  # rows: y, columns: x

    def box(
        self, cx: float, cy: float, extent: float
    ) -> tuple[slice, slice, np.ndarray, np.ndarray]:
        n = len(self.axis)
        i0, i1 = (
            np.clip(
                [(c - extent - self.origin) / self.res, (c + extent - self.origin) / self.res + 2],
                0,
                n,
            ).astype(int)
            for c in (cy, cx)
        )
        sy, sx = slice(i0[0], i0[1]), slice(i1[0], i1[1])
        return sy, sx, self.axis[sx][None, :], self.axis[sy][:, None]

    def ellipse(
        self, label: int, cx: float, cy: float, a: float, b: float, angle: float = 0.0
    ) -> None:
        sy, sx, x, y = self.box(cx, cy, max(a, b))
        self.out[sy, sx][_inside(x, y, cx, cy, a, b, angle)] = label


def _inside(
    x: np.ndarray, y: np.ndarray, cx: float, cy: float, a: float, b: float, angle: float
) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    dx, dy = x - cx, y - cy
    u, v = (dx * c + dy * s) / a, (-dx * s + dy * c) / b
    return u * u + v * v <= 1.0


#: Resolution of the anatomical label raster, mm (finer than the beam grid's tissue maps).
RASTER_MM = 0.35


def _anterior_reach(an: Anatomy, A: float, B: float) -> float:
    """How far an ellipse of semi-axes A (along the cardiac axis) and B reaches anteriorly."""
    return float(np.hypot(A * np.cos(an.heart_axis), B * np.sin(an.heart_axis)))


def heart_geometry(an: Anatomy) -> tuple[float, float, float, float, float]:
    """Heart centre (mm, fetal frame), long and short semi-axes (mm, epicardium) and the
    long axis's angle from +x.  Area = CTAR × thorax area; the centre is left of the
    midline and the outline (with its pericardium) lies against the anterior chest wall,
    behind a thin thymus / pericardial-fat layer, so the right ventricle is retrosternal.
    In the chambers' frame u runs from base (−) to apex (+) and v to the fetus's
    right-anterior (+: right heart) / left-posterior (−: left heart)."""
    R = an.radius
    a_t, b_t = R * np.sqrt(an.ellipticity), R / np.sqrt(an.ellipticity)
    B = np.sqrt(an.ctar * a_t * b_t / HEART_ASPECT)
    A = HEART_ASPECT * B
    peri = 0.035 * R
    hx = an.heart_offset[0] * R
    w = CHEST_WALL * R
    wall_y = (b_t - w) * np.sqrt(max(1 - (hx / (a_t - w)) ** 2, 0.0))
    hy = wall_y - _anterior_reach(an, A + peri, B + peri) - an.heart_offset[1] * R
    return float(hx), float(hy), float(A), float(B), float(np.pi / 2 - an.heart_axis)


def raster(an: Anatomy, res: float = RASTER_MM) -> tuple[np.ndarray, float, float]:
    """Tissue labels on a square fetal-frame grid, painted back to front.

    Returns ``(labels, origin_mm, res_mm)``; row = y (anterior up the index), column = x.
    """
    R = an.radius
    a_t, b_t = R * np.sqrt(an.ellipticity), R / np.sqrt(an.ellipticity)
    g = _Raster(1.7 * a_t, res)
    for angle, dist, tilt in an.limbs:
        lx, ly = dist * a_t * np.cos(angle), dist * b_t * np.sin(angle)
        g.ellipse(SOFT, lx, ly, 0.38 * R, 0.22 * R, tilt)
        g.ellipse(BONE, lx, ly, 0.06 * R, 0.05 * R, tilt)  # humerus/forearm section
    g.ellipse(SOFT, 0, 0, a_t, b_t)
    w = CHEST_WALL * R
    g.ellipse(LUNG, 0, 0, a_t - w, b_t - w)
    # posterior mediastinum (oesophagus, vessels) around the spine
    g.ellipse(SOFT, 0, -0.52 * R, 0.2 * R, 0.3 * R)

    # heart against the anterior chest wall, along the cardiac axis
    hx, hy, A, B, th = heart_geometry(an)
    peri = 0.035 * R
    reach = _anterior_reach(an, A + peri, B + peri)
    sy, sx, x, y = g.box(hx, hy + reach, 0.7 * A + an.heart_offset[1] * R)
    thymus = _inside(x, y, hx, hy + reach, 0.65 * A, 0.45 * B + an.heart_offset[1] * R, 0.0)
    g.out[sy, sx][thymus & (g.out[sy, sx] == LUNG)] = SOFT  # only inside the rib cage
    g.ellipse(PERICARDIUM, hx, hy, A + peri, B + peri, th)
    g.ellipse(MYO, hx, hy, A, B, th)
    _chambers(g, an, hx, hy, A, B, th)
    # descending aorta left-anterior of the spine, just behind the left atrium (painted
    # after the heart: a large heart abuts it, never hides it)
    g.ellipse(SOFT, AORTA_XY[0] * R, AORTA_XY[1] * R, 0.085 * R, 0.085 * R)  # its wall
    g.ellipse(BLOOD, AORTA_XY[0] * R, AORTA_XY[1] * R, 0.065 * R, 0.065 * R)

    # spine: vertebral body and the two posterior ossification centres; ribs on the wall
    g.ellipse(BONE, 0, -0.66 * R, 0.12 * R, 0.11 * R)
    for sgn in (-1, 1):
        g.ellipse(BONE, sgn * 0.1 * R, -0.86 * R, 0.1 * R, 0.04 * R, sgn * 0.5)
    for psi, half in zip(an.rib_angles, an.rib_arcs, strict=True):
        # a short arc of the rib cage, inside the chest wall
        mid = 1 - 0.5 * w / R
        cx, cy = mid * a_t * np.sin(psi), mid * b_t * np.cos(psi)
        sy, sx, x, y = g.box(cx, cy, half * a_t + 0.05 * R)
        ang = np.arctan2(x / a_t, y / b_t)
        rad = np.sqrt((x / a_t) ** 2 + (y / b_t) ** 2)
        d_ang = np.angle(np.exp(1j * (ang - psi)))
        g.out[sy, sx][(np.abs(d_ang) < half) & (np.abs(rad - mid) < 0.018)] = BONE
    return g.out, g.origin, g.res


def _chambers(g: _Raster, an: Anatomy, hx: float, hy: float, A: float, B: float, th: float) -> None:
    """Four chambers inside the myocardial ellipse: the LV reaches the apex, the RV is
    shorter, triangular and crossed by the moderator band, atria are smaller, the
    tricuspid valve sits apical to the mitral, the foramen-ovale flap opens into the LA."""
    sy, sx, x, y = g.box(hx, hy, A)
    heart = g.out[sy, sx]
    c, s = np.cos(th), np.sin(th)
    u = ((x - hx) * c + (y - hy) * s) / A
    v = (-(x - hx) * s + (y - hy) * c) / B
    t = MYO_WALL
    inner = (u / (1 - t * B / A)) ** 2 + (v / (1 - t)) ** 2 <= 1
    right = v > 0
    av = np.where(right, AV_PLANE + TRICUSPID_OFFSET, AV_PLANE)  # AV junction per side
    ventricle = u > av
    septum = np.where(ventricle, IVS, IAS) / 2
    cavity = inner & (np.abs(v) > septum) & (np.abs(u - av) > 0.03)
    # RV: narrows linearly to its apex, short of the LV apex
    rv_width = (1 - t) * np.clip((RV_APEX - u) / (RV_APEX - av), 0, 1)
    cavity &= ~(right & ventricle & (v > septum + rv_width))
    # atria: smaller than the ventricles (their outer third is atrial wall)
    cavity &= ~(~ventricle & ((u < -0.8) | (np.abs(v) > 0.72)))
    heart[cavity] = BLOOD
    heart[
        right
        & ventricle
        & (np.abs(u - MODERATOR_BAND) < 0.035)
        & inner
        & (v > septum)
        & (v < septum + rv_width)
    ] = MYO  # moderator band
    # foramen ovale: a gap in the mid interatrial septum with its flap in the LA
    fo = ~ventricle & (u > -0.55) & (u < -0.3) & inner
    heart[fo & (np.abs(v) <= IAS / 2)] = BLOOD
    heart[fo & (v < -IAS / 2) & (v > -IAS / 2 - 0.05) & (u > -0.5) & (u < -0.35)] = VALVE
    if an.valves_open:  # leaflets hinge at the annulus and point into the ventricles
        leaflet = (u > av) & (u < av + 0.25) & inner
        edge = 1 - t - 0.08
        near = (np.abs(np.abs(v) - edge) < 0.04) | (np.abs(np.abs(v) - septum - 0.05) < 0.04)
        heart[leaflet & near] = VALVE
    else:  # closed: a line across each AV junction
        heart[inner & (np.abs(u - av) < 0.03) & (np.abs(v) > septum)] = VALVE


def sample(grid: tuple[np.ndarray, float, float], x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Nearest-neighbour labels at fetal-frame points; outside the raster is fluid."""
    out, origin, res = grid
    n = out.shape[0]
    ix = np.rint((x - origin) / res).astype(np.int32)
    iy = np.rint((y - origin) / res).astype(np.int32)
    ok = (ix >= 0) & (ix < n) & (iy >= 0) & (iy < n)
    labels = np.full(x.shape, FLUID, np.uint8)
    labels[ok] = out[iy[ok], ix[ok]]
    return labels


def to_fetal(
    an: Anatomy, x: np.ndarray, y: np.ndarray, cx: float, cy: float
) -> tuple[np.ndarray, np.ndarray]:
    """Image-plane mm (x right, y down, thorax centre at cx, cy) → fetal frame."""
    c, s = np.cos(an.rotation), np.sin(an.rotation)
    dx, dy = x - cx, cy - y  # fetal +y points up in the unrotated pose
    xf, yf = dx * c + dy * s, -dx * s + dy * c
    return (-xf if an.mirror else xf), yf
