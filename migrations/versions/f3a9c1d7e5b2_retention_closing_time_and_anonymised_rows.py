"""Retention: when a campaign closed and how long its signers' details are kept; anonymised signatures; cleared outbox rows

Revision ID: f3a9c1d7e5b2
Revises: e6f4c8b2d1a7
Create Date: 2026-12-06 20:00:00.000000

"""
import datetime as dt

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f3a9c1d7e5b2'
down_revision = 'e6f4c8b2d1a7'
branch_labels = None
depends_on = None

UNSCRUBBED = sa.text("recipient <> '' AND status IN ('sent', 'skipped', 'failed')")


def upgrade():
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('retention_days', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('anonymised_at', sa.DateTime(), nullable=True))

    with op.batch_alter_table('signature', schema=None) as batch_op:
        batch_op.add_column(sa.Column('anonymised_at', sa.DateTime(), nullable=True))

    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_message_unscrubbed_due', ['due_at'], unique=False,
                              sqlite_where=UNSCRUBBED, postgresql_where=UNSCRUBBED)

    # Campaigns closed before there was a closing time start their retention
    # period now: none is anonymised without its organisers having seen the
    # date on the dashboard for the whole period.
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    op.get_bind().execute(sa.text("UPDATE campaign SET closed_at = :now WHERE status = 'closed'")
                          .bindparams(sa.bindparam("now", now, type_=sa.DateTime())))


def downgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_message_unscrubbed_due', sqlite_where=UNSCRUBBED, postgresql_where=UNSCRUBBED)

    with op.batch_alter_table('signature', schema=None) as batch_op:
        batch_op.drop_column('anonymised_at')

    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_column('anonymised_at')
        batch_op.drop_column('retention_days')
        batch_op.drop_column('closed_at')
