"""Leaving: one-click unsubscribe from a campaign's updates, or from every
email of the site."""
from __future__ import annotations

from sqlalchemy import update

from . import tokens
from .extensions import db, dialect_insert
from .models import Signature, Suppression, utcnow


def signature_for_unsubscribe(token: str) -> Signature | None:
    return tokens.signature_for(tokens.UNSUBSCRIBE, token)


def unsubscribe(signature: Signature) -> None:
    """No more updates from this signature's campaign; repeating is harmless."""
    db.session.execute(
        update(Signature).where(Signature.id == signature.id, Signature.unsubscribed_at.is_(None))
        .values(unsubscribed_at=utcnow()).execution_options(synchronize_session=False)
    )
    db.session.commit()


def stop_all_email(signature: Signature) -> None:
    """No more email of any kind to this address, from any campaign."""
    address = signature.email_normalised
    db.session.execute(dialect_insert(Suppression).values(email_normalised=address, created_at=utcnow())
                       .on_conflict_do_nothing(index_elements=["email_normalised"]))
    db.session.execute(
        update(Signature).where(Signature.email_normalised == address, Signature.unsubscribed_at.is_(None))
        .values(unsubscribed_at=utcnow()).execution_options(synchronize_session=False)
    )
    db.session.commit()
