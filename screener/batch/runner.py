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
import time
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
from screener.batch.lock import output_lock
from screener.batch.tables import BatchTables, build_tables, write_tables
from screener.batch.worker import BatchOptions, process_video
from screener.errors import ScreenerError
from screener.result import to_jsonable

if TYPE_CHECKING:
    from distributed import Client, LocalCluster

log = logging.getLogger(__name__)
#: Tracebacks of unexpected per-video errors go to the batch log file only.
trace_log = logging.getLogger("screener.batch.traceback")
#: Errors the command line shows as its one error line: to the batch log file only.
file_log = logging.getLogger("screener.batch.stopped")

LOG_FILE = "batch.log"
LOCK_FILE = ".batch.lock"
#: Third-party loggers sent to the batch log, not the terminal, during a run.
ENGINE_LOGGERS = ("distributed", "asyncio", "tornado")
#: Default of ``cluster_timeout_s``: how long a batch waits with no scheduler or no worker.
CLUSTER_TIMEOUT_S = 300.0
#: How often the driver looks at the cluster while waiting for results, seconds.
POLL_S = 0.5
#: How often a video whose worker died before it started is submitted again.
MAX_RESUBMITS = 2


class ClusterLostError(ScreenerError):
    """The Dask scheduler cannot be reached, or the cluster has had no worker for too long."""

    code = "cluster_lost"


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
    workers: int | None = None,
    scheduler: str | None = None,
    timeout_s: float = CLUSTER_TIMEOUT_S,
) -> tuple[Client, LocalCluster | None]:
    """Connect to a scheduler, or start a local cluster.

    Parameters
    ----------
    workers
        Worker processes of the local cluster (default: one per core).
    scheduler
        Address of a running scheduler (``tcp://host:8786``); no local cluster is started.
    timeout_s
        How long to try to reach the scheduler.

    Returns
    -------
    client, cluster
        The cluster is None when connecting to an existing scheduler; close both when done.

    Notes
    -----
    A local worker runs one task at a time (``threads_per_worker=1``) and Dask sets
    ``OMP_NUM_THREADS=1`` in it. A worker process that dies on a video (e.g. a decoder
    crash) fails that video only: the scheduler retries the tasks of a dead worker as
    usual, and the retried task of the video that was running returns ``worker_lost`` at
    once (its started marker, see :func:`screener.batch.worker.process_video`) instead of
    crashing another worker; videos that were only queued there simply run.

    Raises
    ------
    ClusterLostError
        The scheduler cannot be reached within ``timeout_s``.
    """
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            return Client(scheduler, timeout=timeout_s), None
        except (OSError, TimeoutError) as exc:
            raise ClusterLostError(
                f"cannot reach the Dask scheduler at {scheduler} within {timeout_s:.0f} s "
                f"({type(exc).__name__})",
                remedy="Check the address and that the scheduler is running, or leave out "
                "--scheduler to use a local cluster.",
            ) from None
    n = workers or os.cpu_count() or 1
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
    cluster_timeout_s: float = CLUSTER_TIMEOUT_S,
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
    cluster_timeout_s
        Stop with :class:`ClusterLostError` after this long without a scheduler or without
        any worker (0: wait for ever, e.g. for SLURM workers queued for hours).

    Returns
    -------
    BatchReport

    Raises
    ------
    ConfigError
        Another batch is writing to the same output folder.
    ClusterLostError
        The scheduler was lost, or no worker was left, for ``cluster_timeout_s``. The
        tables and provenance of what finished are written first; the rest is ``not run``.

    Notes
    -----
    A worker process that dies fails the video it was analysing (``worker_lost``, logged
    in ``batch.log``); videos that were only queued on it are submitted again.
    """
    outdir = options.outdir
    outdir.mkdir(parents=True, exist_ok=True)
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
    started = datetime.now(UTC)
    statuses: dict[str, str] = {}
    failures: dict[str, dict[str, Any]] = {}
    counts = {"videos": len(jobs), "analysed": 0, "skipped": 0, "failed": 0, "not_run": 0}
    interrupted = False
    lost: ClusterLostError | None = None
    engine: dict[str, Any] = {}
    with output_lock(outdir, run_id, LOCK_FILE), _batch_logging(outdir):
        state.remove_stale_staging(outdir)
        state.clear_all_running(outdir)
        log.info(
            "batch %s: %d video(s) from %s into %s", run_id, len(jobs), input_description, outdir
        )
        own = client is None
        cluster: LocalCluster | None = None
        if client is None:
            try:
                client, cluster = make_client(workers, scheduler, cluster_timeout_s or 60.0)
            except ClusterLostError as exc:
                file_log.error("%s", exc.one_line())
                raise
        engine = _engine_info(client, scheduler)
        log.info("engine: %s", engine)
        by_id = {job.video_id: job for job in jobs}
        try:
            interrupted = _gather(
                client,
                jobs,
                options,
                run_id,
                _Outcomes(by_id, statuses, failures, counts),
                progress,
                _ClusterWatch(client, cluster_timeout_s),
            )
        except ClusterLostError as exc:
            lost = exc
            file_log.error("%s", exc.one_line())
            # Closing a client whose scheduler is gone makes Dask and asyncio log
            # tracebacks of cancelled tasks: the one error line above says it all.
            for noisy in ENGINE_LOGGERS:
                logging.getLogger(noisy).setLevel(logging.CRITICAL + 1)
            _fail_started(jobs, options, run_id, _Outcomes(by_id, statuses, failures, counts))
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
        if lost is not None:
            provenance["stopped"] = lost.one_line()
        state.write_json_atomic(prov_path, to_jsonable(provenance))
        files.append(prov_path)
        log.info(
            "batch %s %s: %d analysed, %d unchanged, %d failed, %d not run (%s)",
            run_id,
            "stopped" if lost else "interrupted" if interrupted else "finished",
            counts["analysed"],
            counts["skipped"],
            counts["failed"],
            counts["not_run"],
            outdir,
        )
    if lost is not None:
        raise lost
    return BatchReport(outdir, counts, interrupted, tables, files)


@dataclass
class _Outcomes:
    """Where :func:`_record` keeps what happened to each video."""

    by_id: dict[str, VideoJob]
    statuses: dict[str, str]
    failures: dict[str, dict[str, Any]]
    counts: dict[str, int]

    def record(self, video_id: str, outcome: dict[str, Any]) -> None:
        _record(self.by_id[video_id], outcome, self.statuses, self.failures, self.counts)


class _ClusterWatch:
    """Notices a lost scheduler, a cluster without workers, and workers that leave.

    Parameters
    ----------
    client
        The batch's client.
    timeout_s
        How long the scheduler may be unreachable, or the cluster without any worker,
        before the batch stops (0: never).
    """

    def __init__(self, client: Client, timeout_s: float) -> None:
        self.client = client
        self.timeout_s = timeout_s
        self.workers = self._workers() or set()
        self.trouble_since: float | None = None

    def _workers(self) -> set[str] | None:
        """Addresses of the scheduler's workers; None if the scheduler did not answer."""
        with suppress(OSError, RuntimeError, TimeoutError, ValueError):
            return set(self.client.nthreads())
        return None

    def check(self) -> None:
        """Log workers that left or joined; raise :class:`ClusterLostError` on a timeout."""
        answer = self._workers() if self.client.status == "running" else None
        connected = answer is not None
        workers = answer or set()
        if connected:
            for address in sorted(self.workers - workers):
                log.warning("worker %s left the cluster (crashed, killed or shut down)", address)
            for address in sorted(workers - self.workers):
                log.info("worker %s joined the cluster", address)
            self.workers = workers
        problem = (
            None
            if connected and workers
            else "lost the connection to the Dask scheduler"
            if not connected
            else "the Dask cluster has no worker left"
        )
        if problem is None:
            self.trouble_since = None
            return
        now = time.monotonic()
        if self.trouble_since is None:
            self.trouble_since = now
            log.warning("%s; waiting up to %.0f s", problem, self.timeout_s)
        closed = self.client.status in ("closed", "closing")
        waited = now - self.trouble_since
        if closed or (self.timeout_s and waited >= self.timeout_s):
            raise ClusterLostError(
                f"{problem} (for {waited:.0f} s); the batch stopped. Finished videos are kept",
                remedy="Check the scheduler and its workers, then run the same command "
                "again: it carries on where this run stopped.",
            )


