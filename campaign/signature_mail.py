"""The emails a signature causes: the confirmation link, and a note to
someone who signs again after confirming. Each is queued as a small row
naming the signature (signing renders nothing while the visitor waits) and
rendered when it is sent, as a mail merge per campaign and language (the
one the signer signed in: words, campaign text and links); it is not sent at
all if the signature has moved on meanwhile (confirmed, invalidated,
removed). The one reminder to confirm (queued by ``confirm_reminders``)
is the confirmation again in other words, sent only while the campaign is
live and the link it carries has not expired."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import func, select

from . import outbox, provenance, tokens
from .extensions import db
from .links import absolute_url
from .mail_merge import MailMerge, render_email
from .models import Campaign, CampaignStatus, Signature, SignatureStatus, utcnow
from .skeletons import slot
from .still_wanted import signature_still_wanted
from .translations import campaign_text, language_of
from .validation import looks_like_link

CONFIRMATION = "confirmation"
ALREADY_SIGNED = "already_signed"
CONFIRM_REMINDER = "confirm_reminder"

# The status a signature must still have for its email to go out.
WANTED_STATUS = {CONFIRMATION: SignatureStatus.PENDING, ALREADY_SIGNED: SignatureStatus.CONFIRMED}
# Which email a signature with this status gets when its address signs again.
EMAIL_ON_SIGNING_AGAIN = {status.value: kind for kind, status in WANTED_STATUS.items()}
_TEMPLATES = {CONFIRMATION: "confirm_signature", ALREADY_SIGNED: "already_signed",
              CONFIRM_REMINDER: "confirm_reminder"}


@dataclass
class _Batch:
    # rows: id, status, given_name, campaign_id, slug, campaign_status,
    # referral_code, link_expired, language (as stored), default_language,
    # published_languages
    signatures: dict[int, object]
    # Each signature's language: the one it was signed in, if its campaign
    # still speaks it (see translations.language_of).
    languages: dict[int, str] = field(default_factory=dict)
    merges: dict[tuple[str, int, str], MailMerge] = field(default_factory=dict)
    confirm_links: dict[str, object] = field(default_factory=dict)  # by language
    campaign_urls: dict[tuple[str, str], str] = field(default_factory=dict)  # by slug and language

    def confirm_link(self, language: str):
        links = self.confirm_links.get(language)
        if links is None:
            links = self.confirm_links[language] = tokens.links_for(tokens.CONFIRM, language=language)
        return links

    def campaign_url(self, signature, language: str) -> str:
        """The page of ``signature``'s campaign in ``language``."""
        slug = signature.slug
        url = self.campaign_urls.get((slug, language))
        if url is None:
            url = self.campaign_urls[slug, language] = absolute_url(
                "public.campaign_page", language=language, unprefixed=signature.default_language, slug=slug)
        return url

    def merge(self, kind: str, signature, language: str) -> MailMerge:
        """The email of ``kind`` for the signers of a campaign in one
        language: built once per batch."""
        key = (kind, signature.campaign_id, language)
        merge = self.merges.get(key)
        if merge is None:
            words = campaign_text(db.session.get(Campaign, signature.campaign_id), language)
            subject, text, html = render_email(_TEMPLATES[kind], {
                "campaign": {"title": words.title, "slug": signature.slug},
                "greeting": slot("greeting"),
                "confirm_url": slot("confirmurl"),
                "campaign_url": self.campaign_url(signature, language),
                # The signer's own share link (see provenance.share_link).
                "share_url": slot("sharelink"),
            }, language=language)
            merge = self.merges[key] = MailMerge(subject, text, html, ("greeting", "confirmurl", "sharelink"))
        return merge


def _load(rows: list[outbox.Delivery]) -> _Batch:
    ids = {row.signature_id for row in rows if row.signature_id}
    found = db.session.execute(
        select(Signature.id, Signature.status, Signature.given_name, Signature.campaign_id,
               Campaign.slug, Campaign.status.label("campaign_status"), Signature.referral_code,
               # A confirm link expires CONFIRM_LINK_DAYS after the latest email that carried it.
               (func.coalesce(Signature.last_emailed_at, Signature.created_at)
                < utcnow() - dt.timedelta(days=current_app.config["CONFIRM_LINK_DAYS"])).label("link_expired"),
               Signature.language, Campaign.default_language, Campaign.published_languages)
        .join(Campaign, Campaign.id == Signature.campaign_id).where(Signature.id.in_(ids))
    ).all() if ids else []
    return _Batch({row.id: row for row in found}, {row.id: language_of(row, row.language) for row in found})


def _still_wanted(batch: _Batch, row: outbox.Delivery) -> str | None:
    return signature_still_wanted(batch.signatures.get(row.signature_id), WANTED_STATUS[row.kind])


def _campaign_live(signature) -> str | None:
    return None if signature.campaign_status == CampaignStatus.LIVE else f"campaign {signature.campaign_status}"


def _link_unexpired(signature) -> str | None:
    return "confirm link expired" if signature.link_expired else None


def _reminder_still_wanted(batch: _Batch, row: outbox.Delivery) -> str | None:
    return signature_still_wanted(batch.signatures.get(row.signature_id), SignatureStatus.PENDING,
                                  _campaign_live, _link_unexpired)


def greeting(given_name: str) -> str:
    """What follows "Hello" in an email to someone who has not confirmed:
    their first name, unless it holds anything that could pass for a link
    (the name was typed by whoever signed, perhaps not the mailbox's owner),
    in which case just "Hello,"."""
    return "" if not given_name or looks_like_link(given_name) else f" {given_name}"


def _render(batch: _Batch, row: outbox.Delivery):
    signature = batch.signatures[row.signature_id]
    language = batch.languages[signature.id]
    confirm_url = batch.confirm_link(language)(signature.id) if row.kind in (CONFIRMATION, CONFIRM_REMINDER) else ""
    campaign_url = batch.campaign_url(signature, language)
    share_url = provenance.share_link(campaign_url, signature.referral_code) if signature.referral_code \
        else campaign_url
    return batch.merge(row.kind, signature, language).message(
        row.recipient, {"greeting": greeting(signature.given_name), "confirmurl": confirm_url,
                        "sharelink": share_url})


for _kind in (CONFIRMATION, ALREADY_SIGNED):
    outbox.register_kind(outbox.MessageKind(_kind, load=_load, still_wanted=_still_wanted, render=_render,
                                            capped=True))
# Capped too: the mailbox has not yet shown it wants email from us.
outbox.register_kind(outbox.MessageKind(CONFIRM_REMINDER, load=_load, still_wanted=_reminder_still_wanted,
                                        render=_render, capped=True))
