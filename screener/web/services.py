"""Operations shared by the pages and the JSON API (the routes only translate HTTP)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from screener.web import jobs, storage
from screener.web.models import RECORDING_KINDS, VIEWS, Job, Patient, Recording, User, Visit
from screener.web.settings import WebSettings

log = logging.getLogger(__name__)

SEXES = ("female", "male")


class InputError(ValueError):
    """A form or API value that cannot be accepted (the message says which and why)."""


class DuplicateCodeError(InputError):
    """A patient code the clinician already uses (the API answers 409 Conflict)."""


def list_patients(db: Session, user: User) -> list[Patient]:
    """The clinician's patients, by code."""
    return list(
        db.scalars(select(Patient).where(Patient.owner_id == user.id).order_by(Patient.code))
    )


@dataclass(frozen=True)
class PatientFields:
    """A patient's code, sex and height (cm), trimmed and checked."""

    code: str
    sex: str | None
    height_cm: float | None


def _checked_patient_fields(
    code: str, sex: str | None, height_cm: float | str | None = None
) -> PatientFields:
    """A patient's code, sex and height, trimmed and checked.

    Raises
    ------
    InputError
        Empty or too long code, an unknown sex, or a height that is not 90-250 cm.
    """
    from screener.config import check_patient_height_cm

    code = code.strip()
    if not code or len(code) > 64:
        raise InputError("the patient code must have 1-64 characters")
    sex = (sex or "").strip().lower() or None
    if sex is not None and sex not in SEXES:
        raise InputError("sex must be 'female', 'male' or left empty")
    return PatientFields(code, sex, parse_entered(height_cm, check_patient_height_cm))


def _commit_patient(db: Session, code: str) -> None:
    """Commit a new or changed patient.

    Raises
    ------
    DuplicateCodeError
        The clinician already has a patient with ``code`` (rolled back).
    """
    try:
        db.commit()
    except IntegrityError as exc:
        db.rollback()
        raise DuplicateCodeError(f"you already have a patient with the code {code!r}") from exc


def create_patient(
    db: Session,
    user: User,
    code: str,
    sex: str | None = None,
    notes: str = "",
    height_cm: float | str | None = None,
) -> Patient:
    """Add a pseudonymous patient for a clinician (committed).

    ``height_cm`` is the patient's height in centimetres as entered ('' or None: not
    recorded); the analysis judges a short patient's single-leg squat with it.

    Raises
    ------
    InputError
        Empty or too long code, unknown sex, or a height that is not 90-250 cm.
    DuplicateCodeError
        A code the clinician already uses.
    """
    fields = _checked_patient_fields(code, sex, height_cm)
    patient = Patient(
        owner_id=user.id,
        code=fields.code,
        sex=fields.sex,
        height_cm=fields.height_cm,
        notes=notes.strip()[:5000],
    )
    db.add(patient)
    _commit_patient(db, fields.code)
    return patient


