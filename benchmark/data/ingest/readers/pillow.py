"""Ordinary raster images read with Pillow (multi-page TIFF/GIF become frames)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from benchmark.data.ingest.readers import register_reader
from benchmark.data.ingest.readers.base import ImageReader, RawImage


@register_reader
class PillowReader(ImageReader):
    suffixes = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif")

    def read(self, path: Path) -> RawImage:
        from PIL import Image, ImageSequence

        with Image.open(path) as im:
            frames = [np.asarray(frame.copy()) for frame in ImageSequence.Iterator(im)]
            colour = im.mode in ("RGB", "RGBA", "P", "CMYK", "YCbCr")
            if im.mode == "P":  # palette images: expand so "grey" is judged on real colours
                frames = [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(im)]
        return RawImage(np.stack(frames), colour=colour)

    def write_sample(
        self, path: Path, pixels: np.ndarray, spacing_mm: float, identifying: Mapping[str, str]
    ) -> None:
        from PIL import Image, PngImagePlugin

        text = PngImagePlugin.PngInfo()  # PNG text chunks: where an export tool puts names
        for key, value in identifying.items():
            text.add_text(key, value)
        Image.fromarray(np.asarray(pixels, np.uint8)).save(path, format="PNG", pnginfo=text)
