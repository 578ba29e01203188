"""The per-video task a batch runs on its workers (a Dask worker process or in-process).

:func:`process_video` never raises for a problem with one video: it returns a small
:class:`dict` outcome (``ok``, ``skipped`` or ``failed`` with a reason) that the driver
logs, counts and turns into ``failures.csv``. Everything it writes goes to the video's own
folder, atomically, so the driver never needs the results in memory.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from screener import __version__
from screener.batch import state
from screener.batch.export import TrcCoords, write_exports
from screener.batch.inputs import VideoJob
from screener.config import AnalysisConfig
from screener.errors import ScreenerError
from screener.keypoints import PoseSequence
from screener.result import AnalysisResult

log = logging.getLogger(__name__)


class MissingKeypointsError(ScreenerError):
    """``--reuse-keypoints`` was asked but no keypoints of this video are cached."""

    code = "no_cached_keypoints"


@dataclass(frozen=True)
class BatchOptions:
    """Settings shared by every video of a batch (sent to each worker).

    Attributes
    ----------
    outdir
        The batch's output folder (on a file system every worker can write to).
    config
        Analysis settings.
    exports
        Formats written per video: any of ``trc``, ``mot``, ``c3d``.
    trc_coords
        ``world`` or ``image`` coordinates in TRC/C3D exports.
    report
        Write each video's ``report.html`` too.
    reuse_keypoints
        Never run pose estimation: use the keypoints saved in the video's result folder or
        the keypoint cache; a video without either fails with ``no_cached_keypoints``.
    force
        Recompute every video, even those unchanged since the last run.
    retry_failed
        Try again videos that failed with the same content and settings before.
    """

    outdir: Path
    config: AnalysisConfig = field(default_factory=AnalysisConfig)
    exports: tuple[str, ...] = ()
    trc_coords: TrcCoords = "world"
    report: bool = False
    reuse_keypoints: bool = False
    force: bool = False
    retry_failed: bool = False

    def outputs(self) -> dict[str, Any]:
        """The output choices that change what a video's folder holds (hashed)."""
        return {"exports": list(self.exports), "trc_coords": self.trc_coords, "report": self.report}

    def settings_sha256(self, job: VideoJob) -> str:
        """Settings hash of one video (see :func:`screener.batch.state.settings_sha256`)."""
        return state.settings_sha256(
            self.config.sha256(), job.analysis_args(), self.outputs(), __version__
        )


def process_video(job: VideoJob, options: BatchOptions, run_id: str) -> dict[str, Any]:
    """Analyse one video into ``OUTDIR/videos/<video_id>/`` unless it is unchanged.

    Parameters
    ----------
    job
        The video and its analysis arguments.
    options
        The batch's settings.
    run_id
        Identifier of the current run, recorded in the video's ``done.json``.

    Returns
    -------
    dict
        ``video_id``, ``status`` (``ok``, ``skipped``, ``failed``), ``elapsed_s``, ``pid``,
        ``logs`` (records logged while analysing: ``(level, logger, message)``); for
        failures ``reason`` (one line), ``code`` and ``traceback`` (unexpected errors only).

    Notes
    -----
    The one place the batch catches every exception: a bug or an exhausted resource on one
    video must not stop the others. The traceback is returned for the batch log.

    A marker in ``OUTDIR/.running/`` says the video is being analysed while this runs. If
    the worker process dies, the marker stays: the driver then knows this video was
    running (it fails alone, ``worker_lost``) and that the others queued on that worker
    never started (they are submitted again). A scheduler that retries the task on
    another worker gets the same failure at once, without a second crash.
    """
    t0 = time.perf_counter()
    me = {"pid": os.getpid(), "host": socket.gethostname(), "started_at": _now()}
    with _captured_logs() as records:
        died = state.mark_running(options.outdir, job.video_id, run_id, me)
        try:
            if died is not None:
                outcome = _fail(
                    job,
                    options,
                    f"{job.path}: the worker process analysing it died (pid {died.get('pid')} on "
                    f"{died.get('host')}); not tried again in this run, as this video may be "
                    "what crashed it",
                    "worker_lost",
                    cache=None,
                )
            else:
                outcome = _process(job, options, run_id)
        finally:
            state.clear_running(options.outdir, job.video_id)
    outcome.update(
        video_id=job.video_id,
        path=str(job.path),
        elapsed_s=time.perf_counter() - t0,
        pid=os.getpid(),
        logs=records,
    )
    return outcome


