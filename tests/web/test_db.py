"""The schema: migrations match the models; the same migrations and queue SQL suit PostgreSQL."""

from __future__ import annotations

import io
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.command import upgrade
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import update
from sqlalchemy.dialects import postgresql

from screener.web.db import MIGRATIONS_DIR, make_engine, upgrade_database
from screener.web.models import Base, Job
from screener.web.settings import WebSettings


def test_migrations_match_the_models(app: Any, settings: WebSettings) -> None:
    engine = make_engine(settings)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_migrating_twice_is_harmless(app: Any, settings: WebSettings) -> None:
    engine = make_engine(settings)
    upgrade_database(settings, engine)  # the server and a worker both migrate at start
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == "0006_patient_height"


def test_the_lens_height_migration_keeps_the_recordings_both_ways(
    app: Any, settings: WebSettings, world: Any
) -> None:
    """A database with a recording, taken back to 0003 (before the lens height) and up
    again: the column goes and comes back empty, the recording stays (SQLite's batch mode
    copies the table)."""
    from alembic.command import downgrade
    from sqlalchemy import inspect, text

    engine = make_engine(settings)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))

    def columns() -> set[str]:
        return {c["name"] for c in inspect(engine).get_columns("recordings")}

    def rows() -> list[tuple[Any, ...]]:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text("SELECT id, kind FROM recordings"))]

    before = rows()
    assert before == [(world.recording_id, "walk")]
    with engine.begin() as conn:
        conn.execute(text("UPDATE recordings SET lens_height_cm = 55"))
        config.attributes["connection"] = conn
        downgrade(config, "0003_visit_intake")
    assert "lens_height_cm" not in columns() and rows() == before
    upgrade_database(settings, engine)
    assert "lens_height_cm" in columns() and rows() == before
    with engine.connect() as conn:
        assert conn.execute(text("SELECT lens_height_cm FROM recordings")).scalar() is None


def test_the_camera_distance_migration_keeps_the_recordings_both_ways(
    app: Any, settings: WebSettings, world: Any
) -> None:
    """Taken back to 0004 (before the camera distance) and up again: the column goes and
    comes back empty, the recording and its lens height stay."""
    from alembic.command import downgrade
    from sqlalchemy import inspect, text

    engine = make_engine(settings)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))

    def rows() -> list[tuple[Any, ...]]:
        with engine.connect() as conn:
            query = text("SELECT id, kind, lens_height_cm FROM recordings")
            return [tuple(r) for r in conn.execute(query)]

    with engine.begin() as conn:
        conn.execute(text("UPDATE recordings SET lens_height_cm = 55, camera_distance_m = 2.5"))
    before = rows()
    assert before == [(world.recording_id, "walk", 55.0)]
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        downgrade(config, "0004_recording_lens_height")
    columns = {c["name"] for c in inspect(engine).get_columns("recordings")}
    assert "camera_distance_m" not in columns and rows() == before
    upgrade_database(settings, engine)
    assert rows() == before
    with engine.connect() as conn:
        assert conn.execute(text("SELECT camera_distance_m FROM recordings")).scalar() is None


def test_the_patient_height_migration_keeps_the_patients_and_their_visits(
    app: Any, settings: WebSettings, world: Any
) -> None:
    """Taken back to 0005 (before the patient's height) and up again: the column goes and
    comes back empty; the patient, their visit, recording and job stay (a copy of the
    patients table would have deleted them through ON DELETE CASCADE). The same back to
    0003, before the recordings' lens height and camera distance (whose copies of the
    recordings table deleted the jobs until session 46)."""
    from alembic.command import downgrade
    from sqlalchemy import inspect, text

    engine = make_engine(settings)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))

    def columns() -> set[str]:
        return {c["name"] for c in inspect(engine).get_columns("patients")}

    def counts() -> list[Any]:
        with engine.connect() as conn:
            return [
                conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()
                for table in ("patients", "visits", "recordings", "jobs")
            ]

    with engine.begin() as conn:
        conn.execute(text("UPDATE patients SET height_cm = 165"))
    before = counts()
    assert before == [1, 1, 1, 1]
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        downgrade(config, "0005_recording_camera_distance")
    assert "height_cm" not in columns() and counts() == before
    with engine.connect() as conn:
        assert conn.execute(text("SELECT code, sex FROM patients")).one() == ("RUN-001", "female")
    upgrade_database(settings, engine)
    assert "height_cm" in columns() and counts() == before
    with engine.connect() as conn:
        assert conn.execute(text("SELECT height_cm FROM patients")).scalar() is None
    # further back, before the recording's lens height and camera distance (0004, 0005):
    # the recordings' columns go in place too, and their jobs stay
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        downgrade(config, "0003_visit_intake")
    recording_columns = {c["name"] for c in inspect(engine).get_columns("recordings")}
    assert not {"lens_height_cm", "camera_distance_m"} & recording_columns
    assert counts() == before
    upgrade_database(settings, engine)
    assert counts() == before


def test_migrations_render_for_postgresql() -> None:
    out = io.StringIO()
    config = Config(output_buffer=out)
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", "postgresql+psycopg://user@host/screener")
    upgrade(config, "head", sql=True)
    sql = out.getvalue()
    for table in ("users", "user_sessions", "api_tokens", "patients", "visits", "recordings"):
        assert f"CREATE TABLE {table} (" in sql
    assert "size_bytes BIGINT NOT NULL" in sql
    assert "ALTER TABLE patients ADD COLUMN height_cm FLOAT" in sql
    assert "ON DELETE CASCADE" in sql
    assert "AUTOINCREMENT" not in sql.upper().replace("SERIAL", "")


def test_claim_is_a_conditional_update_on_postgresql() -> None:
    stmt = (
        update(Job)
        .where(Job.id == 1, Job.status == "queued")
        .values(status="running", attempts=Job.attempts + 1)
    )
    sql = str(stmt.compile(dialect=postgresql.dialect()))
    assert sql.startswith("UPDATE jobs SET status=")
    where = sql.split(" WHERE ", 1)[1]
    assert where.startswith("jobs.id = ") and " AND jobs.status = " in where
