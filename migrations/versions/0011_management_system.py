"""management system: what each relationship relies on of the organisation's management system

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04

Issue 15: stages 1 and 3 are done once per organisation (process `management_system`); a relationship starts at
stage 2, records the organisation's items it relies on, and waits before stage 4 until the organisation's internal
assessment is approved and current.
"""
from alembic import op
import sqlalchemy as sa
import app.db
from sqlalchemy.dialects import postgresql
from sqlalchemy import Text

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql')


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('relationship_foundations',
    sa.Column('relationship_id', sa.Integer(), nullable=False),
    sa.Column('management_system_id', sa.Integer(), nullable=True),
    sa.Column('relied_on', JSON, nullable=False),
    sa.Column('assessment', JSON, nullable=True),
    sa.Column('waiting_since', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('released_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('notified_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['relationship_id'], ['process_instances.id'],
                            name=op.f('fk_relationship_foundations_relationship_id_process_instances'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['management_system_id'], ['process_instances.id'],
                            name=op.f('fk_relationship_foundations_management_system_id_process_instances')),
    sa.PrimaryKeyConstraint('relationship_id', name=op.f('pk_relationship_foundations'))
    )
    with op.batch_alter_table('relationship_foundations', schema=None) as batch_op:
        batch_op.create_index('ix_relationship_foundations_waiting', ['waiting_since', 'released_at'], unique=False)


def downgrade():
    with op.batch_alter_table('relationship_foundations', schema=None) as batch_op:
        batch_op.drop_index('ix_relationship_foundations_waiting')
    op.drop_table('relationship_foundations')
