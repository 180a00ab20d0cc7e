"""instance moves

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa
import app.db


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('instance_moves',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('from_version_id', sa.Integer(), nullable=False),
    sa.Column('to_version_id', sa.Integer(), nullable=False),
    sa.Column('old_state', sa.Text(), nullable=False),
    sa.Column('revision_after', sa.Integer(), nullable=False),
    sa.Column('moved_by_id', sa.Integer(), nullable=True),
    sa.Column('moved_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('undone_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['from_version_id'], ['process_versions.id'], name=op.f('fk_instance_moves_from_version_id_process_versions')),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instances.id'], name=op.f('fk_instance_moves_instance_id_process_instances'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['moved_by_id'], ['users.id'], name=op.f('fk_instance_moves_moved_by_id_users')),
    sa.ForeignKeyConstraint(['to_version_id'], ['process_versions.id'], name=op.f('fk_instance_moves_to_version_id_process_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instance_moves'))
    )
    with op.batch_alter_table('instance_moves', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_instance_moves_instance_id'), ['instance_id'], unique=False)



def downgrade():
    with op.batch_alter_table('instance_moves', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_instance_moves_instance_id'))

    op.drop_table('instance_moves')
