"""The job queue in the database and the worker that processes it.

A worker claims a queued job with one conditional ``UPDATE ... WHERE status='queued'``
(atomic on SQLite and PostgreSQL alike) and holds it under a lease that a heartbeat
thread renews. A worker that is killed stops renewing; any worker re-queues jobs whose
lease ran out (at start and on every poll), so the job runs again to the end. Every
update of a running job is fenced by its lease token, so a worker that lost its lease
cannot overwrite the outcome of the one that took over. Results are written to a staging
folder in the data folder and renamed into place before the job is marked done.

Each worker also records a heartbeat of its own (table ``worker_heartbeats``) every
``worker_heartbeat_seconds``: /healthz and the job page use it to say when jobs wait and
no worker is alive. When a worker starts it removes the attempt folders (``tmp/jobN-...``,
``results/.staging-N-...``) of attempts no live lease holds any more.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import secrets
import shutil
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, cast

from sqlalchemy import CursorResult, and_, delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from screener.errors import ScreenerError
from screener.web import storage
from screener.web.models import RECORDING_KINDS, Job, Patient, Recording, Visit, utcnow
from screener.web.runtime_models import WorkerHeartbeat
from screener.web.settings import WebSettings

log = logging.getLogger(__name__)

#: Share of the progress bar given to pose estimation (the slow part).
POSE_SHARE = 0.85
#: Heartbeat rows of workers silent for this long are deleted (they are long dead).
FORGET_WORKER_AFTER = dt.timedelta(days=1)
#: Attempt folders: ``tmp/job<id>-<token8>`` and ``results/.staging-<id>-<token8>``.
_ATTEMPT_DIR = re.compile(r"^(?:job|\.staging-)(\d+)-([0-9a-f]{8})$")


class AnalysisOutput(Protocol):
    """What the analysis returns: something that writes its files (an AnalysisResult)."""

    def write(self, outdir: str | Path, *, report: bool = True, pdf: bool = False) -> Any:
        """Write the result files to ``outdir``."""


class AnalyzeFn(Protocol):
    """The analysis call (``screener.analyze``), injectable for tests."""

    def __call__(
        self,
        video: str | Path,
        *,
        task: Any,
        side: Any,
        view: Any,
        intake: dict[str, Any],
        sex: str | None,
        lens_height_m: float | None,
        camera_distance_m: float | None,
        patient_height_m: float | None,
        config: Any,
        progress: Callable[[int, int], None] | None,
    ) -> AnalysisOutput:
        """Analyse one video."""


class LeaseLostError(RuntimeError):
    """This worker's lease on the job ended (it expired and another worker took the job)."""


class WorkerStoppingError(RuntimeError):
    """The worker was asked to stop; the job it was running is handed back to the queue."""


@dataclass(frozen=True)
class ClaimedJob:
    """A job this worker holds, with what the analysis needs.

    ``intake`` is the visit's full set of answers (pain, history, red flags) and
    ``doses`` the patient's own doses, so the recording's report and plan match the
    visit's (:func:`screener.web.services.screen_of_visit`). ``patient_height_m`` is the
    height in the patient's record (metres; None: not recorded).
    """

    job_id: int
    lease_token: str
    attempt: int
    stored_name: str | None
    original_name: str
    task: str
    side: str
    view: str
    intake: dict[str, Any]
    sex: str | None
    doses: dict[str, Any] = field(default_factory=dict)
    lens_height_m: float | None = None
    camera_distance_m: float | None = None
    patient_height_m: float | None = None


def rowcount(result: Any) -> int:
    """Rows matched by an UPDATE or DELETE."""
    return int(cast(CursorResult[Any], result).rowcount or 0)


def default_analyze() -> AnalyzeFn:
    """``screener.analyze``, imported when first needed (it loads MediaPipe)."""
    import screener

    fn: AnalyzeFn = screener.analyze
    return fn


def enqueue(db: Session, recording: Recording) -> Job:
    """Add a queued job for a recording (the caller commits)."""
    job = Job(recording=recording, status="queued", stage="waiting for a worker")
    db.add(job)
    return job


