"""OSDI people: the distinct mailboxes among the signatures a key may read.

A person has no row of their own here: they are a canonical mailbox
(``identity.normalise_email``) with the signatures made with it. Their id
must be stable, must not show the address (ids end up in URLs and logs),
and must lead back to the mailbox without a table to look it up in. So it
is the mailbox encrypted deterministically with a key derived from the
site's secret key (SIV: a keyed hash of the mailbox is both the
authentication tag and the seed of the keystream), URL-safe: the same
mailbox always gets the same id, nobody without the secret key can read or
forge one, and the API reads the mailbox back from it. Changing the secret
key changes every person's id."""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from flask import current_app
from sqlalchemy import select

from .. import osdi
from ..models import Signature
from .listing import PageRequest

_TAG = 16


def _keys() -> tuple[bytes, bytes]:
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return (hmac.new(secret, b"api person id: tag", hashlib.sha256).digest(),
            hmac.new(secret, b"api person id: stream", hashlib.sha256).digest())


def _stream(key: bytes, tag: bytes, length: int) -> bytes:
    blocks = (hmac.new(key, tag + n.to_bytes(4, "big"), hashlib.sha256).digest() for n in range(length // 32 + 1))
    return b"".join(blocks)[:length]


def person_id(mailbox: str) -> str:
    tag_key, stream_key = _keys()
    plain = mailbox.encode()
    tag = hmac.new(tag_key, plain, hashlib.sha256).digest()[:_TAG]
    cipher = bytes(a ^ b for a, b in zip(plain, _stream(stream_key, tag, len(plain)), strict=True))
    return base64.urlsafe_b64encode(tag + cipher).decode().rstrip("=")


def mailbox_of(person: str) -> str | None:
    """The mailbox a person id stands for, or None if it is not one we made."""
    if not person or len(person) > 600:
        return None
    try:
        data = base64.urlsafe_b64decode(person + "=" * (-len(person) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(data) <= _TAG:
        return None
    tag_key, stream_key = _keys()
    tag, cipher = data[:_TAG], data[_TAG:]
    plain = bytes(a ^ b for a, b in zip(cipher, _stream(stream_key, tag, len(cipher)), strict=True))
    if not hmac.compare_digest(hmac.new(tag_key, plain, hashlib.sha256).digest()[:_TAG], tag):
        return None
    try:
        return plain.decode()
    except UnicodeDecodeError:
        return None


def _readable(campaign_ids: list[int]):
    """The signatures that make people: ever confirmed, not anonymised, in these campaigns."""
    return (Signature.campaign_id.in_(campaign_ids), Signature.confirmed_at.is_not(None),
            Signature.anonymised_at.is_(None))


def mailboxes_page(session, campaign_ids: list[int], wanted: PageRequest) -> list[str]:
    """A page of mailboxes (one more than asked, to tell whether there is a next), in order."""
    query = select(Signature.email_normalised).where(*_readable(campaign_ids))
    for condition in wanted.conditions:
        column = getattr(Signature, condition.column)
        query = query.where(column > condition.value if condition.operator == "gt" else column < condition.value)
    if wanted.after is not None:
        query = query.where(Signature.email_normalised > wanted.after)
    query = query.group_by(Signature.email_normalised).order_by(Signature.email_normalised).limit(wanted.per_page + 1)
    return list(session.execute(query).scalars())


def signatures_of(session, campaign_ids: list[int], mailboxes: list[str]) -> dict[str, list]:
    """{mailbox: its signatures in these campaigns, latest change first}."""
    if not mailboxes:
        return {}
    rows = session.execute(
        select(Signature).where(*_readable(campaign_ids), Signature.email_normalised.in_(mailboxes))
        .order_by(Signature.email_normalised, Signature.modified_at.desc(), Signature.id.desc())
    ).scalars()
    found: dict[str, list] = {}
    for row in rows:
        found.setdefault(row.email_normalised, []).append(row)
    return found


def person_resource(mailbox: str, signatures: list) -> dict:
    """An OSDI person, as their latest signature describes them, with links to all of them."""
    latest = signatures[0]
    pid = person_id(mailbox)
    created = min(s.created_at for s in signatures)
    modified = max(s.modified_at for s in signatures)
    return {
        "identifiers": [osdi.identifier("person", pid)],
        "origin_system": osdi.SYSTEM,
        "created_date": osdi.timestamp(created),
        "modified_date": osdi.timestamp(modified),
        **osdi.person(latest),
        "_links": {
            "self": {"href": osdi.api_url(f"people/{pid}")},
            "osdi:signatures": [{"href": osdi.api_url(f"petitions/{s.campaign_id}/signatures/{s.id}")}
                                for s in signatures],
        },
    }
