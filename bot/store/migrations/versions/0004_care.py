"""measurement-based care: when a patient's care with the behavioral health team started

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


# Plain ALTER TABLE on both databases: batch mode would copy the patient table on SQLite, which the
# foreign keys of every other table forbid (SQLite has had ADD and DROP COLUMN since 3.35).
def upgrade() -> None:
    op.add_column('patient', sa.Column('care_started_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.execute('ALTER TABLE patient DROP COLUMN care_started_at')
