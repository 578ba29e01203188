"""Worker liveness: heartbeats, /healthz, the job page, dead workers' jobs and folders."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from screener.web import jobs
from screener.web.models import Job, utcnow
from screener.web.runtime_models import WorkerHeartbeat
from screener.web.settings import WebSettings
from tests.web.helpers import Clinician, FakeAnalysis, make_recording, make_world


def _age_heartbeats(sessions: Any, seconds: float) -> None:
    with sessions() as s:
        s.execute(update(WorkerHeartbeat).values(seen_at=utcnow() - dt.timedelta(seconds=seconds)))
        s.commit()


def test_healthz_is_not_ok_when_jobs_wait_without_a_worker(
    settings: WebSettings, sessions: Any, alice: Clinician, anonymous: TestClient
) -> None:
    idle = anonymous.get("/healthz")
    assert idle.status_code == 200
    assert idle.json() == {"status": "ok", "live_workers": 0, "waiting_jobs": 0}
    make_world(sessions, settings, alice.user, analyse=False)
    stalled = anonymous.get("/healthz")
    assert stalled.status_code == 503
    assert stalled.json() == {"status": "no worker", "live_workers": 0, "waiting_jobs": 1}
    with sessions() as s:
        jobs.record_heartbeat(s, "host:1")
    served = anonymous.get("/healthz")
    assert served.status_code == 200
    assert served.json() == {"status": "ok", "live_workers": 1, "waiting_jobs": 1}
    _age_heartbeats(sessions, settings.worker_stale_seconds + 1)
    assert anonymous.get("/healthz").status_code == 503  # the worker went silent
    with sessions() as s:
        jobs.record_heartbeat(s, "host:1")
    jobs.run_worker(sessions, settings, FakeAnalysis(), once=True, stop=threading.Event())
    done = anonymous.get("/healthz").json()
    assert done["waiting_jobs"] == 0 and done["status"] == "ok"


def test_job_page_says_when_no_worker_runs(
    settings: WebSettings, sessions: Any, alice: Clinician
) -> None:
    world = make_world(sessions, settings, alice.user, analyse=False)
    page = alice.client.get(f"/recordings/{world.recording_id}").text
    assert 'id="no-worker" role="alert">No worker running' in page
    status = alice.client.get(f"/recordings/{world.recording_id}/status").json()
    assert status["status"] == "queued" and status["worker_running"] is False
    with sessions() as s:
        jobs.record_heartbeat(s, "host:2")
    page = alice.client.get(f"/recordings/{world.recording_id}").text
    assert 'id="no-worker" role="alert" hidden>' in page
    status = alice.client.get(f"/recordings/{world.recording_id}/status").json()
    assert status["worker_running"] is True


def test_a_worker_records_its_heartbeat_while_it_runs_and_removes_it_at_exit(
    settings: WebSettings, sessions: Any
) -> None:
    fast = settings.model_copy(update={"worker_heartbeat_seconds": 0.05})
    stop = threading.Event()
    thread = threading.Thread(
        target=jobs.run_worker, args=(sessions, fast, FakeAnalysis()), kwargs={"stop": stop}
    )
    thread.start()
    try:
        seen = []
        for _ in range(200):
            with sessions() as s:
                seen = list(s.scalars(select(WorkerHeartbeat.seen_at)))
            if len(seen) == 1 and seen[0] > utcnow() - dt.timedelta(seconds=0.5):
                break
            stop.wait(0.05)
        first = seen[0]
        for _ in range(200):  # it keeps beating while idle
            with sessions() as s:
                if s.scalar(select(WorkerHeartbeat.seen_at)) > first:
                    break
            stop.wait(0.05)
        else:
            raise AssertionError("no second heartbeat")
    finally:
        stop.set()
        thread.join(timeout=30)
    with sessions() as s:
        assert s.scalars(select(WorkerHeartbeat)).all() == []


def test_a_dead_workers_jobs_are_released_at_once(
    settings: WebSettings, sessions: Any, alice: Clinician
) -> None:
    world = make_world(sessions, settings, alice.user, analyse=False)
    with sessions() as s:
        claim = jobs.claim_next(s, settings, "host:4242")
        jobs.record_heartbeat(s, "host:4242")
    assert claim is not None and claim.job_id == 1
    with sessions() as s:
        assert jobs.requeue_stale(s, settings) == 0  # its lease still runs
        assert jobs.release_jobs_of(s, "host:4242") == 1
        assert s.scalars(select(WorkerHeartbeat)).all() == []
        assert jobs.requeue_stale(s, settings) == 1
    jobs.run_worker(sessions, settings, FakeAnalysis(), once=True, stop=threading.Event())
    page = alice.client.get(f"/api/recordings/{world.recording_id}").json()
    assert page["job"]["status"] == "done" and page["job"]["attempts"] == 2


def test_a_starting_worker_removes_folders_of_interrupted_attempts(
    settings: WebSettings, sessions: Any, alice: Clinician
) -> None:
    world = make_world(sessions, settings, alice.user, analyse=False)
    make_recording(sessions, settings, world.visit_id)
    with sessions() as s:
        held = jobs.claim_next(s, settings, "other-host:7")  # a live worker elsewhere
    assert held is not None
    settings.ensure_dirs()
    live_tmp = jobs.attempt_workdir(settings, held)
    live_staging = settings.results_dir / f".staging-{held.job_id}-{held.lease_token[:8]}"
    orphans = [
        settings.tmp_dir / "job2-0badc0de",
        settings.results_dir / ".staging-2-0badc0de",
        settings.tmp_dir / f"job{held.job_id}-deadbeef",  # an earlier attempt of the same job
    ]
    kept = [live_tmp, live_staging, settings.tmp_dir / "upload-in-progress"]
    for folder in orphans + kept:
        folder.mkdir(parents=True)
        (folder / "clip.mp4").write_bytes(b"x")
    jobs.run_worker(sessions, settings, FakeAnalysis(), once=True, stop=threading.Event())
    assert [p for p in orphans if p.exists()] == []
    assert all(p.is_dir() for p in kept)
    with sessions() as s:  # the held job's lease ends: its folders go at the next start
        s.execute(
            update(Job)
            .where(Job.id == held.job_id)
            .values(lease_expires_at=utcnow() - dt.timedelta(seconds=1))
        )
        s.commit()
        assert jobs.clean_attempt_folders(s, settings) == 2
    assert not live_tmp.exists() and not live_staging.exists()


def test_healthz_says_when_the_database_does_not_answer(app: Any, tmp_path: Any) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker

    app.state.sessions = sessionmaker(create_engine(f"sqlite:///{tmp_path}/no/such/dir/x.db"))
    with TestClient(app) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "database unavailable"}