def requeue_stale(db: Session, settings: WebSettings) -> int:
    """Queue again the running jobs whose lease expired; fail those out of attempts.

    Parameters
    ----------
    db
        A session (committed here).
    settings
        ``max_attempts``.

    Returns
    -------
    int
        Jobs re-queued or failed.
    """
    now = utcnow()
    stale = and_(Job.status == "running", Job.lease_expires_at < now)
    failed = rowcount(
        db.execute(
            update(Job)
            .where(stale, Job.attempts >= settings.max_attempts)
            .values(
                status="failed",
                stage="failed",
                lease_token=None,
                finished_at=now,
                error=(
                    f"the analysis was interrupted {settings.max_attempts} times (its worker "
                    "stopped or was killed); check the worker log and the recording, then retry"
                ),
            )
            .execution_options(synchronize_session=False)
        )
    )
    requeued = rowcount(
        db.execute(
            update(Job)
            .where(stale, Job.attempts < settings.max_attempts)
            .values(
                status="queued",
                stage="waiting for a worker (previous attempt interrupted)",
                progress=0.0,
                lease_token=None,
                lease_expires_at=None,
                worker_id=None,
            )
            .execution_options(synchronize_session=False)
        )
    )
    db.commit()
    if failed or requeued:
        log.warning("expired leases: %d job(s) re-queued, %d failed", requeued, failed)
    return failed + requeued


def claim_next(db: Session, settings: WebSettings, worker_id: str) -> ClaimedJob | None:
    """Claim the oldest queued job, atomically.

    Returns
    -------
    ClaimedJob or None
        The claimed job, or None when the queue is empty.

    Notes
    -----
    Candidates are read first, then each is taken with ``UPDATE ... WHERE id = :id AND
    status = 'queued'``: of two workers racing for a job only one updates a row.
    """
    for _ in range(20):
        candidate = db.scalar(
            select(Job.id).where(Job.status == "queued").order_by(Job.id).limit(1)
        )
        if candidate is None:
            return None
        token = secrets.token_hex(16)
        now = utcnow()
        taken = rowcount(
            db.execute(
                update(Job)
                .where(Job.id == candidate, Job.status == "queued")
                .values(
                    status="running",
                    stage="starting",
                    progress=0.0,
                    lease_token=token,
                    lease_expires_at=now + dt.timedelta(seconds=settings.lease_seconds),
                    worker_id=worker_id[:128],
                    attempts=Job.attempts + 1,
                    started_at=now,
                    error=None,
                )
                .execution_options(synchronize_session=False)
            )
        )
        db.commit()
        if taken == 1:
            return _load_claim(db, candidate, token)
    return None


def _load_claim(db: Session, job_id: int, token: str) -> ClaimedJob:
    row = db.execute(
        select(Job, Recording, Visit, Patient)
        .join(Recording, Job.recording_id == Recording.id)
        .join(Visit, Recording.visit_id == Visit.id)
        .join(Patient, Visit.patient_id == Patient.id)
        .where(Job.id == job_id)
    ).one()
    job, rec, visit, patient = row
    from screener.web.services import patient_doses, visit_intake

    task, side = RECORDING_KINDS[rec.kind]
    return ClaimedJob(
        job_id=job.id,
        lease_token=token,
        attempt=job.attempts,
        stored_name=rec.stored_name,
        original_name=rec.original_name or "the video",
        task=task,
        side=side,
        view=rec.view,
        intake=visit_intake(visit),
        sex=patient.sex,
        doses=patient_doses(patient),
        lens_height_m=None if rec.lens_height_cm is None else rec.lens_height_cm / 100.0,
        camera_distance_m=rec.camera_distance_m,
        patient_height_m=None if patient.height_cm is None else patient.height_cm / 100.0,
    )


