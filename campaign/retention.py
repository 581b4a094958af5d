"""Retention: personal data is kept no longer than a campaign needs it.

One sweep applies three rules. Each outbox worker process runs it every
RETENTION_SWEEP_MINUTES (for at most RETENTION_WORKER_SECONDS a turn, then
it carries on at the next turn, so email keeps flowing), and `flask privacy
sweep [--dry-run]` runs it on demand.

- **A closed campaign's signatures are anonymised in place** once its
  retention period (``Campaign.retention_days``, else the site's
  RETENTION_DAYS_AFTER_CLOSE) has passed since it closed. Cleared: the
  names, the email address and its domain, the postcode, the answers to
  the campaign's questions, the pledge date, the reason and its review,
  the IP hash, the time zone, the referral code (it is in a link the signer
  may have posted) and the consent to show a name there no longer is; the
  times of signing, confirming and checking in become their day. The
  normalised address becomes ``anonymised-<id>``: unique, and never an
  address (it has no @), so the unique index on a campaign's live
  addresses holds even if an invalidation is undone afterwards. Kept: the
  status, the country, those days, the consent to updates (the stored
  tallies are split by it), the answer to "Did you take part?" (its tally
  is rebuilt from it), the link's source codes and which signature
  referred which (counted by the Sources page and export), and how many
  emails were sent when. So no count moves, and a recount would rebuild
  every one as it is: the exports of counts are the same before and after.
  The row is marked unsubscribed so that nothing is ever sent to it; once
  the campaign's rows are done, its outbox messages that still hold an
  address are cleared (one still queued is skipped) and its invalidations
  lose the search terms and the reason that went with them (either may
  name a signer).
- **A pending signature is deleted** once the latest email with its link is
  RETENTION_PENDING_DAYS old (its link expired CONFIRM_LINK_DAYS after that
  email), with its pending tally.
- **A finished outbox message** (sent, skipped or a dead letter) **is
  cleared** once it was last due RETENTION_OUTBOX_DAYS ago: recipient,
  subject, bodies, headers and last error. Its kind, status and times stay,
  so an update's progress figures do not change. A dead letter cleared so
  cannot usefully be retried. A finished webhook delivery (it holds no
  address; see webhooks) is deleted then instead, with its attempts.

The mailbox allowances whose windows have passed are forgotten too (the
worker does that hourly anyway), and so are the "Manage my data" links
(``privacy_link``) once PRIVACY_LINK_HOURS old: by then they open nothing.
What no sweep removes: the addresses that asked to stop all email
(``suppression``), which must outlive every campaign, and businesses'
contact details.

Every rule works RETENTION_BATCH_SIZE rows per transaction. The rows are
chosen with FOR UPDATE SKIP LOCKED on PostgreSQL and changed by an UPDATE
or DELETE that checks its condition again, so any number of sweeps on any
number of hosts may run at once: none waits for another's rows, and no row
is done twice. A sweep that is killed leaves whole batches done and the
next one carries on from the rows not yet marked (``anonymised_at``, an
empty recipient, a row deleted). Anonymising touches no count; deleting
pending signatures subtracts from one tally row as its batch's last
statement, so that row is locked only until the commit right after."""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import String, and_, case, cast, delete, exists, false, func, literal, null, or_, select, update

from . import counts, mailboxes, outbox, webhooks
from .extensions import db, on_postgresql
from .models import (
    OUTBOX_UNSCRUBBED,
    Campaign,
    CampaignStatus,
    Invalidation,
    OutboxMessage,
    OutboxStatus,
    PrivacyLink,
    Signature,
    SignatureStatus,
    utcnow,
)

ANONYMISED_PREFIX = "anonymised-"


def clock() -> dt.datetime:
    """Now, naive UTC: what the sweep measures every period from (tests set it)."""
    return utcnow()


# --- Periods --------------------------------------------------------------------

def retention_days(campaign: Campaign) -> int:
    """How many days after closing the campaign's signers' details are kept."""
    if campaign.retention_days is not None:
        return campaign.retention_days
    return current_app.config["RETENTION_DAYS_AFTER_CLOSE"]


