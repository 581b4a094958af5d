"""Emails as the SMTP transport sends them: rendered from paired templates,
and for the kinds sent to many people, mail-merged.

Building a MIME message with the email package costs far more CPU than
sending it, and most of our emails differ between recipients only in a
name, a link and a few headers: a campaign's confirmations, an update's
deliveries. So ``MailMerge`` renders the templates and builds the message
once, with a marker in each per-recipient place (a *slot*), and each
recipient's copy is that skeleton with their values filled in and encoded
(C-speed quoted-printable). The slots are campaign/skeletons' markers."""
from __future__ import annotations

import binascii
import email.policy
from dataclasses import dataclass
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from urllib.parse import urlsplit

from flask import current_app, render_template, url_for
from flask_babel import force_locale
from flask_mail import Message
from markupsafe import escape

from . import site_settings
from .links import absolute_url
from .locales import direction, page_language
from .skeletons import slot


@dataclass(frozen=True)
class OutgoingEmail:
    """One message as it goes over SMTP."""

    sender: str            # the envelope sender's address
    recipients: list[str]
    raw: bytes
    message_id: str


def render_email(template: str, context: dict, language: str | None = None) -> tuple[str, str, str]:
    """Subject, plain text and HTML of ``email/<template>.*``, in
    ``language`` (None: the language being rendered now, a page's). The
    subject is one line: a newline from user data must never reach a
    header."""
    if language is not None:
        with force_locale(language):
            return render_email(template, context)
    context = email_context(context)
    subject = render_template(f"email/{template}.subject.txt", **context)
    return (one_line(subject),
            render_template(f"email/{template}.txt", **context),
            render_template(f"email/{template}.html", **context))


def email_context(context: dict) -> dict:
    """``context`` with the language the email is written in and its
    direction, for ``<html lang dir>``."""
    language = page_language()
    return {**context, "email_language": language, "email_direction": direction(language)}


# --- The links every email carries (templates/email/_footer.*) -------------------
# Jinja globals (see register_template_helpers), so every email template has
# them without its caller passing them, in the worker as in a request. They
# are the same for every recipient: a mail merge renders them once.

def privacy_notice_url(external: bool = True) -> str:
    """The privacy notice: the address an admin set in the site settings,
    else the site's own page; absolute (for emails) unless ``external`` is
    False (a page's link, as the forms' privacy notes use)."""
    elsewhere = site_settings.site().privacy_url
    if elsewhere:
        return elsewhere
    return absolute_url("public.privacy", language=page_language()) if external else url_for("public.privacy")


def my_data_url() -> str:
    """The "Manage my data" page, where a supporter asks for a link to see,
    download or erase what the site holds about their address; in the
    language of the email that links to it."""
    return absolute_url("public.my_data", language=page_language())


def one_line(text: str) -> str:
    return " ".join(text.split())


def sender() -> str:
    return current_app.config["MAIL_DEFAULT_SENDER"]


def message_id_domain() -> str:
    return urlsplit(current_app.config["SITE_URL"]).hostname or "localhost"


def subject_header(subject: str) -> str:
    """The Subject header's value: one line of text as encoded words,
    folded to fit after "Subject: " (folded without the name, a long Arabic
    subject began with an empty line, which readers show as a leading
    space)."""
    return Header(one_line(subject), "utf-8", header_name="Subject").encode()


# --- One message, built whole (rare kinds) -------------------------------------

class _Message(Message):
    """Flask-Mail's message, serialised with the compat32 policy and CRLF line
    ends. Flask-Mail switches the finished message to the SMTP policy, which
    parses every header again while writing it out: about 2.5 times slower,
    for the same bytes apart from how long headers are folded."""

    def _message(self):
        message = super()._message()
        message.policy = _SMTP_COMPAT32
        return message


_SMTP_COMPAT32 = email.policy.compat32.clone(linesep="\r\n")


def single_email(recipient: str, subject: str, text: str, html: str | None,
                 headers: dict | None = None) -> OutgoingEmail:
    """A message built whole, for kinds that send one at a time."""
    message = _Message(subject=subject_header(subject), recipients=[recipient], body=text, html=html,
                       extra_headers=headers or None, sender=sender())
    return OutgoingEmail(parseaddr(message.sender)[1], [recipient], message.as_bytes(), message.msgId)


# --- Many messages from one skeleton (see campaign/skeletons) --------------------

_BODY = {part: slot(f"body{part}").encode() for part in ("text", "html")}
_TO, _DATE, _MSGID = (slot(name).encode() for name in ("to", "date", "msgid"))


def _quoted_printable(text: str) -> bytes:
    return binascii.b2a_qp(text.replace("\r\n", "\n").encode("utf-8")).replace(b"\n", b"\r\n")


def _encode_address(address: str) -> str:
    name, addr = parseaddr(address)
    return formataddr((name, addr), charset="utf-8")


def _header_address(address: str) -> bytes:
    """A recipient as the To header carries it; a plain ASCII address as it is."""
    if address.isascii() and not any(c in address for c in ' "<>(),;:\\'):
        return address.encode()
    return _encode_address(address).encode()


class MailMerge:
    """One email, ready to be sent to many recipients cheaply.

    ``text`` and ``html`` were rendered with ``slot(name)`` for each name in
    ``slots``; ``headers`` may hold slots too, for ASCII values only (links).
    The subject is the same for everyone."""

    def __init__(self, subject: str, text: str, html: str, slots: tuple[str, ...],
                 headers: dict[str, str] | None = None):
        self.text, self.html, self.slots = text, html, tuple(slots)
        self.domain = message_id_domain()
        from_ = sender()
        self.sender_address = parseaddr(from_)[1]
        message = MIMEMultipart("alternative")
        message["Subject"] = subject_header(subject)
        message["From"] = _encode_address(from_)
        message["To"] = _TO.decode()
        message["Date"] = _DATE.decode()
        message["Message-ID"] = _MSGID.decode()
        for name, value in (headers or {}).items():
            message[name] = value
        for subtype, part_name in (("plain", "text"), ("html", "html")):
            part = MIMENonMultipart("text", subtype, charset="utf-8")
            part["Content-Transfer-Encoding"] = "quoted-printable"
            part.set_payload(_BODY[part_name].decode())
            message.attach(part)
        # Never fold: a marker must stay whole on its line.
        policy = email.policy.compat32.clone(linesep="\r\n", max_line_length=0)
        self.skeleton = message.as_bytes(policy=policy)
        self._header_slots = [(slot(name).encode(), name) for name in self.slots
                              if slot(name).encode() in self.skeleton]

    def message(self, recipient: str, values: dict[str, str]) -> OutgoingEmail:
        """The message for one recipient, with ``values`` in its slots."""
        message_id = make_msgid(domain=self.domain)
        text, html = self.text, self.html
        for name in self.slots:
            marker, value = slot(name), values[name]
            text = text.replace(marker, value)
            html = html.replace(marker, str(escape(value)))
        raw = self.skeleton
        for marker, name in self._header_slots:
            raw = raw.replace(marker, values[name].encode("ascii"))
        raw = (raw.replace(_TO, _header_address(recipient))
               .replace(_DATE, formatdate(localtime=False).encode())
               .replace(_MSGID, message_id.encode())
               .replace(_BODY["text"], _quoted_printable(text))
               .replace(_BODY["html"], _quoted_printable(html)))
        return OutgoingEmail(self.sender_address, [recipient], raw, message_id)
