"""Boycott follow-through: business pause periods and a scorecard of demands

Revision ID: c4d2a6f8b1e3
Revises: a4c7e9f1b3d5
Create Date: 2026-12-04 17:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4d2a6f8b1e3'
down_revision = 'a4c7e9f1b3d5'
branch_labels = None
depends_on = None

_DEMAND_STATUSES = ('no_response', 'partly_met', 'met', 'rejected')


def upgrade():
    with op.batch_alter_table('business', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pause_start', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('pause_end', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('resumed_on', sa.Date(), nullable=True))

    op.create_table('business_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('business_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('pledged', 'extended', 'resumed', name=op.f('ck_business_event_kind'), native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('happened_on', sa.Date(), nullable=False),
    sa.Column('pause_start', sa.Date(), nullable=True),
    sa.Column('pause_end', sa.Date(), nullable=True),
    sa.Column('note', sa.String(length=500), server_default='', nullable=False),
    sa.Column('evidence_url', sa.String(length=2000), nullable=True),
    sa.Column('organiser_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['business_id'], ['business.id'], name=op.f('fk_business_event_business_id_business'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organiser_id'], ['organiser.id'], name=op.f('fk_business_event_organiser_id_organiser'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_business_event'))
    )
    with op.batch_alter_table('business_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_business_event_business_id'), ['business_id'], unique=False)

    op.create_table('demand',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum(*_DEMAND_STATUSES, name=op.f('ck_demand_status'), native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_demand_campaign_id_campaign'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_demand')),
    sa.UniqueConstraint('campaign_id', 'key', name='uq_demand_campaign_key')
    )

    op.create_table('demand_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('demand_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum(*_DEMAND_STATUSES, name=op.f('ck_demand_entry_status'), native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('happened_on', sa.Date(), nullable=False),
    sa.Column('note', sa.String(length=500), server_default='', nullable=False),
    sa.Column('source_url', sa.String(length=2000), nullable=True),
    sa.Column('organiser_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['demand_id'], ['demand.id'], name=op.f('fk_demand_entry_demand_id_demand'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organiser_id'], ['organiser.id'], name=op.f('fk_demand_entry_organiser_id_organiser'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_demand_entry'))
    )
    with op.batch_alter_table('demand_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_demand_entry_demand_id'), ['demand_id'], unique=False)


def downgrade():
    with op.batch_alter_table('demand_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_demand_entry_demand_id'))
    op.drop_table('demand_entry')
    op.drop_table('demand')
    with op.batch_alter_table('business_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_business_event_business_id'))
    op.drop_table('business_event')

    with op.batch_alter_table('business', schema=None) as batch_op:
        batch_op.drop_column('resumed_on')
        batch_op.drop_column('pause_end')
        batch_op.drop_column('pause_start')