def anonymise_on(campaign: Campaign) -> dt.datetime | None:
    """When its signatures are anonymised: None unless it is closed."""
    if campaign.status != CampaignStatus.CLOSED or campaign.closed_at is None:
        return None
    return campaign.closed_at + dt.timedelta(days=retention_days(campaign))


@dataclass(frozen=True)
class Outlook:
    """What the dashboard says of a campaign's retention."""
    days: int                           # its period after closing
    anonymise_on: dt.datetime | None    # closed and not yet done: when
    anonymised_at: dt.datetime | None   # when the sweep last finished it
    signatures: int                     # how many signatures it holds (stored counts)
    pending_days: int                   # unconfirmed signatures are deleted after this


def outlook(campaign: Campaign) -> Outlook:
    done = campaign.anonymised_at is not None and (campaign.closed_at is None
                                                   or campaign.anonymised_at >= campaign.closed_at)
    return Outlook(days=retention_days(campaign), anonymise_on=None if done else anonymise_on(campaign),
                   anonymised_at=campaign.anonymised_at, signatures=sum(counts.status_counts(campaign.id).values()),
                   pending_days=current_app.config["RETENTION_PENDING_DAYS"])


# --- What a sweep does and did ----------------------------------------------------

@dataclass
class CampaignSweep:
    """One campaign in a sweep's report."""
    slug: str
    pending_deleted: int = 0
    anonymise_on: dt.datetime | None = None   # closed: when its period ends
    anonymised: int = 0
    done: bool = False                        # every signature is anonymised


@dataclass
class SweepReport:
    dry_run: bool
    now: dt.datetime
    outbox_cleared: int = 0
    # Finished webhook deliveries and delivery attempts deleted.
    webhook_deliveries_forgotten: int = 0
    allowances_forgotten: int = 0
    privacy_links_forgotten: int = 0
    campaigns: dict[int, CampaignSweep] = field(default_factory=dict)
    # False when it stopped at its time limit (or found rows another sweep
    # was holding): the next sweep carries on.
    finished: bool = True
    batches: int = 0
    longest_batch_seconds: float = 0.0
    # Of the batches that changed a stored count (deleting unconfirmed
    # signatures): anonymising changes none.
    longest_count_batch_seconds: float = 0.0

    @property
    def changed(self) -> int:
        return (self.outbox_cleared + self.webhook_deliveries_forgotten + self.allowances_forgotten
                + self.privacy_links_forgotten
                + sum(c.pending_deleted + c.anonymised for c in self.campaigns.values()))


class _OutOfTime(Exception):
    pass


@dataclass
class _Run:
    report: SweepReport
    batch_size: int
    deadline: float | None

    def batch(self, work, changes_counts: bool = False) -> int:
        """Run one batch in its own transaction; returns its rows. Past the
        deadline it stops instead, once this sweep has changed something:
        every sweep makes progress, however short its time."""
        if self.deadline is not None and self.report.changed and time.monotonic() >= self.deadline:
            raise _OutOfTime
        began = time.perf_counter()
        try:
            n = work()
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
        took = time.perf_counter() - began
        self.report.batches += 1
        self.report.longest_batch_seconds = max(self.report.longest_batch_seconds, took)
        if changes_counts and n:
            self.report.longest_count_batch_seconds = max(self.report.longest_count_batch_seconds, took)
        return n


