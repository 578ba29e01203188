"""Database engine, sessions and the migrations applied when the server or a worker starts."""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from screener.web.settings import WebSettings

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def make_engine(settings: WebSettings) -> Engine:
    """Create the engine for the configured database.

    Parameters
    ----------
    settings
        The web settings (``db_url``).

    Returns
    -------
    Engine

    Notes
    -----
    SQLite gets foreign keys enforced, write-ahead logging (the server reads while a
    worker writes) and a busy timeout instead of immediate "database is locked" errors.
    """
    url = settings.db_url
    kwargs: dict[str, Any] = {"future": True, "pool_pre_ping": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

    return engine


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """A session factory whose objects stay usable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def upgrade_database(settings: WebSettings, engine: Engine) -> None:
    """Apply the Alembic migrations shipped in the package (up to ``head``).

    Parameters
    ----------
    settings
        The web settings (the data folder holds the lock file).
    engine
        The engine of the database to migrate.

    Notes
    -----
    A file lock in the data folder serialises the server and workers started at the same
    time on one machine, so two processes never run the same migration concurrently.
    """
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", settings.db_url.replace("%", "%%"))
    with _file_lock(settings.data_dir / ".migrate.lock"), engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    log.info("database schema is up to date")
