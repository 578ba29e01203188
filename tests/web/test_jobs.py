"""The job queue: atomic claims, leases, recovery after a killed worker, outcomes on the pages.

The analysis is injected (:class:`FakeAnalysis`) so these tests exercise the queue and
lease logic alone; ``test_e2e_video.py`` runs the real analysis.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

import screener
from screener.errors import NoPersonError
from screener.web import jobs, services, storage
from screener.web.models import Job, Patient, Recording, Visit, utcnow
from screener.web.settings import WebSettings
from tests.web.helpers import (
    Clinician,
    FakeAnalysis,
    World,
    make_recording,
    make_world,
    run_jobs,
    walk_summary,
)


def _job(sessions: Any, job_id: int) -> Job:
    with sessions() as s:
        job = s.get(Job, job_id)
        assert job is not None
        return job


def _expire_lease(sessions: Any, job_id: int) -> None:
    with sessions() as s:
        s.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(lease_expires_at=utcnow() - dt.timedelta(seconds=1))
        )
        s.commit()


def test_claims_are_atomic_under_concurrency(
    sessions: Any, settings: WebSettings, alice: Clinician
) -> None:
    world = make_world(sessions, settings, alice.user, analyse=False)
    for _ in range(7):
        make_recording(sessions, settings, world.visit_id)
    claimed: list[int] = []
    lock = threading.Lock()

    def claimer(name: str) -> None:
        while True:
            with sessions() as s:
                claim = jobs.claim_next(s, settings, name)
            if claim is None:
                return
            with lock:
                claimed.append(claim.job_id)

    threads = [threading.Thread(target=claimer, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == list(range(1, 9))  # every job once, none twice


def test_done_job_shows_flags_plan_and_report(
    alice: Clinician, sessions: Any, settings: WebSettings
) -> None:
    analysis = FakeAnalysis()
    world = make_world(sessions, settings, alice.user, analyse=False)
    assert run_jobs(sessions, settings, analysis) == 1
    call = analysis.calls[0]
    assert (call["task"], call["side"], call["view"]) == ("walk", "auto", "auto")
    assert (call["intake"]["running_pain"], call["sex"]) == (6.0, "female")
    assert call["intake"]["first_line_care"] == ["unspecified"]
    assert Path(call["config"].cache_dir).is_relative_to(settings.data_dir)
    job = _job(sessions, 1)
    assert (job.status, job.progress, job.attempts, job.lease_token) == ("done", 1.0, 1, None)
    page = alice.client.get(f"/recordings/{world.recording_id}")
    assert "Contralateral pelvic drop" in page.text and "moderate" in page.text
    assert "Test plan message." in page.text
    assert f'src="/recordings/{world.recording_id}/report.html"' in page.text
    pdf = alice.client.get(f"/recordings/{world.recording_id}/report.pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert "RUN-001" in pdf.headers["content-disposition"]
    html = alice.client.get(f"/recordings/{world.recording_id}/report.html")
    assert "Fake report" in html.text
    assert "script-src" not in html.headers["content-security-policy"]  # no scripts at all
    assert 'id="capture-warnings"' not in page.text  # the fake result noticed nothing


@pytest.mark.parametrize("height_cm,height_m", [("150", 1.5), ("187.5", 1.875), ("", None)])
def test_the_patients_height_reaches_the_analysis_in_metres(
    height_cm: str,
    height_m: float | None,
    alice: Clinician,
    sessions: Any,
    settings: WebSettings,
) -> None:
    """The height in the patient's record (cm) is passed as ``patient_height_m``; a
    patient without one is analysed with None (the report then says it was not taken
    into account)."""
    world = make_world(sessions, settings, alice.user, analyse=False)
    with sessions() as s:
        patient = s.get(Patient, world.patient_id)
        services.update_patient(s, patient, patient.code, patient.sex, height_cm=height_cm)
    analysis = FakeAnalysis()
    assert run_jobs(sessions, settings, analysis) == 1
    (call,) = analysis.calls
    assert "patient_height_m" in call
    if height_m is None:
        assert call["patient_height_m"] is None
    else:
        assert call["patient_height_m"] == pytest.approx(height_m)
    assert call["sex"] == "female"  # the rest of the record still reaches it


def test_a_recordings_warnings_are_on_its_page(
    alice: Clinician, sessions: Any, settings: WebSettings
) -> None:
    """What the screener noticed about a recording (each with what to do) is listed on
    the recording's page beside the flags, escaped, not only inside the report."""
    summary = walk_summary({"left": 6.0, "right": 2.0})
    summary["quality"] = {
        "warnings": ["the patient's top seems to cover the hips: tuck the top in & film again"]
    }
    world = make_world(sessions, settings, alice.user, analyse=False)
    assert run_jobs(sessions, settings, FakeAnalysis(summary=summary)) == 1
    page = alice.client.get(f"/recordings/{world.recording_id}").text
    assert 'id="capture-warnings"' in page
    assert "tuck the top in &amp; film again" in page


