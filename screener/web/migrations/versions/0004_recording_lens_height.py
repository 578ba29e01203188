"""recording lens height

Revision ID: 0004_recording_lens_height
Revises: 0003_visit_intake
Create Date: 2026-12-04 04:30:00

Adds the phone's lens height above the floor as entered at upload (centimetres,
nullable): the analysis checks it against the validated envelope where the video cannot
give it (squats, jogging in place).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_recording_lens_height"
down_revision = "0003_visit_intake"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("recordings") as batch:
        batch.add_column(sa.Column("lens_height_cm", sa.Float(), nullable=True))


def downgrade() -> None:
    # In place, not batch mode's copy: SQLite's copy drops the old ``recordings`` table,
    # and with foreign keys enforced that deletes every job of the recordings (ON DELETE
    # CASCADE). SQLite 3.35+ drops a plain column in place.
    with op.batch_alter_table("recordings", recreate="never") as batch:
        batch.drop_column("lens_height_cm")