def parse_pain(value: str | float | None) -> float | None:
    """Pain 0-10 from a form or JSON value ('' or None: not recorded)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        pain = float(value)
    except ValueError as exc:
        raise InputError(f"pain must be a number from 0 to 10, got {value!r}") from exc
    if not math.isfinite(pain) or not 0 <= pain <= 10:
        raise InputError(f"pain must be from 0 to 10, got {value!r}")
    return pain


def _parse_day(visit_date: dt.date | str | None) -> dt.date:
    if visit_date in (None, ""):
        return dt.date.today()
    if isinstance(visit_date, dt.date):
        return visit_date
    try:
        return dt.date.fromisoformat(str(visit_date))
    except ValueError as exc:
        raise InputError(f"the visit date must be YYYY-MM-DD, got {visit_date!r}") from exc


def _parse_number(name: str, value: str | float | None, top: float) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(value)
    except ValueError as exc:
        raise InputError(f"{name} must be a number from 0 to {top:g}, got {value!r}") from exc
    if not math.isfinite(number) or not 0 <= number <= top:
        raise InputError(f"{name} must be from 0 to {top:g}, got {value!r}")
    return number


def _parse_keys(name: str, values: Any, allowed: dict[str, str]) -> str:
    if isinstance(values, str):
        values = [v for v in values.split(",") if v.strip()]
    keys = [str(v).strip() for v in values or []]
    bad = [k for k in keys if k not in allowed]
    if bad:
        raise InputError(f"unknown {name}: {', '.join(bad)} (allowed: {', '.join(allowed)})")
    return ",".join(dict.fromkeys(keys))


@dataclass(frozen=True)
class VisitAnswers:
    """The intake answers of a visit form or API body (all optional)."""

    pain: str | float | None = None
    first_line_done: bool = False
    rest_pain: str | float | None = None
    pain_onset: str = ""
    weekly_volume_km: str | float | None = None
    first_line_care: Any = ()
    first_line_weeks: str | float | None = None
    red_flags: Any = ()
    notes: str = ""


def _apply_answers(visit: Visit, answers: VisitAnswers) -> None:
    from screener.intake import FIRST_LINE_LABELS, RED_FLAG_LABELS

    care = _parse_keys("first-line care", answers.first_line_care, FIRST_LINE_LABELS)
    if not care and answers.first_line_done:
        care = "unspecified"
    visit.pain = parse_pain(answers.pain)
    visit.rest_pain = _parse_number("pain at rest", answers.rest_pain, 10)
    visit.pain_onset = (answers.pain_onset or "").strip()[:80]
    visit.weekly_volume_km = _parse_number("weekly running volume", answers.weekly_volume_km, 1000)
    visit.first_line_care = care
    visit.first_line_done = bool(care)
    visit.first_line_weeks = _parse_number("first-line care weeks", answers.first_line_weeks, 520)
    visit.red_flags = _parse_keys("red flag", answers.red_flags, RED_FLAG_LABELS)
    visit.notes = (answers.notes or "").strip()[:5000]


def create_visit(
    db: Session,
    patient: Patient,
    visit_date: dt.date | str | None,
    pain: str | float | None,
    first_line_done: bool,
    notes: str = "",
    answers: VisitAnswers | None = None,
) -> Visit:
    """Add a visit to a patient (committed).

    ``pain`` is the worst lateral knee pain during or after running in the past week;
    ``answers`` carries the rest of the intake (its ``pain``, ``first_line_done`` and
    ``notes`` are replaced by the positional values).

    Raises
    ------
    InputError
        An unreadable date, a pain outside 0-10 or an unknown answer.
    """
    day = _parse_day(visit_date)
    base = answers or VisitAnswers()
    merged = VisitAnswers(
        **{**base.__dict__, "pain": pain, "first_line_done": first_line_done, "notes": notes}
    )
    visit = Visit(visit_date=day)
    _apply_answers(visit, merged)  # checked before the visit joins the patient
    visit.patient = patient
    db.add(visit)
    db.commit()
    return visit


def update_visit(
    db: Session, visit: Visit, visit_date: dt.date | str | None, answers: VisitAnswers
) -> Visit:
    """Change a visit's date and intake answers (committed); the plan follows at once.

    Raises
    ------
    InputError
        An unreadable date or answer (nothing is changed then).
    """
    day = _parse_day(visit_date) if visit_date not in (None, "") else visit.visit_date
    try:
        _apply_answers(visit, answers)
    except InputError:
        db.rollback()
        raise
    visit.visit_date = day
    db.commit()
    return visit


def delete_visit(db: Session, settings: WebSettings, visit: Visit) -> None:
    """Delete a visit with its recordings, videos and results."""
    uploads, results = _file_names([visit])
    db.delete(visit)
    db.commit()
    storage.remove_files(settings, uploads, results)


def update_patient(
    db: Session,
    patient: Patient,
    code: str,
    sex: str | None,
    notes: str = "",
    height_cm: float | str | None = None,
) -> Patient:
    """Change a patient's code, sex, height or notes (committed).

    ``height_cm`` as in :func:`create_patient` ('' or None clears it).

    Raises
    ------
    InputError
        Empty or too long code, unknown sex, or a height that is not 90-250 cm (nothing
        is changed).
    DuplicateCodeError
        A code the clinician already uses.
    """
    fields = _checked_patient_fields(code, sex, height_cm)
    patient.code, patient.sex = fields.code, fields.sex
    patient.height_cm, patient.notes = fields.height_cm, notes.strip()[:5000]
    _commit_patient(db, fields.code)
    return patient


def set_patient_doses(db: Session, patient: Patient, doses: dict[str, Any]) -> Patient:
    """Store a patient's own doses (per exercise id; checked against the protocol file).

    Raises
    ------
    InputError
        An unknown exercise or an invalid dose.
    """
    from screener.config import AnalysisConfig
    from screener.errors import ConfigError
    from screener.plan import validate_dose_overrides

    clean = {k: {f: v for f, v in d.items() if v not in (None, "")} for k, d in doses.items()}
    clean = {k: d for k, d in clean.items() if d}
    try:
        validate_dose_overrides(clean, AnalysisConfig().plan_path)
    except ConfigError as exc:
        raise InputError(exc.problem) from exc
    patient.dose_overrides = json.dumps(clean, sort_keys=True) if clean else ""
    db.commit()
    return patient


def patient_doses(patient: Patient) -> dict[str, Any]:
    """The patient's own doses (empty when none)."""
    data: dict[str, Any] = json.loads(patient.dose_overrides) if patient.dose_overrides else {}
    return data


