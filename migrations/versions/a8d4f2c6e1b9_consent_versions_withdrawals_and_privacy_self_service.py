"""Consent versions, signatures withdrawn by their signers, and the records of supporters' self-service (links, actions, erased mailboxes)

Revision ID: a8d4f2c6e1b9
Revises: f3a9c1d7e5b2
Create Date: 2026-12-04 23:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a8d4f2c6e1b9'
down_revision = 'f3a9c1d7e5b2'
branch_labels = None
depends_on = None

OLD_STATUSES = "status IN ('pending', 'confirmed', 'invalidated')"
NEW_STATUSES = "status IN ('pending', 'confirmed', 'invalidated', 'withdrawn')"
REMINDED = sa.text("confirm_reminded_at IS NOT NULL")


def upgrade():
    op.create_table('consent_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('texts', sa.JSON(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_consent_version_campaign_id_campaign'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_version')),
    sa.UniqueConstraint('campaign_id', 'digest', name='uq_consent_version_campaign_digest'),
    sa.UniqueConstraint('campaign_id', 'number', name='uq_consent_version_campaign_number')
    )
    op.create_table('privacy_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mailbox', sa.String(length=320), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_privacy_link'))
    )
    with op.batch_alter_table('privacy_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_privacy_link_created_at'), ['created_at'], unique=False)
    op.create_table('privacy_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('mailbox_hash', sa.String(length=64), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_privacy_event_campaign_id_campaign'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_privacy_event'))
    )
    with op.batch_alter_table('privacy_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_privacy_event_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_privacy_event_mailbox_hash'), ['mailbox_hash'], unique=False)
    op.create_table('erased_mailbox',
    sa.Column('mailbox_hash', sa.String(length=64), nullable=False),
    sa.Column('erased_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('mailbox_hash', name=op.f('pk_erased_mailbox'))
    )
    with op.batch_alter_table('signature', schema=None) as batch_op:
        batch_op.add_column(sa.Column('consent_version_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('withdrawn_at', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_signature_consent_version_id'), ['consent_version_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_signature_consent_version_id_consent_version'), 'consent_version', ['consent_version_id'], ['id'], ondelete='SET NULL')
        batch_op.drop_constraint(op.f('ck_signature_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_signature_status'), sa.text(NEW_STATUSES))
        batch_op.create_index('ix_signature_email_normalised', ['email_normalised'], unique=False)
        batch_op.create_index('ix_signature_campaign_reminded', ['campaign_id', 'confirm_reminded_at'], unique=False,
                              sqlite_where=REMINDED, postgresql_where=REMINDED)


def downgrade():
    # Withdrawn signatures were off the count, as invalidated ones are.
    op.execute("UPDATE signature SET status = 'invalidated' WHERE status = 'withdrawn'")
    op.execute("DELETE FROM signature_tally WHERE status = 'withdrawn'")
    with op.batch_alter_table('signature', schema=None) as batch_op:
        batch_op.drop_index('ix_signature_campaign_reminded', sqlite_where=REMINDED, postgresql_where=REMINDED)
        batch_op.drop_index('ix_signature_email_normalised')
        batch_op.drop_constraint(op.f('ck_signature_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_signature_status'), sa.text(OLD_STATUSES))
        batch_op.drop_constraint(batch_op.f('fk_signature_consent_version_id_consent_version'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_signature_consent_version_id'))
        batch_op.drop_column('withdrawn_at')
        batch_op.drop_column('consent_version_id')
    op.drop_table('erased_mailbox')
    with op.batch_alter_table('privacy_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_privacy_event_mailbox_hash'))
        batch_op.drop_index(batch_op.f('ix_privacy_event_created_at'))
    op.drop_table('privacy_event')
    with op.batch_alter_table('privacy_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_privacy_link_created_at'))
    op.drop_table('privacy_link')
    op.drop_table('consent_version')
