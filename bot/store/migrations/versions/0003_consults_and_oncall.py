"""consults: patient in the room and the PCP's note; on-call cover taken or handed over in Slack

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('handoffrequest', schema=None) as batch_op:
        batch_op.add_column(sa.Column('in_room', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('note', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.create_table(
        'oncall',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('clinic', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('role', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('slack_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('set_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('oncall', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oncall_clinic'), ['clinic'], unique=False)
        batch_op.create_index(batch_op.f('ix_oncall_starts_at'), ['starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_oncall_ends_at'), ['ends_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('oncall', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oncall_ends_at'))
        batch_op.drop_index(batch_op.f('ix_oncall_starts_at'))
        batch_op.drop_index(batch_op.f('ix_oncall_clinic'))
    op.drop_table('oncall')
    with op.batch_alter_table('handoffrequest', schema=None) as batch_op:
        batch_op.drop_column('note')
        batch_op.drop_column('in_room')
