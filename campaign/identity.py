"""Who is behind a signature, as far as the site needs to know: the
canonical form of an email address (to spot the same person signing twice)
and a keyed hash of a client address (to spot bulk fraud without keeping
the address)."""
from __future__ import annotations

import hashlib
import hmac

from flask import current_app

# Providers known to ignore dots in the local part.
_GMAIL_DOMAINS = {"gmail.com", "googlemail.com"}


def normalise_email(address: str) -> str:
    """The canonical mailbox of an address: what spots a second signature by
    the same person, and what every limit on email is kept by. Lower case,
    the ``+tag`` dropped whatever the domain (``jane+1@example.net`` and
    ``Jane+2@example.net`` reach one inbox), dots dropped only where the
    provider ignores them."""
    local, _, domain = address.strip().rpartition("@")
    local, domain = local.lower().split("+", 1)[0], domain.lower()
    if domain in _GMAIL_DOMAINS:
        local = local.replace(".", "")
        domain = "gmail.com"
    return f"{local}@{domain}"


def email_domain(normalised: str) -> str:
    return normalised.rpartition("@")[2]


def hash_ip(address: str | None) -> str | None:
    """A keyed hash of a client address: groups signatures without storing the IP."""
    if not address:
        return None
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, address.encode(), hashlib.sha256).hexdigest()[:32]


def mailbox_hash(mailbox: str) -> str:
    """A one-way hash of a canonical mailbox, for what must outlive the
    address itself (an erased mailbox we never mail again, the record of
    what its owner did). Unkeyed, so that it holds across key changes."""
    return hashlib.sha256(b"mailbox:" + mailbox.encode()).hexdigest()
