"""Files in the data folder: uploads checked by content, result folders, exports, clean-up.

No path here is ever built from user input: uploads get a random name, results a name
made of the job's id and attempt; the user's file name is kept only as a label.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from screener.web.settings import WebSettings

log = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 20
SNIFF_BYTES = 64
#: QuickTime atoms that may open a .mov written without an ``ftyp`` box.
_QUICKTIME_ATOMS = (b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot")
_STORED_NAME = re.compile(r"^[0-9a-f]{32}\.(mp4|mov|webm|mkv|avi)$")
_RESULT_NAME = re.compile(r"^job\d+-a\d+$")


class UploadError(ValueError):
    """An upload that cannot be accepted; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class StoredUpload:
    """A video saved in the uploads folder."""

    stored_name: str
    container: str
    size_bytes: int
    sha256: str


def sniff_container(head: bytes) -> str | None:
    """Recognise a video container from the first bytes of a file.

    Parameters
    ----------
    head
        At least the first 16 bytes (64 recommended).

    Returns
    -------
    str or None
        ``mp4``, ``mov``, ``webm``, ``mkv`` or ``avi``; None when the bytes are none of them.

    Notes
    -----
    ISO base media (mp4, mov, 3gp) has an ``ftyp`` box at offset 4 (brand ``qt`` = mov);
    old QuickTime files may start with another atom. Matroska and WebM start with the
    EBML magic ``1A 45 DF A3`` (DocType ``webm`` = WebM). AVI is a RIFF file of type
    ``AVI``. Whether the stream inside decodes is checked later by the analysis.
    """
    if len(head) < 12:
        return None
    box = head[4:8]
    if box == b"ftyp":
        return "mov" if head[8:12] == b"qt  " else "mp4"
    if box in _QUICKTIME_ATOMS and int.from_bytes(head[0:4], "big") >= 8:
        return "mov"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "webm" if b"webm" in head[:SNIFF_BYTES] else "mkv"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    return None


def save_upload(source: BinaryIO, settings: WebSettings) -> StoredUpload:
    """Copy an uploaded stream into the uploads folder under a random name.

    Parameters
    ----------
    source
        The uploaded file, read from its current position.
    settings
        Folders and the size limit.

    Returns
    -------
    StoredUpload

    Raises
    ------
    UploadError
        The file is empty (400), larger than the limit (413) or not a video container
        this app accepts (415).

    Notes
    -----
    The bytes go to a temporary file in the data folder first and are renamed into the
    uploads folder only when complete and accepted.
    """
    settings.ensure_dirs()
    limit = settings.max_upload_bytes
    tmp = settings.tmp_dir / f"upload-{uuid.uuid4().hex}.part"
    digest = hashlib.sha256()
    size = 0
    head = b""
    try:
        with tmp.open("xb") as out:
            while chunk := source.read(CHUNK_BYTES):
                if len(head) < SNIFF_BYTES:
                    head += chunk[: SNIFF_BYTES - len(head)]
                size += len(chunk)
                if size > limit:
                    raise UploadError(
                        f"the file is larger than the upload limit of "
                        f"{settings.max_upload_mb:g} MB; trim or compress the recording",
                        status=413,
                    )
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise UploadError("the file is empty; choose the recording again")
        container = sniff_container(head)
        if container is None:
            raise UploadError(
                "the file is not a video this app accepts (its content is not MP4, MOV, "
                "WebM, MKV or AVI, whatever its name); export the recording as MP4",
                status=415,
            )
        name = f"{uuid.uuid4().hex}.{container}"
        tmp.replace(settings.uploads_dir / name)
    finally:
        tmp.unlink(missing_ok=True)
    log.info("stored upload %s (%d bytes)", name, size)
    return StoredUpload(name, container, size, digest.hexdigest())


def upload_path(settings: WebSettings, stored_name: str) -> Path:
    """Path of a stored upload (the name must be one this module generated)."""
    if not _STORED_NAME.match(stored_name):
        raise ValueError(f"not a stored upload name: {stored_name!r}")
    return settings.uploads_dir / stored_name


def result_path(settings: WebSettings, result_dir: str) -> Path:
    """Path of a result folder (the name must be one :func:`result_name` made)."""
    if not _RESULT_NAME.match(result_dir):
        raise ValueError(f"not a result folder name: {result_dir!r}")
    return settings.results_dir / result_dir


def result_name(job_id: int, attempt: int) -> str:
    """Name of the result folder of one attempt of a job."""
    return f"job{job_id}-a{attempt}"


def remove_files(settings: WebSettings, uploads: Iterable[str], results: Iterable[str]) -> None:
    """Delete stored uploads and result folders (missing ones are ignored)."""
    for name in uploads:
        with contextlib.suppress(ValueError):
            upload_path(settings, name).unlink(missing_ok=True)
    for name in results:
        with contextlib.suppress(ValueError):
            shutil.rmtree(result_path(settings, name), ignore_errors=True)


def sweep_orphans(
    settings: WebSettings,
    known_uploads: set[str],
    known_results: set[str],
    min_age_s: float = 3600.0,
) -> int:
    """Delete files no database row refers to (left by a process killed mid-way).

    Parameters
    ----------
    settings
        Folders.
    known_uploads, known_results
        Names the database refers to.
    min_age_s
        Only files older than this are removed (a running upload or job may be writing).

    Returns
    -------
    int
        How many files or folders were removed.
    """
    now = time.time()
    removed = 0
    candidates: list[Path] = []
    if settings.uploads_dir.is_dir():
        candidates += [p for p in settings.uploads_dir.iterdir() if p.name not in known_uploads]
    if settings.results_dir.is_dir():
        candidates += [p for p in settings.results_dir.iterdir() if p.name not in known_results]
    if settings.tmp_dir.is_dir():
        candidates += list(settings.tmp_dir.iterdir())
    for path in candidates:
        try:
            if now - path.stat().st_mtime < min_age_s:
                continue
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
            removed += 1
        except OSError as exc:
            log.warning("could not remove orphan %s: %s", path.name, exc)
    if removed:
        log.info("removed %d orphaned files from the data folder", removed)
    return removed


def publish_result_dir(staging: Path, final: Path) -> None:
    """Move a finished result folder into place in one rename.

    Raises
    ------
    OSError
        The rename failed (the staging folder is left for the caller to remove).
    """
    if final.exists():
        shutil.rmtree(final)
    os.replace(staging, final)
