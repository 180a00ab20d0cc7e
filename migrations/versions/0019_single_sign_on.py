"""single sign-on: the provider's accounts linked to users, and the sessions that began at the provider

Revision ID: 0019
Revises: 0017
Create Date: 2026-12-12

Issue 21: people of our organisation sign in through the company's OpenID Connect provider. `sso_identities`
links (issuer, subject) to a user; `sso_sessions` marks a browser session that began there, with the tokens the
provider gave, so deactivation at the provider ends access at the next request.
"""
import sqlalchemy as sa
from alembic import op

import app.db

revision = '0019'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'sso_identities',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('issuer', sa.String(length=300), nullable=False),
        sa.Column('subject', sa.String(length=255), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=True),
        sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_sign_in_at', app.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_sso_identities_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sso_identities')),
        sa.UniqueConstraint('issuer', 'subject', name=op.f('uq_sso_identities_issuer_subject')),
    )
    with op.batch_alter_table('sso_identities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sso_identities_user_id'), ['user_id'], unique=False)
    op.create_table(
        'sso_sessions',
        sa.Column('user_session_id', sa.Integer(), nullable=False),
        sa.Column('issuer', sa.String(length=300), nullable=False),
        sa.Column('access_token', sa.Text(), nullable=False),
        sa.Column('refresh_token', sa.Text(), nullable=True),
        sa.Column('checked_at', app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_session_id'], ['user_sessions.id'],
                                name=op.f('fk_sso_sessions_user_session_id_user_sessions'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_session_id', name=op.f('pk_sso_sessions')),
    )


def downgrade():
    op.drop_table('sso_sessions')
    with op.batch_alter_table('sso_identities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sso_identities_user_id'))
    op.drop_table('sso_identities')
