"""Pledge follow-through: a date and a reason on signatures

Revision ID: a4c7e9f1b3d5
Revises: b7a3e5d91c24
Create Date: 2026-12-04 17:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a4c7e9f1b3d5'
down_revision = 'b7a3e5d91c24'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.add_column(sa.Column('asks_date', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('date_question', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('asks_reason', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('signature', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pledge_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('reason', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('reason_public', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('reason_status', sa.Enum('pending', 'approved', 'rejected', name=op.f('ck_signature_reason_status'), native_enum=False, create_constraint=True, length=16), nullable=True))
        batch_op.add_column(sa.Column('reason_reviewed_at', sa.DateTime(), nullable=True))
        batch_op.create_index('ix_signature_campaign_reason', ['campaign_id', 'reason_status'], unique=False)


def downgrade():
    with op.batch_alter_table('signature', schema=None) as batch_op:
        batch_op.drop_index('ix_signature_campaign_reason')
        batch_op.drop_column('reason_reviewed_at')
        batch_op.drop_constraint(op.f('ck_signature_reason_status'), type_='check')
        batch_op.drop_column('reason_status')
        batch_op.drop_column('reason_public')
        batch_op.drop_column('reason')
        batch_op.drop_column('pledge_date')

    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_column('asks_reason')
        batch_op.drop_column('date_question')
        batch_op.drop_column('asks_date')

