"""visit intake answers and per-patient doses

Revision ID: 0003_visit_intake
Revises: 0001
Create Date: 2026-12-01 17:00:00

Adds the intake of issue 9 to visits (pain at rest, onset, weekly volume, which
first-line care and for how long, red flags; ``pain`` now holds the worst lateral knee
pain during or after running) and per-patient dose overrides (JSON text).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_visit_intake"
down_revision = "0002_throttle_heartbeats"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("visits") as batch:
        batch.add_column(sa.Column("rest_pain", sa.Float(), nullable=True))
        batch.add_column(
            sa.Column("pain_onset", sa.String(length=80), server_default="", nullable=False)
        )
        batch.add_column(sa.Column("weekly_volume_km", sa.Float(), nullable=True))
        batch.add_column(
            sa.Column("first_line_care", sa.String(length=200), server_default="", nullable=False)
        )
        batch.add_column(sa.Column("first_line_weeks", sa.Float(), nullable=True))
        batch.add_column(
            sa.Column("red_flags", sa.String(length=200), server_default="", nullable=False)
        )
    with op.batch_alter_table("patients") as batch:
        batch.add_column(sa.Column("dose_overrides", sa.Text(), server_default="", nullable=False))
    # visits recorded before: first-line care "done" without saying which
    op.execute("UPDATE visits SET first_line_care = 'unspecified' WHERE first_line_done")


def downgrade() -> None:
    with op.batch_alter_table("patients") as batch:
        batch.drop_column("dose_overrides")
    with op.batch_alter_table("visits") as batch:
        for column in (
            "red_flags",
            "first_line_weeks",
            "first_line_care",
            "weekly_volume_km",
            "pain_onset",
            "rest_pain",
        ):
            batch.drop_column(column)
