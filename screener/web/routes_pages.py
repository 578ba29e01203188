"""Server-rendered pages (Jinja2) for clinicians: sign-in, patients, visits, recordings, account.

Every route but sign-in takes :data:`~screener.web.access.CurrentUser` or one of the
``Owned*`` dependencies, which authenticate, check CSRF on POST and scope every object
to the signed-in clinician (404 otherwise).
"""

from __future__ import annotations

import logging
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
)
from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError
from starlette.background import BackgroundTask

from screener.faults import describe_verdicts
from screener.web import auth, jobs, services, storage, trends
from screener.web.access import (
    CurrentUser,
    Db,
    OwnedPatient,
    OwnedRecording,
    OwnedVisit,
    Principal,
    Settings,
)
from screener.web.jobs import rowcount
from screener.web.models import KIND_LABELS, VIEWS, ApiToken
from screener.web.settings import WebSettings
from screener.web.templating import templates
from screener.web.trends import pain_trend_svg

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

#: CSP of the embedded report: its own inline CSS and images, nothing else, no scripts.
REPORT_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'self'"


def _render(
    request: Request, name: str, who: Principal | None, status: int = 200, **context: Any
) -> Response:
    context.update(who=who, csrf_token=who.csrf_token if who else "")
    return templates.TemplateResponse(request, name, context, status_code=status)


