"""The audit log: what organisers did that changed or exported data, and
every login, failed ones too. Each event says who (the organiser, or none),
when, what (an action from ACTIONS and a ``detail``), on which campaign, and
from where as a keyed hash of the client address (``identity.hash_ip``, the
same grouping as signatures), never the address itself.

The services own their commits, so an event is written in one of two ways:

- ``record`` adds the event to the session, and the next commit writes it.
  Called just before a service call that always ends in a commit (or, when
  it fails, a rollback), the action and its event are one transaction: both
  are written or neither.
- ``record_now`` adds the event and commits, just after the action, for when
  what to record is known only from its result (the id of what it created,
  how many rows it changed) or the service may return without committing.
  The event is then a transaction of its own right after the action's: a
  crash in the moment between the two commits would leave the action
  without its event, and an action that failed never gets one.

``detail`` says what without personal data: field names, ids, counts,
statuses, formats. Never a supporter's address or name, a search's criteria
values, a password or a token. A failed login keeps the organiser's id when
the address typed is an account's, and nothing of the address otherwise.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .extensions import db
from .identity import hash_ip
from .models import AuditEvent, Campaign, Organiser

# Every action the log knows, with how the Activity page names it.
ACTIONS = {
    "login": _l("Logged in"),
    "login.failed": _l("Failed login"),
    "logout": _l("Logged out"),
    "logout.everywhere": _l("Logged out everywhere"),
    "password.reset": _l("Set a new password from an emailed link"),
    "invitation.sent": _l("Invited someone by email"),
    "invitation.accepted": _l("Accepted an invitation"),
    "site.settings": _l("Changed the site settings"),
    "two_factor.enabled": _l("Turned on two-factor authentication"),
    "two_factor.disabled": _l("Turned off two-factor authentication"),
    "two_factor.recovery_codes": _l("Made new recovery codes"),
    "two_factor.reset": _l("Turned off another organiser's two-factor authentication"),
    "two_factor.required": _l("Required two-factor authentication of every organiser"),
    "two_factor.not_required": _l("Stopped requiring two-factor authentication"),
    "organiser.created": _l("Created an organiser account"),
    "organiser.deactivated": _l("Deactivated an organiser"),
    "organiser.reactivated": _l("Reactivated an organiser"),
    "campaign.created": _l("Created a campaign"),
    "campaign.edited": _l("Edited a campaign"),
    "campaign.image": _l("Changed a campaign's image"),
    "campaign.status": _l("Changed a campaign's status"),
    "campaign.language": _l("Changed the language a campaign is written in"),
    "translation.saved": _l("Saved a translation of a campaign"),
    "translation.published": _l("Published a translation of a campaign"),
    "translation.unpublished": _l("Unpublished a translation of a campaign"),
    "reason.approved": _l("Approved a signer's reason for the page"),
    "reason.rejected": _l("Rejected a signer's reason"),
    "reason.taken_down": _l("Took a signer's reason off the page"),
    "business.approved": _l("Approved a business"),
    "business.rejected": _l("Rejected a business"),
    "business.extended": _l("A business extended its pause (from its emailed link)"),
    "business.resumed": _l("Marked a business as resumed"),
    "demand.status": _l("Recorded a demand's status on the scorecard"),
    "signatures.invalidated": _l("Invalidated signatures"),
    "signatures.restored": _l("Undid an invalidation"),
    "export.counts": _l("Exported counts"),
    "export.signers": _l("Exported the signer list"),
    "update.created": _l("Wrote an update"),
    "update.test_sent": _l("Sent a test of an update"),
    "update.scheduled": _l("Scheduled an update"),
    "update.sent": _l("Sent an update now"),
    "update.cancelled": _l("Cancelled an update"),
    "milestones.on": _l("Turned milestone emails on"),
    "milestones.off": _l("Turned milestone emails off"),
    "member.added": _l("Added a member"),
    "member.removed": _l("Removed a member"),
    "question.added": _l("Added a question"),
    "question.edited": _l("Edited a question"),
    "question.hidden": _l("Hid a question"),
    "question.shown": _l("Showed a question again"),
    "question.moved": _l("Moved a question"),
    "api_key.created": _l("Created an API key"),
    "api_key.revoked": _l("Revoked an API key"),
    "webhook.created": _l("Added a webhook endpoint"),
    "webhook.changed": _l("Changed a webhook endpoint"),
    "webhook.secret_rotated": _l("Made a new signing secret for a webhook endpoint"),
    "webhook.deleted": _l("Deleted a webhook endpoint"),
    "webhook.test_sent": _l("Sent a test event to a webhook endpoint"),
    "webhook.redelivered": _l("Redelivered a webhook event"),
    "api.signature_confirmed": _l("Recorded a signature as already confirmed through the API"),
}


def record(action: str, organiser: Organiser | None = None, campaign: Campaign | None = None,
           detail: dict | None = None, ip: str | None = None) -> AuditEvent:
    """Add an event to the session without committing: the caller's next
    commit (the service call that follows) writes it with its own change."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    event = AuditEvent(action=action, organiser_id=organiser.id if organiser is not None else None,
                       campaign_id=campaign.id if campaign is not None else None,
                       detail=detail or None, ip_hash=hash_ip(ip))
    db.session.add(event)
    return event


def record_now(action: str, organiser: Organiser | None = None, campaign: Campaign | None = None,
               detail: dict | None = None, ip: str | None = None) -> AuditEvent:
    """Add an event and commit it, after an action that has committed."""
    event = record(action, organiser, campaign, detail, ip)
    db.session.commit()
    return event


@dataclass(frozen=True)
class EventPage:
    """A page of events, newest first; ``older`` is the ``before_id`` of
    the next page, or None when this is the last one."""
    events: list[AuditEvent]
    older: int | None


def events(viewer: Organiser, organiser_id: int | None = None, campaign_id: int | None = None,
           action: str | None = None, since: dt.date | None = None, until: dt.date | None = None,
           limit: int = 100, before_id: int | None = None) -> EventPage:
    """The events ``viewer`` may see, newest first, ``limit`` at a time
    (``before_id`` pages on to older ones). An admin sees everyone's and may
    filter by organiser; anyone else sees only their own, whatever
    ``organiser_id`` says. ``since`` and ``until`` are days (UTC), both
    included."""
    if not viewer.is_admin:
        organiser_id = viewer.id
    query = select(AuditEvent).options(joinedload(AuditEvent.organiser), joinedload(AuditEvent.campaign))
    if organiser_id is not None:
        query = query.where(AuditEvent.organiser_id == organiser_id)
    if campaign_id is not None:
        query = query.where(AuditEvent.campaign_id == campaign_id)
    if action:
        query = query.where(AuditEvent.action == action)
    if since is not None:
        query = query.where(AuditEvent.created_at >= dt.datetime.combine(since, dt.time.min))
    if until is not None and until < dt.date.max:
        query = query.where(AuditEvent.created_at < dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min))
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    rows = list(db.session.execute(query.order_by(AuditEvent.id.desc()).limit(limit + 1)).scalars())
    return EventPage(rows[:limit], rows[limit - 1].id if len(rows) > limit else None)
