"""Tables of the running service, not of patient data: sign-in throttling and worker heartbeats.

Kept apart from :mod:`screener.web.models` (the clinical records). Both live in the
database so that several server processes and workers share them, on SQLite and
PostgreSQL alike; rows that no longer matter are pruned (see :mod:`screener.web.auth` and
:mod:`screener.web.jobs`).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from screener.web.models import Base, utcnow


class LoginThrottle(Base):
    """Recent failed (or still undecided) sign-ins counted under one key.

    Keys are ``pair:<account>|<address>``, ``acct:<account>`` and ``addr:<address>``.
    ``version`` is bumped by every update, so a writer that read an older row updates
    nothing (compare-and-swap) and tries again.
    """

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_at: Mapped[float] = mapped_column(Float, index=True)
    version: Mapped[int] = mapped_column(Integer, default=0)


class KnownAddress(Base):
    """An address an account signed in from (the owner's usual places)."""

    __tablename__ = "login_known_addresses"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_at: Mapped[float] = mapped_column(Float, index=True)


class WorkerHeartbeat(Base):
    """A running worker process, as it last reported itself."""

    __tablename__ = "worker_heartbeats"

    worker_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    seen_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