def _see(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _secure(request: Request, settings: WebSettings) -> bool:
    if settings.secure_cookies == "always":
        return True
    if settings.secure_cookies == "never":
        return False
    return request.url.scheme == "https"


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/patients"


# ------------------------------------------------------------------ sign-in and out
@router.get("/")
def home(request: Request) -> RedirectResponse:
    """Patients if signed in (the patients page redirects to sign-in otherwise)."""
    return _see("/patients")


@router.get("/healthz")
def healthz(db: Db, settings: Settings) -> JSONResponse:
    """Health probe (no authentication, no patient data): 503 when jobs wait for no worker."""
    try:
        health = jobs.queue_health(db, settings)
    except SQLAlchemyError:
        log.exception("health probe: the database did not answer")
        return JSONResponse({"status": "database unavailable"}, status_code=503)
    body = {
        "status": "no worker" if health.stalled else "ok",
        "live_workers": health.live_workers,
        "waiting_jobs": health.waiting_jobs,
    }
    return JSONResponse(body, status_code=503 if health.stalled else 200)


@router.get("/login")
def login_form(request: Request, settings: Settings, next: str | None = None) -> Response:
    """The sign-in form, with a CSRF token bound to a cookie."""
    token = request.cookies.get(auth.LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    response = templates.TemplateResponse(
        request,
        "login.html",
        {"who": None, "csrf_token": token, "next": _safe_next(next), "error": None},
    )
    response.set_cookie(
        auth.LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=_secure(request, settings),
        max_age=3600,
    )
    return response


@router.post("/login")
def login(
    request: Request,
    db: Db,
    settings: Settings,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/patients",
) -> Response:
    """Check the password (rate-limited) and start a session."""
    cookie_token = request.cookies.get(auth.LOGIN_CSRF_COOKIE)

    def again(message: str, status: int) -> Response:
        return templates.TemplateResponse(
            request,
            "login.html",
            {
                "who": None,
                "csrf_token": cookie_token or "",
                "next": _safe_next(next),
                "error": message,
            },
            status_code=status,
        )

    if not auth.tokens_match(cookie_token, csrf_token):
        return again("The sign-in form expired; please try again.", 403)
    limiter: auth.LoginLimiter = request.app.state.limiter
    client = request.client.host if request.client else "unknown"
    attempt = limiter.reserve(db, username, client)
    if not attempt.admitted:
        refused = again(
            f"Too many failed sign-ins. Try again in {auth.describe_wait(attempt.retry_after)}.",
            429,
        )
        refused.headers["Retry-After"] = attempt.retry_after_header
        return refused
    user = auth.authenticate(db, username, password)
    if user is None:
        log.info("failed sign-in from %s", client)
        return again("Wrong user name or password.", 401)
    limiter.succeeded(db, attempt, user)
    token, _ = auth.start_session(db, user, settings.session_hours)
    db.commit()
    response = _see(_safe_next(next))
    response.set_cookie(
        auth.SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=_secure(request, settings),
        max_age=int(settings.session_hours * 3600),
        path="/",
    )
    response.delete_cookie(auth.LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, who: CurrentUser, db: Db) -> Response:
    """End the session (server side) and clear its cookie."""
    auth.end_session(db, request.cookies.get(auth.SESSION_COOKIE))
    db.commit()
    response = _see("/login")
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response


# ------------------------------------------------------------------ patients
@router.get("/patients")
def patients_page(request: Request, who: CurrentUser, db: Db) -> Response:
    """The clinician's patients and a form to add one."""
    return _render(
        request, "patients.html", who, patients=services.list_patients(db, who.user), error=None
    )


@router.post("/patients")
def patients_create(
    request: Request,
    who: CurrentUser,
    db: Db,
    code: Annotated[str, Form()],
    sex: Annotated[str, Form()] = "",
    notes: Annotated[str, Form()] = "",
    height_cm: Annotated[str, Form()] = "",
) -> Response:
    """Add a patient, then open their page."""
    try:
        patient = services.create_patient(db, who.user, code, sex, notes, height_cm=height_cm)
    except services.InputError as exc:
        return _render(
            request,
            "patients.html",
            who,
            status=400,
            patients=services.list_patients(db, who.user),
            error=str(exc),
        )
    return _see(f"/patients/{patient.id}")


@router.get("/patients/{patient_id}")
def patient_page(
    request: Request, who: CurrentUser, patient: OwnedPatient, settings: Settings
) -> Response:
    """Every visit of the patient, the pain trend, the summary table and metric trends."""
    return _patient_page(request, who, patient, settings)


def _answers(form: Any) -> services.VisitAnswers:
    """The intake answers of a visit form (multi-valued checkboxes read as lists)."""
    return services.VisitAnswers(
        pain=form.get("pain", ""),
        first_line_done=form.get("first_line_done", "") in ("on", "true", "1", "yes"),
        rest_pain=form.get("rest_pain", ""),
        pain_onset=str(form.get("pain_onset", "")),
        weekly_volume_km=form.get("weekly_volume_km", ""),
        first_line_care=form.getlist("first_line_care"),
        first_line_weeks=form.get("first_line_weeks", ""),
        red_flags=form.getlist("red_flags"),
        notes=str(form.get("notes", "")),
    )


def _patient_page(
    request: Request,
    who: Principal,
    patient: Any,
    settings: WebSettings,
    error: str | None = None,
    status: int = 200,
) -> Response:
    series = trends.collect_trends(settings, patient)
    rows = [
        (v, services.screen_of_visit(settings, v) if v.recordings else None) for v in patient.visits
    ]
    return _render(
        request,
        "patient.html",
        who,
        status=status,
        patient=patient,
        charts=[(s, trends.render_svg(s)) for s in series],
        pain_chart=pain_trend_svg(patient.visits),
        visit_rows=rows,
        doses=services.patient_doses(patient),
        exercises=_protocol_exercises(),
        error=error,
        kinds=KIND_LABELS,
        **_intake_choices(),
    )


def _intake_choices() -> dict[str, Any]:
    from screener.intake import FIRST_LINE_LABELS, RED_FLAG_LABELS

    care = {k: v for k, v in FIRST_LINE_LABELS.items() if k != "unspecified"}
    return {"first_line_labels": care, "red_flag_labels": RED_FLAG_LABELS}


def _protocol_exercises() -> list[Any]:
    from screener.config import AnalysisConfig
    from screener.plan import load_protocol

    return list(load_protocol(AnalysisConfig().plan_path).exercises)


@router.post("/patients/{patient_id}/visits")
async def visit_create(
    request: Request, who: CurrentUser, db: Db, patient: OwnedPatient, settings: Settings
) -> Response:
    """Add a visit with its intake answers, then open it to upload recordings."""
    form = await request.form()
    answers = _answers(form)
    try:
        visit = services.create_visit(
            db,
            patient,
            str(form.get("visit_date", "")),
            answers.pain,
            answers.first_line_done,
            answers.notes,
            answers,
        )
    except services.InputError as exc:
        return _patient_page(request, who, patient, settings, str(exc), 400)
    return _see(f"/visits/{visit.id}")


@router.post("/patients/{patient_id}/edit")
def patient_edit(
    request: Request,
    who: CurrentUser,
    db: Db,
    patient: OwnedPatient,
    settings: Settings,
    code: Annotated[str, Form()],
    sex: Annotated[str, Form()] = "",
    notes: Annotated[str, Form()] = "",
    height_cm: Annotated[str, Form()] = "",
) -> Response:
    """Change the patient's code, sex, height or notes."""
    try:
        services.update_patient(db, patient, code, sex, notes, height_cm=height_cm)
    except services.InputError as exc:
        return _patient_page(request, who, patient, settings, str(exc), 400)
    return _see(f"/patients/{patient.id}")


@router.post("/patients/{patient_id}/doses")
async def patient_doses(
    request: Request, who: CurrentUser, db: Db, patient: OwnedPatient, settings: Settings
) -> Response:
    """Set the patient's own doses (empty fields keep the protocol's default)."""
    form = await request.form()
    doses: dict[str, dict[str, Any]] = {}
    for ex in _protocol_exercises():
        entry: dict[str, Any] = {}
        sets = str(form.get(f"{ex.id}.sets", "")).strip()
        if sets:
            if not sets.isdigit():
                return _patient_page(
                    request, who, patient, settings, f"sets of {ex.name} must be a number", 400
                )
            entry["sets"] = int(sets)
        for field in ("reps", "frequency"):
            value = str(form.get(f"{ex.id}.{field}", "")).strip()
            if value:
                entry[field] = value
        doses[ex.id] = entry
    try:
        services.set_patient_doses(db, patient, doses)
    except services.InputError as exc:
        return _patient_page(request, who, patient, settings, str(exc), 400)
    return _see(f"/patients/{patient.id}#doses")


@router.get("/patients/{patient_id}/export")
def patient_export(who: CurrentUser, patient: OwnedPatient, settings: Settings) -> Response:
    """Download a zip of the patient's records, results and kept videos."""
    export = services.export_patient(settings, patient)
    return FileResponse(
        export.path,
        media_type="application/zip",
        filename=export.download_name,
        background=BackgroundTask(export.path.unlink, missing_ok=True),
    )


@router.get("/patients/{patient_id}/delete")
def patient_delete_confirm(request: Request, who: CurrentUser, patient: OwnedPatient) -> Response:
    """Ask for confirmation before deleting a patient."""
    return _render(request, "patient_delete.html", who, patient=patient, error=None)


@router.post("/patients/{patient_id}/delete")
def patient_delete(
    request: Request,
    who: CurrentUser,
    db: Db,
    patient: OwnedPatient,
    settings: Settings,
    confirm_code: Annotated[str, Form()] = "",
) -> Response:
    """Delete the patient with every visit, recording, video and result."""
    if confirm_code.strip() != patient.code:
        return _render(
            request,
            "patient_delete.html",
            who,
            status=400,
            patient=patient,
            error="Type the patient's code exactly to confirm.",
        )
    services.delete_patient(db, settings, patient)
    return _see("/patients")


# ------------------------------------------------------------------ visits and uploads
def _take_labels(visit: Any) -> dict[str, str]:
    return {str(r.id): f"{r.kind_label}: {r.original_name or 'video'}" for r in visit.recordings}


def _visit_page(
    request: Request,
    who: Principal,
    visit: Any,
    settings: WebSettings,
    error: str | None = None,
    status: int = 200,
    edit_error: str | None = None,
) -> Response:
    from screener.capture_guide import CAPTURE_PATH, load_capture_guides

    screen = services.screen_of_visit(settings, visit)
    return _render(
        request,
        "visit.html",
        who,
        status=status,
        visit=visit,
        screen=screen,
        labels={
            str(r.id): f"{r.kind_label}: {r.original_name or 'video'}" for r in visit.recordings
        },
        kinds=KIND_LABELS,
        views=VIEWS,
        error=error,
        edit_error=edit_error,
        guides=load_capture_guides(CAPTURE_PATH),
        max_upload_mb=settings.max_upload_mb,
        care=set(filter(None, (visit.first_line_care or "").split(","))),
        flags=set(filter(None, (visit.red_flags or "").split(","))),
        **_intake_choices(),
    )


@router.get("/visits/{visit_id}")
def visit_page(
    request: Request, who: CurrentUser, visit: OwnedVisit, settings: Settings
) -> Response:
    """The visit's answers, its visit-level screen and plan, recordings and upload form."""
    return _visit_page(request, who, visit, settings)


@router.post("/visits/{visit_id}/edit")
async def visit_edit(
    request: Request, who: CurrentUser, db: Db, visit: OwnedVisit, settings: Settings
) -> Response:
    """Change the visit's date and answers; the plan is rebuilt from them at once."""
    form = await request.form()
    try:
        services.update_visit(db, visit, str(form.get("visit_date", "")), _answers(form))
    except services.InputError as exc:
        return _visit_page(request, who, visit, settings, status=400, edit_error=str(exc))
    return _see(f"/visits/{visit.id}")


@router.get("/visits/{visit_id}/delete")
def visit_delete_confirm(request: Request, who: CurrentUser, visit: OwnedVisit) -> Response:
    """Ask for confirmation before deleting a visit."""
    return _render(
        request,
        "confirm_delete.html",
        who,
        what="visit",
        obj=visit,
        action=f"/visits/{visit.id}/delete",
    )


@router.post("/visits/{visit_id}/delete")
def visit_delete(who: CurrentUser, db: Db, visit: OwnedVisit, settings: Settings) -> Response:
    """Delete the visit with its recordings, videos and results."""
    patient_id = visit.patient_id
    services.delete_visit(db, settings, visit)
    return _see(f"/patients/{patient_id}")


def _visit_documents(settings: WebSettings, visit: Any) -> dict[str, str]:
    from screener.report import render_handout, render_visit

    screen = services.screen_of_visit(settings, visit)
    if screen is None:
        raise HTTPException(status_code=404, detail="no analysed recording in this visit yet")
    header = {"patient_code": visit.patient.code, "visit_date": visit.visit_date.isoformat()}
    labels = _take_labels(visit)
    stills = services.visit_stills(settings, visit, list(screen["slots"].values()))
    return {
        "report": render_visit(screen, header, labels, stills),
        "handout": render_handout(screen["plan"], header),
    }


def _document_html(settings: WebSettings, visit: Any, document: str) -> Response:
    text = _visit_documents(settings, visit)[document]
    return HTMLResponse(text, headers={"Content-Security-Policy": REPORT_CSP})


def _document_pdf(settings: WebSettings, visit: Any, document: str) -> Response:
    from screener.report.pdf import html_to_pdf

    text = _visit_documents(settings, visit)[document]
    settings.ensure_dirs()
    path = settings.tmp_dir / f"{document}-{secrets.token_hex(8)}.pdf"
    html_to_pdf(text, path)
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in visit.patient.code)
    name = f"{document}-{safe}-{visit.visit_date.isoformat()}.pdf"
    return FileResponse(
        path,
        media_type="application/pdf",
        filename=name,
        background=BackgroundTask(path.unlink, missing_ok=True),
    )


@router.get("/visits/{visit_id}/report.html")
def visit_report_html(who: CurrentUser, visit: OwnedVisit, settings: Settings) -> Response:
    """The visit's clinician report (chart entry, left and right, plan), as a page."""
    return _document_html(settings, visit, "report")


@router.get("/visits/{visit_id}/report.pdf")
def visit_report_pdf(who: CurrentUser, visit: OwnedVisit, settings: Settings) -> Response:
    """The visit's clinician report as a PDF, printed from the same HTML."""
    return _document_pdf(settings, visit, "report")


@router.get("/visits/{visit_id}/handout.html")
def visit_handout_html(who: CurrentUser, visit: OwnedVisit, settings: Settings) -> Response:
    """The patient's one-page handout, as a page."""
    return _document_html(settings, visit, "handout")


@router.get("/visits/{visit_id}/handout.pdf")
def visit_handout_pdf(who: CurrentUser, visit: OwnedVisit, settings: Settings) -> Response:
    """The patient's one-page handout as a PDF."""
    return _document_pdf(settings, visit, "handout")


@router.post("/visits/{visit_id}/recordings")
def recording_upload(
    request: Request,
    who: CurrentUser,
    db: Db,
    visit: OwnedVisit,
    settings: Settings,
    video: Annotated[UploadFile, File()],
    kind: Annotated[str, Form()],
    view: Annotated[str, Form()] = "auto",
    lens_height_cm: Annotated[str, Form()] = "",
    camera_distance_m: Annotated[str, Form()] = "",
) -> Response:
    """Store the video (checked by content and size) and queue its analysis."""
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
    except (services.InputError, storage.UploadError) as exc:
        status = exc.status if isinstance(exc, storage.UploadError) else 400
        return _visit_page(request, who, visit, settings, f"Upload refused: {exc}.", status)
    return _see(f"/recordings/{rec.id}")


# ------------------------------------------------------------------ recordings
@router.get("/recordings/{recording_id}")
def recording_page(
    request: Request, who: CurrentUser, db: Db, rec: OwnedRecording, settings: Settings
) -> Response:
    """Progress of the analysis, then its flags, plan and the embedded report."""
    summary = services.read_summary(settings, rec)
    folder = services.result_folder(settings, rec)
    return _render(
        request,
        "recording.html",
        who,
        rec=rec,
        job=rec.latest_job,
        no_worker=not jobs.worker_alive(db, settings),
        summary=summary,
        verdict_tally=describe_verdicts(summary["faults"]) if summary else "",
        has_html=bool(folder and (folder / "report.html").is_file()),
        has_pdf=bool(folder and (folder / "report.pdf").is_file()),
    )


@router.get("/recordings/{recording_id}/status")
def recording_status(
    who: CurrentUser, db: Db, rec: OwnedRecording, settings: Settings
) -> JSONResponse:
    """The job's state, for the progress bar (and whether any worker is alive to run it)."""
    state = services.job_dict(rec.latest_job) or {"status": "none"}
    state["worker_running"] = jobs.worker_alive(db, settings)
    return JSONResponse(state)


def _report_file(settings: WebSettings, rec: Any, name: str) -> Any:
    folder = services.result_folder(settings, rec)
    if folder is None or not (folder / name).is_file():
        raise HTTPException(status_code=404, detail="no report yet for this recording")
    return folder / name


@router.get("/recordings/{recording_id}/report.html")
def recording_report_html(who: CurrentUser, rec: OwnedRecording, settings: Settings) -> Response:
    """The generated self-contained report (embedded in the recording page)."""
    path = _report_file(settings, rec, "report.html")
    return FileResponse(
        path, media_type="text/html; charset=utf-8", headers={"Content-Security-Policy": REPORT_CSP}
    )


@router.get("/recordings/{recording_id}/report.pdf")
def recording_report_pdf(who: CurrentUser, rec: OwnedRecording, settings: Settings) -> Response:
    """Download the PDF report."""
    path = _report_file(settings, rec, "report.pdf")
    patient = rec.visit.patient
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in patient.code)
    name = f"screener-{safe}-{rec.visit.visit_date.isoformat()}-{rec.kind}.pdf"
    return FileResponse(path, media_type="application/pdf", filename=name)