def visit_intake(visit: Visit) -> dict[str, Any]:
    """The visit's answers as :class:`screener.intake.Intake` fields."""
    return {
        "patient_code": visit.patient.code,
        "visit_date": visit.visit_date.isoformat(),
        "running_pain": visit.pain,
        "rest_pain": visit.rest_pain,
        "pain_onset": visit.pain_onset or "",
        "weekly_volume_km": visit.weekly_volume_km,
        "first_line_care": [c for c in (visit.first_line_care or "").split(",") if c],
        "first_line_weeks": visit.first_line_weeks,
        "red_flags": [f for f in (visit.red_flags or "").split(",") if f],
    }


def screen_of_visit(settings: WebSettings, visit: Visit) -> dict[str, Any] | None:
    """The visit-level screen and plan from its analysed recordings (None before any).

    The plan is rebuilt from the visit's current answers and the patient's doses, so an
    edited pain score changes the plan without analysing the videos again.
    """
    from screener.capture import load_envelope
    from screener.config import AnalysisConfig
    from screener.norms import load_norms
    from screener.visit import screen_visit

    takes = []
    for rec in visit.recordings:
        summary = read_summary(settings, rec)
        if summary is not None:
            takes.append((str(rec.id), summary))
    if not takes:
        return None
    config = AnalysisConfig()
    doses = {**config.dose_overrides, **patient_doses(visit.patient)}
    return screen_visit(
        takes,
        intake=visit_intake(visit),
        norms=load_norms(config.norms_path),
        plan_path=config.plan_path,
        dose_overrides=doses,
        envelope=load_envelope(config.capture.envelope_path),
    )


