"""Image reading: grey conversion, bit depth, frames, crop boxes, unsupported/corrupt files."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from benchmark.data.io import InputError, check_crop, load_image, read_mask


def test_rgb_grey_screen_grab_becomes_one_channel(tmp_path):
    grey = np.random.default_rng(0).integers(0, 256, (20, 30), dtype=np.uint8)
    Image.fromarray(np.stack([grey] * 3, -1)).save(tmp_path / "a.png")
    image = load_image(tmp_path / "a.png")
    np.testing.assert_array_equal(image.pixels, grey)
    assert image.notes == ["RGB"] and image.spacing_mm is None


def test_16_bit_scaled_to_full_8_bit_range(tmp_path):
    Image.fromarray(np.array([[1000, 2000], [3000, 5000]], np.uint16)).save(tmp_path / "a.png")
    image = load_image(tmp_path / "a.png")
    assert image.pixels.dtype == np.uint8 and image.notes == ["16-bit"]
    assert image.pixels.min() == 0 and image.pixels.max() == 255
    assert image.pixels[0, 1] == round(1000 / 4000 * 255)


def test_crop_box_and_its_bounds(tmp_path):
    pixels = np.arange(12 * 10, dtype=np.uint8).reshape(12, 10)
    Image.fromarray(pixels).save(tmp_path / "a.png")
    image = load_image(tmp_path / "a.png", crop=(2, 3, 7, 9))
    np.testing.assert_array_equal(image.pixels, pixels[3:9, 2:7])
    assert image.full_shape == (12, 10)
    with pytest.raises(InputError, match="not inside the 10x12 image"):
        check_crop((0, 0, 11, 5), (12, 10), "a.png")


def test_unsupported_and_corrupt_files_are_one_line_errors(tmp_path):
    (tmp_path / "a.xyz").write_bytes(b"x")
    (tmp_path / "b.jpg").write_bytes(b"\xff\xd8 broken")
    with pytest.raises(InputError, match=r"a.xyz: unsupported file type '.xyz'"):
        load_image(tmp_path / "a.xyz")
    with pytest.raises(InputError) as info:
        load_image(tmp_path / "b.jpg")
    assert "b.jpg: unreadable or corrupt" in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(InputError, match="file not found"):
        load_image(tmp_path / "c.png")


def test_label_map_mask_and_size_check(tmp_path):
    labels = np.array([[0, 1, 2], [2, 2, 0]], np.uint8)
    Image.fromarray(labels).save(tmp_path / "m.png")
    np.testing.assert_array_equal(read_mask(tmp_path / "m.png", label=2), labels == 2)
    np.testing.assert_array_equal(read_mask(tmp_path / "m.png"), labels != 0)
    with pytest.raises(InputError, match="mask size 3x2 differs from image size 4x2"):
        read_mask(tmp_path / "m.png", shape=(2, 4))