@router.post("/recordings/{recording_id}/retry")
def recording_retry(
    request: Request, who: CurrentUser, db: Db, rec: OwnedRecording, settings: Settings
) -> Response:
    """Queue the analysis again (after a failure)."""
    try:
        services.retry_recording(db, rec)
    except services.InputError as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    return _see(f"/recordings/{rec.id}")


@router.get("/recordings/{recording_id}/delete")
def recording_delete_confirm(request: Request, who: CurrentUser, rec: OwnedRecording) -> Response:
    """Ask for confirmation before deleting a recording."""
    return _render(
        request,
        "confirm_delete.html",
        who,
        what="recording",
        obj=rec,
        action=f"/recordings/{rec.id}/delete",
    )


@router.post("/recordings/{recording_id}/delete")
def recording_delete(who: CurrentUser, db: Db, rec: OwnedRecording, settings: Settings) -> Response:
    """Delete the recording, its video and results."""
    visit_id = rec.visit_id
    services.delete_recording(db, settings, rec)
    return _see(f"/visits/{visit_id}")


# ------------------------------------------------------------------ account
@router.get("/account")
def account_page(request: Request, who: CurrentUser, db: Db) -> Response:
    """The clinician's API tokens."""
    tokens = db.scalars(select(ApiToken).where(ApiToken.user_id == who.user.id)).all()
    return _render(request, "account.html", who, tokens=tokens, new_token=None)


