"""Mailbox limits, one live signature per address, verified business pledges

Signatures: an address's +tag is folded for every domain (the canonical
mailbox), only a live (pending or confirmed) signature holds its address, and
the counts of signatures not yet confirmed are no longer split by consent to
updates (the confirmer decides that). Businesses: the contact domain, the
time the contact address confirmed and was last emailed, and one entry per
name *and* domain; the outbox names the business an email is about.
Emails sent to a mailbox before it confirmed anything are counted per hour
and per day.

Revision ID: 3b8e51c0a7d2
Revises: 7efd0895c9c7
Create Date: 2026-12-04 13:55:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3b8e51c0a7d2'
down_revision = '7efd0895c9c7'
branch_labels = None
depends_on = None

LIVE = sa.text("status IN ('pending', 'confirmed')")


def _folded(address):
    local, _, domain = address.rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


def _fold_signatures(bind):
    """Fold +tags of stored addresses; a folded address that another
    signature of the campaign already holds is left as it was."""
    rows = bind.execute(sa.text(
        "SELECT id, campaign_id, email_normalised FROM signature WHERE email_normalised LIKE '%+%@%' ORDER BY id"
    )).all()
    for row in rows:
        folded = _folded(row.email_normalised)
        taken = bind.execute(sa.text(
            "SELECT 1 FROM signature WHERE campaign_id = :c AND email_normalised = :e"
        ), {"c": row.campaign_id, "e": folded}).first()
        if taken is None:
            bind.execute(sa.text("UPDATE signature SET email_normalised = :e WHERE id = :id"),
                         {"e": folded, "id": row.id})


def _fold_suppressions(bind):
    for (address,) in bind.execute(sa.text(
            "SELECT email_normalised FROM suppression WHERE email_normalised LIKE '%+%@%'")).all():
        folded = _folded(address)
        if bind.execute(sa.text("SELECT 1 FROM suppression WHERE email_normalised = :e"), {"e": folded}).first():
            bind.execute(sa.text("DELETE FROM suppression WHERE email_normalised = :e"), {"e": address})
        else:
            bind.execute(sa.text("UPDATE suppression SET email_normalised = :e WHERE email_normalised = :old"),
                         {"e": folded, "old": address})


def _merge_unconfirmed_tallies(bind):
    """Counts of signatures that are not confirmed: one row per shard, not
    split by consent to updates."""
    rows = bind.execute(sa.text(
        "SELECT campaign_id, status, shard, signatures FROM signature_tally "
        "WHERE status <> 'confirmed' AND email_opt_in"
    )).all()
    for row in rows:
        key = {"c": row.campaign_id, "s": row.status, "shard": row.shard, "n": row.signatures}
        if bind.execute(sa.text(
                "SELECT 1 FROM signature_tally WHERE campaign_id = :c AND status = :s AND shard = :shard "
                "AND NOT email_opt_in"), key).first():
            bind.execute(sa.text(
                "UPDATE signature_tally SET signatures = signatures + :n WHERE campaign_id = :c AND status = :s "
                "AND shard = :shard AND NOT email_opt_in"), key)
        else:
            bind.execute(sa.text(
                "INSERT INTO signature_tally (campaign_id, status, email_opt_in, shard, signatures) "
                "VALUES (:c, :s, false, :shard, :n)"), key)
        bind.execute(sa.text(
            "DELETE FROM signature_tally WHERE campaign_id = :c AND status = :s AND shard = :shard "
            "AND email_opt_in"), key)


def upgrade():
    bind = op.get_bind()
    op.create_table('mailbox_allowance',
    sa.Column('mailbox', sa.String(length=320), nullable=False),
    sa.Column('hour_from', sa.DateTime(), nullable=False),
    sa.Column('hour_sent', sa.Integer(), nullable=False),
    sa.Column('day_from', sa.DateTime(), nullable=False),
    sa.Column('day_sent', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('mailbox')
    )
    with op.batch_alter_table('signature', schema=None) as batch_op:
        batch_op.drop_constraint('uq_signature_campaign_email', type_='unique')
    _fold_signatures(bind)
    _fold_suppressions(bind)
    _merge_unconfirmed_tallies(bind)
    with op.batch_alter_table('signature', schema=None) as batch_op:
        batch_op.create_index('uq_signature_campaign_email', ['campaign_id', 'email_normalised'], unique=True,
                              sqlite_where=LIVE, postgresql_where=LIVE)

    with op.batch_alter_table('business', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_domain', sa.String(length=255), server_default='', nullable=False))
        batch_op.add_column(sa.Column('confirmed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('last_emailed_at', sa.DateTime(), nullable=True))
        batch_op.drop_constraint('uq_business_campaign_organisation', type_='unique')
    # Pledges made before contact addresses were confirmed stand as they were.
    for business_id, contact in bind.execute(sa.text("SELECT id, contact_email FROM business")).all():
        bind.execute(sa.text("UPDATE business SET contact_domain = :d, confirmed_at = created_at WHERE id = :id"),
                     {"d": contact.rpartition("@")[2].lower()[:255], "id": business_id})
    with op.batch_alter_table('business', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_business_campaign_organisation_domain',
                                          ['campaign_id', 'organisation_key', 'contact_domain'])
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('business_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_outbox_message_business_id', ['business_id'], unique=False)
        batch_op.create_foreign_key('fk_outbox_message_business_id_business', 'business', ['business_id'], ['id'],
                                    ondelete='SET NULL')


def downgrade():
    bind = op.get_bind()
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_constraint('fk_outbox_message_business_id_business', type_='foreignkey')
        batch_op.drop_index('ix_outbox_message_business_id')
        batch_op.drop_column('business_id')
    with op.batch_alter_table('business', schema=None) as batch_op:
        batch_op.drop_constraint('uq_business_campaign_organisation_domain', type_='unique')
    # Only the first pledge under each name survives the old constraint.
    bind.execute(sa.text(
        "DELETE FROM business WHERE id NOT IN (SELECT MIN(id) FROM business GROUP BY campaign_id, organisation_key)"))
    with op.batch_alter_table('business', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_business_campaign_organisation', ['campaign_id', 'organisation_key'])
        batch_op.drop_column('last_emailed_at')
        batch_op.drop_column('confirmed_at')
        batch_op.drop_column('contact_domain')

    with op.batch_alter_table('signature', schema=None) as batch_op:
        batch_op.drop_index('uq_signature_campaign_email', sqlite_where=LIVE, postgresql_where=LIVE)
    # Only the live signature of an address that signed again survives the old constraint.
    bind.execute(sa.text(
        "DELETE FROM signature WHERE status = 'invalidated' AND EXISTS (SELECT 1 FROM signature AS live "
        "WHERE live.campaign_id = signature.campaign_id AND live.email_normalised = signature.email_normalised "
        "AND live.id <> signature.id)"))
    with op.batch_alter_table('signature', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_signature_campaign_email', ['campaign_id', 'email_normalised'])
    op.drop_table('mailbox_allowance')
