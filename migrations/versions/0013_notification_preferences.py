"""notification preferences: e-mail each notification, a daily digest, or none; kinds not to e-mail

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04

Issue 18: people choose how notifications reach them by e-mail; the digest groups a day's notifications in one
e-mail at the hour they choose.
"""
from alembic import op
import sqlalchemy as sa
import app.db
from sqlalchemy.dialects import postgresql
from sqlalchemy import Text

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql')


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('notification_preferences',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=10), nullable=False),
    sa.Column('muted_kinds', JSON, nullable=False),
    sa.Column('digest_hour', sa.Integer(), nullable=False),
    sa.Column('last_digest_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notification_preferences_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_notification_preferences'))
    )


def downgrade():
    op.drop_table('notification_preferences')
