"""The reader registry: one file per format, codes instead of message text, no cycle."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmark.contract.errors import InputError
from benchmark.data.ingest.readers import (
    ImageReader,
    RawImage,
    list_readers,
    reader_for,
    register_reader,
)
from benchmark.data.io import header_spacing, load_image

REPO = Path(__file__).resolve().parents[1]


def test_every_format_has_one_reader():
    readers = list_readers()
    assert {".png", ".tif", ".dcm", ".nii.gz"} <= set(readers)
    assert type(readers[".dcm"]).__name__ == "DicomReader"
    assert readers[".dcm"].has_identifying_fields and not readers[".png"].has_identifying_fields


def test_a_new_format_is_one_class(tmp_path, monkeypatch):
    from benchmark.data.ingest import readers as registry

    monkeypatch.setattr(registry, "_READERS", dict(registry.list_readers()))

    @register_reader
    class RawBytes(ImageReader):
        suffixes = (".raw8",)
        has_header_spacing = True

        def read(self, path):
            return RawImage(np.frombuffer(path.read_bytes(), np.uint8).reshape(1, 4, 4))

        def header_spacing(self, path):
            return 0.3, "raw8 convention"

    path = tmp_path / "a.raw8"
    path.write_bytes(bytes(range(16)))
    assert load_image(path).pixels.shape == (4, 4)
    assert header_spacing(path) == (0.3, "raw8 convention")


@pytest.mark.parametrize(
    "content, code",
    [
        (b"", "unreadable"),
        (b"%PDF-1.7 ...", "unreadable"),
        (b"hello, this is text\n", "unreadable"),
    ],
)
def test_bad_bytes_give_a_code(tmp_path, content, code):
    path = tmp_path / "scan.png"
    path.write_bytes(content)
    with pytest.raises(InputError) as info:
        load_image(path)
    assert info.value.code == code and "scan.png" in str(info.value)
    assert "\n" not in str(info.value)


def test_unsupported_suffix_code(tmp_path):
    with pytest.raises(InputError) as info:
        reader_for(tmp_path / "scan.pdf")
    assert info.value.code == "unsupported" and "'.pdf'" in str(info.value)


@pytest.mark.parametrize(
    "first",
    [
        "benchmark.data.io",
        "benchmark.data.ingest.readers.dicom",
        "benchmark.data.ingest.records",
        "benchmark.data.validate",
    ],
)
def test_no_import_cycle(first):
    out = subprocess.run(
        [sys.executable, "-c", f"import {first}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
