"""The batch driver: sends one task per video to a Dask cluster and gathers the outcomes.

The same code runs on a laptop (a :class:`distributed.LocalCluster`, one worker process
per core, one thread each, so each process holds one pose landmarker), on an existing
cluster (``--scheduler ADDRESS``) and on SLURM (a ``dask_jobqueue.SLURMCluster``'s client):
only the :class:`distributed.Client` differs. Workers write each video's results to its
own folder; the driver only counts, logs, and rebuilds the combined tables from the
folders at the end (also after Ctrl-C).
"""

from __future__ import annotations

import logging
import os
import platform
import socket
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from screener import __version__
from screener.batch import state
from screener.batch.inputs import VideoJob
from screener.batch.tables import BatchTables, build_tables, write_tables
from screener.batch.worker import BatchOptions, process_video
from screener.errors import ConfigError
from screener.result import to_jsonable

if TYPE_CHECKING:
    from distributed import Client, LocalCluster

log = logging.getLogger(__name__)
#: Tracebacks of unexpected per-video errors go to the batch log file only.
trace_log = logging.getLogger("screener.batch.traceback")

LOG_FILE = "batch.log"
LOCK_FILE = ".batch.lock"


@dataclass
class BatchReport:
    """What a batch run did.

    Attributes
    ----------
    outdir
        The output folder.
    counts
        ``videos``, ``analysed``, ``skipped``, ``failed``, ``not_run``.
    interrupted
        The run was stopped (Ctrl-C) before every video was done.
    tables
        The combined tables as written.
    files
        Files written at the top of ``outdir``.
    """

    outdir: Path
    counts: dict[str, int]
    interrupted: bool
    tables: BatchTables
    files: list[Path] = field(default_factory=list)


def make_client(
    workers: int | None = None, scheduler: str | None = None
) -> tuple[Client, LocalCluster | None]:
    """Connect to a scheduler, or start a local cluster.

    Parameters
    ----------
    workers
        Worker processes of the local cluster (default: one per core).
    scheduler
        Address of a running scheduler (``tcp://host:8786``); no local cluster is started.

    Returns
    -------
    client, cluster
        The cluster is None when connecting to an existing scheduler; close both when done.

    Notes
    -----
    A local worker runs one task at a time (``threads_per_worker=1``) and Dask sets
    ``OMP_NUM_THREADS=1`` in it. A worker process that dies on a video (e.g. a decoder
    crash) fails that video only: the scheduler does not retry the task, instead of
    retrying it on every worker (``allowed-failures`` 0).
    """
    import dask
    from distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler), None
    n = workers or os.cpu_count() or 1
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # a free port: never clashes with another cluster
            silence_logs=logging.ERROR,
        )
    return Client(cluster), cluster


def run_batch(
    jobs: list[VideoJob],
    options: BatchOptions,
    *,
    client: Client | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
    input_description: str = "",
) -> BatchReport:
    """Analyse every video of a batch and write the combined tables.

    Parameters
    ----------
    jobs
        The videos (see :mod:`screener.batch.inputs`).
    options
        Settings for every video.
    client
        A Dask client to use (left open); otherwise one is made with
        :func:`make_client` from ``workers`` and ``scheduler`` and closed at the end.
    workers, scheduler
        See :func:`make_client`.
    progress
        Show a progress bar on stderr.
    input_description
        The input folder or manifest, for the provenance.

    Returns
    -------
    BatchReport

    Raises
    ------
    ConfigError
        Another batch is writing to the same output folder.
    """
    outdir = options.outdir
    outdir.mkdir(parents=True, exist_ok=True)
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
    started = datetime.now(UTC)
    statuses: dict[str, str] = {}
    failures: dict[str, dict[str, Any]] = {}
    counts = {"videos": len(jobs), "analysed": 0, "skipped": 0, "failed": 0, "not_run": 0}
    interrupted = False
    engine: dict[str, Any] = {}
    with _output_lock(outdir), _batch_logging(outdir):
        state.remove_stale_staging(outdir)
        log.info(
            "batch %s: %d video(s) from %s into %s", run_id, len(jobs), input_description, outdir
        )
        own = client is None
        cluster: LocalCluster | None = None
        if client is None:
            client, cluster = make_client(workers, scheduler)
        engine = _engine_info(client, scheduler)
        log.info("engine: %s", engine)
        by_id = {job.video_id: job for job in jobs}
        try:
            interrupted = _gather(
                client, jobs, options, run_id, by_id, statuses, failures, counts, progress
            )
        finally:
            if own:
                with suppress(OSError, RuntimeError, TimeoutError):
                    client.close()
                    if cluster is not None:
                        cluster.close()
        counts["not_run"] = len(jobs) - len(statuses)
        tables = build_tables(jobs, statuses, failures, outdir)
        files = write_tables(tables, outdir)
        finished = datetime.now(UTC)
        provenance = _provenance(
            options,
            run_id,
            started,
            finished,
            counts,
            interrupted,
            engine,
            input_description,
            tables,
            outdir,
        )
        prov_path = outdir / "provenance.json"
        state.write_json_atomic(prov_path, to_jsonable(provenance))
        files.append(prov_path)
        log.info(
            "batch %s %s: %d analysed, %d unchanged, %d failed, %d not run (%s)",
            run_id,
            "interrupted" if interrupted else "finished",
            counts["analysed"],
            counts["skipped"],
            counts["failed"],
            counts["not_run"],
            outdir,
        )
    return BatchReport(outdir, counts, interrupted, tables, files)


