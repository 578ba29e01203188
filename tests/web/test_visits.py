"""Visits as a PT uses them: intake answers, edits that change the plan, deletion with
confirmation, visit-level documents, retakes, the patient's doses, password and admin."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from screener.web import services
from screener.web.models import Patient, Recording, User, Visit
from screener.web.settings import WebSettings
from tests.web.helpers import (
    PASSWORD,
    Clinician,
    FakeAnalysis,
    World,
    count_rows,
    make_recording,
    run_jobs,
    walk_summary,
)

INTAKE = {
    "visit_date": "2025-06-03",
    "pain": "7",
    "rest_pain": "1",
    "pain_onset": "5 km",
    "weekly_volume_km": "30",
    "first_line_care": ["activity_reduction", "cross_training"],
    "first_line_weeks": "3",
    "notes": "half-marathon in May",
}


def _new_visit(alice: Clinician, world: World, **extra: Any) -> int:
    response = alice.post(f"/patients/{world.patient_id}/visits", {**INTAKE, **extra})
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


def test_the_intake_is_stored_and_shown(alice: Clinician, world: World, sessions: Any) -> None:
    vid = _new_visit(alice, world)
    with sessions() as s:
        visit = s.get(Visit, vid)
        assert (visit.pain, visit.rest_pain, visit.pain_onset) == (7, 1, "5 km")
        assert visit.first_line_care == "activity_reduction,cross_training"
        assert visit.first_line_done is True and visit.first_line_weeks == 3
        intake = services.visit_intake(visit)
    assert intake["running_pain"] == 7 and intake["red_flags"] == []
    page = alice.client.get(f"/visits/{vid}").text
    assert "Worst pain running 7/10" in page and "at rest 1/10" in page
    bad = alice.post(f"/patients/{world.patient_id}/visits", {**INTAKE, "red_flags": "headache"})
    assert bad.status_code == 400 and "unknown red flag" in bad.text
    bad = alice.post(f"/patients/{world.patient_id}/visits", {**INTAKE, "rest_pain": "12"})
    assert bad.status_code == 400 and "pain at rest must be from 0 to 10" in bad.text


def test_editing_the_pain_changes_the_visit_plan(
    alice: Clinician, world: World, sessions: Any, settings: WebSettings
) -> None:
    vid = _new_visit(alice, world)
    make_recording(sessions, settings, vid)
    run_jobs(sessions, settings)
    page = alice.client.get(f"/visits/{vid}").text
    assert "Second-line protocol" in page and "7/10" in page
    edited = alice.post(f"/visits/{vid}/edit", {**INTAKE, "pain": "2"})
    assert edited.status_code == 303
    page = alice.client.get(f"/visits/{vid}").text
    assert "Goal reached" in page and "2/10" in page
    flagged = alice.post(f"/visits/{vid}/edit", {**INTAKE, "red_flags": ["night_pain"]})
    assert flagged.status_code == 303
    page = alice.client.get(f"/visits/{vid}").text
    assert "Refer" in page and "wakes the patient at night" in page
    assert 'id="visit-exercises"' not in page


def test_visit_documents_name_patient_and_date(
    alice: Clinician, world: World, sessions: Any, settings: WebSettings
) -> None:
    vid = _new_visit(alice, world)
    assert alice.client.get(f"/visits/{vid}/report.pdf").status_code == 404  # nothing analysed
    make_recording(sessions, settings, vid)
    run_jobs(sessions, settings)
    html = alice.client.get(f"/visits/{vid}/report.html")
    assert html.status_code == 200 and "RUN-001" in html.text and "2025-06-03" in html.text
    assert "default-src 'none'" in html.headers["content-security-policy"]
    assert "No stills were saved for" in html.text  # the fake analysis saved none: said
    handout = alice.client.get(f"/visits/{vid}/handout.html").text
    assert "Your exercise plan" in handout and "FPPA" not in handout
    for name in ("report", "handout"):
        pdf = alice.client.get(f"/visits/{vid}/{name}.pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        assert f"{name}-RUN-001-2025-06-03.pdf" in pdf.headers["content-disposition"]
        text = subprocess.run(
            ["pdftotext", "-", "-"], input=pdf.content, capture_output=True, check=True
        ).stdout.decode()
        assert "RUN-001" in text and "2025-06-03" in text
    assert list(settings.tmp_dir.glob("*.pdf")) == []  # temporary PDFs are removed


def test_delete_visit_and_recording_ask_first(
    alice: Clinician, world: World, sessions: Any, settings: WebSettings
) -> None:
    confirm = alice.client.get(f"/recordings/{world.recording_id}/delete")
    assert confirm.status_code == 200 and "cannot be undone" in confirm.text
    assert count_rows(sessions, Recording) == 1  # asking deletes nothing
    page = alice.client.get(f"/visits/{world.visit_id}").text
    assert f'href="/recordings/{world.recording_id}/delete"' in page  # a link, not a button
    confirm = alice.client.get(f"/visits/{world.visit_id}/delete")
    assert confirm.status_code == 200 and "1 recording(s)" in confirm.text
    gone = alice.post(f"/visits/{world.visit_id}/delete")
    assert gone.status_code == 303 and gone.headers["location"] == f"/patients/{world.patient_id}"
    assert count_rows(sessions, Visit) == 0 and count_rows(sessions, Recording) == 0
    assert list(settings.uploads_dir.iterdir()) == []


def test_edit_patient_and_patient_doses(
    alice: Clinician, world: World, sessions: Any, settings: WebSettings
) -> None:
    ok = alice.post(f"/patients/{world.patient_id}/edit", {"code": "RUN-9", "sex": "male"})
    assert ok.status_code == 303
    dup = alice.post("/patients", {"code": "OTHER"})
    assert dup.status_code == 303
    clash = alice.post(f"/patients/{world.patient_id}/edit", {"code": "OTHER"})
    assert clash.status_code == 400 and "already have a patient" in clash.text
    doses = alice.post(
        f"/patients/{world.patient_id}/doses",
        {"clamshell.sets": "2", "clamshell.reps": "8", "mule_kick.frequency": "twice a week"},
    )
    assert doses.status_code == 303
    with sessions() as s:
        patient = s.get(Patient, world.patient_id)
        assert (patient.code, patient.sex) == ("RUN-9", "male")
        assert services.patient_doses(patient)["clamshell"] == {"sets": 2, "reps": "8"}
        screen = services.screen_of_visit(settings, s.get(Visit, world.visit_id))
    assert screen is not None
    clam = next(e for e in screen["plan"]["exercises"] if e["id"] == "clamshell")
    assert (clam["dosage"]["sets"], clam["dosage"]["reps"]) == (2, "8")
    assert screen["plan"]["dose_overrides"]["mule_kick"] == {"frequency": "twice a week"}
    bad = alice.post(f"/patients/{world.patient_id}/doses", {"clamshell.sets": "many"})
    assert bad.status_code == 400


def test_a_retake_is_chosen_by_quality_not_averaged(
    alice: Clinician, world: World, sessions: Any, settings: WebSettings
) -> None:
    vid = _new_visit(alice, world)
    poor = walk_summary({"left": 12.0, "right": 2.0})
    poor["quality"] = {"mean_quality": 0.3, "warnings": []}
    good = walk_summary({"left": 6.0, "right": 2.0})
    good["quality"] = {"mean_quality": 0.9, "warnings": []}
    for summary in (poor, good):  # the poor take first: the order does not decide
        make_recording(sessions, settings, vid)
        run_jobs(sessions, settings, FakeAnalysis(summary=summary))
    with sessions() as s:
        screen = services.screen_of_visit(settings, s.get(Visit, vid))
        from screener.web import trends

        series = trends.collect_trends(settings, s.get(Patient, world.patient_id))
    assert screen is not None
    assert [t["used"] for t in screen["takes"]] == [False, True]
    drop = next(s for s in series if s.task == "walk" and s.metric == "pelvic_drop_deg")
    assert drop.points["left"][-1][1] == pytest.approx(6.0)
    assert all(v != pytest.approx(9.0) for _, v in drop.points["left"])  # never (6 + 12) / 2
    page = alice.client.get(f"/visits/{vid}").text
    assert "retake, not used" in page


def test_password_change(alice: Clinician, app: Any) -> None:
    wrong = alice.post(
        "/account/password", {"current": "nope", "new": "x" * 14, "repeat": "x" * 14}
    )
    assert wrong.status_code == 400 and "current password is wrong" in wrong.text
    differ = alice.post(
        "/account/password", {"current": PASSWORD, "new": "x" * 14, "repeat": "y" * 14}
    )
    assert differ.status_code == 400 and "differ" in differ.text
    ok = alice.post("/account/password", {"current": PASSWORD, "new": "n" * 14, "repeat": "n" * 14})
    assert ok.status_code == 200 and "Password changed" in ok.text


def test_admin_reset_and_deactivate(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    from fastapi.testclient import TestClient

    from screener.cli import main
    from screener.web.app import create_app
    from screener.web.settings import load_settings
    from tests.web.helpers import sign_in

    data = str(tmp_path / "data")
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["create-user", "kim", "--password-stdin", "--data-dir", data]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("new password 123\n"))
    assert main(["reset-password", "kim", "--password-stdin", "--data-dir", data]) == 0
    assert main(["reset-password", "nobody", "--password-stdin", "--data-dir", data]) == 1
    app = create_app(load_settings(data_dir=Path(data)))
    with TestClient(app) as client:
        page = client.get("/login")
        from tests.web.helpers import csrf_of

        old = client.post(
            "/login",
            data={"username": "kim", "password": PASSWORD, "csrf_token": csrf_of(page.text)},
            follow_redirects=False,
        )
        assert old.status_code == 401
    monkeypatch.setattr("tests.web.helpers.PASSWORD", "new password 123")
    with TestClient(app) as client:
        sign_in(client, "kim")
        assert client.get("/patients").status_code == 200
        assert main(["deactivate-user", "kim", "--data-dir", data]) == 0
        assert client.get("/patients", follow_redirects=False).status_code in (302, 303, 401)
    with app.state.sessions() as s:
        from sqlalchemy import select

        assert s.scalar(select(User.is_active).where(User.username == "kim")) is False
    assert main(["deactivate-user", "kim", "--reactivate", "--data-dir", data]) == 0
    assert "reactivated" in capsys.readouterr().err


def test_the_walks_lens_height_is_noted_for_the_visits_jog(
    alice: Clinician, world: World, sessions: Any, settings: WebSettings
) -> None:
    vid = _new_visit(alice, world)
    walk = walk_summary({"left": 6.0, "right": 2.0})
    walk["capture"] = {"camera_height_m": 1.6, "camera_height_method": "approach"}
    jog = walk_summary({"left": 3.0, "right": 2.0}, task="jog")
    jog["capture"] = {"camera_height_m": 0.9, "camera_height_method": "horizon"}
    for summary in (walk, jog):
        make_recording(sessions, settings, vid)
        run_jobs(sessions, settings, FakeAnalysis(summary=summary))
    page = alice.client.get(f"/visits/{vid}").text
    assert "capture-note" in page
    assert "The walk&#39;s lens was read at about 1.6 m above the floor" in page
    assert "validated 0.4-1.2 m" in page and "film them again" in page
    report = alice.client.get(f"/visits/{vid}/report.html").text
    assert "about 1.6 m above the floor" in report


def test_a_difference_within_the_measured_error_is_not_ruled_out(
    alice: Clinician, world: World, sessions: Any, settings: WebSettings
) -> None:
    # a walk's pelvic drop 6 against 2: beyond the SDC (2.8) and, with the limit the
    # analysis wrote (8.86, the measured error of a difference), within it
    vid = _new_visit(alice, world)
    walk = walk_summary({"left": 6.0, "right": 2.0})
    walk["faults"][0].update(metric="pelvic_drop_deg", asymmetry_limit=8.86)
    make_recording(sessions, settings, vid)
    run_jobs(sessions, settings, FakeAnalysis(summary=walk))
    page = alice.client.get(f"/visits/{vid}").text
    assert "cannot rule out, check clinically" in page and "beyond 8.9" not in page
    report = alice.client.get(f"/visits/{vid}/report.html").text
    assert 'class="cannot-rule-out"' in report
    # a summary written before the limit existed: the SDC alone, beyond it
    old = _new_visit(alice, world)
    make_recording(sessions, settings, old)
    run_jobs(sessions, settings, FakeAnalysis(summary=walk_summary({"left": 6.0, "right": 2.0})))
    page = alice.client.get(f"/visits/{old}").text
    assert "beyond 2.8" in page and 'class="cannot-rule-out"' not in page
