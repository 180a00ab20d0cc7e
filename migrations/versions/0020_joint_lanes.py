"""joint lanes: a task row says whether both organisations work its lane

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04

Issue 17: level 1 of a joint issue is worked by the joint operational team, staff of both organisations. Which
lanes both sides work was a rule about one role (the joint management team); it is now a flag of the lane
(`app.processes.lanes.LaneRole.joint`) kept on each task row, so inboxes, four eyes and notifications read it.
Rows of the joint management team's lane are joint, as they always were.
"""
import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('human_tasks') as batch:
        batch.add_column(sa.Column('joint', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute("UPDATE human_tasks SET joint = (role = 'jmt')")


def downgrade():
    with op.batch_alter_table('human_tasks') as batch:
        batch.drop_column('joint')