def _fenced(db: Session, claim: ClaimedJob, **values: Any) -> bool:
    """Update the claimed job if this worker still holds its lease; commit."""
    count = rowcount(
        db.execute(
            update(Job)
            .where(
                Job.id == claim.job_id,
                Job.lease_token == claim.lease_token,
                Job.status == "running",
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    )
    db.commit()
    return count == 1


@dataclass
class _Heartbeat:
    """Renews the lease and stores progress every ``interval`` seconds in a thread."""

    sessions: sessionmaker[Session]
    claim: ClaimedJob
    settings: WebSettings
    interval: float
    progress: float = 0.0
    stage: str = "estimating pose"
    lost: threading.Event = field(default_factory=threading.Event)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="lease-heartbeat", daemon=True)
        self._thread.start()

    def beat(self) -> None:
        expires = utcnow() + dt.timedelta(seconds=self.settings.lease_seconds)
        with self.sessions() as db:
            held = _fenced(
                db,
                self.claim,
                lease_expires_at=expires,
                progress=round(self.progress, 3),
                stage=self.stage[:64],
            )
        if not held:
            self.lost.set()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.beat()
            except Exception:
                log.exception("heartbeat of job %d failed; retrying", self.claim.job_id)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


def process_job(
    claim: ClaimedJob,
    sessions: sessionmaker[Session],
    settings: WebSettings,
    analyze: AnalyzeFn,
    stop: threading.Event | None = None,
) -> str:
    """Run the analysis of one claimed job and record its outcome.

    Parameters
    ----------
    claim
        The job, as returned by :func:`claim_next`.
    sessions
        Session factory.
    settings
        Data folder, lease length, whether videos are kept.
    analyze
        The analysis function (``screener.analyze`` in production).
    stop
        Set when the worker should stop: the job is handed back to the queue.

    Returns
    -------
    str
        ``done``, ``failed``, ``requeued`` or ``lost`` (the lease was taken over).
    """
    log.info("job %d: attempt %d started", claim.job_id, claim.attempt)
    beat = _Heartbeat(sessions, claim, settings, interval=min(settings.lease_seconds / 4, 2.0))
    staging = settings.results_dir / f".staging-{claim.job_id}-{claim.lease_token[:8]}"
    name = storage.result_name(claim.job_id, claim.attempt)
    outcome = "failed"

    def on_progress(done: int, total: int) -> None:
        if beat.lost.is_set():
            raise LeaseLostError(f"job {claim.job_id}")
        if stop is not None and stop.is_set():
            raise WorkerStoppingError(f"job {claim.job_id}")
        beat.progress = POSE_SHARE * done / total if total else 0.0

    workdir = attempt_workdir(settings, claim)
    beat.start()
    try:
        video = _named_copy(_video_of(claim, settings), claim.original_name, workdir)
        beat.stage = "estimating pose"
        beat.beat()
        result = analyze(
            video,
            task=claim.task,
            side=claim.side,
            view=claim.view,
            intake=claim.intake,
            sex=claim.sex,
            lens_height_m=claim.lens_height_m,
            camera_distance_m=claim.camera_distance_m,
            patient_height_m=claim.patient_height_m,
            config=_analysis_config(settings, claim.doses),
            progress=on_progress,
        )
        if beat.lost.is_set():
            raise LeaseLostError(f"job {claim.job_id}")
        beat.progress, beat.stage = 0.9, "writing the report"
        beat.beat()
        shutil.rmtree(staging, ignore_errors=True)
        result.write(staging, report=True, pdf=True)
        storage.publish_result_dir(staging, storage.result_path(settings, name))
        beat.stop()
        with sessions() as db:
            held = _fenced(
                db,
                claim,
                status="done",
                stage="done",
                progress=1.0,
                result_dir=name,
                lease_token=None,
                finished_at=utcnow(),
            )
        if not held:
            raise LeaseLostError(f"job {claim.job_id}")
        outcome = "done"
    except ScreenerError as exc:
        message = exc.one_line()
        if exc.path:  # show the clinician's file name, not the generated one
            message = message.replace(exc.path, claim.original_name)
        outcome = _finish_failed(sessions, claim, message)
    except LeaseLostError:
        outcome = "lost"
    except WorkerStoppingError:
        outcome = _hand_back(sessions, claim)
    except Exception as exc:
        log.exception("job %d: internal error", claim.job_id)
        outcome = _finish_failed(
            sessions,
            claim,
            f"internal error of the analysis ({type(exc).__name__}); "
            "the worker log in the data folder has the details",
        )
    finally:
        beat.stop()
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(workdir, ignore_errors=True)
    if outcome == "lost":
        log.warning("job %d: lease lost; another worker finishes it", claim.job_id)
        shutil.rmtree(settings.results_dir / name, ignore_errors=True)
    elif outcome in ("done", "failed") and not settings.keep_videos:
        _delete_video(sessions, claim, settings)
    log.info("job %d: %s", claim.job_id, outcome)
    return outcome


def attempt_workdir(settings: WebSettings, claim: ClaimedJob) -> Path:
    """The private folder of one attempt (the video under its original name)."""
    return settings.tmp_dir / f"job{claim.job_id}-{claim.lease_token[:8]}"


def clean_attempt_folders(db: Session, settings: WebSettings) -> int:
    """Delete the folders of attempts that no live lease holds (left by killed workers).

    Parameters
    ----------
    db
        A session.
    settings
        The data folder.

    Returns
    -------
    int
        Folders removed.

    Notes
    -----
    A folder is kept while its job is running under a lease token that starts with the
    folder's 8 characters and has not expired: another worker may be using it.
    """
    now = utcnow()
    held = {
        (job_id, token[:8])
        for job_id, token in db.execute(
            select(Job.id, Job.lease_token).where(
                Job.status == "running",
                Job.lease_token.is_not(None),
                Job.lease_expires_at >= now,
            )
        )
        if token
    }
    removed = 0
    for folder in (settings.tmp_dir, settings.results_dir):
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            match = _ATTEMPT_DIR.match(path.name)
            if not match or not path.is_dir():
                continue
            if (int(match.group(1)), match.group(2)) in held:
                continue
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    if removed:
        log.info("removed %d folder(s) of interrupted attempts", removed)
    return removed


def record_heartbeat(db: Session, worker_id: str) -> None:
    """Record that a worker is alive now (commits)."""
    now = utcnow()
    updated = rowcount(
        db.execute(
            update(WorkerHeartbeat)
            .where(WorkerHeartbeat.worker_id == worker_id)
            .values(seen_at=now)
            .execution_options(synchronize_session=False)
        )
    )
    if not updated:
        db.add(WorkerHeartbeat(worker_id=worker_id, started_at=now, seen_at=now))
    db.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.seen_at < now - FORGET_WORKER_AFTER))
    db.commit()