def sweep(*, dry_run: bool = False, seconds: float | None = None) -> SweepReport:
    """Apply every retention rule that is due now (see the module
    docstring); with ``dry_run``, only count what would be done. Stops
    between batches after ``seconds``, if given."""
    config = current_app.config
    now = clock()
    report = SweepReport(dry_run=dry_run, now=now)
    run = _Run(report, config["RETENTION_BATCH_SIZE"], time.monotonic() + seconds if seconds else None)
    campaigns = db.session.execute(
        select(Campaign.id, Campaign.slug, Campaign.status, Campaign.closed_at, Campaign.retention_days,
               Campaign.anonymised_at).order_by(Campaign.id)).all()
    db.session.rollback()
    try:
        if config["RETENTION_OUTBOX_DAYS"]:
            _clear_outbox(run, now - dt.timedelta(days=config["RETENTION_OUTBOX_DAYS"]))
            if not dry_run:
                _forget_webhook_deliveries(run, now - dt.timedelta(days=config["RETENTION_OUTBOX_DAYS"]))
        if not dry_run:
            report.allowances_forgotten = run.batch(lambda: mailboxes.forget_spent_windows(now))
            report.privacy_links_forgotten = run.batch(lambda: _forget_privacy_links(now))
        if config["RETENTION_PENDING_DAYS"]:
            cutoff = now - dt.timedelta(days=config["RETENTION_PENDING_DAYS"])
            for row in campaigns:
                _delete_pending(run, row, cutoff)
        for row in campaigns:
            if row.status == CampaignStatus.CLOSED and row.closed_at is not None and not (
                    row.anonymised_at is not None and row.anonymised_at >= row.closed_at):
                _anonymise(run, row)
    except _OutOfTime:
        report.finished = False
    report.campaigns = {key: entry for key, entry in report.campaigns.items()
                        if entry.pending_deleted or entry.anonymise_on}
    return report


def _entry(report: SweepReport, row) -> CampaignSweep:
    return report.campaigns.setdefault(row.id, CampaignSweep(row.slug))


def _chosen(query):
    """The rows a batch takes, chosen once (a CTE: PostgreSQL may run an IN
    (... LIMIT) subquery more than once) and, on PostgreSQL, skipping rows
    another sweep (or a signer, a worker) holds."""
    if on_postgresql():
        query = query.with_for_update(skip_locked=True)
    chosen = query.cte("chosen").prefix_with("MATERIALIZED", dialect="postgresql")
    return select(chosen.c.id)


# --- Outbox messages -----------------------------------------------------------

def _cleared_message(queued_reason: str) -> dict:
    table = OutboxMessage.__table__
    queued = table.c.status == OutboxStatus.QUEUED.value
    return {"recipient": "", "subject": "", "body_text": "", "body_html": null(), "headers": null(),
            "status": case((queued, OutboxStatus.SKIPPED.value), else_=table.c.status),
            "last_error": case((queued, queued_reason), else_=null())}


def _clear_outbox(run: _Run, cutoff: dt.datetime) -> None:
    table = OutboxMessage.__table__
    due = and_(OUTBOX_UNSCRUBBED, table.c.due_at < cutoff)
    if run.report.dry_run:
        run.report.outbox_cleared = db.session.execute(select(func.count()).where(due)).scalar_one()
        db.session.rollback()
        return
    # Oldest first, along the partial index of messages not yet cleared.
    chosen = _chosen(select(table.c.id).where(due).order_by(table.c.due_at).limit(run.batch_size))
    # Counted from RETURNING: SQLite gives no row count for a statement
    # that starts with WITH.
    statement = (update(table).where(table.c.id.in_(chosen), due).values(_cleared_message(""))
                 .returning(table.c.id).execution_options(synchronize_session=False))
    while True:
        n = run.batch(lambda: len(db.session.execute(statement).all()))
        run.report.outbox_cleared += n
        if n == 0:
            return


def _not_webhook(table):
    """Webhook deliveries hold no address and are rendered when sent (an
    erased or anonymised signature goes out anonymised): they are left to
    go, and are deleted with their attempts once old (``webhooks.forget_deliveries``)."""
    return table.c.webhook_endpoint_id.is_(None)


def _forget_webhook_deliveries(run: _Run, cutoff: dt.datetime) -> None:
    while True:
        n = run.batch(lambda: webhooks.forget_deliveries(cutoff, run.batch_size))
        run.report.webhook_deliveries_forgotten += n
        if n == 0:
            return


def clear_messages_of(signature_ids: list[int], reason: str) -> None:
    """Clear the outbox messages of these signatures, whatever their age;
    one still queued is skipped, one a worker is sending is left to the age
    rule. In the caller's transaction (a supporter's own erasure uses it too)."""
    table = OutboxMessage.__table__
    db.session.execute(
        update(table).where(table.c.signature_id.in_(signature_ids),
                            table.c.status != OutboxStatus.SENDING.value, _not_webhook(table),
                            or_(table.c.recipient != "", table.c.status == OutboxStatus.QUEUED.value))
        .values(_cleared_message(reason)).execution_options(synchronize_session=False))