def test_a_flags_severity_span_is_on_the_recordings_page(
    alice: Clinician, sessions: Any, settings: WebSettings
) -> None:
    """A flag whose uncertainty reaches other grades says which, beside its grade; one
    that stays in its band says nothing more."""
    summary = walk_summary({"left": 8.0, "right": 2.0})
    wide = {**summary["faults"][0], "verdict": "flag"}
    wide.update(severity_low="none", severity_high="severe")
    narrow = {**wide, "side": "right", "severity_low": "moderate", "severity_high": "moderate"}
    summary["faults"] = [wide, narrow]
    world = make_world(sessions, settings, alice.user, analyse=False)
    assert run_jobs(sessions, settings, FakeAnalysis(summary=summary)) == 1
    page = alice.client.get(f"/recordings/{world.recording_id}").text
    assert page.count("could be below the threshold to severe") == 1
    assert page.count("could be ") == 1


class SyntheticWalkAnalysis:
    """The real screen (flags, plan, report files) of a generated walk, with the worker's
    answers: what the recording's report says follows from what the worker passed."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, video: Any, **kwargs: Any) -> Any:
        from tests.synthetic import perspective_sequence, walk_toward_camera

        self.calls.append(kwargs)
        kwargs.pop("progress")
        pose = perspective_sequence(walk_toward_camera()[0], fps=30.0, duration_s=4.0)
        config = kwargs.pop("config").model_copy(update={"cache_dir": None})
        return screener.analyze_pose(pose, config=config, **kwargs)


def test_the_worker_passes_the_visits_whole_intake_and_doses(
    alice: Clinician, sessions: Any, settings: WebSettings
) -> None:
    world = make_world(sessions, settings, alice.user, analyse=False)
    answers = services.VisitAnswers(
        pain=6,
        rest_pain=2,
        pain_onset="4 km",
        weekly_volume_km=35,
        first_line_care=["nsaids", "load_modification"],
        first_line_weeks=5,
        red_flags=["night_pain"],
    )
    with sessions() as s:
        visit = s.get(Visit, world.visit_id)
        services.update_visit(s, visit, None, answers)
        patient = s.get(Patient, world.patient_id)
        services.set_patient_doses(s, patient, {"clamshell": {"sets": 4}})
    analysis = SyntheticWalkAnalysis()
    assert run_jobs(sessions, settings, analysis) == 1  # type: ignore[arg-type]
    summary = alice.client.get(f"/api/recordings/{world.recording_id}").json()["summary"]
    assert summary["plan"]["status"] == "refer"  # a red flag: refer, not the exercise plan
    assert summary["intake"]["rest_pain"] == 2 and summary["intake"]["pain_onset"] == "4 km"
    assert summary["intake"]["first_line_care"] == ["nsaids", "load_modification"]
    assert summary["intake"]["first_line_weeks"] == 5
    assert summary["plan"]["dose_overrides"] == {"clamshell": {"sets": 4}}
    report = alice.client.get(f"/recordings/{world.recording_id}/report.html").text
    assert "Refer: A red flag was reported" in report
    assert "knee pain that wakes the patient at night" in report
    with sessions() as s:  # the visit's own screen says the same
        visit_screen = services.screen_of_visit(settings, s.get(Visit, world.visit_id))
    assert visit_screen is not None and visit_screen["plan"]["status"] == "refer"
    assert analysis.calls[0]["intake"]["red_flags"] == ["night_pain"]


def test_single_leg_squat_kinds_pass_the_stance_side(
    alice: Clinician, sessions: Any, settings: WebSettings
) -> None:
    world = make_world(sessions, settings, alice.user, analyse=False)
    make_recording(sessions, settings, world.visit_id, kind="sls_left")
    make_recording(sessions, settings, world.visit_id, kind="sls_right")
    analysis = FakeAnalysis()
    run_jobs(sessions, settings, analysis)
    assert [(c["task"], c["side"]) for c in analysis.calls] == [
        ("walk", "auto"),
        ("sls", "left"),
        ("sls", "right"),
    ]


def test_failed_job_shows_the_one_line_error(
    alice: Clinician, sessions: Any, settings: WebSettings
) -> None:
    world = make_world(sessions, settings, alice.user, analyse=False)

    def no_person(progress: Any) -> None:
        raise NoPersonError(
            "no person found in 0 of 30 frames",
            path=str(analysis.calls[-1]["video"]),
            remedy="Film the whole body.",
        )

    analysis = FakeAnalysis(on_call=no_person)
    run_jobs(sessions, settings, analysis)
    job = _job(sessions, 1)
    assert job.status == "failed"
    assert job.error == "clip.mp4: no person found in 0 of 30 frames. Film the whole body."
    page = alice.client.get(f"/recordings/{world.recording_id}")
    assert job.error in page.text and "Analyse again" in page.text
    api = alice.client.get(f"/api/recordings/{world.recording_id}").json()
    assert api["job"]["error"] == job.error and api["summary"] is None
    # retry queues a new job, which can succeed
    assert alice.post(f"/recordings/{world.recording_id}/retry").status_code == 303
    run_jobs(sessions, settings)
    assert _job(sessions, 2).status == "done"


def test_internal_error_is_recorded_not_lost(
    alice: Clinician, sessions: Any, settings: WebSettings
) -> None:
    make_world(sessions, settings, alice.user, analyse=False)
    run_jobs(sessions, settings, FakeAnalysis(error=RuntimeError("boom")))
    job = _job(sessions, 1)
    assert job.status == "failed" and "internal error of the analysis (RuntimeError)" in (
        job.error or ""
    )


def test_missing_video_fails_with_a_clear_message(
    alice: Clinician, sessions: Any, settings: WebSettings
) -> None:
    make_world(sessions, settings, alice.user, analyse=False)
    for path in settings.uploads_dir.iterdir():
        path.unlink()
    run_jobs(sessions, settings)
    assert "missing from the data folder" in (_job(sessions, 1).error or "")


def test_killed_worker_job_is_requeued_and_finished(
    alice: Clinician, sessions: Any, settings: WebSettings
) -> None:
    world = make_world(sessions, settings, alice.user, analyse=False)
    with sessions() as s:  # a worker claims the job, then dies without a trace
        dead = jobs.claim_next(s, settings, "dead-worker")
    assert dead is not None and _job(sessions, dead.job_id).status == "running"
    with sessions() as s:  # its lease is still valid: nothing to recover yet
        assert jobs.requeue_stale(s, settings) == 0
    assert run_jobs(sessions, settings) == 0
    _expire_lease(sessions, dead.job_id)
    assert run_jobs(sessions, settings) == 1  # a new worker re-queues and finishes it
    job = _job(sessions, dead.job_id)
    assert (job.status, job.attempts) == ("done", 2)
    assert job.worker_id != "dead-worker"
    assert job.result_dir == storage.result_name(job.id, 2)
    # the dead worker, should it wake up, cannot overwrite the outcome
    with sessions() as s:
        assert not jobs._fenced(s, dead, status="failed", error="stale")
    assert _job(sessions, dead.job_id).status == "done"
    assert "Contralateral pelvic drop" in alice.client.get(f"/recordings/{world.recording_id}").text


def test_worker_that_lost_its_lease_discards_its_result(
    alice: Clinician, sessions: Any, settings: WebSettings
) -> None:
    make_world(sessions, settings, alice.user, analyse=False)
    with sessions() as s:
        slow = jobs.claim_next(s, settings, "slow-worker")
    assert slow is not None

    def taken_over(progress: Any) -> None:
        _expire_lease(sessions, slow.job_id)
        assert run_jobs(sessions, settings) == 1  # another worker takes over and finishes

    outcome = jobs.process_job(slow, sessions, settings, FakeAnalysis(on_call=taken_over))
    assert outcome == "lost"
    job = _job(sessions, slow.job_id)
    assert (job.status, job.result_dir) == ("done", storage.result_name(job.id, 2))
    assert not (settings.results_dir / storage.result_name(job.id, 1)).exists()
    assert [p.name for p in settings.results_dir.iterdir()] == [job.result_dir]


def test_heartbeat_keeps_a_long_job_leased(
    alice: Clinician, sessions: Any, settings: WebSettings
) -> None:
    short = settings.model_copy(update={"lease_seconds": 0.8})
    make_world(sessions, short, alice.user, analyse=False)
    requeued: list[int] = []

    def slow(progress: Any) -> None:
        for _ in range(8):  # 2 s, well past the 0.8 s lease
            time.sleep(0.25)
            with sessions() as s:
                requeued.append(jobs.requeue_stale(s, short))

    run_jobs(sessions, short, FakeAnalysis(on_call=slow))
    job = _job(sessions, 1)
    assert (job.status, job.attempts) == ("done", 1)
    assert sum(requeued) == 0


def test_progress_is_reported_while_running(
    alice: Clinician, sessions: Any, settings: WebSettings
) -> None:
    world = make_world(sessions, settings, alice.user, analyse=False)
    seen: list[dict[str, Any]] = []

    def look(progress: Any) -> None:
        progress(8, 10)
        time.sleep(2.3)  # one heartbeat (every 2 s) stores the progress
        seen.append(alice.client.get(f"/recordings/{world.recording_id}/status").json())

    run_jobs(sessions, settings, FakeAnalysis(on_call=look))
    assert seen[0]["status"] == "running"
    assert seen[0]["progress"] == round(jobs.POSE_SHARE * 0.8, 3)
    assert seen[0]["stage"] == "estimating pose"


def test_job_interrupted_too_often_fails(
    alice: Clinician, sessions: Any, settings: WebSettings
) -> None:
    make_world(sessions, settings, alice.user, analyse=False)
    for _ in range(settings.max_attempts):
        with sessions() as s:
            claim = jobs.claim_next(s, settings, "crashing-worker")
        assert claim is not None
        _expire_lease(sessions, claim.job_id)
        with sessions() as s:
            jobs.requeue_stale(s, settings)
    job = _job(sessions, 1)
    assert job.status == "failed"
    assert f"interrupted {settings.max_attempts} times" in (job.error or "")


def test_stopping_worker_hands_the_job_back(
    alice: Clinician, sessions: Any, settings: WebSettings
) -> None:
    make_world(sessions, settings, alice.user, analyse=False)
    stop = threading.Event()

    def stop_now(progress: Any) -> None:
        stop.set()
        progress(6, 10)  # the next progress report notices the stop

    jobs.run_worker(sessions, settings, FakeAnalysis(on_call=stop_now), stop=stop, once=True)
    job = _job(sessions, 1)
    assert (job.status, job.attempts, job.lease_token) == ("queued", 0, None)
    run_jobs(sessions, settings)
    assert _job(sessions, 1).status == "done"


def test_videos_deleted_after_analysis_when_not_kept(
    alice: Clinician, sessions: Any, settings: WebSettings
) -> None:
    discard = settings.model_copy(update={"keep_videos": False})
    world = make_world(sessions, discard, alice.user)
    assert list(discard.uploads_dir.iterdir()) == []
    with sessions() as s:
        assert s.get(Recording, world.recording_id).stored_name is None
    page = alice.client.get(f"/recordings/{world.recording_id}").text
    assert "original video deleted after analysis" in page
    assert "Contralateral pelvic drop" in page  # results are kept
    retry = alice.post(f"/recordings/{world.recording_id}/retry")
    assert retry.status_code == 409


def test_videos_kept_by_default(alice: Clinician, world: World, settings: WebSettings) -> None:
    assert len(list(settings.uploads_dir.iterdir())) == 1


def test_pending_job_page_polls_for_progress(
    alice: Clinician, sessions: Any, settings: WebSettings
) -> None:
    world = make_world(sessions, settings, alice.user, analyse=False)
    page = alice.client.get(f"/recordings/{world.recording_id}").text
    assert f'data-status-url="/recordings/{world.recording_id}/status"' in page
    assert alice.client.get(f"/recordings/{world.recording_id}/status").json()["status"] == "queued"