def forget_worker(db: Session, worker_id: str) -> None:
    """Remove a worker's heartbeat (it stopped; commits)."""
    db.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.worker_id == worker_id))
    db.commit()


def release_jobs_of(db: Session, worker_id: str) -> int:
    """End the leases of a worker known to be dead, so its jobs are re-queued at once.

    Parameters
    ----------
    db
        A session (committed here).
    worker_id
        The dead worker's id (:func:`make_worker_id` of its process).

    Returns
    -------
    int
        Jobs released (the next poll of any worker re-queues them).
    """
    now = utcnow()
    released = rowcount(
        db.execute(
            update(Job)
            .where(Job.worker_id == worker_id, Job.status == "running")
            .values(lease_expires_at=now - dt.timedelta(seconds=1))
            .execution_options(synchronize_session=False)
        )
    )
    forget_worker(db, worker_id)
    return released


@dataclass(frozen=True)
class QueueHealth:
    """Live workers and the jobs that need one."""

    live_workers: int
    waiting_jobs: int

    @property
    def stalled(self) -> bool:
        """Jobs wait and no worker is alive to run them."""
        return self.waiting_jobs > 0 and self.live_workers == 0


def queue_health(db: Session, settings: WebSettings) -> QueueHealth:
    """Count the workers seen within ``worker_stale_seconds`` and the queued or running jobs."""
    since = utcnow() - dt.timedelta(seconds=settings.worker_stale_seconds)
    live = db.scalar(
        select(func.count()).select_from(WorkerHeartbeat).where(WorkerHeartbeat.seen_at >= since)
    )
    waiting = db.scalar(
        select(func.count()).select_from(Job).where(Job.status.in_(("queued", "running")))
    )
    return QueueHealth(int(live or 0), int(waiting or 0))


def worker_alive(db: Session, settings: WebSettings) -> bool:
    """Whether any worker sent a heartbeat within ``worker_stale_seconds``."""
    return queue_health(db, settings).live_workers > 0


class _WorkerHeartbeatThread:
    """Records the worker's heartbeat every ``worker_heartbeat_seconds`` in a thread."""

    def __init__(
        self, sessions: sessionmaker[Session], settings: WebSettings, worker_id: str
    ) -> None:
        self.sessions = sessions
        self.interval = settings.worker_heartbeat_seconds
        self.worker_id = worker_id
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="worker-heartbeat", daemon=True)

    def start(self) -> None:
        with self.sessions() as db:
            record_heartbeat(db, self.worker_id)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                with self.sessions() as db:
                    record_heartbeat(db, self.worker_id)
            except Exception:
                log.exception("worker heartbeat failed; retrying")

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        try:
            with self.sessions() as db:
                forget_worker(db, self.worker_id)
        except Exception:
            log.exception("could not remove the worker heartbeat")


