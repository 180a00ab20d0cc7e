"""second factor: TOTP per user, recovery codes, and the roles that must use it

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05

Issue 18: a person may add a second factor (a TOTP authenticator app, with ten single-use recovery codes of which
only hashes are kept); an administrator may require it for roles. The secret stays readable (a code is checked
against it); `last_step` keeps a code from being accepted twice.
"""
import sqlalchemy as sa
from alembic import op

import app.db

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'totp_credentials',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('secret', sa.String(length=64), nullable=False),
        sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('enabled_at', app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('last_step', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_totp_credentials_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_totp_credentials')),
    )
    op.create_table(
        'recovery_codes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('used_at', app.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_recovery_codes_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_codes')),
    )
    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_codes_user_id'), ['user_id'], unique=False)
    op.create_table(
        'second_factor_roles',
        sa.Column('role', sa.String(length=30), nullable=False),
        sa.Column('required_at', app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('required_by_id', sa.Integer(), nullable=True),
        sa.CheckConstraint("role in ('staff', 'ser', 'jmt', 'process_owner', 'assessor', 'admin', 'top_management')",
                           name=op.f('ck_second_factor_roles_role')),
        sa.ForeignKeyConstraint(['required_by_id'], ['users.id'],
                                name=op.f('fk_second_factor_roles_required_by_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('role', name=op.f('pk_second_factor_roles')),
    )


def downgrade():
    op.drop_table('second_factor_roles')
    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_codes_user_id'))
    op.drop_table('recovery_codes')
    op.drop_table('totp_credentials')