def _gather(
    client: Client,
    jobs: list[VideoJob],
    options: BatchOptions,
    run_id: str,
    by_id: dict[str, VideoJob],
    statuses: dict[str, str],
    failures: dict[str, dict[str, Any]],
    counts: dict[str, int],
    progress: bool,
) -> bool:
    """Submit every video and handle outcomes as they finish; True if interrupted."""
    from distributed import as_completed
    from tqdm import tqdm

    keys = [f"screener-video-{job.video_id}-{run_id}" for job in jobs]
    futures = client.map(process_video, jobs, options=options, run_id=run_id, key=keys, pure=False)
    key_to_id = {k: job.video_id for k, job in zip(keys, jobs, strict=True)}
    bar = tqdm(
        total=len(jobs),
        unit="video",
        desc="screener batch",
        file=sys.stderr,
        disable=not progress,
        dynamic_ncols=True,
        smoothing=0.05,
    )
    try:
        for future in as_completed(futures):
            video_id = key_to_id[str(future.key)]
            if future.status == "finished":
                outcome = future.result()
            else:
                exc = future.exception() if future.status == "error" else None
                outcome = {
                    "status": "failed",
                    "reason": f"{by_id[video_id].path}: the worker analysing it was lost "
                    f"({type(exc).__name__ if exc else future.status}: {exc})",
                    "code": "worker_lost",
                }
            future.release()
            _record(by_id[video_id], outcome, statuses, failures, counts)
            bar.update(1)
            bar.set_postfix(
                ok=counts["analysed"],
                unchanged=counts["skipped"],
                failed=counts["failed"],
                refresh=False,
            )
    except KeyboardInterrupt:
        log.warning("interrupted: finished results are kept; unfinished videos are not run")
        with suppress(OSError, RuntimeError, TimeoutError):
            client.cancel(futures)
        return True
    finally:
        bar.close()
    return False


def _record(
    job: VideoJob,
    outcome: dict[str, Any],
    statuses: dict[str, str],
    failures: dict[str, dict[str, Any]],
    counts: dict[str, int],
) -> None:
    """Log one outcome (with the worker's own log records) and count it."""
    if outcome.get("pid") not in (None, os.getpid()):
        for level, name, message in outcome.get("logs", []):
            logging.getLogger(name).log(level, "[worker] %s", message)
    status = outcome["status"]
    statuses[job.video_id] = status
    if status == "ok":
        counts["analysed"] += 1
        log.info("ok %s (%s) in %.1f s", job.video_id, job.path, outcome.get("elapsed_s", 0.0))
    elif status == "skipped":
        counts["skipped"] += 1
        log.info("unchanged %s (%s): skipped", job.video_id, job.path)
    else:
        counts["failed"] += 1
        failures[job.video_id] = outcome
        cached = " (as in the previous run)" if outcome.get("cached") else ""
        log.warning(
            "FAILED %s%s [%s]: %s", job.video_id, cached, outcome.get("code"), outcome.get("reason")
        )
        if outcome.get("traceback"):
            trace_log.error("traceback of %s:\n%s", job.video_id, outcome["traceback"])


def _engine_info(client: Client, scheduler: str | None) -> dict[str, Any]:
    info: dict[str, Any] = {"scheduler": scheduler or "local", "client": type(client).__name__}
    with suppress(AttributeError, KeyError, ValueError):
        info["dashboard"] = client.dashboard_link
    with suppress(OSError, RuntimeError, TimeoutError, AttributeError, KeyError):
        workers = client.scheduler_info().get("workers", {})
        info["workers"] = len(workers)
        info["threads"] = sum(int(w.get("nthreads", 0)) for w in workers.values())
    return info


