"""Leaving: one-click unsubscribe from a campaign's updates, or from every
email of the site."""
from __future__ import annotations

from sqlalchemy import select, update

from . import tokens
from .extensions import db, dialect_insert
from .links import absolute_url
from .models import Signature, Suppression, utcnow


def unsubscribe_token(signature_id: int) -> str:
    return tokens.token_for(tokens.UNSUBSCRIBE, signature_id)


def unsubscribe_url(signature_id: int) -> str:
    return absolute_url("public.unsubscribe", token=unsubscribe_token(signature_id))


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


def is_suppressed(address_normalised: str) -> bool:
    return db.session.execute(
        select(Suppression.email_normalised).where(Suppression.email_normalised == address_normalised)
    ).first() is not None
