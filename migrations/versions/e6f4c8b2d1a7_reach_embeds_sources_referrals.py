"""Reach: embed origins on campaigns; source, referral and confirm reminder on signatures

Revision ID: e6f4c8b2d1a7
Revises: d5e3b7a9c2f4
Create Date: 2026-12-04 21:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e6f4c8b2d1a7'
down_revision = 'd5e3b7a9c2f4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.add_column(sa.Column('embed_origins', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('embed_anyone', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('signature', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('medium', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('source_campaign', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('referral_code', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('referred_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('confirm_reminded_at', sa.DateTime(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_signature_referral_code'), ['referral_code'])
        batch_op.create_foreign_key(batch_op.f('fk_signature_referred_by_id_signature'), 'signature',
                                    ['referred_by_id'], ['id'], ondelete='SET NULL')
        batch_op.create_index(batch_op.f('ix_signature_referred_by_id'), ['referred_by_id'], unique=False)
        batch_op.create_index('ix_signature_campaign_source', ['campaign_id', 'source'], unique=False)
        batch_op.create_index('ix_signature_campaign_status_created', ['campaign_id', 'status', 'created_at'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('signature', schema=None) as batch_op:
        batch_op.drop_index('ix_signature_campaign_status_created')
        batch_op.drop_index('ix_signature_campaign_source')
        batch_op.drop_index(batch_op.f('ix_signature_referred_by_id'))
        batch_op.drop_constraint(batch_op.f('fk_signature_referred_by_id_signature'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_signature_referral_code'), type_='unique')
        batch_op.drop_column('confirm_reminded_at')
        batch_op.drop_column('referred_by_id')
        batch_op.drop_column('referral_code')
        batch_op.drop_column('source_campaign')
        batch_op.drop_column('medium')
        batch_op.drop_column('source')

    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_column('embed_anyone')
        batch_op.drop_column('embed_origins')