def parse_entered(value: float | str | None, check: Callable[[object], float]) -> float | None:
    """A measurement entered in a form, checked by ``check`` (empty: None).

    Raises
    ------
    InputError
        What ``check`` refuses (:func:`screener.config.check_lens_height_cm`,
        :func:`screener.config.check_camera_distance_m`,
        :func:`screener.config.check_patient_height_cm`: not a number, or outside the
        range, with the unit).
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return check(value)
    except ValueError as exc:
        raise InputError(str(exc)) from exc


def add_recording(
    db: Session,
    settings: WebSettings,
    visit: Visit,
    kind: str,
    view: str,
    filename: str,
    source: BinaryIO,
    lens_height_cm: float | str | None = None,
    camera_distance_m: float | str | None = None,
) -> Recording:
    """Store an uploaded video for a visit and queue its analysis (committed).

    Raises
    ------
    InputError
        Unknown kind or view, a lens height that is not 10-300 cm or a camera distance
        that is not 0.3-20 m.
    storage.UploadError
        Empty, too large or not a video (by content).
    """
    if kind not in RECORDING_KINDS:
        raise InputError(f"kind must be one of {', '.join(RECORDING_KINDS)}, got {kind!r}")
    view = view or "auto"
    if view not in VIEWS:
        raise InputError(f"view must be one of {', '.join(VIEWS)}, got {view!r}")
    from screener.config import check_camera_distance_m, check_lens_height_cm

    height_cm = parse_entered(lens_height_cm, check_lens_height_cm)
    distance_m = parse_entered(camera_distance_m, check_camera_distance_m)
    stored = storage.save_upload(source, settings)
    rec = Recording(
        visit=visit,
        kind=kind,
        view=view,
        lens_height_cm=height_cm,
        camera_distance_m=distance_m,
        original_name=Path(filename or "").name[:255],
        stored_name=stored.stored_name,
        container=stored.container,
        size_bytes=stored.size_bytes,
        sha256=stored.sha256,
    )
    db.add(rec)
    job = jobs.enqueue(db, rec)
    try:
        db.commit()
    except Exception:
        db.rollback()
        storage.remove_files(settings, [stored.stored_name], [])
        raise
    log.info("recording %d queued as job %d", rec.id, job.id)
    return rec


def retry_recording(db: Session, recording: Recording) -> Job:
    """Queue a new analysis of a recording whose last job failed (committed).

    Raises
    ------
    InputError
        The last job is still queued or running, or the video is no longer stored.
    """
    last = recording.latest_job
    if last is not None and last.status in ("queued", "running"):
        raise InputError("this recording is already being analysed")
    if recording.stored_name is None:
        raise InputError("the original video was deleted after its analysis; upload it again")
    job = jobs.enqueue(db, recording)
    db.commit()
    return job


def _file_names(patient_or_visits: list[Visit]) -> tuple[list[str], list[str]]:
    uploads, results = [], []
    for visit in patient_or_visits:
        for rec in visit.recordings:
            if rec.stored_name:
                uploads.append(rec.stored_name)
            results += [j.result_dir for j in rec.jobs if j.result_dir]
    return uploads, results


def delete_patient(db: Session, settings: WebSettings, patient: Patient) -> None:
    """Delete a patient, their visits, recordings, jobs, videos and results."""
    uploads, results = _file_names(list(patient.visits))
    db.delete(patient)
    db.commit()
    storage.remove_files(settings, uploads, results)
    log.info(
        "patient %d deleted with %d videos, %d result folders",
        patient.id,
        len(uploads),
        len(results),
    )


def delete_recording(db: Session, settings: WebSettings, recording: Recording) -> None:
    """Delete one recording with its video and results."""
    uploads = [recording.stored_name] if recording.stored_name else []
    results = [j.result_dir for j in recording.jobs if j.result_dir]
    db.delete(recording)
    db.commit()
    storage.remove_files(settings, uploads, results)


def result_folder(settings: WebSettings, recording: Recording) -> Path | None:
    """The result folder of the recording's latest finished analysis, if any."""
    for job in reversed(recording.jobs):
        if job.status == "done" and job.result_dir:
            path = storage.result_path(settings, job.result_dir)
            if path.is_dir():
                return path
    return None


def read_summary(settings: WebSettings, recording: Recording) -> dict[str, Any] | None:
    """``summary.json`` of the latest finished analysis, or None."""
    folder = result_folder(settings, recording)
    if folder is None or not (folder / "summary.json").is_file():
        return None
    data: dict[str, Any] = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    return data


def visit_stills(
    settings: WebSettings, visit: Visit, take_ids: list[str]
) -> dict[str, list[dict[str, Any]] | None]:
    """The saved stills of the given recordings of a visit (None: none saved)."""
    from screener.report.stills import load_stills

    out: dict[str, list[dict[str, Any]] | None] = {}
    for rec in visit.recordings:
        if str(rec.id) in take_ids:
            folder = result_folder(settings, rec)
            out[str(rec.id)] = load_stills(folder) if folder is not None else None
    return out