def _fail_started(
    jobs: list[VideoJob], options: BatchOptions, run_id: str, outcomes: _Outcomes
) -> None:
    """When the cluster is lost: videos started and not finished failed with their worker."""
    for job in jobs:
        if job.video_id in outcomes.statuses:
            continue
        marker = state.started_in_run(options.outdir, job.video_id, run_id)
        if marker is not None:
            state.clear_running(options.outdir, job.video_id)
            outcomes.record(job.video_id, _lost_outcome(job, marker))


def _lost_outcome(job: VideoJob, marker: dict[str, Any], detail: str = "") -> dict[str, Any]:
    where = f"pid {marker.get('pid')} on {marker.get('host')}"
    return {
        "status": "failed",
        "reason": f"{job.path}: the worker process analysing it ({where}) was lost"
        + (f" ({detail})" if detail else "")
        + "; e.g. out of memory or a crash in the decoder",
        "code": "worker_lost",
    }


def _gather(
    client: Client,
    jobs: list[VideoJob],
    options: BatchOptions,
    run_id: str,
    outcomes: _Outcomes,
    progress: bool,
    watch: _ClusterWatch,
) -> bool:
    """Submit every video and handle outcomes as they finish; True if interrupted.

    Raises
    ------
    ClusterLostError
        From ``watch``: no scheduler or no worker for too long.
    """
    from distributed import as_completed
    from distributed.client import ClosedClientError
    from tqdm import tqdm

    keys = [f"screener-video-{job.video_id}-{run_id}" for job in jobs]
    futures = client.map(process_video, jobs, options=options, run_id=run_id, key=keys, pure=False)
    key_to_id = {k: job.video_id for k, job in zip(keys, jobs, strict=True)}
    resubmits: dict[str, int] = {}
    held: list[Any] = []
    pending = as_completed(futures)
    bar = tqdm(
        total=len(jobs),
        unit="video",
        desc="screener batch",
        file=sys.stderr,
        disable=not progress,
        dynamic_ncols=True,
        smoothing=0.05,
    )
    counts = outcomes.counts
    try:
        while not pending.is_empty() or held:
            ready = pending.next_batch(block=False)
            if client.status == "running":
                ready, held = ready + held, []  # reconnected: held results are gone, see below
            else:
                # Lost with the scheduler connection, not with a worker: hold them and stop
                # after the time-out, rather than submit to a client that cannot send.
                held += [f for f in ready if f.status != "finished"]
                ready = [f for f in ready if f.status == "finished"]
            if not ready:
                watch.check()
                time.sleep(POLL_S)
                continue
            for future in ready:
                video_id = key_to_id[str(future.key)]
                outcome = _outcome_of(future, outcomes.by_id[video_id], options, run_id)
                future.release()
                if outcome is None and resubmits.get(video_id, 0) >= MAX_RESUBMITS:
                    outcome = {
                        "status": "failed",
                        "reason": f"{outcomes.by_id[video_id].path}: workers died "
                        f"{MAX_RESUBMITS + 1} times before starting it",
                        "code": "worker_lost",
                    }
                if outcome is None:  # lost before it started: submit it again
                    n = resubmits[video_id] = resubmits.get(video_id, 0) + 1
                    job = outcomes.by_id[video_id]
                    key = f"screener-video-{video_id}-{run_id}-again{n}"
                    log.warning(
                        "%s was queued on a worker that died before starting it; submitted "
                        "again (%d of %d)",
                        video_id,
                        n,
                        MAX_RESUBMITS,
                    )
                    try:
                        again = client.submit(
                            process_video, job, options=options, run_id=run_id, key=key, pure=False
                        )
                    except ClosedClientError:
                        raise ClusterLostError(
                            "lost the connection to the Dask scheduler; the batch stopped",
                            remedy="Check the scheduler, then run the same command again: "
                            "it carries on where this run stopped.",
                        ) from None
                    key_to_id[key] = video_id
                    pending.add(again)
                    continue
                outcomes.record(video_id, outcome)
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


