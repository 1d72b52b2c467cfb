"""The image reader check suite: one named check per contract of
:class:`~benchmark.data.ingest.readers.base.ImageReader`.

- ``declarations``: lower-case ``.suffixes``, each served by this class in the registry;
- ``round_trip``: a sample the reader writes (``write_sample``) reads back through the
  engine's :func:`~benchmark.data.io.load_image` with the same pixels, and with the same
  spacing when the format has a header spacing;
- ``spacing_without_decoding``: ``header_spacing`` reads the spacing from a file whose
  pixel data was cut off (so it cannot have decoded them), while reading that file's
  pixels is refused; a format without a header spacing gives none;
- ``no_identifying_field``: identifying values written into the sample reach nothing the
  reader returns; a reader declaring ``has_identifying_fields`` finds them (so
  ``validate`` can refuse a file that carries them);
- ``failures_are_input_errors``: empty, text, random and truncated files are refused with a
  one-line :class:`~benchmark.contract.errors.InputError` naming the file, with a known code.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import numpy as np

from benchmark.contract.errors import DEFAULT_FIXES, InputError
from benchmark.data.ingest.readers import ImageReader, list_readers
from benchmark.testing._core import CheckPairs, make_checks

#: values a scanner would write into a file; none may come back from a reader
IDENTIFYING = {
    "PatientName": "Checkperson^Ada",
    "PatientID": "FLB-CHECK-4711",
    "PatientBirthDate": "19800229",
}
SPACING_MM = 0.3125


def sample_pixels(shape: tuple[int, int] = (64, 80), seed: int = 0) -> np.ndarray:
    """An 8-bit gradient with noise: every grey level, no symmetry a transpose could hide."""
    rows, cols = np.mgrid[: shape[0], : shape[1]]
    noise = np.random.default_rng(seed).integers(0, 32, shape)
    return ((rows * 3 + cols + noise) % 256).astype(np.uint8)


def _strings(value: object, depth: int = 0) -> list[str]:
    """Every string inside what a reader returned (dataclass fields, containers)."""
    if depth > 4:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, bytes):
        return [value.decode("latin-1")]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [
            s
            for f in dataclasses.fields(value)
            for s in _strings(getattr(value, f.name), depth + 1)
        ]
    if isinstance(value, dict):
        return [
            s for k, v in value.items() for s in (*_strings(k, depth + 1), *_strings(v, depth + 1))
        ]
    if isinstance(value, list | tuple | set):
        return [s for v in value for s in _strings(v, depth + 1)]
    return []


def reader_checks(reader: type[ImageReader] | ImageReader) -> CheckPairs:
    """``(check name, Check)`` for every contract of one reader class."""
    from benchmark.data.io import header_spacing, load_image, read_raw

    cls = reader if isinstance(reader, type) else type(reader)
    instance = cls()
    suffix = cls.suffixes[0] if cls.suffixes else ".none"

    def write(folder: Path, shape: tuple[int, int] = (64, 80)) -> tuple[Path, np.ndarray]:
        path = folder / f"sample{suffix}"
        pixels = sample_pixels(shape)
        instance.write_sample(path, pixels, SPACING_MM, IDENTIFYING)
        return path, pixels

    def declarations() -> None:
        assert cls.suffixes, "declares no suffixes"
        bad = [s for s in cls.suffixes if not s.startswith(".") or s != s.lower()]
        assert not bad, f"suffixes {bad} are not lower-case '.ext'"
        registered = list_readers()
        others = {
            s: type(registered[s]).__qualname__
            for s in cls.suffixes
            if type(registered.get(s)) is not cls
        }
        assert not others, f"suffixes not served by {cls.__qualname__}: {others}"

    def round_trip() -> None:
        with tempfile.TemporaryDirectory(prefix="flb-reader-") as tmp:
            path, pixels = write(Path(tmp))
            loaded = load_image(path)
            np.testing.assert_array_equal(loaded.pixels, pixels, err_msg="pixels changed")
            if cls.has_header_spacing:
                assert loaded.spacing_mm is not None and np.isclose(
                    loaded.spacing_mm, SPACING_MM
                ), f"spacing {loaded.spacing_mm} read back, {SPACING_MM} written"

    def spacing_without_decoding() -> None:
        with tempfile.TemporaryDirectory(prefix="flb-reader-") as tmp:
            path, _ = write(Path(tmp), shape=(256, 256))
            if not cls.has_header_spacing:
                assert header_spacing(path) == (None, ""), "spacing from a format without one"
                return
            data = path.read_bytes()
            path.write_bytes(data[: len(data) - 256 * 128])  # half the pixels cut off
            found = instance.header_spacing(path)
            assert found is not None and np.isclose(found[0], SPACING_MM), (
                f"header_spacing gave {found} once the pixel data was cut off"
            )
            try:
                read_raw(path)
            except InputError:
                return
            raise AssertionError("a file missing half its pixel data was read without error")

    def no_identifying_field() -> None:
        with tempfile.TemporaryDirectory(prefix="flb-reader-") as tmp:
            path, _ = write(Path(tmp))
            returned = _strings(instance.read(path)) + _strings(load_image(path))
            leaked = sorted(
                k for k, v in IDENTIFYING.items() if any(v in text for text in returned)
            )
            assert not leaked, f"the reader returns identifying field(s) {leaked}"
            if cls.has_identifying_fields:
                found = instance.identifying_fields(path, IDENTIFYING)
                assert set(found) == set(IDENTIFYING), (
                    f"identifying_fields found {sorted(found)} of {sorted(IDENTIFYING)}"
                )

    def failures_are_input_errors() -> None:
        with tempfile.TemporaryDirectory(prefix="flb-reader-") as tmp:
            sample, _ = write(Path(tmp), shape=(256, 256))
            data = sample.read_bytes()
            bad = {
                "empty": b"",
                "text": b"patient list, not an image\n",
                "random": np.random.default_rng(1).bytes(999),
                "truncated": data[: len(data) // 3],
            }
            for what, content in bad.items():
                path = Path(tmp) / f"{what}{suffix}"
                path.write_bytes(content)
                try:
                    read_raw(path)
                except InputError as exc:
                    message = str(exc)
                    assert exc.code in DEFAULT_FIXES, f"{what} file: unknown code {exc.code!r}"
                    assert "\n" not in message and path.name in message, (
                        f"{what} file: message {message!r} is not one line naming the file"
                    )
                    continue
                raise AssertionError(f"a {what} {suffix} file was read without error")

    checks = [
        ("declarations", declarations),
        ("round_trip", round_trip),
        ("spacing_without_decoding", spacing_without_decoding),
        ("no_identifying_field", no_identifying_field),
        ("failures_are_input_errors", failures_are_input_errors),
    ]
    yield from make_checks(cls.__qualname__, checks, cls.expected_failed_checks)


def registered_readers() -> list[type[ImageReader]]:
    """Every registered reader class, once each (a class serves several suffixes)."""
    return sorted({type(r) for r in list_readers().values()}, key=lambda c: c.__qualname__)
