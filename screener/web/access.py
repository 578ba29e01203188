"""Who may do what: the one dependency every route uses for authentication, CSRF and ownership.

:func:`current_user` authenticates a request (API bearer token or session cookie) and, for
every state-changing request made with a session cookie, checks its CSRF token (form field
or ``X-CSRF-Token`` header). :func:`owned_patient`, :func:`owned_visit` and
:func:`owned_recording` load an object only through the signed-in clinician's patients:
another clinician's object is answered exactly like a missing one (404).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from screener.web import auth
from screener.web.models import Patient, Recording, User, UserSession, Visit
from screener.web.settings import WebSettings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class NotAuthenticatedError(Exception):
    """No valid session or token: pages redirect to sign-in, the API answers 401."""


class CsrfError(Exception):
    """A state-changing request with a session cookie but without the right CSRF token."""


@dataclass(frozen=True)
class Principal:
    """The authenticated clinician and how the request was authenticated."""

    user: User
    session: UserSession | None

    @property
    def csrf_token(self) -> str:
        """The session's CSRF token ('' for API tokens, which need none)."""
        return self.session.csrf_token if self.session else ""


def get_settings(request: Request) -> WebSettings:
    """The app's settings."""
    settings: WebSettings = request.app.state.settings
    return settings


def get_db(request: Request) -> Iterator[Session]:
    """A database session for one request."""
    with request.app.state.sessions() as db:
        yield db


Db = Annotated[Session, Depends(get_db)]
Settings = Annotated[WebSettings, Depends(get_settings)]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


async def current_user(request: Request, db: Db) -> Principal:
    """Authenticate the request; enforce CSRF on state-changing session requests.

    Raises
    ------
    NotAuthenticatedError
        No valid bearer token or session cookie.
    CsrfError
        A POST/PUT/PATCH/DELETE with a session cookie lacks the session's CSRF token.
    """
    token = _bearer(request)
    if token is not None:
        user = auth.user_for_api_token(db, token)
        if user is None:
            raise NotAuthenticatedError("invalid API token")
        db.commit()
        return Principal(user, None)
    session = auth.session_for_token(db, request.cookies.get(auth.SESSION_COOKIE))
    if session is None:
        raise NotAuthenticatedError("not signed in")
    if request.method not in SAFE_METHODS:
        given = request.headers.get(auth.CSRF_HEADER)
        if given is None and _is_form(request):
            form = await request.form()
            value = form.get(auth.CSRF_FIELD)
            given = value if isinstance(value, str) else None
        if not auth.tokens_match(session.csrf_token, given):
            raise CsrfError("missing or wrong CSRF token")
    return Principal(session.user, session)


def _is_form(request: Request) -> bool:
    kind = request.headers.get("content-type", "")
    return kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))


CurrentUser = Annotated[Principal, Depends(current_user)]


def owned_patient(patient_id: int, who: CurrentUser, db: Db) -> Patient:
    """The signed-in clinician's patient ``patient_id``; 404 for anyone else's."""
    patient = db.scalar(
        select(Patient).where(Patient.id == patient_id, Patient.owner_id == who.user.id)
    )
    if patient is None:
        raise HTTPException(status_code=404, detail="no such patient")
    return patient


def owned_visit(visit_id: int, who: CurrentUser, db: Db) -> Visit:
    """The signed-in clinician's visit ``visit_id``; 404 for anyone else's."""
    visit = db.scalar(
        select(Visit)
        .join(Patient, Visit.patient_id == Patient.id)
        .where(Visit.id == visit_id, Patient.owner_id == who.user.id)
    )
    if visit is None:
        raise HTTPException(status_code=404, detail="no such visit")
    return visit


def owned_recording(recording_id: int, who: CurrentUser, db: Db) -> Recording:
    """The signed-in clinician's recording ``recording_id``; 404 for anyone else's."""
    rec = db.scalar(
        select(Recording)
        .join(Visit, Recording.visit_id == Visit.id)
        .join(Patient, Visit.patient_id == Patient.id)
        .where(Recording.id == recording_id, Patient.owner_id == who.user.id)
    )
    if rec is None:
        raise HTTPException(status_code=404, detail="no such recording")
    return rec


OwnedPatient = Annotated[Patient, Depends(owned_patient)]
OwnedVisit = Annotated[Visit, Depends(owned_visit)]
OwnedRecording = Annotated[Recording, Depends(owned_recording)]