def _outcome_of(
    future: Any, job: VideoJob, options: BatchOptions, run_id: str
) -> dict[str, Any] | None:
    """The outcome of a finished task; None when its worker died before it started.

    A task that did not finish (its worker process died) failed alone if it had started
    (its marker is in ``OUTDIR/.running``); otherwise it was only queued on that worker
    and is submitted again, up to :data:`MAX_RESUBMITS` times.
    """
    if future.status == "finished":
        result: dict[str, Any] = future.result()
        return result
    exc = future.exception() if future.status == "error" else None
    detail = f"{type(exc).__name__ if exc else future.status}: {exc}".splitlines()[0]
    marker = state.started_in_run(options.outdir, job.video_id, run_id)
    if marker is not None:
        state.clear_running(options.outdir, job.video_id)
        log.warning("the worker analysing %s died (%s)", job.video_id, detail)
        return _lost_outcome(job, marker, type(exc).__name__ if exc else future.status)
    return None


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

    Notes
    -----
    Dask, asyncio and tornado log warnings and tracebacks of their own (a worker that
    restarts, a client reconnecting to a lost scheduler). For the whole run they go to the
    batch log only, so the terminal shows the screener's one-line messages and nothing is
    lost. Dask installs its own stderr handler when imported, hence the import here.
    """
    import distributed  # noqa: F401  (installs Dask's log handlers, replaced below)
    from tqdm.contrib.logging import logging_redirect_tqdm

    logger = logging.getLogger("screener")
    handler = logging.FileHandler(outdir / LOG_FILE, encoding="utf-8")
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    previous_level = logger.level
    for file_only in (trace_log, file_log):
        file_only.propagate = False
        file_only.addHandler(handler)
    logger.addHandler(handler)
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
    engine_handler = logging.FileHandler(outdir / LOG_FILE, encoding="utf-8")
    engine_handler.setLevel(logging.WARNING)
    engine_handler.setFormatter(handler.formatter)
    saved: dict[str, tuple[list[logging.Handler], bool, int]] = {}
    for name in ENGINE_LOGGERS:
        engine_log = logging.getLogger(name)
        saved[name] = (engine_log.handlers[:], engine_log.propagate, engine_log.level)
        engine_log.handlers = [engine_handler]
        engine_log.propagate = False
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
            file_log.removeHandler(handler)
            logger.setLevel(previous_level)
            for name, (handlers, propagate, level) in saved.items():
                engine_log = logging.getLogger(name)
                engine_log.handlers = handlers
                engine_log.propagate = propagate
                engine_log.setLevel(level)
            handler.close()
            engine_handler.close()
