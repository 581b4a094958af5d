"""OSDI's record signature helper: a partner's server posts a signature.

It takes the web form's road, not one of its own: the OSDI body is mapped
onto the campaign's sign form (public_forms.sign_form_class, with the
campaign's questions and asks), validated by it with its own messages, and
stored by ``signing.sign``: the same deduplication by mailbox, the same
allowance of emails per signature and per mailbox, and the same double
opt-in (a confirmation email goes to the address; the signature counts
once its owner confirms). The answer says no more than the web form's
thank-you page about whether the address had signed before, unless the key
may read signers anyway.

A key with ``confirm_signatures`` may send ``"confirmed": true`` for a
signer the partner has verified itself: the signature is then confirmed at
once through ``signing.confirm`` (counts, and the webhooks that follow a
confirmation) and the audit log records it (api.signature_confirmed).

The partner's own form showed its own wording, which we do not know: a
signature recorded here names no consent version."""
from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from .. import api_keys, audit, osdi, provenance, signing, time_zones, translations
from ..extensions import db
from ..identity import normalise_email
from ..models import LIVE_STATUSES, Kind, Signature, utcnow
from ..public_forms import pledge_details, sign_form_class
from . import bp
from .auth import ApiError, campaign_of_key, hal, keyed, require_key
from .views import READ_SIGNERS, _signatures_query, question_labels

WRITE = "write_signatures"
CONFIRM = "confirm_signatures"
# Where each sign form field comes from in the OSDI body, for the error messages.
FIELD_PATHS = {
    "given_name": "person.given_name",
    "family_name": "person.family_name",
    "email": "person.email_addresses[0].address",
    "postal_code": "person.postal_addresses[0].postal_code",
    "country": "person.postal_addresses[0].country",
    "email_opt_in": "consents.email_updates",
    "show_name": "consents.show_name",
    "reason": "comments",
    "reason_public": "consents.show_comments",
    "pledge_date": "custom_fields.pledge_date",
    "time_zone": "custom_fields.time_zone",
    "reminder_opt_in": "consents.reminders",
}
_BOOLEANS = {"email_updates": "email_opt_in", "show_name": "show_name", "show_comments": "reason_public",
             "reminders": "reminder_opt_in"}


class _Body:
    """Reads the JSON body, collecting a message per wrong field."""

    def __init__(self, body: dict):
        self.body = body
        self.errors: dict[str, str] = {}

    def object(self, value, path: str) -> dict:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.errors[path] = _("Must be an object.")
            return {}
        return value

    def first(self, value, path: str) -> dict:
        if value is None or value == []:
            return {}
        if not isinstance(value, list) or not isinstance(value[0], dict):
            self.errors[path] = _("Must be a list of objects.")
            return {}
        return value[0]

    def text(self, value, path: str) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            self.errors[path] = _("Must be a string.")
            return ""
        return value

    def flag(self, value, path: str) -> bool:
        if value is None:
            return False
        if not isinstance(value, bool):
            self.errors[path] = _("Must be true or false.")
            return False
        return value


def form_data(body: dict, terms: signing.SigningTerms) -> tuple[MultiDict, _Body]:
    """The sign form's fields as the web form would post them, from an OSDI body."""
    read = _Body(body)
    person = read.object(body.get("person"), "person")
    email = read.first(person.get("email_addresses"), "person.email_addresses")
    postal = read.first(person.get("postal_addresses"), "person.postal_addresses")
    data = MultiDict({
        "given_name": read.text(person.get("given_name"), "person.given_name"),
        "family_name": read.text(person.get("family_name"), "person.family_name"),
        "email": read.text(email.get("address"), "person.email_addresses[0].address"),
        "postal_code": read.text(postal.get("postal_code"), "person.postal_addresses[0].postal_code"),
        "country": read.text(postal.get("country"), "person.postal_addresses[0].country").upper(),
    })
    consents = read.object(body.get("consents"), "consents")
    for name, value in consents.items():
        if name not in _BOOLEANS:
            read.errors[f"consents.{name}"] = _("Unknown consent: use %(names)s.", names=", ".join(_BOOLEANS))
        elif read.flag(value, f"consents.{name}"):
            data[_BOOLEANS[name]] = "y"
    comments = read.text(body.get("comments"), "comments")
    if comments:
        if terms.asks is None or not terms.asks.reason:
            read.errors["comments"] = _("This campaign does not ask for a reason: leave comments out.")
        data["reason"] = comments
    _custom_fields(read, read.object(body.get("custom_fields"), "custom_fields"), terms, data)
    return data, read


def _custom_fields(read: _Body, fields: dict, terms: signing.SigningTerms, data: MultiDict) -> None:
    """The campaign's questions, by label (or id), and what a pledge or freeze asks beyond them."""
    by_name = {}
    for question in terms.questions:
        by_name[question.label] = by_name[str(question.id)] = question
    extra = {"pledge_date"} if terms.asks is not None and terms.asks.date_question is not None else set()
    if terms.kind == Kind.FREEZE:
        extra.add("time_zone")
    for name, value in fields.items():
        path = f"custom_fields.{name}"
        if name in extra:
            data[name] = read.text(value, path)
        elif name in by_name:
            data[by_name[name].field_name] = read.text(value, path)
        else:
            read.errors[path] = _("This campaign asks no question “%(name)s”.", name=str(name)[:100])