def _package_versions() -> dict[str, str]:
    out = {}
    for name in (
        "numpy",
        "pandas",
        "pyarrow",
        "scipy",
        "mediapipe",
        "opencv-contrib-python",
        "opencv-python",
        "dask",
        "distributed",
        "dask-jobqueue",
    ):
        with suppress(PackageNotFoundError):
            out[name] = version(name)
    return out


def _pose_provenance(tables: BatchTables, outdir: Path) -> dict[str, Any]:
    info: dict[str, Any] = {}
    try:
        from screener.pose import pose_provenance

        info = dict(pose_provenance())
    except (ImportError, AttributeError) as exc:
        log.debug("no pose provenance from screener.pose: %s", exc)
    seen: dict[str, set[str]] = {}
    for rel in tables.videos.get("result_dir", []):
        if not isinstance(rel, str):
            continue
        summary = state.read_json(outdir / rel / "summary.json") or {}
        prov = summary.get("provenance") or {}
        for key in ("pose_model", "mediapipe", "config_sha256", "screener"):
            if prov.get(key) is not None:
                seen.setdefault(key, set()).add(str(prov[key]))
    info["in_results"] = {k: sorted(v) for k, v in seen.items()}
    return info


def _provenance(
    options: BatchOptions,
    run_id: str,
    started: datetime,
    finished: datetime,
    counts: dict[str, int],
    interrupted: bool,
    engine: dict[str, Any],
    input_description: str,
    tables: BatchTables,
    outdir: Path,
) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "screener": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "host": socket.gethostname(),
        "packages": _package_versions(),
        "pose": _pose_provenance(tables, outdir),
        "config_sha256": options.config.sha256(),
        "pose_settings_sha256": state.pose_sha256(options.config),
        "config": options.config.analysis_dict(),
        "options": {
            "exports": list(options.exports),
            "trc_coords": options.trc_coords,
            "report": options.report,
            "reuse_keypoints": options.reuse_keypoints,
            "force": options.force,
            "retry_failed": options.retry_failed,
            "cache_dir": options.config.cache_dir,
        },
        "engine": engine,
        "input": input_description,
        "command": sys.argv,
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": finished.isoformat(timespec="seconds"),
        "elapsed_s": (finished - started).total_seconds(),
        "interrupted": interrupted,
        "counts": {**counts, "events": len(tables.events)},
        "tables": {
            "events": "events.parquet / events.csv: one row per event",
            "summary": "summary.parquet / summary.csv: one row per video x side x metric",
            "faults": "faults.parquet / faults.csv: one row per video x fault",
            "videos": "videos.parquet / videos.csv: one row per video with its status",
            "failures": "failures.csv: path, reason, code",
        },
    }


@contextmanager
def _batch_logging(outdir: Path) -> Iterator[None]:
    """Log the screener's INFO records to ``OUTDIR/batch.log`` during a run.

    The console keeps the verbosity the user chose: stream handlers without a level get
    the root logger's level for the duration of the run, and show above the progress bar.
    """
    from tqdm.contrib.logging import logging_redirect_tqdm

    logger = logging.getLogger("screener")
    handler = logging.FileHandler(outdir / LOG_FILE, encoding="utf-8")
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    previous_level = logger.level
    trace_log.propagate = False
    trace_log.addHandler(handler)
    logger.addHandler(handler)
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
    with logging_redirect_tqdm():
        quietened = [h for h in root.handlers if h.level == logging.NOTSET]
        for h in quietened:
            h.setLevel(root.level)
        try:
            yield
        finally:
            for h in quietened:
                h.setLevel(logging.NOTSET)
            logger.removeHandler(handler)
            trace_log.removeHandler(handler)
            logger.setLevel(previous_level)
            handler.close()


@contextmanager
def _output_lock(outdir: Path) -> Iterator[None]:
    """Refuse to run two batches into the same output folder at once."""
    lock = outdir / LOCK_FILE
    me = f"{socket.gethostname()} {os.getpid()}"
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            if _lock_is_stale(lock):
                lock.unlink(missing_ok=True)
                continue
            owner = lock.read_text(encoding="utf-8", errors="replace").strip()
            raise ConfigError(
                f"another batch ({owner}) is writing to this folder",
                path=outdir,
                remedy=f"Wait for it to finish, or delete {lock} if it is no longer running.",
            ) from None
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(me)
        break
    try:
        yield
    finally:
        lock.unlink(missing_ok=True)


def _lock_is_stale(lock: Path) -> bool:
    """A lock left by a process of this host that no longer runs."""
    try:
        host, pid = lock.read_text(encoding="utf-8").split()
    except (OSError, ValueError):
        return True
    if host != socket.gethostname():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, ValueError):
        return False
    return False
