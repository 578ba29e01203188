"""The JSON API: the pages' operations for integration with a clinic's records.

Authenticate with ``Authorization: Bearer <token>`` (tokens from the Account page or
``screener create-token``). A browser session also works, with the session's CSRF token in
the ``X-CSRF-Token`` header on state-changing requests. Another clinician's objects answer
404, exactly like missing ones.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, HTTPException, UploadFile
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask

from screener.web import services, storage, trends
from screener.web.access import CurrentUser, Db, OwnedPatient, OwnedRecording, OwnedVisit, Settings

router = APIRouter(prefix="/api", tags=["api"])

#: A recording kind: a key of :data:`screener.web.models.RECORDING_KINDS` (from the task
#: registry, e.g. ``walk``, ``sls_left``, ``sls_right``, ``jog``); checked by
#: :func:`screener.web.services.add_recording` (422 when unknown).
Kind = str
View = Literal["auto", "anterior", "posterior"]


class PatientIn(BaseModel):
    """A new pseudonymous patient."""

    code: str = Field(
        min_length=1, max_length=64, description="Pseudonymous code, unique per clinician"
    )
    sex: Literal["female", "male"] | None = Field(None, description="Selects sex-specific norms")
    height_cm: float | None = Field(
        None,
        description="The patient's height, 90-250 cm (a short patient's single-leg squat "
        "is judged with the larger error measured for short patients; the video does not "
        "give it)",
    )
    notes: str = Field("", max_length=5000)


class VisitIn(BaseModel):
    """A new visit."""

    visit_date: dt.date | None = Field(None, description="Default: today")
    pain: float | None = Field(None, ge=0, le=10, description="Lateral knee pain now, 0-10")
    first_line_done: bool = False
    notes: str = Field("", max_length=5000)


class JobOut(BaseModel):
    """State of an analysis job."""

    id: int
    status: Literal["queued", "running", "done", "failed"]
    progress: float
    stage: str
    attempts: int
    error: str | None
    created_at: str | None
    started_at: str | None
    finished_at: str | None


class RecordingOut(BaseModel):
    """An uploaded recording and its latest job (and summary.json when asked)."""

    id: int
    visit_id: int
    kind: Kind
    view: View
    lens_height_cm: float | None = None
    camera_distance_m: float | None = None
    original_name: str
    container: str
    size_bytes: int
    sha256: str
    video_kept: bool
    created_at: str | None
    job: JobOut | None
    summary: dict[str, Any] | None = None


class VisitOut(BaseModel):
    """A visit with its recordings."""

    id: int
    patient_id: int
    visit_date: str
    pain: float | None
    first_line_done: bool
    notes: str
    created_at: str | None
    recordings: list[RecordingOut]


class PatientOut(BaseModel):
    """A patient (with visits in the detail view)."""

    id: int
    code: str
    sex: str | None
    height_cm: float | None = None
    notes: str
    created_at: str | None
    visits: list[VisitOut] | None = None


class TrendOut(BaseModel):
    """One metric of one task across visits, per side, with its SDC."""

    task: str
    metric: str
    label: str
    unit: str
    sdc: float | None
    sdc_source: str
    points: dict[str, list[tuple[dt.date, float]]]
    change_exceeds_sdc: dict[str, bool | None]


class UserOut(BaseModel):
    """The authenticated clinician."""

    id: int
    username: str
    display_name: str


@router.get("/me", response_model=UserOut)
def me(who: CurrentUser) -> dict[str, Any]:
    """The authenticated clinician."""
    return {"id": who.user.id, "username": who.user.username, "display_name": who.user.display_name}


@router.get("/patients", response_model=list[PatientOut])
def patients(who: CurrentUser, db: Db) -> list[dict[str, Any]]:
    """Your patients."""
    return [services.patient_dict(p) for p in services.list_patients(db, who.user)]


@router.post("/patients", response_model=PatientOut, status_code=201)
def patient_create(body: PatientIn, who: CurrentUser, db: Db) -> dict[str, Any]:
    """Add a patient.

    Answers 409 for a code you already use, 422 for a height that is not 90-250 cm.
    """
    try:
        patient = services.create_patient(
            db, who.user, body.code, body.sex, body.notes, height_cm=body.height_cm
        )
    except services.DuplicateCodeError as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    except services.InputError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    return services.patient_dict(patient)


@router.get("/patients/{patient_id}", response_model=PatientOut)
def patient(who: CurrentUser, patient: OwnedPatient, settings: Settings) -> dict[str, Any]:
    """A patient with every visit and recording."""
    return services.patient_dict(
        patient, [services.visit_dict(settings, v) for v in patient.visits]
    )


@router.delete("/patients/{patient_id}", status_code=204)
def patient_delete(who: CurrentUser, db: Db, patient: OwnedPatient, settings: Settings) -> Response:
    """Delete a patient with every visit, recording, video and result."""
    services.delete_patient(db, settings, patient)
    return Response(status_code=204)


@router.get(
    "/patients/{patient_id}/export",
    response_class=FileResponse,
    responses={200: {"content": {"application/zip": {}}}},
)
def patient_export(who: CurrentUser, patient: OwnedPatient, settings: Settings) -> FileResponse:
    """A zip of the patient's records (patient.json), results and kept videos."""
    export = services.export_patient(settings, patient)
    return FileResponse(
        export.path,
        media_type="application/zip",
        filename=export.download_name,
        background=BackgroundTask(export.path.unlink, missing_ok=True),
    )


