"""The emails of organiser accounts: a link to set a new password, and an
invitation to run a campaign (or the site). Each is rendered when it is
queued, link included, and kept in the outbox row: the links are short-lived
and work once. Both are capped by the mailbox rules (anyone can ask for a
reset link to any address); neither is held back by a supporter's "stop all
email", which is about campaign email, not an account the person asks for."""
from __future__ import annotations

from . import outbox
from .mail_merge import render_email, single_email

PASSWORD_RESET = "password_reset"
INVITATION = "invitation"


def queue_password_reset(address: str, link: str, minutes: int) -> None:
    """In the caller's transaction; the caller commits."""
    subject, text, html = render_email("password_reset", {"link": link, "minutes": minutes})
    outbox.enqueue(PASSWORD_RESET, address, subject=subject, body_text=text, body_html=html)


def queue_invitation(address: str, link: str, days: int, campaign_title: str | None, as_admin: bool,
                     invited_by: str | None) -> None:
    """In the caller's transaction; the caller commits."""
    subject, text, html = render_email("invitation", {
        "link": link, "days": days, "campaign_title": campaign_title, "as_admin": as_admin,
        "invited_by": invited_by})
    outbox.enqueue(INVITATION, address, subject=subject, body_text=text, body_html=html)


def _as_stored(batch, row: outbox.Delivery):
    return single_email(row.recipient, row.subject, row.body_text, row.body_html, row.headers)


for _kind in (PASSWORD_RESET, INVITATION):
    outbox.register_kind(outbox.MessageKind(_kind, load=lambda rows: None, still_wanted=lambda batch, row: None,
                                            render=_as_stored, suppressible=False, capped=True))
