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
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError
from starlette.background import BackgroundTask

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
) -> Response:
    """Add a patient, then open their page."""
    try:
        patient = services.create_patient(db, who.user, code, sex, notes)
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
    """Every visit of the patient and the trend chart of each metric."""
    series = trends.collect_trends(settings, patient)
    charts = [(s, trends.render_svg(s)) for s in series]
    return _render(
        request,
        "patient.html",
        who,
        patient=patient,
        charts=charts,
        error=None,
        kinds=KIND_LABELS,
    )


@router.post("/patients/{patient_id}/visits")
def visit_create(
    request: Request,
    who: CurrentUser,
    db: Db,
    patient: OwnedPatient,
    settings: Settings,
    visit_date: Annotated[str, Form()] = "",
    pain: Annotated[str, Form()] = "",
    first_line_done: Annotated[str, Form()] = "",
    notes: Annotated[str, Form()] = "",
) -> Response:
    """Add a visit, then open it to upload recordings."""
    try:
        visit = services.create_visit(
            db, patient, visit_date, pain, first_line_done in ("on", "true", "1", "yes"), notes
        )
    except services.InputError as exc:
        series = trends.collect_trends(settings, patient)
        return _render(
            request,
            "patient.html",
            who,
            status=400,
            patient=patient,
            charts=[(s, trends.render_svg(s)) for s in series],
            error=str(exc),
            kinds=KIND_LABELS,
        )
    return _see(f"/visits/{visit.id}")


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
@router.get("/visits/{visit_id}")
def visit_page(
    request: Request, who: CurrentUser, visit: OwnedVisit, settings: Settings
) -> Response:
    """The visit's recordings, their progress, and the upload form."""
    return _render(
        request,
        "visit.html",
        who,
        visit=visit,
        kinds=KIND_LABELS,
        views=VIEWS,
        error=None,
        max_upload_mb=settings.max_upload_mb,
    )


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
) -> Response:
    """Store the video (checked by content and size) and queue its analysis."""
    try:
        rec = services.add_recording(
            db, settings, visit, kind, view, video.filename or "", video.file
        )
    except (services.InputError, storage.UploadError) as exc:
        status = exc.status if isinstance(exc, storage.UploadError) else 400
        return _render(
            request,
            "visit.html",
            who,
            status=status,
            visit=visit,
            kinds=KIND_LABELS,
            views=VIEWS,
            error=f"Upload refused: {exc}.",
            max_upload_mb=settings.max_upload_mb,
        )
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
