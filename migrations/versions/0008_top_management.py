"""top management: a role of its own

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04

ISO 44001 clause 5 (and requirements-v2 M5.1, M9.3): top management appoints the SER, approves the policy and
the resources, and holds the management review. The role check on user_roles admits `top_management`.
"""
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

OLD = "role in ('staff', 'ser', 'jmt', 'process_owner', 'assessor', 'admin')"
NEW = "role in ('staff', 'ser', 'jmt', 'process_owner', 'assessor', 'admin', 'top_management')"


def upgrade():
    with op.batch_alter_table('user_roles', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_user_roles_role'), type_='check')
        batch_op.create_check_constraint('role', NEW)


def downgrade():
    op.execute("DELETE FROM user_roles WHERE role = 'top_management'")
    with op.batch_alter_table('user_roles', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_user_roles_role'), type_='check')
        batch_op.create_check_constraint('role', OLD)
