"""An organiser's update as the email each supporter receives: the kinds
``update`` and ``milestone`` (one delivery row per supporter, mail-merged
per update, not sent to anyone who has left meanwhile) and ``update_test``
(one copy to the organiser, rendered when queued)."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import render_template
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from . import outbox, tokens
from .extensions import db
from .links import absolute_url
from .mail_merge import MailMerge, one_line, single_email
from .markup import render_markdown
from .models import CampaignUpdate, Signature, SignatureStatus, UpdateStatus
from .skeletons import slot

UPDATE = "update"
MILESTONE = "milestone"
TEST = "update_test"


def delivery_kind(update_row: CampaignUpdate) -> str:
    return MILESTONE if update_row.milestone is not None else UPDATE


@dataclass(frozen=True)
class RenderedUpdate:
    subject: str
    text: str
    html: str


def render_update(update_row: CampaignUpdate, given_name: str, unsubscribe_link: str,
                  impact_link: str | None = None) -> RenderedUpdate:
    """Subject, plain text and HTML for one supporter (with the link to
    their "your impact" page, if given)."""
    campaign = update_row.campaign
    context = {
        "campaign": campaign,
        "update": update_row,
        "given_name": given_name,
        "body_html": render_markdown(update_row.body),
        "campaign_url": absolute_url("public.campaign_page", slug=campaign.slug),
        "unsubscribe_url": unsubscribe_link,
        "impact_url": impact_link,
    }
    return RenderedUpdate(
        # Never let a newline from an organiser's subject reach a header.
        subject=one_line(update_row.subject),
        text=render_template("email/update.txt", **context),
        html=render_template("email/update.html", **context),
    )


def list_unsubscribe_headers(link: str) -> dict:
    """RFC 2369 List-Unsubscribe with RFC 8058 one-click."""
    return {"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def update_merge(update_row: CampaignUpdate, with_impact: bool = False) -> MailMerge:
    """The update, ready for every supporter: slots ``givenname`` and ``link``
    (their one-click unsubscribe link), and ``impact`` (the link to their
    "your impact" page) ``with_impact``."""
    rendered = render_update(update_row, slot("givenname"), slot("link"), slot("impact") if with_impact else None)
    return MailMerge(rendered.subject, rendered.text, rendered.html,
                     ("givenname", "link", "impact") if with_impact else ("givenname", "link"),
                     headers=list_unsubscribe_headers(slot("link")))


# --- Deliveries -----------------------------------------------------------------

@dataclass
class _Batch:
    updates: dict[int, CampaignUpdate]
    signatures: dict[int, object]   # rows: id, status, given_name, unsubscribed_at
    merges: dict[int, MailMerge] = field(default_factory=dict)
    unsubscribe_link: object = None
    impact_links: dict[int, object] = field(default_factory=dict)  # by update


def _load(rows: list[outbox.Delivery]) -> _Batch:
    update_ids = {row.update_id for row in rows if row.update_id}
    signature_ids = {row.signature_id for row in rows if row.signature_id}
    updates = {u.id: u for u in db.session.execute(
        select(CampaignUpdate).where(CampaignUpdate.id.in_(update_ids))
        .options(selectinload(CampaignUpdate.campaign))).scalars()} if update_ids else {}
    signatures = {s.id: s for s in db.session.execute(
        select(Signature.id, Signature.status, Signature.given_name, Signature.unsubscribed_at)
        .where(Signature.id.in_(signature_ids)))} if signature_ids else {}
    # A mailbox that stopped all email: the engine's rule (see mailboxes).
    return _Batch(updates, signatures, unsubscribe_link=tokens.links_for(tokens.UNSUBSCRIBE))


def _still_wanted(batch: _Batch, row: outbox.Delivery) -> str | None:
    update_row = batch.updates.get(row.update_id)
    signature = batch.signatures.get(row.signature_id)
    if update_row is None or update_row.status == UpdateStatus.CANCELLED:
        return "update cancelled"
    if signature is None or signature.unsubscribed_at is not None:
        return "unsubscribed"
    if signature.status != SignatureStatus.CONFIRMED:
        return "signature no longer valid"
    return None


def _render(batch: _Batch, row: outbox.Delivery):
    merge = batch.merges.get(row.update_id)
    if merge is None:
        update_row = batch.updates[row.update_id]
        merge = batch.merges[row.update_id] = update_merge(update_row, with_impact=True)
        batch.impact_links[row.update_id] = tokens.impact_links(update_row.campaign.slug)
    signature = batch.signatures[row.signature_id]
    return merge.message(row.recipient, {"givenname": signature.given_name,
                                         "link": batch.unsubscribe_link(signature.id),
                                         "impact": batch.impact_links[row.update_id](signature.id)})


for _kind in (UPDATE, MILESTONE):
    outbox.register_kind(outbox.MessageKind(_kind, load=_load, still_wanted=_still_wanted, render=_render))


# --- The organiser's test copy ------------------------------------------------------

def enqueue_test(update_row: CampaignUpdate, address: str) -> None:
    """One copy to the organiser, marked as a test, in the current
    transaction; the unsubscribe link is a sample."""
    rendered = render_update(update_row, "Organiser", absolute_url("public.unsubscribe", token="test"),
                             absolute_url("public.impact", slug=update_row.campaign.slug, token="test"))
    outbox.enqueue(TEST, address, subject=f"[Test] {rendered.subject}", body_text=rendered.text,
                   body_html=rendered.html)


outbox.register_kind(outbox.MessageKind(
    TEST, load=lambda rows: None, still_wanted=lambda batch, row: None,
    render=lambda batch, row: single_email(row.recipient, row.subject, row.body_text, row.body_html, row.headers)))
