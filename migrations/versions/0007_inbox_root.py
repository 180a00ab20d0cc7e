"""inbox root: process_instances.root_id, and a concrete role on every human task

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24

Issue 9 (benchmark B3): the inbox found a task's relationship by joining process_instances up to two levels,
and filtered lanes on coalesce(role, 'staff'), which no index serves.

- process_instances.root_id: the relationship (top-level instance) an instance belongs to, its own id for a
  relationship; indexed. Backfilled here level by level down the parent chains; from now on the store sets
  it when it inserts the row. No foreign key: it is derived (like next_due_at), and SQLite adds a plain
  column without rebuilding the table.
- human_tasks.role: 'staff' where it was NULL (a task outside any mapped lane, which staff work): the inbox
  filters on a plain role IN (...). Downgrading keeps 'staff' (the old code read NULL as 'staff' anyway).
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

MAX_DEPTH = 100  # far deeper than any chain of linked instances


def upgrade():
    with op.batch_alter_table('process_instances', schema=None) as batch_op:
        batch_op.add_column(sa.Column('root_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_process_instances_root_id'), ['root_id'], unique=False)

    op.execute("UPDATE process_instances SET root_id = id WHERE parent_id IS NULL")
    for _ in range(MAX_DEPTH):  # one level of children per pass: those whose parent already has its root
        done = op.get_bind().execute(sa.text(
            "UPDATE process_instances SET root_id = (SELECT parent.root_id FROM process_instances AS parent"
            " WHERE parent.id = process_instances.parent_id)"
            " WHERE root_id IS NULL AND parent_id IN"
            " (SELECT parent.id FROM process_instances AS parent WHERE parent.root_id IS NOT NULL)")).rowcount
        if not done:
            break

    op.execute("UPDATE human_tasks SET role = 'staff' WHERE role IS NULL")


def downgrade():
    with op.batch_alter_table('process_instances', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_process_instances_root_id'))
        batch_op.drop_column('root_id')