@router.post("/account/password")
def account_password(
    request: Request,
    who: CurrentUser,
    db: Db,
    current: Annotated[str, Form(max_length=1024)],
    new: Annotated[str, Form(max_length=1024)],
    repeat: Annotated[str, Form(max_length=1024)],
) -> Response:
    """Change the signed-in clinician's password (the current one is checked)."""
    tokens = db.scalars(select(ApiToken).where(ApiToken.user_id == who.user.id)).all()

    def again(message: str, status: int) -> Response:
        return _render(
            request,
            "account.html",
            who,
            status=status,
            tokens=tokens,
            new_token=None,
            password_message=message,
        )

    if auth.authenticate(db, who.user.username, current) is None:
        return again("The current password is wrong.", 400)
    if new != repeat:
        return again("The new passwords differ.", 400)
    try:
        who.user.password_hash = auth.hash_password(new)
    except auth.AccountError as exc:
        return again(f"Not changed: {exc}.", 400)
    db.commit()
    return again("Password changed.", 200)


@router.post("/account/tokens")
def account_token_create(
    request: Request, who: CurrentUser, db: Db, name: Annotated[str, Form()] = ""
) -> Response:
    """Create an API token and show it once."""
    token, _ = auth.create_api_token(db, who.user, name)
    db.commit()
    tokens = db.scalars(select(ApiToken).where(ApiToken.user_id == who.user.id)).all()
    return _render(request, "account.html", who, tokens=tokens, new_token=token)


@router.post("/account/tokens/{token_id}/delete")
def account_token_delete(token_id: int, who: CurrentUser, db: Db) -> Response:
    """Revoke one of the clinician's API tokens (others' are not found)."""
    gone = rowcount(
        db.execute(delete(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == who.user.id))
    )
    db.commit()
    if not gone:
        raise HTTPException(status_code=404, detail="no such token")
    return _see("/account")