def _video_of(claim: ClaimedJob, settings: WebSettings) -> Path:
    from screener.errors import VideoError

    if claim.stored_name is None:
        raise VideoError(
            "the original video was deleted after an earlier analysis",
            remedy="Upload the recording again to analyse it again.",
        )
    path = storage.upload_path(settings, claim.stored_name)
    if not path.is_file():
        raise VideoError(
            "the uploaded video is missing from the data folder",
            remedy="Upload the recording again.",
        )
    return path


def _named_copy(video: Path, original_name: str, workdir: Path) -> Path:
    """Link the stored video under its original (sanitised) name for the report's header.

    The stored file keeps its generated name; the link lives in a private folder of the
    job inside the data folder and is removed when the job ends.
    """
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(original_name).stem).strip("._")[:80]
    workdir.mkdir(parents=True, exist_ok=True)
    target = workdir / f"{stem or 'video'}{video.suffix}"
    try:
        os.link(video, target)
    except OSError:
        shutil.copyfile(video, target)
    return target


def _analysis_config(settings: WebSettings, doses: dict[str, Any] | None = None) -> Any:
    """The analysis settings: the data folder's keypoint cache, the patient's doses."""
    from screener.config import AnalysisConfig

    default = AnalysisConfig(cache_dir=settings.cache_dir)
    if not doses:
        return default
    return default.model_copy(update={"dose_overrides": {**default.dose_overrides, **doses}})


def _finish_failed(sessions: sessionmaker[Session], claim: ClaimedJob, message: str) -> str:
    with sessions() as db:
        held = _fenced(
            db,
            claim,
            status="failed",
            stage="failed",
            error=message[:2000],
            lease_token=None,
            finished_at=utcnow(),
        )
    log.info("job %d failed: %s", claim.job_id, message)
    return "failed" if held else "lost"


def _hand_back(sessions: sessionmaker[Session], claim: ClaimedJob) -> str:
    with sessions() as db:
        held = _fenced(
            db,
            claim,
            status="queued",
            stage="waiting for a worker (previous worker stopped)",
            progress=0.0,
            attempts=Job.attempts - 1,
            lease_token=None,
            lease_expires_at=None,
            worker_id=None,
        )
    return "requeued" if held else "lost"


def _delete_video(
    sessions: sessionmaker[Session], claim: ClaimedJob, settings: WebSettings
) -> None:
    with sessions() as db:
        job = db.get(Job, claim.job_id)
        if job is None:
            return
        rec = job.recording
        if rec.stored_name:
            storage.remove_files(settings, [rec.stored_name], [])
            rec.stored_name = None
            db.commit()
            log.info("job %d: original video deleted (keep_videos is off)", claim.job_id)


def make_worker_id() -> str:
    """Identify this worker process in the job table (host and process id)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def run_worker(
    sessions: sessionmaker[Session],
    settings: WebSettings,
    analyze: AnalyzeFn | None = None,
    *,
    stop: threading.Event | None = None,
    once: bool = False,
    max_jobs: int | None = None,
) -> int:
    """Process jobs until stopped.

    Parameters
    ----------
    sessions
        Session factory of a migrated database.
    settings
        The web settings.
    analyze
        Analysis function; ``screener.analyze`` if None.
    stop
        Set it to stop the loop (a running job is handed back to the queue).
    once
        Return when the queue is empty instead of polling.
    max_jobs
        Return after this many jobs.

    Returns
    -------
    int
        The number of jobs processed.
    """
    stop = stop or threading.Event()
    worker_id = make_worker_id()
    fn = analyze or default_analyze()
    processed = 0
    heartbeat = _WorkerHeartbeatThread(sessions, settings, worker_id)
    heartbeat.start()
    log.info("worker %s started", worker_id)
    try:
        with sessions() as db:
            requeue_stale(db, settings)
            clean_attempt_folders(db, settings)
        while not stop.is_set():
            with sessions() as db:
                requeue_stale(db, settings)
                claim = claim_next(db, settings, worker_id)
            if claim is None:
                if once:
                    break
                stop.wait(settings.poll_seconds)
                continue
            process_job(claim, sessions, settings, fn, stop)
            processed += 1
            if max_jobs is not None and processed >= max_jobs:
                break
    finally:
        heartbeat.stop()
    log.info("worker %s stopped after %d job(s)", worker_id, processed)
    return processed
