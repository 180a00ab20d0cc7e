"""process starts: processes whose start event is a timer start an instance per occurrence

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04

Issue 16: a diagram declares how its process starts (a person, a timer, a message); a timer start's next
occurrence is kept here, per process of the latest version, so the scheduler starts each one exactly once.
Diagrams from other tools name their own lanes: the process owner maps them to roles when deploying, and each
version keeps the mapping it was deployed with (process_versions.lane_roles).
"""
from alembic import op
import sqlalchemy as sa
import app.db
from sqlalchemy.dialects import postgresql
from sqlalchemy import Text

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql')


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('process_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lane_roles', JSON, nullable=True))
    op.create_table('process_starts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('process_id', sa.String(length=255), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('timer', sa.String(length=300), nullable=False),
    sa.Column('next_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('period', sa.String(length=40), nullable=True),
    sa.Column('remaining', sa.Integer(), nullable=True),
    sa.Column('anchor', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('started', sa.Integer(), nullable=False),
    sa.Column('last_started_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_instance_id', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('updated_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['process_versions.id'],
                            name=op.f('fk_process_starts_version_id_process_versions')),
    sa.ForeignKeyConstraint(['last_instance_id'], ['process_instances.id'],
                            name=op.f('fk_process_starts_last_instance_id_process_instances'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_process_starts')),
    sa.UniqueConstraint('process_id', name=op.f('uq_process_starts_process_id'))
    )
    with op.batch_alter_table('process_starts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_process_starts_next_at'), ['next_at'], unique=False)


def downgrade():
    with op.batch_alter_table('process_starts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_process_starts_next_at'))
    op.drop_table('process_starts')
    with op.batch_alter_table('process_versions', schema=None) as batch_op:
        batch_op.drop_column('lane_roles')
