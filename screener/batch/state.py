"""What makes a batch resumable: content and settings hashes, per-video markers, atomic folders.

Layout of a batch's output folder::

    OUTDIR/videos/<video_id>/          one finished result (the spec's files, keypoints.npz,
                                        exports) and done.json, written last
    OUTDIR/videos/.tmp-<video_id>-*/   a result being written (renamed into place when done)
    OUTDIR/failures/<video_id>.json    why the video failed, with the hashes it failed with
    OUTDIR/.running/<video_id>.json    a video a worker has started in the current run
                                        (removed when it ends; left if the worker died)

A video is skipped on a re-run when its ``done.json`` (or its failure record, for failures
that depend only on the video and settings) has the same video content hash and settings
hash as now.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import uuid
from pathlib import Path
from typing import Any

from screener.config import AnalysisConfig
from screener.fileio import atomic_write

log = logging.getLogger(__name__)

DONE_MARKER = "done.json"
KEYPOINTS_FILE = "keypoints.npz"
VIDEOS_DIR = "videos"
FAILURES_DIR = "failures"
RUNNING_DIR = ".running"
_CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes (streamed)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def pose_sha256(config: AnalysisConfig) -> str:
    """Hash of the pose settings, model and MediaPipe version (as the keypoint cache's).

    Keypoints estimated with the same hash are interchangeable.
    """
    from screener.pose import pose_settings_sha256

    return pose_settings_sha256(config.pose)


def settings_sha256(
    config_sha256: str, analysis_args: dict[str, Any], outputs: dict[str, Any], version: str
) -> str:
    """Hash of everything besides the video that decides a video's result folder.

    Parameters
    ----------
    config_sha256
        :meth:`AnalysisConfig.sha256` (cut-offs, thresholds file content, ...).
    analysis_args
        The video's task, side, view, pain, first_line_done, sex.
    outputs
        Which optional files are written (report, exports).
    version
        The screener version: a new version recomputes results.
    """
    text = json.dumps(
        {
            "config": config_sha256,
            "args": analysis_args,
            "outputs": outputs,
            "screener": version,
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def video_dir(outdir: Path, video_id: str) -> Path:
    """Result folder of one video."""
    return outdir / VIDEOS_DIR / video_id


def failure_file(outdir: Path, video_id: str) -> Path:
    """Failure record of one video."""
    return outdir / FAILURES_DIR / f"{video_id}.json"


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON object from a file, or None if it is missing or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write a JSON object to a temporary file beside ``path``, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=2, sort_keys=True, default=str)
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def is_current(marker: dict[str, Any] | None, video_sha: str, settings_sha: str) -> bool:
    """Whether a marker was written for this video content and these settings."""
    return (
        marker is not None
        and marker.get("video_sha256") == video_sha
        and marker.get("settings_sha256") == settings_sha
    )


def new_staging_dir(outdir: Path, video_id: str) -> Path:
    """A fresh, empty folder beside the final one to write a result into."""
    parent = outdir / VIDEOS_DIR
    parent.mkdir(parents=True, exist_ok=True)
    staging = parent / f".tmp-{video_id}-{uuid.uuid4().hex[:12]}"
    staging.mkdir()
    return staging


def publish_dir(staging: Path, final: Path) -> None:
    """Move a finished result folder into place, replacing an older one.

    Notes
    -----
    A rename of a folder onto an existing non-empty folder is not possible, so an older
    result is first renamed aside, then removed. If the process dies between the two
    renames, the older result survives under ``.old-*`` and the video is simply run again
    (it has no ``done.json`` under its final name).
    """
    old: Path | None = None
    if final.exists():
        old = final.with_name(f".old-{final.name}-{uuid.uuid4().hex[:12]}")
        final.rename(old)
    staging.rename(final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def remove_stale_staging(outdir: Path) -> int:
    """Remove half-written folders left by an interrupted run; return how many."""
    parent = outdir / VIDEOS_DIR
    if not parent.is_dir():
        return 0
    stale = [p for p in parent.iterdir() if p.is_dir() and p.name.startswith((".tmp-", ".old-"))]
    for p in stale:
        shutil.rmtree(p, ignore_errors=True)
    if stale:
        log.info("removed %d half-written folder(s) of an interrupted run", len(stale))
    return len(stale)


def running_file(outdir: Path, video_id: str) -> Path:
    """Marker of a video a worker has started (see :func:`mark_running`)."""
    return outdir / RUNNING_DIR / f"{video_id}.json"


def mark_running(
    outdir: Path, video_id: str, run_id: str, record: dict[str, Any]
) -> dict[str, Any] | None:
    """Record that a worker starts a video in run ``run_id``.

    Returns
    -------
    dict or None
        The marker an earlier attempt of the same run left (its worker died while
        analysing the video), or None. A marker of another run is replaced.

    Notes
    -----
    The driver reads the marker when a worker is lost: a video with a marker was being
    analysed (it failed with its worker, and is not retried: it may be what killed it);
    one without was only queued there and is submitted again.
    """
    path = running_file(outdir, video_id)
    previous = read_json(path)
    write_json_atomic(path, {**record, "run_id": run_id})
    if previous is not None and previous.get("run_id") == run_id:
        return previous
    return None


def started_in_run(outdir: Path, video_id: str, run_id: str) -> dict[str, Any] | None:
    """The marker of a video started in ``run_id`` and not finished, or None."""
    marker = read_json(running_file(outdir, video_id))
    return marker if marker is not None and marker.get("run_id") == run_id else None


def clear_running(outdir: Path, video_id: str) -> None:
    """Remove a video's started marker (the video ended, either way)."""
    running_file(outdir, video_id).unlink(missing_ok=True)


def clear_all_running(outdir: Path) -> None:
    """Remove every started marker (at the start of a run, under the output lock)."""
    shutil.rmtree(outdir / RUNNING_DIR, ignore_errors=True)
