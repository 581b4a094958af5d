"""An organiser's update as the email one supporter receives."""
from __future__ import annotations

import binascii
import email.policy
from dataclasses import dataclass
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.utils import formataddr, formatdate, make_msgid, parseaddr

from flask import render_template
from markupsafe import escape

from .links import absolute_url
from .markup import render_markdown
from .models import CampaignUpdate


@dataclass(frozen=True)
class RenderedUpdate:
    subject: str
    text: str
    html: str


def render_update(update_row: CampaignUpdate, given_name: str, unsubscribe_link: str,
                  body_html=None) -> RenderedUpdate:
    """Subject, plain text and HTML for one supporter. ``body_html`` may be
    passed in when many supporters get the same update."""
    campaign = update_row.campaign
    context = {
        "campaign": campaign,
        "update": update_row,
        "given_name": given_name,
        "body_html": body_html if body_html is not None else render_markdown(update_row.body),
        "campaign_url": absolute_url("public.campaign_page", slug=campaign.slug),
        "unsubscribe_url": unsubscribe_link,
    }
    return RenderedUpdate(
        # Never let a newline from an organiser's subject reach a header.
        subject=" ".join(update_row.subject.split()),
        text=render_template("email/update.txt", **context),
        html=render_template("email/update.html", **context),
    )


def list_unsubscribe_headers(link: str) -> dict:
    """RFC 2369 List-Unsubscribe with RFC 8058 one-click."""
    return {"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


# --- Sending one update to many ---------------------------------------------
#
# Building a MIME message with the email package costs far more CPU than
# sending it, and a broadcast sends the same update to every supporter with
# only the name, the unsubscribe link and a few headers changed. So the
# email package builds the message once per update, with placeholders, and
# each supporter's copy is that skeleton with their parts encoded (C-speed
# quoted-printable) and filled in.

_NAME = "Zq7NameZq7"
_LINK = "https://unsubscribe.invalid/Zq7LinkZq7"
_SLOTS = {key: f"@@Zq7{key}Zq7@@".encode() for key in ("TO", "DATE", "MSGID", "TEXT", "HTML")}


def _quoted_printable(text: str) -> bytes:
    return binascii.b2a_qp(text.replace("\r\n", "\n").encode("utf-8")).replace(b"\n", b"\r\n")


class UpdateMailMerge:
    """One update, ready to be sent to many supporters cheaply."""

    def __init__(self, update_row: CampaignUpdate, sender: str, message_id_domain: str):
        rendered = render_update(update_row, _NAME, _LINK)
        self.text, self.html = rendered.text, rendered.html
        self.domain = message_id_domain
        self.sender_address = parseaddr(sender)[1]
        message = MIMEMultipart("alternative")
        message["Subject"] = Header(rendered.subject, "utf-8").encode()
        message["From"] = _encode_address(sender)
        message["To"] = _SLOTS["TO"].decode()
        message["Date"] = _SLOTS["DATE"].decode()
        message["Message-ID"] = _SLOTS["MSGID"].decode()
        for name, value in list_unsubscribe_headers(_LINK).items():
            message[name] = value
        for subtype, slot in (("plain", "TEXT"), ("html", "HTML")):
            part = MIMENonMultipart("text", subtype, charset="utf-8")
            part["Content-Transfer-Encoding"] = "quoted-printable"
            part.set_payload(_SLOTS[slot].decode())
            message.attach(part)
        # Never fold: a placeholder must stay whole on its line.
        policy = email.policy.compat32.clone(linesep="\r\n", max_line_length=0)
        self.skeleton = message.as_bytes(policy=policy)

    def message_bytes(self, recipient: str, given_name: str, unsubscribe_link: str) -> tuple[str, bytes]:
        """(Message-ID, the whole message) for one supporter."""
        message_id = make_msgid(domain=self.domain)
        link = unsubscribe_link
        text = self.text.replace(_NAME, given_name).replace(_LINK, link)
        html = self.html.replace(_NAME, str(escape(given_name))).replace(_LINK, str(escape(link)))
        raw = (self.skeleton
               .replace(_LINK.encode(), link.encode())
               .replace(_SLOTS["TO"], _encode_address(recipient).encode())
               .replace(_SLOTS["DATE"], formatdate(localtime=False).encode())
               .replace(_SLOTS["MSGID"], message_id.encode())
               .replace(_SLOTS["TEXT"], _quoted_printable(text))
               .replace(_SLOTS["HTML"], _quoted_printable(html)))
        return message_id, raw


def _encode_address(address: str) -> str:
    name, addr = parseaddr(address)
    return formataddr((name, addr), charset="utf-8")
