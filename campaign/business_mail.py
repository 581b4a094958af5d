"""The email that asks a business pledge's contact address to confirm it.

Anyone may type any address into the business form, so this email carries
nothing the pledger typed (no organisation name, no website): only the
campaign's title and the links (to confirm; to extend the pause later), so it cannot be used to send someone else a
message of the pledger's choosing. It is queued as a small row naming the
entry, rendered when it is sent (a mail merge per campaign and language,
the one the pledge was made in, as signatures' confirmations are),
counted against the mailbox's allowance of emails it did not ask for, and
not sent at all if the entry is gone or has been confirmed meanwhile."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import Row, select

from . import outbox, tokens
from .extensions import db
from .links import absolute_url
from .mail_merge import MailMerge, OutgoingEmail, render_email
from .models import Business, Campaign
from .skeletons import slot
from .translations import campaign_text, language_of

BUSINESS_CONFIRMATION = "business_confirmation"


@dataclass
class _Batch:
    # rows: id, confirmed_at, campaign_id, slug, language (as stored),
    # default_language, published_languages
    entries: dict[int, Row]
    # Each entry's language: the one it pledged in, if its campaign still
    # speaks it (see translations.language_of).
    languages: dict[int, str]
    merges: dict[tuple[int, str], MailMerge] = field(default_factory=dict)
    links: dict[str, tuple[Callable[[int], str], Callable[[int], str]]] = field(default_factory=dict)

    def links_in(self, language: str) -> tuple[Callable[[int], str], Callable[[int], str]]:
        """The confirm and extend links in ``language``."""
        found = self.links.get(language)
        if found is None:
            found = self.links[language] = (tokens.links_for(tokens.CONFIRM_BUSINESS, language=language),
                                            tokens.extend_links(language=language))
        return found

    def merge(self, entry: Row, language: str) -> MailMerge:
        """The campaign's email in ``language``, with slots for the links:
        built once per campaign, language and batch."""
        key = (entry.campaign_id, language)
        merge = self.merges.get(key)
        if merge is None:
            campaign = db.session.get(Campaign, entry.campaign_id)
            words = campaign_text(campaign, language)
            subject, text, html = render_email("business_confirm", {
                "campaign": {"title": words.title, "slug": entry.slug},
                "confirm_url": slot("confirmurl"),
                "extend_url": slot("extendurl"),
                "extend_days": current_app.config["BUSINESS_EXTEND_LINK_DAYS"],
                "campaign_url": absolute_url("public.campaign_page", language=language,
                                             unprefixed=campaign.default_language, slug=entry.slug),
            }, language=language)
            merge = self.merges[key] = MailMerge(subject, text, html, ("confirmurl", "extendurl"))
        return merge


def _load(rows: list[outbox.Delivery]) -> _Batch:
    ids = {row.business_id for row in rows if row.business_id}
    found = db.session.execute(
        select(Business.id, Business.confirmed_at, Business.campaign_id, Campaign.slug, Business.language,
               Campaign.default_language, Campaign.published_languages)
        .join(Campaign, Campaign.id == Business.campaign_id).where(Business.id.in_(ids))
    ).all() if ids else []
    return _Batch({row.id: row for row in found}, {row.id: language_of(row, row.language) for row in found})


def _still_wanted(batch: _Batch, row: outbox.Delivery) -> str | None:
    entry = batch.entries.get(row.business_id)
    if entry is None:
        return "business removed"
    if entry.confirmed_at is not None:
        return "business confirmed"
    return None


def _render(batch: _Batch, row: outbox.Delivery) -> OutgoingEmail:
    entry = batch.entries[row.business_id]
    language = batch.languages[entry.id]
    confirm_link, extend_link = batch.links_in(language)
    return batch.merge(entry, language).message(row.recipient, {"confirmurl": confirm_link(entry.id),
                                                                "extendurl": extend_link(entry.id)})


outbox.register_kind(outbox.MessageKind(BUSINESS_CONFIRMATION, load=_load, still_wanted=_still_wanted,
                                        render=_render, capped=True))


def queue_confirmation(business_id: int, contact_email: str) -> None:
    """Queue the email that asks ``contact_email`` to confirm the entry, in
    the caller's transaction; the caller commits."""
    outbox.enqueue(BUSINESS_CONFIRMATION, contact_email, business_id=business_id)
