"""operations: suspend and resume an instance; token moves proposed by one administrator, approved by another

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08

Issue 16: an administrator suspends an instance (people cannot complete its tasks, the scheduler leaves its timers
until it is resumed), and moves a token (reopen a task or a stage, skip a waiting task) after a dry run, with a
reason, once a second administrator approves it.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import app.db

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql')

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('process_instances', schema=None) as batch_op:
        batch_op.add_column(sa.Column('suspended_at', app.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('suspended_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('suspended_reason', sa.Text(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_process_instances_suspended_by_id_users'), 'users',
                                    ['suspended_by_id'], ['id'])
    op.create_table(
        'token_moves',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('instance_id', sa.Integer(), nullable=False),
        sa.Column('from_task_id', sa.String(length=36), nullable=False),
        sa.Column('from_name', sa.String(length=300), nullable=False),
        sa.Column('to_element', sa.String(length=255), nullable=True),
        sa.Column('to_name', sa.String(length=300), nullable=True),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.Column('preview', JSON, nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('proposed_by_id', sa.Integer(), nullable=False),
        sa.Column('proposed_at', app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('decision_note', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['instance_id'], ['process_instances.id'],
                                name=op.f('fk_token_moves_instance_id_process_instances'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['proposed_by_id'], ['users.id'], name=op.f('fk_token_moves_proposed_by_id_users')),
        sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_token_moves_decided_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_token_moves')),
    )
    with op.batch_alter_table('token_moves', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_token_moves_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_token_moves_status'), ['status'], unique=False)


def downgrade():
    with op.batch_alter_table('token_moves', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_token_moves_status'))
        batch_op.drop_index(batch_op.f('ix_token_moves_instance_id'))
    op.drop_table('token_moves')
    with op.batch_alter_table('process_instances', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_process_instances_suspended_by_id_users'), type_='foreignkey')
        batch_op.drop_column('suspended_reason')
        batch_op.drop_column('suspended_by_id')
        batch_op.drop_column('suspended_at')
