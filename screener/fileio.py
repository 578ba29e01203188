"""Writing files so that an interruption never leaves a half-written file under its name."""

from __future__ import annotations

import errno
import functools
import os
import shutil
import tempfile
import tomllib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from screener.errors import ConfigError, OutputError

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


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


#: What a failed write means, in plain words, by ``errno``.
_WRITE_PROBLEMS: dict[int, str] = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EISDIR: "a folder is in the way of an output file",
    errno.EEXIST: "a file is in the way",
    errno.ENAMETOOLONG: "the path is too long",
}


def output_error(exc: OSError, path: str | Path, doing: str) -> OutputError:
    """A one-line :class:`OutputError` for an ``OSError`` met while writing results.

    Parameters
    ----------
    exc
        The error.
    path
        The output folder (or file) concerned.
    doing
        What was being done, e.g. ``"cannot write the results"``.
    """
    problem = _WRITE_PROBLEMS.get(exc.errno or 0) or exc.strerror or type(exc).__name__
    remedy = (
        "Free some space or choose another folder with -o; nothing was written."
        if exc.errno in (errno.ENOSPC, errno.EDQUOT)
        else "Choose another output folder (-o) you can write to; nothing was written."
    )
    return OutputError(f"{doing}: {problem}", path=path, remedy=remedy)


def check_output_dir(
    outdir: str | Path, names: Iterable[str] = (), folders: Iterable[str] = ()
) -> Path:
    """Make sure results can be written to ``outdir``, before any work is done.

    Writes and removes a small probe file in the folder, or in its nearest existing
    parent when it does not exist yet (nothing is left behind: the folder itself is made
    only when the results are written).

    Parameters
    ----------
    outdir
        The output folder.
    names
        File names that will be written there: none of them may be a folder.
    folders
        Folder names that will be written there (an earlier run's are replaced): none of
        them may be a file.

    Returns
    -------
    Path
        ``outdir``.

    Raises
    ------
    OutputError
        ``outdir`` is a file, cannot be created, or is not writable; or an output file's
        name is taken by a folder, or an output folder's by a file.
    """
    out = Path(outdir)
    if out.exists() and not out.is_dir():
        raise OutputError(
            "the output folder is a file",
            path=out,
            remedy="Choose a folder with -o (an existing folder or a new name).",
        )
    existing = out
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(
            f"{existing} is a file, so the output folder cannot be made",
            path=out,
            remedy="Choose another output folder with -o.",
        )
    try:
        fd, probe = tempfile.mkstemp(dir=existing, prefix=".screener-write-check.")
        os.close(fd)
        Path(probe).unlink()
    except OSError as exc:
        raise output_error(exc, out, "cannot write to the output folder") from None
    for name in names:
        if (out / name).is_dir():
            raise OutputError(
                f"{name} there is a folder, where a result file must go",
                path=out,
                remedy="Move that folder away or choose another output folder with -o.",
            )
    for name in folders:
        if (out / name).exists() and not (out / name).is_dir():
            raise OutputError(
                f"{name} there is a file, where a result folder must go",
                path=out,
                remedy="Move that file away or choose another output folder with -o.",
            )
    return out


@contextmanager
def staged_output(outdir: str | Path, stale: Iterable[str] = ()) -> Iterator[Path]:
    """Write a set of files into a temporary folder and move them into ``outdir`` together.

    The temporary folder is made beside ``outdir`` (same file system, so the final moves
    are renames that need no space). Only when the ``with`` block ends without an error
    are its files moved into place; otherwise the temporary folder is removed and
    ``outdir`` is as it was.

    Parameters
    ----------
    outdir
        Final folder (created if missing).
    stale
        Names of files or folders an earlier run may have left in ``outdir``; those not
        written this time are removed when the new set is published, so the folder never
        mixes runs.

    Yields
    ------
    Path
        The temporary folder to write into.

    Raises
    ------
    OutputError
        Writing or moving failed (disk full, read-only, permission denied...).
    """
    out = Path(outdir)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp"))
    except OSError as exc:
        raise output_error(exc, out, "cannot write the results") from None
    try:
        try:
            yield staging
        except OSError as exc:
            raise output_error(exc, out, "cannot write the results") from None
        try:
            _publish(staging, out, stale)
        except OSError as exc:
            raise output_error(exc, out, "cannot move the results into place") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _publish(staging: Path, out: Path, stale: Iterable[str]) -> None:
    """Move the staged files into ``out``: one rename if ``out`` is new, else file by file."""
    staging.chmod(0o777 & ~_umask())
    if not out.exists():
        staging.rename(out)
        return
    new = {p.name for p in staging.iterdir()}
    for item in sorted(staging.iterdir()):
        target = out / item.name
        if item.is_dir() and target.is_dir():
            shutil.rmtree(target)
        item.replace(target)
    for name in stale:
        if name not in new and (out / name).is_file():
            (out / name).unlink()
        elif name not in new and (out / name).is_dir():
            shutil.rmtree(out / name)


def read_toml_model(path: Path, model: type[M], what: str) -> M:
    """Read a TOML data file and validate it with a pydantic model.

    Parameters
    ----------
    path
        The file.
    model
        The model its contents must match.
    what
        What the file is, for the error ("measurement-error file").

    Raises
    ------
    ConfigError
        The file is missing, not TOML, or does not match the model: the message names the
        file and the first offending field.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: {what} not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{path}: {where}: {first['msg']}") from exc