def _clear_campaign_messages(run: _Run, campaign_id: int) -> None:
    """Clear the messages of a campaign's signatures that still hold an
    address: the finished ones younger than the age rule's period and the
    queued ones (skipped). Found from the messages' side (the partial
    index of those not yet cleared; the queue), not by looking up each of
    a large campaign's signatures; one a worker is sending is left to the
    age rule."""
    table, signature = OutboxMessage.__table__, Signature.__table__
    mine = and_(exists().where(signature.c.id == table.c.signature_id, signature.c.campaign_id == campaign_id),
                _not_webhook(table))
    for holding in (OUTBOX_UNSCRUBBED, table.c.status == OutboxStatus.QUEUED.value):
        chosen = _chosen(select(table.c.id).where(holding, mine).limit(run.batch_size))
        statement = (update(table).where(table.c.id.in_(chosen), holding).values(_cleared_message("anonymised"))
                     .returning(table.c.id).execution_options(synchronize_session=False))
        while run.batch(lambda statement=statement: len(db.session.execute(statement).all())):
            pass


# --- Pending signatures ---------------------------------------------------------

def _delete_pending(run: _Run, row, cutoff: dt.datetime) -> None:
    table = Signature.__table__
    # created_at first: the index on (campaign, status, created_at) finds
    # them; the latest email is never earlier than the signing.
    due = and_(table.c.campaign_id == row.id, table.c.status == SignatureStatus.PENDING.value,
               table.c.created_at < cutoff, func.coalesce(table.c.last_emailed_at, table.c.created_at) < cutoff)
    if run.report.dry_run:
        n = db.session.execute(select(func.count()).where(due)).scalar_one()
        db.session.rollback()
        if n:
            _entry(run.report, row).pending_deleted = n
        return
    chosen = select(table.c.id).where(due).order_by(table.c.id).limit(run.batch_size)
    if on_postgresql():
        chosen = chosen.with_for_update(skip_locked=True)

    def batch() -> int:
        ids = db.session.execute(chosen).scalars().all()
        if not ids:
            return 0
        # What PostgreSQL's ON DELETE SET NULL would do, done here so that
        # SQLite (which does not enforce it) ends the same, and the
        # messages are cleared while they still name their signature.
        clear_messages_of(ids, "signature deleted")
        db.session.execute(update(table).where(table.c.referred_by_id.in_(ids)).values(referred_by_id=None)
                           .execution_options(synchronize_session=False))
        deleted = len(db.session.execute(delete(table).where(table.c.id.in_(ids), due).returning(table.c.id)
                                         .execution_options(synchronize_session=False)).all())
        if deleted:
            db.session.execute(counts.tally_added(
                literal(row.id), literal(SignatureStatus.PENDING.value), false(), literal(counts.random_shard()),
                literal(-deleted)))
        return deleted

    while True:
        n = run.batch(batch, changes_counts=True)
        if n:
            _entry(run.report, row).pending_deleted += n
        if n == 0:
            return


# --- Anonymising ------------------------------------------------------------------

def _day(column):
    """The start of the day of a timestamp, stored as the ORM stores one."""
    if on_postgresql():
        return func.date_trunc("day", column)
    return func.date(column).concat(" 00:00:00.000000")


def anonymous(now: dt.datetime) -> dict:
    """The values that anonymise a signature in place (see the module
    docstring): the sweep's, and those of a supporter who erases their own
    data (see my_data), so both leave the same row."""
    table = Signature.__table__
    return {
        "given_name": "", "family_name": "", "email": "", "email_domain": "",
        "email_normalised": literal(ANONYMISED_PREFIX).concat(cast(table.c.id, String)),
        "postal_code": None, "answers": null(), "pledge_date": None,
        "reason": None, "reason_public": False, "reason_status": None, "reason_reviewed_at": None,
        "ip_hash": None, "time_zone": None, "referral_code": None,
        "show_name": False, "reminder_opt_in": False,
        "unsubscribed_at": func.coalesce(table.c.unsubscribed_at, now),
        "created_at": _day(table.c.created_at), "confirmed_at": _day(table.c.confirmed_at),
        "checked_in_at": _day(table.c.checked_in_at),
        "anonymised_at": now,
    }


