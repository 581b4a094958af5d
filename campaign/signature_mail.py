"""The emails a signature causes: the confirmation link, and a note to
someone who signs again after confirming. Each is queued as a small row
naming the signature (signing renders nothing while the visitor waits) and
rendered when it is sent, as a mail merge per campaign; it is not sent at
all if the signature has moved on meanwhile (confirmed, invalidated,
removed)."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from . import outbox, tokens
from .extensions import db
from .links import absolute_url
from .mail_merge import MailMerge, render_email
from .models import Campaign, Signature, SignatureStatus
from .skeletons import slot
from .validation import looks_like_link

CONFIRMATION = "confirmation"
ALREADY_SIGNED = "already_signed"

# The status a signature must still have for its email to go out.
WANTED_STATUS = {CONFIRMATION: SignatureStatus.PENDING, ALREADY_SIGNED: SignatureStatus.CONFIRMED}
# Which email a signature with this status gets when its address signs again.
EMAIL_ON_SIGNING_AGAIN = {status.value: kind for kind, status in WANTED_STATUS.items()}
_TEMPLATES = {CONFIRMATION: "confirm_signature", ALREADY_SIGNED: "already_signed"}


@dataclass
class _Batch:
    signatures: dict[int, object]   # rows: id, status, given_name, campaign_id, title, slug
    merges: dict[tuple[str, int], MailMerge] = field(default_factory=dict)
    confirm_link: object = None

    def merge(self, kind: str, signature) -> MailMerge:
        key = (kind, signature.campaign_id)
        merge = self.merges.get(key)
        if merge is None:
            subject, text, html = render_email(_TEMPLATES[kind], {
                "campaign": {"title": signature.title, "slug": signature.slug},
                "greeting": slot("greeting"),
                "confirm_url": slot("confirmurl"),
                "campaign_url": absolute_url("public.campaign_page", slug=signature.slug),
            })
            merge = self.merges[key] = MailMerge(subject, text, html, ("greeting", "confirmurl"))
        return merge


def _load(rows: list[outbox.Delivery]) -> _Batch:
    ids = {row.signature_id for row in rows if row.signature_id}
    found = db.session.execute(
        select(Signature.id, Signature.status, Signature.given_name, Signature.campaign_id, Campaign.title,
               Campaign.slug)
        .join(Campaign, Campaign.id == Signature.campaign_id).where(Signature.id.in_(ids))
    ).all() if ids else []
    return _Batch({row.id: row for row in found}, confirm_link=tokens.links_for(tokens.CONFIRM))


def _still_wanted(batch: _Batch, row: outbox.Delivery) -> str | None:
    signature = batch.signatures.get(row.signature_id)
    if signature is None:
        return "signature removed"
    if signature.status != WANTED_STATUS[row.kind]:
        return f"signature {signature.status}"
    return None


def greeting(given_name: str) -> str:
    """What follows "Hello" in an email to someone who has not confirmed:
    their first name, unless it holds anything that could pass for a link
    (the name was typed by whoever signed, perhaps not the mailbox's owner),
    in which case just "Hello,"."""
    return "" if not given_name or looks_like_link(given_name) else f" {given_name}"


def _render(batch: _Batch, row: outbox.Delivery):
    signature = batch.signatures[row.signature_id]
    confirm_url = batch.confirm_link(signature.id) if row.kind == CONFIRMATION else ""
    return batch.merge(row.kind, signature).message(
        row.recipient, {"greeting": greeting(signature.given_name), "confirmurl": confirm_url})


for _kind in (CONFIRMATION, ALREADY_SIGNED):
    outbox.register_kind(outbox.MessageKind(_kind, load=_load, still_wanted=_still_wanted, render=_render,
                                            capped=True))
