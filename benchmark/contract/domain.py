"""Facts of the domain that several layers state: written once here, imported everywhere.

The GA range is the one the manifest accepts, the nets normalise over and an estimate is
flagged outside of; the group edges are the paper's (≤30, 30-36, >36 weeks).
"""

from __future__ import annotations

#: gestational ages (weeks) the suite accepts: a 2nd/3rd-trimester scan
GA_RANGE: tuple[float, float] = (20.0, 44.0)
#: default right-closed GA group edges of the tables (the paper's three groups)
DEFAULT_GROUP_EDGES: tuple[float, ...] = (30.0, 36.0)

#: the column a method estimates (patients table; an image row may override it)
GA_COLUMN = "ga_weeks"
GA_COLUMNS: tuple[str, ...] = (GA_COLUMN,)
#: outcomes after the scan: delivery GA is always ≥ the scan GA, so it leaks GA near term
OUTCOME_COLUMNS: tuple[str, ...] = ("delivery_ga_weeks", "apgar", "outcome")
#: simulation truth (e.g. ``truth_maturity``) is hidden unless a method sets ``reads_truth``
TRUTH_PREFIX = "truth_"
#: the lung-mask columns of an image row (one mask, or left and right)
MASK_COLUMNS: tuple[str, ...] = ("lung_mask_path", "left_lung_mask_path", "right_lung_mask_path")
#: which label value(s) of a label-map mask are lung (``3`` or ``3,4``; RGB ``255:0:0``)
MASK_LABEL_COLUMN = "lung_mask_label"
#: What one image row needs to decode its image and masks, in manifest order (the loader,
#: the manifest reader and the template all start from this one tuple).
IMAGE_FILE_COLUMNS: tuple[str, ...] = (
    "image_path",
    "pixel_spacing_mm",
    "frame",
    "crop_x0",
    "crop_y0",
    "crop_x1",
    "crop_y1",
    *MASK_COLUMNS,
    MASK_LABEL_COLUMN,
)


def in_ga_range(weeks: float) -> bool:
    """Whether ``weeks`` lies in :data:`GA_RANGE` (bounds included)."""
    return GA_RANGE[0] <= weeks <= GA_RANGE[1]