def job_dict(job: Job | None) -> dict[str, Any] | None:
    """The public state of a job."""
    if job is None:
        return None
    return {
        "id": job.id,
        "status": job.status,
        "progress": round(job.progress, 3),
        "stage": job.stage,
        "attempts": job.attempts,
        "error": job.error,
        "created_at": _iso(job.created_at),
        "started_at": _iso(job.started_at),
        "finished_at": _iso(job.finished_at),
    }


def recording_dict(
    settings: WebSettings, rec: Recording, with_summary: bool = False
) -> dict[str, Any]:
    """The public record of a recording (optionally with its ``summary.json``)."""
    out: dict[str, Any] = {
        "id": rec.id,
        "visit_id": rec.visit_id,
        "kind": rec.kind,
        "view": rec.view,
        "lens_height_cm": rec.lens_height_cm,
        "camera_distance_m": rec.camera_distance_m,
        "original_name": rec.original_name,
        "container": rec.container,
        "size_bytes": rec.size_bytes,
        "sha256": rec.sha256,
        "video_kept": rec.stored_name is not None,
        "created_at": _iso(rec.created_at),
        "job": job_dict(rec.latest_job),
    }
    if with_summary:
        out["summary"] = read_summary(settings, rec)
    return out


def visit_dict(settings: WebSettings, visit: Visit) -> dict[str, Any]:
    """The public record of a visit with its recordings."""
    return {
        "id": visit.id,
        "patient_id": visit.patient_id,
        "visit_date": visit.visit_date.isoformat(),
        "pain": visit.pain,
        "first_line_done": visit.first_line_done,
        "intake": visit_intake(visit),
        "notes": visit.notes,
        "created_at": _iso(visit.created_at),
        "recordings": [recording_dict(settings, r) for r in visit.recordings],
    }


def patient_dict(patient: Patient, visits: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The public record of a patient (optionally with visits)."""
    out: dict[str, Any] = {
        "id": patient.id,
        "code": patient.code,
        "sex": patient.sex,
        "height_cm": patient.height_cm,
        "notes": patient.notes,
        "created_at": _iso(patient.created_at),
    }
    if visits is not None:
        out["visits"] = visits
    return out


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat() + "Z"


@dataclass(frozen=True)
class Export:
    """A patient's export archive in the data folder's temporary area."""

    path: Path
    download_name: str


def export_patient(settings: WebSettings, patient: Patient) -> Export:
    """Build a zip of a patient's records, results and kept videos.

    Returns
    -------
    Export
        The archive (the caller deletes it after sending).

    Notes
    -----
    ``patient.json`` holds the records; ``visits/<date>-visit<id>/<kind>-rec<id>/`` the
    result files of each recording's latest finished analysis and, where kept, the
    original video.
    """
    settings.ensure_dirs()
    visits = [visit_dict(settings, v) for v in patient.visits]
    record = patient_dict(patient, visits)
    record["exported_at"] = dt.datetime.now(dt.UTC).isoformat()
    path = settings.tmp_dir / f"export-{uuid.uuid4().hex}.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("patient.json", json.dumps(record, indent=2))
        for visit in patient.visits:
            for rec in visit.recordings:
                base = (
                    f"visits/{visit.visit_date.isoformat()}-visit{visit.id}/{rec.kind}-rec{rec.id}"
                )
                folder = result_folder(settings, rec)
                if folder is not None:
                    for item in sorted(folder.iterdir()):
                        if item.is_file():
                            zf.write(item, f"{base}/{item.name}")
                if rec.stored_name:
                    video = storage.upload_path(settings, rec.stored_name)
                    if video.is_file():
                        zf.write(
                            video, f"{base}/video.{rec.container}", compress_type=zipfile.ZIP_STORED
                        )
    safe_code = "".join(c if c.isalnum() or c in "-_" else "_" for c in patient.code)
    return Export(path, f"patient-{safe_code}-{dt.date.today().isoformat()}.zip")
