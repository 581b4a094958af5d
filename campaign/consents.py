"""Consent on record: the exact wording a signer agreed to.

A sign form asks for the pledge itself and for a few consents (updates by
email, the first name on the public list, a freeze's reminders, a reason
shown on the page, and the organiser's own yes/no questions, which they use
as consents of their own). What the form showed, word for word in the
signer's language, is a dict of texts by stable key (``texts_shown``); each
different dict is a ``ConsentVersion`` of the campaign, numbered 1, 2, ...
in the order they were first used, and each signature names its version.
Changing any wording (the pledge text, a question's label, a translation)
makes the next version; the same wording finds the version it already has.

Versions are found by the SHA-256 of their texts (``digest_of``): an
``INSERT ... ON CONFLICT DO NOTHING`` on (campaign, digest) with the next
number, so two workers whose first signers arrive together make one version
between them, and a version that lost the race for a number counts again.
The id is kept per process, by campaign and digest: once a wording has been
signed, a sign POST spends no statement on it."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from dataclasses import dataclass

from cachetools import LRUCache
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError

from .extensions import db, dialect_insert, on_postgresql
from .models import ConsentVersion, Kind, QuestionKind, Signature, utcnow
from .statements import cached

# The keys of the built-in consents, in the order the page lists them; a
# question's key is QUESTION + its id.
PLEDGE, REASON_PUBLIC, REMINDER_OPT_IN, EMAIL_OPT_IN, SHOW_NAME = (
    "pledge", "reason_public", "reminder_opt_in", "email_opt_in", "show_name")
QUESTION = "question:"

_NAMES = {
    PLEDGE: _l("The pledge"),
    REASON_PUBLIC: _l("Showing their reason on the page"),
    REMINDER_OPT_IN: _l("Reminder emails"),
    EMAIL_OPT_IN: _l("Updates by email"),
    SHOW_NAME: _l("First name on the public list"),
}
_ORDER = (PLEDGE, QUESTION, REASON_PUBLIC, REMINDER_OPT_IN, EMAIL_OPT_IN, SHOW_NAME)


def texts_shown(campaign, form) -> dict[str, str]:
    """The wording of each consent ``form`` asked of its signer, as the page
    showed it: ``campaign`` (its ``pledge_text`` and ``kind``) and the sign
    form of that page (see public_forms.sign_form_class), only the fields it
    has, each label as text in the current language."""
    texts = {PLEDGE: campaign.pledge_text or ""}
    for question in form.questions:
        if question.kind == QuestionKind.YESNO:
            texts[f"{QUESTION}{question.id}"] = str(form[question.field_name].label.text)
    if "reason_public" in form:
        texts[REASON_PUBLIC] = str(form.reason_public.label.text)
    # Every sign form has the box; the page shows it for a freeze only
    # (templates/public/_sign_form.html).
    if campaign.kind == Kind.FREEZE:
        texts[REMINDER_OPT_IN] = str(form.reminder_opt_in.label.text)
    texts[EMAIL_OPT_IN] = str(form.email_opt_in.label.text)
    texts[SHOW_NAME] = str(form.show_name.label.text)
    return texts


def digest_of(texts: dict[str, str]) -> str:
    """SHA-256 (hex) of the texts as canonical JSON: keys sorted, no spaces,
    UTF-8; the same wording always gives the same digest."""
    canonical = json.dumps(texts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


# --- Finding or making the version -------------------------------------------------

_CACHE_SIZE = 4096
_ATTEMPTS = 5
_lock = threading.Lock()


def _known() -> LRUCache:
    """Version ids by (campaign id, digest), per application: one per
    process in production; a test's app starts with an empty database and
    so with an empty cache. A version is never changed, so an id once known
    stays right."""
    return current_app.extensions.setdefault("consent_versions", LRUCache(maxsize=_CACHE_SIZE))


def version_id(campaign_id: int, texts: dict[str, str], connection=None) -> int:
    """The id of ``campaign_id``'s version with exactly these ``texts``,
    made (and committed) if it is new. ``connection``: an autocommit
    connection to use on PostgreSQL (see statements.connection); elsewhere
    the session's transaction is committed."""
    digest = digest_of(texts)
    key = (campaign_id, digest)
    known = _known()
    with _lock:
        found = known.get(key)
    if found is None:
        found = _find_or_make(campaign_id, texts, digest, connection)
        with _lock:
            known[key] = found
    return found


