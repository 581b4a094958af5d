"""Freeze follow-through: the statement, local-hours windows, reminders and check-ins

Revision ID: d5e3b7a9c2f4
Revises: c4d2a6f8b1e3
Create Date: 2026-12-04 17:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd5e3b7a9c2f4'
down_revision = 'c4d2a6f8b1e3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.add_column(sa.Column('statement', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('window_mode', sa.Enum('global', 'local', name=op.f('ck_campaign_window_mode'), native_enum=False, create_constraint=True, length=16), server_default='global', nullable=False))
        batch_op.add_column(sa.Column('local_start', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('local_end', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('check_in_email', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('signature', schema=None) as batch_op:
        batch_op.add_column(sa.Column('time_zone', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('reminder_opt_in', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('reminded_day_before_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('reminded_start_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('check_in_asked_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('took_part', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('checked_in_at', sa.DateTime(), nullable=True))
        batch_op.create_index('ix_signature_campaign_reminders', ['campaign_id', 'reminder_opt_in', 'status'], unique=False)

    op.create_table('check_in_tally',
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('took_part', sa.Boolean(), nullable=False),
        sa.Column('shard', sa.Integer(), nullable=False),
        sa.Column('answers', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_check_in_tally_campaign_id_campaign'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('campaign_id', 'took_part', 'shard', name=op.f('pk_check_in_tally'))
    )


def downgrade():
    op.drop_table('check_in_tally')

    with op.batch_alter_table('signature', schema=None) as batch_op:
        batch_op.drop_index('ix_signature_campaign_reminders')
        batch_op.drop_column('checked_in_at')
        batch_op.drop_column('took_part')
        batch_op.drop_column('check_in_asked_at')
        batch_op.drop_column('reminded_start_at')
        batch_op.drop_column('reminded_day_before_at')
        batch_op.drop_column('reminder_opt_in')
        batch_op.drop_column('time_zone')

    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_column('check_in_email')
        batch_op.drop_column('local_end')
        batch_op.drop_column('local_start')
        batch_op.drop_constraint(op.f('ck_campaign_window_mode'), type_='check')
        batch_op.drop_column('window_mode')
        batch_op.drop_column('statement')
