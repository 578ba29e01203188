"""Writing files so that an interruption never leaves a half-written file under its name."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def atomic_write(path: Path, write: Callable[[Path], object]) -> Path:
    """Write a file through a temporary name in the same folder, then rename it into place.

    Parameters
    ----------
    path
        Final file name.
    write
        Called with the temporary path; must write the whole file there.

    Returns
    -------
    Path
        ``path``.

    Notes
    -----
    The rename is atomic on POSIX file systems: readers see the old file or the new one,
    never a partial one. The file gets the usual permissions (0666 less the umask), not
    the private ones of a temporary file.
    """
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        tmp.chmod(0o666 & ~_umask())
        tmp.replace(path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
