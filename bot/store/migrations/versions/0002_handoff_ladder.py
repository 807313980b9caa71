"""handoff ladder: rung, acceptance, outcome, consult requester; escalation timers

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('handoffrequest', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rung', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('unanswered_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('accepted_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('requested_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    with op.batch_alter_table('timer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('handoff_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_timer_handoff_id'), ['handoff_id'], unique=False)
        batch_op.create_foreign_key('fk_timer_handoff_id', 'handoffrequest', ['handoff_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('timer', schema=None) as batch_op:
        batch_op.drop_constraint('fk_timer_handoff_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_timer_handoff_id'))
        batch_op.drop_column('handoff_id')
    with op.batch_alter_table('handoffrequest', schema=None) as batch_op:
        for column in ('requested_by', 'outcome', 'accepted_at', 'accepted_by', 'unanswered_at', 'rung'):
            batch_op.drop_column(column)
