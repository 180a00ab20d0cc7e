"""export jobs: PDFs rendered by the scheduler, kept by the hash of what they were rendered from

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04

Issue 19: the plan and assessor-pack PDFs took seconds inside the request. A request now queues a job (reused
while nothing changed); the scheduler claims it for a lease, renders it once per distinct source (the file is
kept by the source's SHA-256) and the page shows its progress until the download is ready.
"""
import sqlalchemy as sa
from alembic import op

import app.db

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'export_jobs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('relationship_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('what', sa.String(length=20), nullable=False),
        sa.Column('number', sa.Integer(), nullable=True),
        sa.Column('stamp', sa.String(length=80), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('lease_until', app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('content_sha256', sa.String(length=64), nullable=True),
        sa.Column('filename', sa.String(length=300), nullable=False),
        sa.Column('rendered', sa.Boolean(), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('requested_at', app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('started_at', app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('finished_at', app.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['relationship_id'], ['process_instances.id'],
                                name=op.f('fk_export_jobs_relationship_id_process_instances'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_export_jobs_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_export_jobs')),
    )
    with op.batch_alter_table('export_jobs', schema=None) as batch_op:
        batch_op.create_index('ix_export_jobs_status_lease_until', ['status', 'lease_until'], unique=False)
        batch_op.create_index('ix_export_jobs_request', ['relationship_id', 'user_id', 'what', 'stamp'],
                              unique=False)
    op.create_table(
        'rendered_exports',
        sa.Column('source_sha256', sa.String(length=64), nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('source_sha256', name=op.f('pk_rendered_exports')),
    )


def downgrade():
    op.drop_table('rendered_exports')
    with op.batch_alter_table('export_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_export_jobs_request')
        batch_op.drop_index('ix_export_jobs_status_lease_until')
    op.drop_table('export_jobs')
