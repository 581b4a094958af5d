"""An organiser's update as the email each supporter receives: the kinds
``update`` and ``milestone`` (one delivery row per supporter, mail-merged
per update and language, not sent to anyone who has left meanwhile) and
``update_test`` (one copy of each version to the organiser, rendered when
queued). Each supporter gets it in the language they signed in: the
update's version in that language if it has one, else its default version
inside an email whose own words are in their language."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import render_template
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from . import outbox, tokens
from .extensions import db
from .links import absolute_url
from .locales import default_language
from .mail_merge import MailMerge, email_context, one_line, single_email
from .markup import render_markdown
from .models import CampaignUpdate, Signature, SignatureStatus, UpdateStatus
from .skeletons import slot
from .translations import campaign_text, language_of

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


def version_of(update_row: CampaignUpdate, language: str | None) -> tuple[str, str]:
    """The subject and body of ``update_row`` written in ``language``, or
    its default ones (in the campaign's default language) if it has no
    version in that language."""
    version = (update_row.translations or {}).get(language) if language else None
    if version and version.get("subject") and version.get("body"):
        return version["subject"], version["body"]
    return update_row.subject, update_row.body


def render_update(update_row: CampaignUpdate, given_name: str, unsubscribe_link: str,
                  impact_link: str | None = None, language: str | None = None) -> RenderedUpdate:
    """Subject, plain text and HTML for one supporter (with the link to
    their "your impact" page, if given), in ``language`` (None: the
    campaign's default): the update's version in it if it has one, else its
    default version, in an email whose own words, campaign title and links
    are in ``language``."""
    campaign = update_row.campaign
    language = language or campaign.default_language or default_language()
    with force_locale(language):
        subject, body = version_of(update_row, language)
        context = email_context({
            "campaign": campaign_text(campaign, language),
            "update": {"subject": subject, "body": body},
            "given_name": given_name,
            "body_html": render_markdown(body),
            "campaign_url": absolute_url("public.campaign_page", language=language,
                                         unprefixed=campaign.default_language, slug=campaign.slug),
            "unsubscribe_url": unsubscribe_link,
            "impact_url": impact_link,
        })
        return RenderedUpdate(
            # Never let a newline from an organiser's subject reach a header.
            subject=one_line(subject),
            text=render_template("email/update.txt", **context),
            html=render_template("email/update.html", **context),
        )


def list_unsubscribe_headers(link: str) -> dict:
    """RFC 2369 List-Unsubscribe with RFC 8058 one-click."""
    return {"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def update_merge(update_row: CampaignUpdate, with_impact: bool = False, language: str | None = None) -> MailMerge:
    """The update, ready for every supporter who reads ``language`` (see
    render_update): slots ``givenname`` and ``link`` (their one-click
    unsubscribe link), and ``impact`` (the link to their "your impact"
    page) ``with_impact``."""
    rendered = render_update(update_row, slot("givenname"), slot("link"), slot("impact") if with_impact else None,
                             language=language)
    return MailMerge(rendered.subject, rendered.text, rendered.html,
                     ("givenname", "link", "impact") if with_impact else ("givenname", "link"),
                     headers=list_unsubscribe_headers(slot("link")))


# --- Deliveries -----------------------------------------------------------------

@dataclass
class _Batch:
    updates: dict[int, CampaignUpdate]
    signatures: dict[int, object]   # rows: id, status, given_name, unsubscribed_at, language
    # One merge per update and language, with its impact links.
    merges: dict[tuple[int, str], MailMerge] = field(default_factory=dict)
    impact_links: dict[tuple[int, str], object] = field(default_factory=dict)
    unsubscribe_links: dict[str, object] = field(default_factory=dict)  # by language

    def unsubscribe_link(self, language: str):
        links = self.unsubscribe_links.get(language)
        if links is None:
            links = self.unsubscribe_links[language] = tokens.links_for(tokens.UNSUBSCRIBE, language=language)
        return links


def _load(rows: list[outbox.Delivery]) -> _Batch:
    update_ids = {row.update_id for row in rows if row.update_id}
    signature_ids = {row.signature_id for row in rows if row.signature_id}
    updates = {u.id: u for u in db.session.execute(
        select(CampaignUpdate).where(CampaignUpdate.id.in_(update_ids))
        .options(selectinload(CampaignUpdate.campaign))).scalars()} if update_ids else {}
    signatures = {s.id: s for s in db.session.execute(
        select(Signature.id, Signature.status, Signature.given_name, Signature.unsubscribed_at, Signature.language)
        .where(Signature.id.in_(signature_ids)))} if signature_ids else {}
    # A mailbox that stopped all email: the engine's rule (see mailboxes).
    return _Batch(updates, signatures)


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
    update_row = batch.updates[row.update_id]
    signature = batch.signatures[row.signature_id]
    # The language it was signed in, if the campaign still speaks it.
    language = language_of(update_row.campaign, signature.language)
    key = (row.update_id, language)
    merge = batch.merges.get(key)
    if merge is None:
        merge = batch.merges[key] = update_merge(update_row, with_impact=True, language=language)
        batch.impact_links[key] = tokens.impact_links(update_row.campaign, language=language)
    return merge.message(row.recipient, {"givenname": signature.given_name,
                                         "link": batch.unsubscribe_link(language)(signature.id),
                                         "impact": batch.impact_links[key](signature.id)})


for _kind in (UPDATE, MILESTONE):
    outbox.register_kind(outbox.MessageKind(_kind, load=_load, still_wanted=_still_wanted, render=_render))


# --- The organiser's test copy ------------------------------------------------------

def versions(update_row: CampaignUpdate) -> list[str]:
    """The languages ``update_row`` is written in: the campaign's default,
    then each published language it has a version in."""
    campaign = update_row.campaign
    default = campaign.default_language or default_language()
    return [default] + [language for language in campaign.published_languages or ()
                        if language != default and (update_row.translations or {}).get(language)]


def enqueue_test(update_row: CampaignUpdate, address: str) -> None:
    """One copy of each version to the organiser, marked as a test, in the
    current transaction; the unsubscribe link is a sample."""
    for language in versions(update_row):
        rendered = render_update(
            update_row, "Organiser", absolute_url("public.unsubscribe", language=language, token="test"),
            absolute_url("public.impact", language=language, unprefixed=update_row.campaign.default_language,
                         slug=update_row.campaign.slug, token="test"),
            language=language)
        outbox.enqueue(TEST, address, subject=f"[Test] {rendered.subject}", body_text=rendered.text,
                       body_html=rendered.html)


outbox.register_kind(outbox.MessageKind(
    TEST, load=lambda rows: None, still_wanted=lambda batch, row: None,
    render=lambda batch, row: single_email(row.recipient, row.subject, row.body_text, row.body_html, row.headers)))
