"""The one exception type for bad input, with a stable code and a fix.

``InputError`` is what every reader, manifest parser and check raises for a problem in the
user's data: the message is one line naming the file or manifest row, ``code`` is a short
stable id (``"unreadable"``, ``"multi-frame"``, ``"mask-size"``, ...) that ``validate`` and
``predict`` decide on, and ``fix`` says what to do.  Callers never match message text.

It lives in its own module (not in ``benchmark.data.io``) so that readers, ``io`` and the
validators can all import it without importing each other.
"""

from __future__ import annotations

#: code → default fix, for errors raised without their own fix text
DEFAULT_FIXES: dict[str, str] = {
    "input": "see docs/byo-data.md",
    "unreadable": "re-export the file (PNG/DICOM) or remove the row",
    "file-missing": "fix the path (relative to the dataset folder) or add the file",
    "unsupported": "convert the file to PNG, TIFF, DICOM or NIfTI",
    "multi-frame": "set the manifest column 'frame' (0-based) to the frame to use",
    "frame-range": "give a frame index below the file's frame count",
    "mask-size": "export the mask from the same image at the same size",
    "crop": "fix the crop box (pixels, x1/y1 exclusive)",
    "annotation": "re-export the annotation (LabelMe/COCO/CVAT polygons or a PNG mask) "
    "from the image it belongs to",
    "annotation-outside": "draw the polygon on this image (its points lie outside it)",
    "row": "fix the manifest row (docs/byo-data.md)",
    "path-escape": "give paths relative to the dataset folder, inside it",
    "spacing-missing": "add pixel_spacing_mm (mm per pixel, e.g. from the on-screen depth "
    "scale: depth mm / image rows)",
    "manifest": "see docs/byo-data.md or run `python -m benchmark init-dataset DIR`",
    "split": "use fewer folds or a larger cohort",
}


class InputError(ValueError):
    """Bad input: a one-line message naming the file or manifest row, a code and a fix."""

    def __init__(self, message: str, code: str = "input", fix: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.fix = fix if fix is not None else DEFAULT_FIXES.get(code, DEFAULT_FIXES["input"])

    def prefixed(self, where: str) -> InputError:
        """The same error with ``where: `` in front (code and fix kept)."""
        return InputError(f"{where}: {self}", self.code, self.fix)


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message ('' if it has none): what a one-line error
    or a cell record shows; the traceback goes to the log."""
    text = str(exc)
    return text.splitlines()[0] if text else ""
