"""Database tables (SQLAlchemy 2 declarative models), portable to SQLite and PostgreSQL.

Times are stored as naive UTC datetimes (:func:`utcnow`). Ownership flows
``User -> Patient -> Visit -> Recording -> Job``; every query of patient data goes
through :mod:`screener.web.access`, which scopes it to the signed-in clinician.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from typing import TypeVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from screener.tasks import recording_slots, slot_label

_V = TypeVar("_V")


class _FromRegistry(Mapping[str, _V]):
    """A read-only mapping built from the task registry each time it is read, so that a
    task registered after import (:func:`screener.tasks.register_task`) is offered too."""

    def __init__(self, build: Callable[[], dict[str, _V]]) -> None:
        self._build = build

    def __getitem__(self, key: str) -> _V:
        return self._build()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._build())

    def __len__(self) -> int:
        return len(self._build())


#: Recording kinds (the visit's slots: one per task, one per leg for a task done on one
#: leg) and the analysis each one runs (task, stance side), from :mod:`screener.tasks`.
RECORDING_KINDS: Mapping[str, tuple[str, str]] = _FromRegistry(recording_slots)
KIND_LABELS: Mapping[str, str] = _FromRegistry(
    lambda: {slot: slot_label(slot) for slot in recording_slots()}
)
VIEWS = ("auto", "anterior", "posterior")
JOB_STATUSES = ("queued", "running", "done", "failed")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    """The current time as a naive UTC datetime (the form stored in the database)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    """Base class of the tables."""

    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    """A clinician's account."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class UserSession(Base):
    """A signed-in browser: the cookie holds a random token, the table its SHA-256."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)

    user: Mapped[User] = relationship()


class ApiToken(Base):
    """A bearer token for the JSON API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)

    user: Mapped[User] = relationship()


class Patient(Base):
    """A pseudonymous patient of one clinician (a code, no name)."""

    __tablename__ = "patients"
    __table_args__ = (UniqueConstraint("owner_id", "code", name="owner_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    sex: Mapped[str | None] = mapped_column(String(8), nullable=True)
    #: The patient's height (stature) as entered (cm), or None: judges a short patient's
    #: single-leg squat with the larger error measured for short patients.
    height_cm: Mapped[float | None] = mapped_column(Float, nullable=True, default=None)
    notes: Mapped[str] = mapped_column(Text, default="")
    dose_overrides: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    visits: Mapped[list[Visit]] = relationship(
        back_populates="patient",
        cascade="all, delete-orphan",
        order_by="(Visit.visit_date, Visit.id)",
    )


class Visit(Base):
    """One evaluation: date, the intake answers, notes, and its recordings.

    ``pain`` is the worst lateral knee pain during or after running in the past week
    (the plan's pain gate); ``first_line_care`` and ``red_flags`` are comma-separated
    keys of :mod:`screener.intake`; ``first_line_done`` mirrors "any first-line care".
    """

    __tablename__ = "visits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    visit_date: Mapped[dt.date] = mapped_column(Date)
    pain: Mapped[float | None] = mapped_column(Float, nullable=True)
    first_line_done: Mapped[bool] = mapped_column(Boolean, default=False)
    rest_pain: Mapped[float | None] = mapped_column(Float, nullable=True)
    pain_onset: Mapped[str] = mapped_column(String(80), default="", server_default="")
    weekly_volume_km: Mapped[float | None] = mapped_column(Float, nullable=True)
    first_line_care: Mapped[str] = mapped_column(String(200), default="", server_default="")
    first_line_weeks: Mapped[float | None] = mapped_column(Float, nullable=True)
    red_flags: Mapped[str] = mapped_column(String(200), default="", server_default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    patient: Mapped[Patient] = relationship(back_populates="visits")
    recordings: Mapped[list[Recording]] = relationship(
        back_populates="visit", cascade="all, delete-orphan", order_by="Recording.id"
    )


class Recording(Base):
    """An uploaded video of one task, stored under a generated name."""

    __tablename__ = "recordings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    view: Mapped[str] = mapped_column(String(16), default="auto")
    #: The phone's lens height above the floor as entered at upload (cm), or None.
    lens_height_cm: Mapped[float | None] = mapped_column(Float, nullable=True, default=None)
    #: The lens' distance from the patient as entered at upload (m), or None.
    camera_distance_m: Mapped[float | None] = mapped_column(Float, nullable=True, default=None)
    original_name: Mapped[str] = mapped_column(String(255), default="")
    stored_name: Mapped[str | None] = mapped_column(String(64), nullable=True)
    container: Mapped[str] = mapped_column(String(8))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    visit: Mapped[Visit] = relationship(back_populates="recordings")
    jobs: Mapped[list[Job]] = relationship(
        back_populates="recording", cascade="all, delete-orphan", order_by="Job.id"
    )

    @property
    def latest_job(self) -> Job | None:
        """The most recent analysis job of this recording."""
        return self.jobs[-1] if self.jobs else None

    @property
    def kind_label(self) -> str:
        """Human-readable kind."""
        return KIND_LABELS.get(self.kind, self.kind)


class Job(Base):
    """One analysis of a recording, claimed by a worker under a lease."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recording_id: Mapped[int] = mapped_column(
        ForeignKey("recordings.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    stage: Mapped[str] = mapped_column(String(64), default="waiting for a worker")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_token: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    worker_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    result_dir: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)

    recording: Mapped[Recording] = relationship(back_populates="jobs")
