"""patient height

Revision ID: 0006_patient_height
Revises: 0005_recording_camera_distance
Create Date: 2026-12-07 11:30:00

Adds the patient's height (stature) as entered in the patient's record (centimetres,
nullable): the video does not give it, and a short patient's single-leg squat has its
knee valgus judged with the larger error measured for short patients.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_patient_height"
down_revision = "0005_recording_camera_distance"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("patients") as batch:
        batch.add_column(sa.Column("height_cm", sa.Float(), nullable=True))


def downgrade() -> None:
    # In place, not batch mode's copy: SQLite's copy drops the old ``patients`` table,
    # and with foreign keys enforced that deletes every visit, recording and job of the
    # patients (ON DELETE CASCADE). SQLite 3.35+ drops a plain column in place.
    with op.batch_alter_table("patients", recreate="never") as batch:
        batch.drop_column("height_cm")
