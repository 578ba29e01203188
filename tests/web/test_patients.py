"""Patients and visits: validation, history with trends and SDC, export, deletion with files."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest

from screener.config import AnalysisConfig
from screener.norms import load_norms
from screener.web import services, trends
from screener.web.models import Job, Patient, Recording, Visit
from screener.web.settings import WebSettings
from tests.web.helpers import (
    Clinician,
    FakeAnalysis,
    World,
    count_rows,
    make_recording,
    run_jobs,
    walk_summary,
)


def _second_visit(
    sessions: Any, settings: WebSettings, world: World, drop: dict[str, float]
) -> int:
    with sessions() as s:
        patient = s.get(Patient, world.patient_id)
        visit = services.create_visit(s, patient, "2025-03-01", 2, True)
    make_recording(sessions, settings, visit.id)
    run_jobs(sessions, settings, FakeAnalysis(summary=walk_summary(drop)))
    return visit.id


def test_walk_sdc_comes_from_the_norms_file() -> None:
    norms = load_norms(AnalysisConfig().norms_path)
    expected = norms.metric("walk", "pelvic_drop_deg")
    assert expected is not None and expected.sdc is not None
    info = trends.metric_infos()[("walk", "pelvic_drop_deg")]
    assert info.sdc == expected.sdc
    assert info.sdc_source == norms.cite(expected.sdc_source)


def test_trends_mark_changes_beyond_the_sdc(
    alice: Clinician, world: World, sessions: Any, settings: WebSettings
) -> None:
    sdc = trends.metric_infos()[("walk", "pelvic_drop_deg")].sdc
    assert sdc is not None
    # first visit: left 6.0, right 2.0 (FakeAnalysis default); second: left improves
    # by more than the SDC, right changes by less than it
    _second_visit(sessions, settings, world, {"left": 6.0 - sdc - 0.5, "right": 2.0 + sdc / 2})
    data = alice.client.get(f"/api/patients/{world.patient_id}/trends").json()
    drop = next(t for t in data if t["task"] == "walk" and t["metric"] == "pelvic_drop_deg")
    assert drop["sdc"] == sdc and drop["sdc_source"]
    assert [p[0] for p in drop["points"]["left"]] == ["2025-01-10", "2025-03-01"]
    assert drop["points"]["left"][1][1] == pytest.approx(6.0 - sdc - 0.5)
    assert drop["change_exceeds_sdc"] == {"left": True, "right": False}
    assert all(t["metric"] != "knee_fppa_deg" for t in data)  # no values, no chart
    page = alice.client.get(f"/patients/{world.patient_id}").text
    assert page.count('src="data:image/svg+xml;base64,') == len(data) + 1  # + the pain trend
    assert 'id="pain-trend"' in page
    assert f"SDC {sdc:g}" in page
    assert page.index("2025-03-01") < page.index("2025-01-10")  # newest visit first


def test_patient_page_lists_every_visit(alice: Clinician, world: World) -> None:
    for day in ("2025-02-01", "2025-02-15"):
        alice.post(f"/patients/{world.patient_id}/visits", {"visit_date": day, "pain": "4"})
    page = alice.client.get(f"/patients/{world.patient_id}").text
    for day in ("2025-01-10", "2025-02-01", "2025-02-15"):
        assert day in page


@pytest.mark.parametrize(
    "form,message",
    [
        ({"pain": "11"}, "pain must be from 0 to 10"),
        ({"pain": "a lot"}, "pain must be a number"),
        ({"pain": "nan"}, "pain must be from 0 to 10"),
        ({"visit_date": "10/01/2025"}, "YYYY-MM-DD"),
    ],
)
def test_visit_values_are_validated(
    form: dict[str, str], message: str, alice: Clinician, world: World, sessions: Any
) -> None:
    response = alice.post(f"/patients/{world.patient_id}/visits", form)
    assert response.status_code == 400 and message in response.text
    assert count_rows(sessions, Visit) == 1


def test_api_validates_visits_and_patients(alice: Clinician, world: World) -> None:
    headers = {"X-CSRF-Token": alice.csrf}
    bad = alice.client.post(
        f"/api/patients/{world.patient_id}/visits", json={"pain": 12}, headers=headers
    )
    assert bad.status_code == 422
    ok = alice.client.post(
        f"/api/patients/{world.patient_id}/visits",
        json={"visit_date": "2025-04-01", "pain": 3.5, "first_line_done": True},
        headers=headers,
    )
    assert ok.status_code == 201 and ok.json()["pain"] == 3.5
    dup = alice.client.post("/api/patients", json={"code": "RUN-001"}, headers=headers)
    assert dup.status_code == 409
    assert alice.client.post("/api/patients", json={"code": ""}, headers=headers).status_code == 422


def test_export_holds_records_results_and_video(
    alice: Clinician, world: World, settings: WebSettings
) -> None:
    response = alice.client.get(f"/patients/{world.patient_id}/export")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert "patient-RUN-001-" in response.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(response.content)) as zf:
        names = zf.namelist()
        record = json.loads(zf.read("patient.json"))
    base = f"visits/2025-01-10-visit{world.visit_id}/walk-rec{world.recording_id}"
    for name in ("summary.json", "report.html", "report.pdf", "events.csv", "video.mp4"):
        assert f"{base}/{name}" in names
    assert record["code"] == "RUN-001"
    visit = record["visits"][0]
    assert visit["pain"] == 6 and visit["first_line_done"] is True
    assert visit["recordings"][0]["job"]["status"] == "done"
    assert list(settings.tmp_dir.iterdir()) == []  # the archive is removed once sent


def test_delete_patient_removes_rows_and_files(
    alice: Clinician, world: World, sessions: Any, settings: WebSettings
) -> None:
    assert len(list(settings.uploads_dir.iterdir())) == 1
    assert len(list(settings.results_dir.iterdir())) == 1
    wrong = alice.post(f"/patients/{world.patient_id}/delete", {"confirm_code": "nope"})
    assert wrong.status_code == 400 and count_rows(sessions, Patient) == 1
    done = alice.post(f"/patients/{world.patient_id}/delete", {"confirm_code": "RUN-001"})
    assert done.status_code == 303
    for model in (Patient, Visit, Recording, Job):
        assert count_rows(sessions, model) == 0
    assert list(settings.uploads_dir.iterdir()) == []
    assert list(settings.results_dir.iterdir()) == []
    assert alice.client.get(f"/patients/{world.patient_id}").status_code == 404


def test_delete_patient_while_its_job_runs(
    alice: Clinician, world: World, sessions: Any, settings: WebSettings
) -> None:
    rid = make_recording(sessions, settings, world.visit_id)

    def delete_meanwhile(progress: Any) -> None:
        with sessions() as s:
            services.delete_patient(s, settings, s.get(Patient, world.patient_id))

    run_jobs(sessions, settings, FakeAnalysis(on_call=delete_meanwhile))
    assert count_rows(sessions, Recording) == 0
    assert list(settings.results_dir.iterdir()) == []  # the orphaned result was discarded
    assert alice.client.get(f"/recordings/{rid}").status_code == 404


def test_delete_recording_removes_its_files(
    alice: Clinician, world: World, settings: WebSettings
) -> None:
    response = alice.client.delete(
        f"/api/recordings/{world.recording_id}", headers={"X-CSRF-Token": alice.csrf}
    )
    assert response.status_code == 204
    assert list(settings.uploads_dir.iterdir()) == []
    assert list(settings.results_dir.iterdir()) == []


def test_api_recording_carries_the_summary(alice: Clinician, world: World) -> None:
    body = alice.client.get(f"/api/recordings/{world.recording_id}").json()
    assert body["job"]["status"] == "done"
    assert body["summary"]["faults"][0]["fault"] == "pelvic_drop"
    summary = alice.client.get(f"/api/recordings/{world.recording_id}/files/summary.json")
    assert summary.json()["task"] == "walk"
    missing = alice.client.get(f"/api/recordings/{world.recording_id}/files/secrets.txt")
    assert missing.status_code == 422


def test_openapi_describes_the_api(anonymous: Any) -> None:
    spec = anonymous.get("/api/openapi.json").json()
    paths = spec["paths"]
    assert "/api/visits/{visit_id}/recordings" in paths
    assert "/api/patients/{patient_id}/export" in paths
    assert not any(p.startswith("/patients") for p in paths)  # pages are not API


def test_trends_leave_out_a_value_the_recording_does_not_show(
    alice: Clinician, world: World, sessions: Any, settings: WebSettings
) -> None:
    """A recording whose summary lists pelvic drop among ``values_not_shown`` (its measured
    error beyond the limit) adds no point to the pelvic-drop trend; the first visit's
    values stay."""
    with sessions() as s:
        patient = s.get(Patient, world.patient_id)
        visit = services.create_visit(s, patient, "2025-03-01", 2, True)
    make_recording(sessions, settings, visit.id)
    summary = walk_summary({"left": 3.0, "right": 2.0})
    summary["values_not_shown"] = {
        "pelvic_drop_deg": {"measurement_error_deg": 9.0, "limit_deg": 8.0, "errors_file": "x"}
    }
    run_jobs(sessions, settings, FakeAnalysis(summary=summary))
    data = alice.client.get(f"/api/patients/{world.patient_id}/trends").json()
    drop = next(t for t in data if t["task"] == "walk" and t["metric"] == "pelvic_drop_deg")
    assert [p[0] for p in drop["points"]["left"]] == ["2025-01-10"]


# ------------------------------------------------------------------ the patient's height
def test_a_patients_height_is_stored_and_shown(
    alice: Clinician, world: World, sessions: Any
) -> None:
    """Entered at creation and changed on the patient page, the height is stored in
    centimetres and shown as entered; an empty field clears it."""
    created = alice.post("/patients", {"code": "RUN-TALL", "sex": "male", "height_cm": "172.5"})
    assert created.status_code == 303, created.text
    with sessions() as s:
        patient = s.query(Patient).filter_by(code="RUN-TALL").one()
        assert (patient.sex, patient.height_cm) == ("male", 172.5)
    page = alice.client.get(created.headers["location"]).text
    assert "172.5 cm tall" in page and 'name="height_cm"' in page and 'value="172.5"' in page
    edit = alice.post(f"/patients/{patient.id}/edit", {"code": "RUN-TALL", "height_cm": "165"})
    assert edit.status_code == 303
    with sessions() as s:
        assert s.get(Patient, patient.id).height_cm == 165.0
    assert "165 cm tall" in alice.client.get(f"/patients/{patient.id}").text
    cleared = alice.post(f"/patients/{patient.id}/edit", {"code": "RUN-TALL", "height_cm": ""})
    assert cleared.status_code == 303
    with sessions() as s:
        assert s.get(Patient, patient.id).height_cm is None
    assert "height not recorded" in alice.client.get(f"/patients/{patient.id}").text


@pytest.mark.parametrize("height", ["1.65", "300", "abc", "nan"])
def test_a_height_no_patient_has_is_refused_with_the_unit(
    height: str, alice: Clinician, world: World, sessions: Any
) -> None:
    """A height in metres, out of range or not a number: the form says what is wrong in
    centimetres and nothing is stored, neither a new patient nor an edit."""
    created = alice.post("/patients", {"code": "RUN-NEW", "height_cm": height})
    assert created.status_code == 400
    assert "height must be" in created.text and "centimetres" in created.text
    assert "Traceback" not in created.text
    assert count_rows(sessions, Patient) == 1
    edit = alice.post(f"/patients/{world.patient_id}/edit", {"code": "RUN-9", "height_cm": height})
    assert edit.status_code == 400
    assert "height must be" in edit.text and "centimetres" in edit.text
    with sessions() as s:
        patient = s.get(Patient, world.patient_id)
        assert (patient.code, patient.height_cm) == ("RUN-001", None)


def test_the_api_takes_and_gives_the_patients_height(
    alice: Clinician, world: World, sessions: Any
) -> None:
    headers = {"X-CSRF-Token": alice.csrf}
    ok = alice.client.post(
        "/api/patients", json={"code": "RUN-API", "height_cm": 151}, headers=headers
    )
    assert ok.status_code == 201, ok.text
    assert ok.json()["height_cm"] == 151.0
    detail = alice.client.get(f"/api/patients/{ok.json()['id']}").json()
    assert detail["height_cm"] == 151.0
    listed = {p["code"]: p["height_cm"] for p in alice.client.get("/api/patients").json()}
    assert listed == {"RUN-001": None, "RUN-API": 151.0}
    metres = alice.client.post(
        "/api/patients", json={"code": "RUN-M", "height_cm": 1.65}, headers=headers
    )
    assert metres.status_code == 422
    assert "height must be" in metres.json()["detail"] and "centimetres" in metres.json()["detail"]
    words = alice.client.post(
        "/api/patients", json={"code": "RUN-W", "height_cm": "tall"}, headers=headers
    )
    assert words.status_code == 422
    assert count_rows(sessions, Patient) == 2
    dup = alice.client.post(
        "/api/patients", json={"code": "RUN-API", "height_cm": 160}, headers=headers
    )
    assert dup.status_code == 409  # a code in use is still a conflict


def test_export_holds_the_patients_height(alice: Clinician, world: World, sessions: Any) -> None:
    alice.post(f"/patients/{world.patient_id}/edit", {"code": "RUN-001", "height_cm": "158"})
    response = alice.client.get(f"/patients/{world.patient_id}/export")
    with zipfile.ZipFile(io.BytesIO(response.content)) as zf:
        record = json.loads(zf.read("patient.json"))
    assert record["height_cm"] == 158.0
