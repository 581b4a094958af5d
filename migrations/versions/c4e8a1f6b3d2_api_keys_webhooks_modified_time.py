"""API keys, webhook endpoints and their delivery log, a signature's modified time

Revision ID: c4e8a1f6b3d2
Revises: b9e5a3d7f2c1
Create Date: 2026-12-05 02:32:50.095091

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4e8a1f6b3d2'
down_revision = 'b9e5a3d7f2c1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('api_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organiser_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('permissions', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_used_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['organiser_id'], ['organiser.id'], name=op.f('fk_api_key_organiser_id_organiser'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_key')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_key_token_hash'))
    )
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_key_organiser_id'), ['organiser_id'], unique=False)

    op.create_table('webhook_endpoint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('secret', sa.String(length=100), nullable=False),
    sa.Column('events', sa.String(length=400), nullable=False),
    sa.Column('description', sa.String(length=200), server_default='', nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_webhook_endpoint_campaign_id_campaign'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['organiser.id'], name=op.f('fk_webhook_endpoint_created_by_id_organiser'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_endpoint'))
    )
    with op.batch_alter_table('webhook_endpoint', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_endpoint_campaign_id'), ['campaign_id'], unique=False)

    op.create_table('api_key_campaign',
    sa.Column('api_key_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['api_key_id'], ['api_key.id'], name=op.f('fk_api_key_campaign_api_key_id_api_key'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_api_key_campaign_campaign_id_campaign'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('api_key_id', 'campaign_id', name=op.f('pk_api_key_campaign'))
    )
    with op.batch_alter_table('api_key_campaign', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_key_campaign_campaign_id'), ['campaign_id'], unique=False)

    op.create_table('webhook_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('endpoint_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('event', sa.String(length=40), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.Column('response', sa.String(length=1024), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['endpoint_id'], ['webhook_endpoint.id'], name=op.f('fk_webhook_attempt_endpoint_id_webhook_endpoint'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['message_id'], ['outbox_message.id'], name=op.f('fk_webhook_attempt_message_id_outbox_message'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_attempt'))
    )
    with op.batch_alter_table('webhook_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_attempt_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_webhook_attempt_endpoint_id', ['endpoint_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_attempt_message_id'), ['message_id'], unique=False)

    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('webhook_endpoint_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_message_webhook_endpoint_id'), ['webhook_endpoint_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_outbox_message_webhook_endpoint_id_webhook_endpoint'), 'webhook_endpoint', ['webhook_endpoint_id'], ['id'], ondelete='CASCADE')

    # A signature's modified time: for those already there, the latest
    # change on record.
    with op.batch_alter_table('signature', schema=None) as batch_op:
        batch_op.add_column(sa.Column('modified_at', sa.DateTime(), nullable=True))
    op.execute("UPDATE signature SET modified_at = COALESCE(anonymised_at, withdrawn_at, confirmed_at, created_at)")
    op.execute("UPDATE signature SET modified_at = withdrawn_at WHERE withdrawn_at > modified_at")
    with op.batch_alter_table('signature', schema=None) as batch_op:
        # Rows written by hand (bulk loads) get the time they were written.
        batch_op.alter_column('modified_at', existing_type=sa.DateTime(), nullable=False,
                              server_default=sa.text('CURRENT_TIMESTAMP'))
        batch_op.create_index('ix_signature_campaign_modified', ['campaign_id', 'modified_at', 'id'], unique=False)



def downgrade():
    with op.batch_alter_table('signature', schema=None) as batch_op:
        batch_op.drop_index('ix_signature_campaign_modified')
        batch_op.drop_column('modified_at')

    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_outbox_message_webhook_endpoint_id_webhook_endpoint'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_outbox_message_webhook_endpoint_id'))
        batch_op.drop_column('webhook_endpoint_id')

    with op.batch_alter_table('webhook_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_attempt_message_id'))
        batch_op.drop_index('ix_webhook_attempt_endpoint_id')
        batch_op.drop_index(batch_op.f('ix_webhook_attempt_created_at'))

    op.drop_table('webhook_attempt')
    with op.batch_alter_table('api_key_campaign', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_key_campaign_campaign_id'))

    op.drop_table('api_key_campaign')
    with op.batch_alter_table('webhook_endpoint', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_endpoint_campaign_id'))

    op.drop_table('webhook_endpoint')
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_key_organiser_id'))

    op.drop_table('api_key')
