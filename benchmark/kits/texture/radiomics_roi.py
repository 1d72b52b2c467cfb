"""pyradiomics features of the whole traced lung of one image (2-D, ``force2D``).

The parameters live in ``radiomics_params.yaml`` beside this file (documented there); a
method may override the bin width and the resampling spacing.  pyradiomics logs a lot and
prints to stderr by default: :func:`quiet_radiomics` removes its console handler and lets
its warnings propagate to the run's log file only.  An image without a mask, with an empty
mask, or whose ROI pyradiomics refuses (too small, corrupt) raises :class:`FeatureError`
and is reported and skipped.
"""

from __future__ import annotations

import copy
import json
import logging
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from benchmark.kits.texture.extract import FeatureError

PARAMS_FILE = Path(__file__).with_name("radiomics_params.yaml")


@lru_cache(maxsize=8)
def _read_params(path: str) -> str:
    import yaml

    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    if not isinstance(data, dict) or "setting" not in data:
        raise ValueError(f"{path}: not a pyradiomics parameter file (no 'setting' section)")
    return json.dumps(data)  # immutable cache value; callers get a fresh copy


def load_params(
    path: str | Path | None = None, bin_width: float | None = None, spacing_mm: float | None = None
) -> dict[str, Any]:
    """The parameter file as a dict, with the method's overrides applied."""
    params = json.loads(_read_params(str(path or PARAMS_FILE)))
    setting = params["setting"]
    if bin_width is not None:
        setting["binWidth"] = float(bin_width)
    if spacing_mm is not None:
        setting["resampledPixelSpacing"] = [float(spacing_mm), float(spacing_mm), 0]
    return params


def quiet_radiomics() -> None:
    """No pyradiomics output on the console; its warnings go to the log file (root)."""
    import radiomics

    # pyradiomics needs its own stderr handler to stay first on its logger (it hands it to
    # pykwalify), so mute that handler instead of removing it
    radiomics.setVerbosity(logging.CRITICAL + 10)
    logger = logging.getLogger("radiomics")
    logger.setLevel(logging.WARNING)  # INFO chatter would flood the run's log file
    logger.propagate = True


@lru_cache(maxsize=4)
def _extractor(params_json: str):
    from radiomics.featureextractor import RadiomicsFeatureExtractor

    return RadiomicsFeatureExtractor(copy.deepcopy(json.loads(params_json)))


@dataclass(frozen=True)
class RadiomicsExtractor:
    """pyradiomics on the lung ROI of an image (see the module docstring)."""

    params_file: str | None = None
    bin_width: float | None = None
    spacing_mm: float | None = None

    kind = "radiomics"
    unit = "rois"

    def params(self) -> dict[str, Any]:
        return load_params(self.params_file, self.bin_width, self.spacing_mm)

    def cache_params(self) -> dict[str, Any]:
        import radiomics

        return {
            **asdict(self),
            "params": self.params(),
            "pyradiomics": radiomics.__version__,
            "v": 1,
        }

    def setup(self) -> None:
        quiet_radiomics()

    def __call__(self, record) -> tuple[list[str], np.ndarray, int]:
        import SimpleITK as sitk

        if record.mask is None:
            raise FeatureError("no traced lung mask")
        mask = np.asarray(record.mask, dtype=bool)
        if mask.shape != record.pixels.shape:
            raise FeatureError(f"mask shape {mask.shape} ≠ image shape {record.pixels.shape}")
        if not mask.any():
            raise FeatureError("empty lung mask")
        if not np.isfinite(record.spacing_mm) or record.spacing_mm <= 0:
            raise FeatureError(f"invalid pixel spacing {record.spacing_mm!r}")
        # a (1, H, W) volume: force2D works on the slice axis 0
        image = sitk.GetImageFromArray(record.pixels[None].astype(np.float32))
        image.SetSpacing((record.spacing_mm, record.spacing_mm, 1.0))
        roi = sitk.GetImageFromArray(mask[None].astype(np.uint8))
        roi.CopyInformation(image)
        extractor = _extractor(json.dumps(self.params(), sort_keys=True))
        try:
            result = extractor.execute(image, roi)
        except (ValueError, RuntimeError, IndexError) as exc:  # ROI refused by pyradiomics
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise FeatureError(f"pyradiomics: {first}") from exc
        names, values = [], []
        for key, value in result.items():
            if key.startswith("diagnostics_"):
                continue
            names.append(key.removeprefix("original_"))
            values.append(float(value))
        return names, np.asarray(values), 1
