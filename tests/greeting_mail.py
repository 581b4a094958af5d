"""A kind of email that exists only in the tests, added the way every kind
is: one registration here and its templates (tests/templates/email/greeting.*).
A greeting names a signature; it goes out while the signature is valid."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint
from sqlalchemy import select

from campaign import outbox
from campaign.extensions import db
from campaign.links import absolute_url
from campaign.mail_merge import render_email, single_email
from campaign.models import Campaign, Signature, SignatureStatus

GREETING = "greeting"
# Makes tests/templates/ visible to the app it is registered on.
templates = Blueprint("greeting_templates", __name__, template_folder=str(Path(__file__).parent / "templates"))


def _load(deliveries):
    ids = {d.signature_id for d in deliveries}
    return {row.id: row for row in db.session.execute(
        select(Signature.id, Signature.status, Signature.given_name, Campaign.title, Campaign.slug)
        .join(Campaign, Campaign.id == Signature.campaign_id).where(Signature.id.in_(ids)))}


def _still_wanted(signatures, delivery):
    signature = signatures.get(delivery.signature_id)
    if signature is None or signature.status == SignatureStatus.INVALIDATED:
        return "signature withdrawn"
    return None


def _render(signatures, delivery):
    signature = signatures[delivery.signature_id]
    subject, text, html = render_email("greeting", {
        "given_name": signature.given_name, "campaign": {"title": signature.title},
        "campaign_url": absolute_url("public.campaign_page", slug=signature.slug)})
    return single_email(delivery.recipient, subject, text, html)


outbox.register_kind(outbox.MessageKind(GREETING, load=_load, still_wanted=_still_wanted, render=_render))


def enqueue_greeting(signature: Signature) -> None:
    outbox.enqueue(GREETING, signature.email, signature_id=signature.id)
