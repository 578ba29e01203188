"""Fixtures of the web app tests: a fresh data folder and app per test, two clinicians.

The database is a SQLite file in the data folder, or, when ``SCREENER_TEST_POSTGRES_URL``
names a PostgreSQL server (``postgresql+psycopg://user:password@host:port/postgres``), a
new database created on it for each test and dropped after it: the same tests then run
on PostgreSQL (``scripts/test.sh`` does both).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from screener.web.app import create_app
from screener.web.settings import WebSettings
from tests.web.helpers import Clinician, World, add_user, make_world, sign_in

POSTGRES_URL = os.environ.get("SCREENER_TEST_POSTGRES_URL")


@pytest.fixture()
def database_url() -> Iterator[str | None]:
    """None (SQLite in the data folder) or a fresh PostgreSQL database's URL."""
    if not POSTGRES_URL:
        yield None
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"screener_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture()
def settings(tmp_path: Path, database_url: str | None) -> WebSettings:
    """Settings with a temporary data folder, a 20 MB upload limit and short polls."""
    return WebSettings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        max_upload_mb=20,
        lease_seconds=30,
        poll_seconds=0.05,
        login_max_failures=3,
    )


@pytest.fixture()
def app(settings: WebSettings) -> Any:
    """The application on a migrated SQLite database in the data folder."""
    return create_app(settings)


@pytest.fixture()
def sessions(app: Any) -> Any:
    """The app's session factory."""
    return app.state.sessions


@pytest.fixture()
def alice(app: Any, sessions: Any) -> Iterator[Clinician]:
    """First clinician, signed in."""
    user = add_user(sessions, "alice")
    with TestClient(app) as client:
        yield Clinician(client, user, sign_in(client, "alice"))


@pytest.fixture()
def bob(app: Any, sessions: Any) -> Iterator[Clinician]:
    """Second clinician, signed in."""
    user = add_user(sessions, "bob")
    with TestClient(app) as client:
        yield Clinician(client, user, sign_in(client, "bob"))


@pytest.fixture()
def anonymous(app: Any) -> Iterator[TestClient]:
    """A client that is not signed in."""
    with TestClient(app) as client:
        yield client


@pytest.fixture()
def world(sessions: Any, settings: WebSettings, alice: Clinician) -> World:
    """Alice's patient with one visit and one analysed recording."""
    return make_world(sessions, settings, alice.user)


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap argon2id parameters in tests (production uses argon2-cffi's defaults)."""
    from argon2 import PasswordHasher

    from screener.web import auth

    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