def _insert_version():
    """INSERT the version with the campaign's next number, unless one with
    the same digest is there: then no row and no error. Two versions that
    count the same number at once meet the (campaign, number) constraint
    instead, and the loser counts again."""
    table = ConsentVersion.__table__
    following = (select(func.coalesce(func.max(table.c.number), 0) + 1)
                 .where(table.c.campaign_id == bindparam("campaign_id"))
                 .scalar_subquery())
    return (dialect_insert(ConsentVersion)
            .values(campaign_id=bindparam("campaign_id"), number=following,
                    texts=bindparam("texts", type_=table.c.texts.type), digest=bindparam("digest"),
                    created_at=bindparam("now"))
            .on_conflict_do_nothing(index_elements=["campaign_id", "digest"])
            .returning(table.c.id))


def _existing_version():
    table = ConsentVersion.__table__
    return select(table.c.id).where(table.c.campaign_id == bindparam("campaign_id"),
                                    table.c.digest == bindparam("digest"))


def _find_or_make(campaign_id: int, texts: dict[str, str], digest: str, connection) -> int:
    params = {"campaign_id": campaign_id, "texts": texts, "digest": digest, "now": utcnow()}
    if not on_postgresql():
        return _attempts(db.session.connection, db.session.commit, db.session.rollback, params)
    if connection is not None:
        return _attempts(lambda: connection, lambda: None, connection.rollback, params)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as own:
        return _attempts(lambda: own, lambda: None, own.rollback, params)


def _number_taken(error: IntegrityError) -> bool:
    """Did the insert meet the (campaign, number) constraint? PostgreSQL
    names the constraint, SQLite its columns."""
    message = str(error.orig)
    return "uq_consent_version_campaign_number" in message or "consent_version.number" in message


def _attempts(connection_of, commit, rollback, params: dict) -> int:
    """Insert, else read the version another signer made first; on
    PostgreSQL each statement is a transaction of its own (autocommit), so
    the read sees a version whose insert this one waited for."""
    for _ in range(_ATTEMPTS):
        try:
            made = connection_of().execute(cached("consent version: insert", _insert_version), params).scalar()
        except IntegrityError as error:
            rollback()
            if not _number_taken(error):
                raise
            continue  # another version took this number first: count again
        if made is None:
            made = connection_of().execute(cached("consent version: find", _existing_version), params).scalar()
        commit()
        if made is not None:
            return made
    raise RuntimeError(f"no consent version for campaign {params['campaign_id']} after {_ATTEMPTS} attempts")


# --- The organisers' record -------------------------------------------------------------

@dataclass(frozen=True)
class RecordedVersion:
    """A version as the organisers' Consents page lists it."""
    number: int
    first_used: dt.datetime
    signatures: int  # that agreed to it, whatever their status now
    texts: tuple[tuple[str, str], ...]  # (what it is, its text), in the form's order


@dataclass(frozen=True)
class ConsentRecord:
    versions: list[RecordedVersion]  # newest first
    unversioned: int  # signatures from before versions were recorded


def name_of(key: str) -> str:
    """What a text's key stands for, for people."""
    if key.startswith(QUESTION):
        return str(_l("Your yes-or-no question"))
    return str(_NAMES.get(key, key))


def _place(key: str) -> int:
    prefix = QUESTION if key.startswith(QUESTION) else key
    return _ORDER.index(prefix) if prefix in _ORDER else len(_ORDER)


def consent_record(campaign_id: int) -> ConsentRecord:
    """Every version of the campaign with the count of signatures that
    agreed to it, and how many signatures name none."""
    agreed = (select(func.count(Signature.id)).where(Signature.consent_version_id == ConsentVersion.id)
              .correlate(ConsentVersion).scalar_subquery())
    rows = db.session.execute(
        select(ConsentVersion.number, ConsentVersion.created_at, ConsentVersion.texts, agreed.label("signatures"))
        .where(ConsentVersion.campaign_id == campaign_id)
        .order_by(ConsentVersion.number.desc())).all()
    unversioned = db.session.scalar(select(func.count(Signature.id)).where(
        Signature.campaign_id == campaign_id, Signature.consent_version_id.is_(None)))
    versions = [RecordedVersion(row.number, row.created_at, int(row.signatures),
                                tuple((name_of(key), text) for key, text in
                                      sorted((row.texts or {}).items(), key=lambda item: _place(item[0]))))
                for row in rows]
    return ConsentRecord(versions, int(unversioned or 0))
