"""Writing files safely: atomic replace, the umask a plain ``open()`` would honour.

Low in the layers on purpose: the run store, the report and the method kits all write
files, and none of them should import another's module to do it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


def current_umask() -> int:
    """The process umask, read without changing it where the OS allows (Linux
    /proc/self/status); elsewhere set-and-restore, which is what Python offers."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def honour_umask(path: str | Path, directory: bool = False) -> None:
    """Give a file made by :mod:`tempfile` (always 0600, dirs 0700) the mode a plain
    ``open()``/``mkdir()`` would have had, so a colleague can read a shared run folder."""
    os.chmod(path, (0o777 if directory else 0o666) & ~current_umask())


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to a temporary sibling, fsync, then rename: readers never see half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        honour_umask(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """A table as CSV, atomically, with ``\\n`` line ends on every platform."""
    atomic_write_text(path, frame.to_csv(index=False, lineterminator="\n"))