def _process(job: VideoJob, options: BatchOptions, run_id: str) -> dict[str, Any]:
    outdir = options.outdir
    if job.error:
        return _fail(
            job,
            options,
            f"{job.meta.get('path')}: invalid manifest row: {job.error}",
            "bad_manifest_row",
            cache=None,
        )
    if not job.path.is_file():
        return _fail(job, options, f"{job.path}: no such file", "missing_file", cache=None)
    try:
        video_sha = state.file_sha256(job.path)
    except OSError as exc:
        return _fail(
            job,
            options,
            f"{job.path}: cannot read the file ({exc.strerror})",
            "unreadable",
            cache=None,
        )
    settings_sha = options.settings_sha256(job)
    folder = state.video_dir(outdir, job.video_id)
    done = state.read_json(folder / state.DONE_MARKER)
    if not options.force and state.is_current(done, video_sha, settings_sha):
        log.info("%s: unchanged since run %s, skipped", job.video_id, done and done.get("run_id"))
        return {"status": "skipped", "video_sha256": video_sha}
    failed = state.read_json(state.failure_file(outdir, job.video_id))
    if not (options.force or options.retry_failed) and state.is_current(
        failed, video_sha, settings_sha
    ):
        assert failed is not None
        return {
            "status": "failed",
            "reason": failed.get("reason", ""),
            "code": failed.get("code", ""),
            "cached": True,
            "video_sha256": video_sha,
        }
    hashes = {"video_sha256": video_sha, "settings_sha256": settings_sha}
    staging: Path | None = None
    try:
        started = time.perf_counter()
        result, pose_from = _analyse(job, options, video_sha, done, folder)
        analysis_s = time.perf_counter() - started
        staging = state.new_staging_dir(outdir, job.video_id)
        reused = folder / state.KEYPOINTS_FILE if pose_from == "result_folder" else None
        files = _write_result(result, job, options, staging, keypoints_from=reused)
        marker = {
            "status": "ok",
            "video_id": job.video_id,
            "path": str(job.path),
            **hashes,
            "config_sha256": options.config.sha256(),
            "pose_sha256": state.pose_sha256(options.config),
            "screener": __version__,
            "run_id": run_id,
            "pose_from": pose_from,
            "analysis_s": analysis_s,
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "args": job.analysis_args(),
            "meta": job.meta,
            "files": sorted(p.name for p in files),
        }
        state.write_json_atomic(staging / state.DONE_MARKER, marker)
        state.publish_dir(staging, folder)
        staging = None
    except ScreenerError as exc:
        return _fail(
            job,
            options,
            exc.one_line(),
            exc.code,
            cache=None if isinstance(exc, MissingKeypointsError) else hashes,
        )
    except Exception as exc:  # noqa: BLE001 - one video's unexpected error must not stop
        # the batch: it is recorded (traceback to the log, one line to failures.csv) and
        # not cached, so the next run tries this video again.
        outcome = _fail(
            job,
            options,
            f"{job.path}: unexpected error: {type(exc).__name__}: {exc}".splitlines()[0],
            "internal_error",
            cache=None,
        )
        outcome["traceback"] = traceback.format_exc()
        return outcome
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    state.failure_file(outdir, job.video_id).unlink(missing_ok=True)
    log.info("%s: analysed (pose from %s) in %.1f s", job.video_id, pose_from, analysis_s)
    return {"status": "ok", "video_sha256": video_sha, "pose_from": pose_from}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _fail(
    job: VideoJob,
    options: BatchOptions,
    reason: str,
    code: str,
    *,
    cache: dict[str, str] | None,
) -> dict[str, Any]:
    """A failure outcome; with ``cache`` (the hashes), also a record so reruns skip it."""
    record = {
        "status": "failed",
        "video_id": job.video_id,
        "path": str(job.path),
        "reason": reason,
        "code": code,
        "failed_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "cached": False,
    }
    target = state.failure_file(options.outdir, job.video_id)
    if cache is not None:
        state.write_json_atomic(target, {**record, **cache})
    else:
        target.unlink(missing_ok=True)
    return record


