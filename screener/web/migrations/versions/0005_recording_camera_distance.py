"""recording camera distance

Revision ID: 0005_recording_camera_distance
Revises: 0004_recording_lens_height
Create Date: 2026-12-05 11:30:00

Adds the distance from the phone's lens to the patient as entered at upload (metres,
nullable): the video does not give it, and a single-leg squat filmed from the front is
checked on it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_recording_camera_distance"
down_revision = "0004_recording_lens_height"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("recordings") as batch:
        batch.add_column(sa.Column("camera_distance_m", sa.Float(), nullable=True))


def downgrade() -> None:
    # In place, not batch mode's copy: SQLite's copy drops the old ``recordings`` table,
    # and with foreign keys enforced that deletes every job of the recordings (ON DELETE
    # CASCADE). SQLite 3.35+ drops a plain column in place.
    with op.batch_alter_table("recordings", recreate="never") as batch:
        batch.drop_column("camera_distance_m")
