"""relationship partners: several partner organisations per relationship, and each one's joint decisions

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05

Issue 17 (alliances): a relationship may have several partner organisations. `relationship_partners` names each
(the profile's `partner_organisation_id` stays the lead partner); every existing profile with a partner
organisation becomes that relationship's one partner row. `partner_decisions` keeps each partner organisation's
answers to a partner-side task until the last one has decided and the task completes with their combination.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.db

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'relationship_partners',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('instance_id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('partner_name', sa.String(length=200), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['instance_id'], ['process_instances.id'],
                                name=op.f('fk_relationship_partners_instance_id_process_instances'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'],
                                name=op.f('fk_relationship_partners_organisation_id_organisations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_relationship_partners')),
        sa.UniqueConstraint('instance_id', 'organisation_id',
                            name=op.f('uq_relationship_partners_instance_id_organisation_id')),
    )
    with op.batch_alter_table('relationship_partners', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_relationship_partners_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_relationship_partners_organisation_id'), ['organisation_id'],
                              unique=False)
    op.execute("INSERT INTO relationship_partners (instance_id, organisation_id, partner_name, position, created_at) "
               "SELECT instance_id, partner_organisation_id, partner_name, 0, created_at FROM relationship_profiles "
               "WHERE partner_organisation_id IS NOT NULL")
    op.create_table(
        'partner_decisions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('human_task_id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
        sa.Column('decided_at', app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['human_task_id'], ['human_tasks.id'],
                                name=op.f('fk_partner_decisions_human_task_id_human_tasks'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'],
                                name=op.f('fk_partner_decisions_organisation_id_organisations')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_partner_decisions_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_decisions')),
        sa.UniqueConstraint('human_task_id', 'organisation_id',
                            name=op.f('uq_partner_decisions_human_task_id_organisation_id')),
    )
    with op.batch_alter_table('partner_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partner_decisions_human_task_id'), ['human_task_id'], unique=False)


def downgrade():
    with op.batch_alter_table('partner_decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partner_decisions_human_task_id'))
    op.drop_table('partner_decisions')
    with op.batch_alter_table('relationship_partners', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_relationship_partners_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_relationship_partners_instance_id'))
    op.drop_table('relationship_partners')