def _analyse(
    job: VideoJob,
    options: BatchOptions,
    video_sha: str,
    done: dict[str, Any] | None,
    folder: Path,
) -> tuple[AnalysisResult, str]:
    """Run the analysis; returns the result and where the pose came from."""
    import screener

    args: dict[str, Any] = {
        "task": job.task,
        "side": job.side,
        "view": job.view,
        "pain": job.pain,
        "first_line_done": job.first_line_done,
        "sex": job.sex,
        "lens_height_m": job.lens_height_m,
        "camera_distance_m": job.camera_distance_m,
        "patient_height_m": job.patient_height_m,
        "config": options.config,
    }
    if not options.reuse_keypoints:
        return screener.analyze(job.path, **args), "video"
    raw, source, video_info = load_keypoints(job, options.config, video_sha, done, folder)
    result = screener.analyze_pose(raw, video_path=job.path, video_info=video_info, **args)
    return result, source


def load_keypoints(
    job: VideoJob,
    config: AnalysisConfig,
    video_sha: str,
    done: dict[str, Any] | None,
    folder: Path,
) -> tuple[PoseSequence, str, dict[str, Any] | None]:
    """Keypoints of a video estimated earlier with the same pose settings, without pose.

    Looks first in the video's result folder (``keypoints.npz``, valid when its
    ``done.json`` has the same video hash and pose-settings hash), then in the keypoint
    cache of :mod:`screener.pose`.

    Returns
    -------
    pose, source, video_info
        The raw keypoints, ``"result_folder"`` or ``"cache"``, and the video's probe
        information from the earlier summary (None if unknown).

    Raises
    ------
    MissingKeypointsError
        Neither place has them.
    """
    wanted_pose = state.pose_sha256(config)
    saved = folder / state.KEYPOINTS_FILE
    if (
        done is not None
        and done.get("video_sha256") == video_sha
        and done.get("pose_sha256") == wanted_pose
        and saved.is_file()
    ):
        summary = state.read_json(folder / "summary.json") or {}
        info = summary.get("video") if isinstance(summary.get("video"), dict) else None
        return PoseSequence.load(saved), "result_folder", info
    cached = _from_pose_cache(job.path, config)
    if cached is not None:
        return cached, "cache", None
    raise MissingKeypointsError(
        "no keypoints of this video were saved with the current pose settings",
        path=job.path,
        remedy="Run the batch once without --reuse-keypoints (pose estimation) first.",
    )


def _from_pose_cache(path: Path, config: AnalysisConfig) -> PoseSequence | None:
    """Keypoints from :mod:`screener.pose`'s cache, if it has a lookup that runs no pose."""
    if config.cache_dir is None:
        return None
    try:
        from screener import pose as pose_module
    except ImportError:
        return None
    lookup = getattr(pose_module, "load_cached_pose", None)
    if lookup is None:
        return None
    cached = lookup(path, config.pose, config.cache_dir)
    return cached if isinstance(cached, PoseSequence) else None


def _write_result(
    result: AnalysisResult,
    job: VideoJob,
    options: BatchOptions,
    outdir: Path,
    *,
    keypoints_from: Path | None = None,
) -> list[Path]:
    """Write a video's result files into ``outdir`` (a staging folder).

    ``keypoints_from``: the saved keypoints the analysis was re-run from; they are
    copied as they are instead of compressed again.
    """
    files = list(result.write(outdir, report=options.report, pdf=False))
    if keypoints_from is not None:
        shutil.copy2(keypoints_from, outdir / state.KEYPOINTS_FILE)
    else:
        result.raw_pose.save(outdir / state.KEYPOINTS_FILE)
    files.append(outdir / state.KEYPOINTS_FILE)
    files.extend(
        write_exports(
            outdir, job.video_id, options.exports, result.pose, result.frames, options.trc_coords
        )
    )
    return files


class _ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.records: list[tuple[int, str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.levelno, record.name, record.getMessage()))


@contextmanager
def _captured_logs() -> Iterator[list[tuple[int, str, str]]]:
    """Collect the screener's INFO+ log records of one task, to send back to the driver."""
    logger = logging.getLogger("screener")
    handler = _ListHandler()
    previous = logger.level
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