def _referrer(read: _Body, body: dict) -> provenance.Provenance:
    values = read.object(body.get("referrer_data"), "referrer_data")
    text = {key: read.text(values.get(key), f"referrer_data.{key}") for key in ("source", "medium", "campaign",
                                                                                "referrer")}
    return provenance.Provenance(provenance.normalise(text["source"]) or None,
                                 provenance.normalise(text["medium"]) or None,
                                 provenance.normalise(text["campaign"]) or None,
                                 provenance.referral_code(text["referrer"]))


def _errors_of(form) -> dict[str, str]:
    return {FIELD_PATHS.get(name, _question_path(form, name)): str(messages[0])
            for name, messages in form.errors.items() if messages and name != "csrf_token"}


def _question_path(form, name: str) -> str:
    for question in form.questions:
        if question.field_name == name:
            return f"custom_fields.{question.label}"
    return name


@bp.post("/petitions/<int:campaign_id>/signatures")
@keyed(WRITE)
def record_signature(campaign_id: int):
    """Record a signature as the web form would (see the module docstring)."""
    key = require_key(WRITE)
    campaign = campaign_of_key(key, campaign_id)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, _("Send a JSON object (Content-Type: application/json)."))
    confirmed = body.get("confirmed", False)
    if not isinstance(confirmed, bool):
        raise ApiError(422, _("The signature has errors."), {"confirmed": _("Must be true or false.")})
    if confirmed and not api_keys.has_permission(key, CONFIRM):
        raise ApiError(403, _("Only a key with the permission confirm_signatures may record a confirmed signature."))
    terms = signing.signing_terms(campaign.slug)
    if terms is None or not terms.is_open:
        raise ApiError(409, _("Campaign %(id)s is not taking signatures.", id=campaign.id))
    if terms.freeze_over(utcnow()):
        raise ApiError(409, _("The freeze is over: campaign %(id)s takes no more signatures.", id=campaign.id))

    language = body.get("language")
    language = translations.language_of(terms, language if isinstance(language, str) else None)
    data, read = form_data(body, terms)
    link = _referrer(read, body)
    form = sign_form_class(terms.questions, terms.asks, language)(
        formdata=data, meta={"csrf": False}, postcode_required=terms.postcode_required)
    valid = form.validate()
    errors = {**_errors_of(form), **read.errors}
    if not valid or errors:
        raise ApiError(422, _("The signature has errors."), errors)

    pledge = signing.Pledge(
        given_name=form.given_name.data, family_name=form.family_name.data, email=form.email.data,
        country=form.country.data, postal_code=form.postal_code.data, email_opt_in=form.email_opt_in.data,
        show_name=form.show_name.data, answers=form.answers(), **pledge_details(form),
        time_zone=_time_zone(form, terms), reminder_opt_in=terms.kind == Kind.FREEZE and form.reminder_opt_in.data,
        provenance=link, consent_texts=None, language=language)
    db.session.commit()  # the services write on connections of their own: the session holds none meanwhile
    signing.sign(terms, pledge)
    signature_id = _live_signature_id(campaign.id, form.email.data)
    status = 202
    if confirmed and signature_id is not None:
        page = signing.confirm(signature_id, signing.Choices(
            pledge.given_name, pledge.family_name, pledge.country, pledge.email_opt_in, pledge.show_name,
            pledge.pledge_date, pledge.reason, pledge.reason_public, pledge.reminder_opt_in, pledge.time_zone))
        if page is not None and page.confirmed_now:
            audit.record_now("api.signature_confirmed", key.organiser, campaign,
                             {"signature_id": signature_id, "api_key_id": key.id})
        status = 201
    return _answer(key, campaign.id, signature_id, status, confirmed)


def _time_zone(form, terms) -> str | None:
    if terms.kind != Kind.FREEZE:
        return None
    return time_zones.signer_zone(form.time_zone.data, form.country.data)


def _live_signature_id(campaign_id: int, email: str) -> int | None:
    return db.session.execute(select(Signature.id).where(
        Signature.campaign_id == campaign_id, Signature.email_normalised == normalise_email(email),
        Signature.status.in_(LIVE_STATUSES))).scalar_one_or_none()


def _answer(key, campaign_id: int, signature_id: int | None, status: int, confirmed: bool):
    """With read_signers, the signature itself (pending too: after this POST
    it holds what the key just sent); otherwise the same answer whether or
    not the address had signed before, as the web form's thank-you page."""
    if signature_id is not None and api_keys.has_permission(key, READ_SIGNERS):
        row = db.session.execute(_signatures_query(ever_confirmed=False).where(Signature.id == signature_id)).one()
        return hal(osdi.signature(row, question_labels(campaign_id)), status)
    message = _("Recorded and confirmed.") if confirmed else _(
        "Recorded. The signature counts once it is confirmed: a confirmation email goes to the address "
        "unless it has confirmed already.")
    return hal({"status": "confirmed" if confirmed else "pending", "message": message,
                "_links": {"osdi:petition": {"href": osdi.api_url(f"petitions/{campaign_id}")}}}, status)