@router.get("/patients/{patient_id}/trends", response_model=list[TrendOut])
def patient_trends(
    who: CurrentUser, patient: OwnedPatient, settings: Settings
) -> list[dict[str, Any]]:
    """Each metric's per-visit means, per side, with the smallest detectable change."""
    return [
        {
            "task": s.task,
            "metric": s.metric,
            "label": s.info.label,
            "unit": s.info.unit,
            "sdc": s.info.sdc,
            "sdc_source": s.info.sdc_source,
            "points": s.points,
            "change_exceeds_sdc": {side: s.exceeds_sdc(side) for side in s.points},
        }
        for s in trends.collect_trends(settings, patient)
    ]


@router.get("/patients/{patient_id}/visits", response_model=list[VisitOut])
def visits(who: CurrentUser, patient: OwnedPatient, settings: Settings) -> list[dict[str, Any]]:
    """A patient's visits, oldest first."""
    return [services.visit_dict(settings, v) for v in patient.visits]


@router.post("/patients/{patient_id}/visits", response_model=VisitOut, status_code=201)
def visit_create(
    body: VisitIn, who: CurrentUser, db: Db, patient: OwnedPatient, settings: Settings
) -> dict[str, Any]:
    """Add a visit."""
    try:
        visit = services.create_visit(
            db, patient, body.visit_date, body.pain, body.first_line_done, body.notes
        )
    except services.InputError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    return services.visit_dict(settings, visit)


@router.get("/visits/{visit_id}", response_model=VisitOut)
def visit(who: CurrentUser, visit: OwnedVisit, settings: Settings) -> dict[str, Any]:
    """A visit with its recordings."""
    return services.visit_dict(settings, visit)


@router.post("/visits/{visit_id}/recordings", response_model=RecordingOut, status_code=201)
def recording_upload(
    who: CurrentUser,
    db: Db,
    visit: OwnedVisit,
    settings: Settings,
    video: Annotated[
        UploadFile, File(description="mp4, mov, webm, mkv or avi (checked by content)")
    ],
    kind: Annotated[
        Kind, Form(description="the task recorded (and the leg of a one-leg task), e.g. sls_left")
    ],
    view: Annotated[View, Form()] = "auto",
    lens_height_cm: Annotated[
        float | None,
        Form(
            description="the phone's lens height above the floor when filming, 10-300 cm "
            "(checked against the validated range; the video gives it only for a walk "
            "toward or away from the camera)"
        ),
    ] = None,
    camera_distance_m: Annotated[
        float | None,
        Form(
            description="the distance from the phone's lens to the patient when filming, "
            "0.3-20 m (checked for a single-leg squat filmed from the front; the video "
            "does not give it)"
        ),
    ] = None,
) -> dict[str, Any]:
    """Upload a recording (multipart) and queue its analysis.

    Answers 400 for an empty file, 413 above the size limit, 415 when the content is not
    a video container.
    """
    try:
        rec = services.add_recording(
            db,
            settings,
            visit,
            kind,
            view,
            video.filename or "",
            video.file,
            lens_height_cm,
            camera_distance_m,
        )
    except storage.UploadError as exc:
        raise HTTPException(status_code=exc.status, detail=str(exc)) from exc
    except services.InputError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    return services.recording_dict(settings, rec)


@router.get("/recordings/{recording_id}", response_model=RecordingOut)
def recording(who: CurrentUser, rec: OwnedRecording, settings: Settings) -> dict[str, Any]:
    """A recording, its job's progress or error, and its summary.json once done."""
    return services.recording_dict(settings, rec, with_summary=True)


@router.delete("/recordings/{recording_id}", status_code=204)
def recording_delete(who: CurrentUser, db: Db, rec: OwnedRecording, settings: Settings) -> Response:
    """Delete a recording, its video and results."""
    services.delete_recording(db, settings, rec)
    return Response(status_code=204)


@router.post("/recordings/{recording_id}/retry", response_model=RecordingOut)
def recording_retry(
    who: CurrentUser, db: Db, rec: OwnedRecording, settings: Settings
) -> dict[str, Any]:
    """Queue the analysis again (409 while one is queued or running)."""
    try:
        services.retry_recording(db, rec)
    except services.InputError as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    return services.recording_dict(settings, rec)


def _result_file(settings: Any, rec: Any, name: str) -> Any:
    folder = services.result_folder(settings, rec)
    if folder is None or not (folder / name).is_file():
        raise HTTPException(status_code=404, detail=f"no {name} yet for this recording")
    return folder / name


@router.get(
    "/recordings/{recording_id}/files/{name}",
    response_class=FileResponse,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def recording_file(
    name: Literal[
        "summary.json", "frames.csv", "frames.parquet", "events.csv", "report.html", "report.pdf"
    ],
    who: CurrentUser,
    rec: OwnedRecording,
    settings: Settings,
) -> FileResponse:
    """One output file of the latest finished analysis (the spec's files)."""
    media = {
        "summary.json": "application/json",
        "frames.csv": "text/csv",
        "events.csv": "text/csv",
        "frames.parquet": "application/vnd.apache.parquet",
        "report.html": "text/html; charset=utf-8",
        "report.pdf": "application/pdf",
    }[name]
    headers = {
        "Content-Security-Policy": "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
    }
    return FileResponse(
        _result_file(settings, rec, name), media_type=media, filename=name, headers=headers
    )