# The name each batch of the sweep looks it up by (a test makes one fail).
_anonymous = anonymous


def _anonymise(run: _Run, row) -> None:
    report = run.report
    entry = _entry(report, row)
    entry.anonymise_on = row.closed_at + dt.timedelta(
        days=row.retention_days if row.retention_days is not None
        else current_app.config["RETENTION_DAYS_AFTER_CLOSE"])
    if report.now < entry.anonymise_on:
        return
    table = Signature.__table__
    left = and_(table.c.campaign_id == row.id, table.c.anonymised_at.is_(None))
    if report.dry_run:
        entry.anonymised = db.session.execute(select(func.count()).where(left)).scalar_one()
        db.session.rollback()
        return
    after = 0

    def batch() -> int:
        nonlocal after
        chosen = _chosen(select(table.c.id).where(left, table.c.id > after).order_by(table.c.id)
                         .limit(run.batch_size))
        ids = db.session.execute(
            update(table).where(table.c.id.in_(chosen), table.c.anonymised_at.is_(None))
            .values(_anonymous(report.now)).returning(table.c.id)
            .execution_options(synchronize_session=False)).scalars().all()
        if ids:
            after = max(ids)
        return len(ids)

    while True:
        n = run.batch(batch)
        entry.anonymised += n
        if n == 0:
            break
    # Afterwards: an anonymised signature is never queued another message.
    _clear_campaign_messages(run, row.id)
    # Done only if no row is left, those another sweep held included.
    if db.session.execute(select(exists().where(left))).scalar():
        db.session.rollback()
        report.finished = False
        return
    run.batch(lambda: _finish(row, report.now))
    entry.done = True


def _finish(row, now: dt.datetime) -> int:
    """Mark the campaign done, and drop from its invalidations what chose
    the signatures (the address, name, network address searched for) and
    why (an organiser's note may name the signer)."""
    invalidations = db.session.execute(
        select(Invalidation).where(Invalidation.campaign_id == row.id)).scalars().all()
    for batch in invalidations:
        searched = sorted((batch.criteria or {}).get("searched_by") or (batch.criteria or {}))
        batch.criteria = {"searched_by": searched} if searched else None
        batch.reason = ""
    table = Campaign.__table__
    # A new edition: the page built per edition may show signers' approved
    # reasons, which are gone now.
    return db.session.execute(update(table).where(table.c.id == row.id).values(
        anonymised_at=now, edition=table.c.edition + 1)).rowcount


# --- "Manage my data" links ------------------------------------------------------------

def _forget_privacy_links(now: dt.datetime) -> int:
    """Delete the emailed "Manage my data" links that no longer open
    anything (see my_data); few rows, so one statement."""
    cutoff = now - dt.timedelta(hours=current_app.config["PRIVACY_LINK_HOURS"])
    return db.session.execute(delete(PrivacyLink).where(PrivacyLink.created_at < cutoff)).rowcount


# --- In the worker -----------------------------------------------------------------

_next_sweep_at: dict[str, float] = {}


def sweep_in_worker() -> bool:
    """The outbox worker's turn at the sweep: every RETENTION_SWEEP_MINUTES
    per process, each time for at most RETENTION_WORKER_SECONDS; one that
    had to stop carries on at the next turn. True if it changed anything."""
    config = current_app.config
    minutes = config["RETENTION_SWEEP_MINUTES"]
    if not minutes:
        return False
    key = db.engine.url.render_as_string()
    if time.monotonic() < _next_sweep_at.get(key, 0.0):
        return False
    report = sweep(seconds=config["RETENTION_WORKER_SECONDS"])
    _next_sweep_at[key] = time.monotonic() + (minutes * 60 if report.finished else 0)
    return bool(report.changed)


outbox.register_producer(sweep_in_worker)
