"""Routes by which GA reaches the pixels, and the named scenarios built from them.

A simulation study varies its data-generating mechanism on purpose (Morris, White &
Crowther 2019).  In a real scan GA reaches a four-chamber frame by four routes:

- ``microstructure``: maturity → lung scatterer density and structure (speckle statistics);
- ``echogenicity``: maturity → lung echogenicity relative to the neighbouring tissue;
- ``size``: GA → anatomy size (the thorax grows from ≈ 60 to ≈ 100 mm across);
- ``zoom``: GA → pixel spacing (sonographers frame the thorax, so mm/px tracks its size).

A route that is *off* does not freeze its part of the image: it draws it from a latent of
the same design that is independent of the patient's GA (the null's construction), so the
images vary as much as in the default world and only the link to GA is cut.  The two
texture routes also take a strength: a multiplier of their maturity span (1 = the
literature-based magnitudes of ``_synth_generate``).  See ``docs/synthetic.md``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Routes:
    """Which routes carry GA, and how strongly the texture routes do (0 = off)."""

    microstructure: float = 1.0
    echogenicity: float = 1.0
    size: bool = True
    zoom: bool = True

    def __post_init__(self) -> None:
        for name in ("microstructure", "echogenicity"):
            value = getattr(self, name)
            if not 0.0 <= value <= 4.0:
                raise ValueError(f"route strength {name}={value} must lie in [0, 4]")

    @property
    def any(self) -> bool:
        return bool(self.microstructure or self.echogenicity or self.size or self.zoom)

    def as_dict(self) -> dict:
        return asdict(self)


#: Strength of both texture routes in the positive control ``synthetic-texture``.  This is
#: a deliberate positive-control setting, not a literature magnitude: with size and zoom
#: cut from GA, the literature-strength texture effect (×1) is partly hidden by per-exam
#: gain, dynamic range, grey map, frequency and speckle reduction; ×2.5 doubles-and-a-half
#: the maturity span of scatterer density, structure scale and lung echogenicity so that a
#: texture method has a signal that is known to be there (measured: docs/synthetic.md).
POSITIVE_CONTROL_TEXTURE = 2.5

SCENARIOS: dict[str, Routes] = {
    # every route at its literature magnitude: the default world
    "synthetic": Routes(),
    # positive control for patch methods: GA reaches the pixels only through lung texture
    "synthetic-texture": Routes(
        microstructure=POSITIVE_CONTROL_TEXTURE,
        echogenicity=POSITIVE_CONTROL_TEXTURE,
        size=False,
        zoom=False,
    ),
    # only anatomy size and zoom carry GA; lung texture follows a GA-independent maturity
    "synthetic-anatomy": Routes(microstructure=0.0, echogenicity=0.0, size=True, zoom=True),
    # nothing does: the leak detector
    "synthetic-null": Routes(microstructure=0.0, echogenicity=0.0, size=False, zoom=False),
}

SUMMARIES = {
    "synthetic": "simulated four-chamber B-mode cohort with known lung maturity; GA reaches "
    "the pixels through texture, echogenicity, size and zoom (default, 316 "
    "patients)",
    "synthetic-texture": "positive control: GA reaches the pixels only through lung texture "
    "(size and zoom independent of GA)",
    "synthetic-anatomy": "only anatomy size and zoom carry GA; lung texture does not",
    "synthetic-null": "as synthetic, but the images carry no GA information (leak detector)",
}
