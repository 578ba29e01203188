"""Writing files so that an interruption never leaves a half-written file under its name."""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


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


def cached_by_file(load: Callable[[Path], T]) -> Callable[[str | Path], T]:
    """Wrap a loader of a (frozen, validated) data file so each version is parsed once.

    The cache key is the file's resolved path, modification time and size: an edited
    file is read again. A file that cannot be stat'ed goes straight to ``load``, which
    raises its own clear error.

    Notes
    -----
    Only for loaders that return immutable objects (the pydantic models of the norms,
    the exercise plan and the corrections are frozen): callers share one instance.
    """

    @functools.lru_cache(maxsize=32)
    def by_key(path: Path, mtime_ns: int, size: int) -> T:
        return load(path)

    @functools.wraps(load)
    def wrapper(path: str | Path) -> T:
        resolved = Path(path).resolve()
        try:
            st = resolved.stat()
        except OSError:
            return load(resolved)
        return by_key(resolved, st.st_mtime_ns, st.st_size)

    return wrapper
