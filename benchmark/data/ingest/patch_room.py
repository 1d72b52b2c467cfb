"""Whether a traced lung holds one patch of each patch method's default size.

A method that samples square lung patches declares the side it needs (``min_lung_mm`` on
its class, from its default parameters: ``patch_mm``, or the nets' default profile); an
image whose lung mask holds no such square gets that method's fallback estimate, so
``validate`` warns before the run, naming the methods.  The test is the patch samplers':
a whole ``side x side`` square inside the mask (in pixels at the image's spacing).
"""

from __future__ import annotations

import functools

import numpy as np

from benchmark.data.ingest.records import ImageSpec, RowData
from benchmark.data.problems import WARNING, Report


@functools.cache
def patch_needs() -> tuple[tuple[str, float], ...]:
    """(method, side in mm of the lung square one default patch needs) for every method
    that declares ``min_lung_mm`` (a capability declared on the class, never probed)."""
    from benchmark.contract.registry import get_method_class, list_methods

    needs = []
    for name in list_methods():
        try:
            need = get_method_class(name).min_lung_mm
        except Exception:  # a broken plugin is reported by `list`, not by validate
            continue
        if need:
            needs.append((name, float(need)))
    return tuple(needs)


def _integral(mask: np.ndarray) -> np.ndarray:
    """The summed-area table of ``mask`` cropped to its bounding box (a square inside the
    mask lies inside the box; the lung is a small part of the frame), built once per image
    and shared by every patch size."""
    rows, cols = np.nonzero(mask)
    box = mask[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    return np.pad(box.astype(np.int64).cumsum(0).cumsum(1), ((1, 0), (1, 0)))


def _holds_square(total: np.ndarray, side_px: float) -> bool:
    """Whether some ``side_px`` x ``side_px`` square lies entirely inside the mask whose
    summed-area table is ``total``."""
    k = max(1, int(np.ceil(side_px - 1e-9)))
    if k > min(total.shape) - 1:
        return False
    window = total[k:, k:] - total[:-k, k:] - total[k:, :-k] + total[:-k, :-k]
    return bool((window == k * k).any())


def _names(chosen: list[str]) -> str:
    """Method names, a family whose every registered member is listed as ``family-*``."""
    every = [name for name, _ in patch_needs()]
    out: list[str] = []
    for name in chosen:
        family = name.split("-")[0]
        members = [n for n in every if n.split("-")[0] == family]
        if set(members) <= set(chosen) and len(members) > 1:
            if f"{family}-*" not in out:
                out.append(f"{family}-*")
        else:
            out.append(name)
    return ", ".join(out)


def check_patch_room(spec: ImageSpec, data: RowData, paths: str, report: Report) -> None:
    """A traced lung too small for one patch of a method's default parameters: that method
    gives the image a fallback estimate (a warning naming the methods)."""
    if data.mask is None or not data.mask.any() or not data.spacing_mm:
        return
    total = _integral(data.mask)
    fits = {mm: _holds_square(total, mm / data.spacing_mm) for _, mm in patch_needs()}
    short: dict[float, list[str]] = {}
    for name, mm in patch_needs():
        if not fits[mm]:
            short.setdefault(mm, []).append(name)
    if not short:
        return
    rows, cols = np.nonzero(data.mask)
    across = data.spacing_mm * max(np.ptp(rows) + 1, np.ptp(cols) + 1)
    needs = "; ".join(f"{_names(names)} need {mm:g} mm" for mm, names in sorted(short.items()))
    report.add(
        WARNING,
        "mask-small",
        spec.where,
        f"lung mask {paths} is {across:.1f} mm across and holds no whole patch of the "
        f"methods' default size ({needs}): they give this image a fallback estimate",
        "trace the whole lung, or run those methods with a smaller patch_mm",
    )
