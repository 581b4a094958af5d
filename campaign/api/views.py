"""The API's resources: the entry point, petitions (our campaigns), their
signatures, and people. What each answers is described, field by field, in
the OpenAPI document (see openapi), which the tests hold the answers to."""
from __future__ import annotations

from flask import abort, g
from flask_babel import gettext as _
from sqlalchemy import tuple_

from .. import api_keys, counts, osdi, questions
from ..extensions import db
from ..models import Campaign, CampaignStatus, Signature
from ..shared_pages import cache_publicly
from . import bp, people
from .auth import ApiError, campaign_of_key, current_key, hal, keyed, require_key
from .listing import next_link, page_request, read_time_cursor, self_link, time_cursor

READ_SIGNERS = "read_signers"


@bp.get("/")
def entry_point():
    """Where a client starts: links to every collection, the docs and the OpenAPI document."""
    return hal({
        "motd": _("The campaign site's API: OSDI 1.1 over HAL+JSON."),
        "vendor_name": osdi.SYSTEM,
        "product_name": osdi.SYSTEM,
        "osdi_version": "1.1",
        "_links": {
            "self": {"href": osdi.api_url("")},
            "osdi:petitions": {"href": osdi.api_url("petitions"), "title": "Petitions (campaigns)"},
            "osdi:people": {"href": osdi.api_url("people"), "title": "People (signers)"},
            "docs": {"href": osdi.api_url("docs"), "title": "Documentation"},
            "openapi": {"href": osdi.api_url("openapi.json"), "title": "OpenAPI 3.1 description"},
            "curies": [{"name": "osdi", "href": "https://opensupporter.github.io/osdi-docs/{rel}", "templated": True}],
        },
    })


# --- Petitions -------------------------------------------------------------------

@bp.get("/petitions")
@keyed()
def petitions():
    """The key's campaigns (any permission), with their confirmed counts."""
    key = require_key()
    campaigns = api_keys.campaigns_in_scope(key)
    totals = counts.signature_counts([c.id for c in campaigns])
    return hal({
        "total_pages": 1,
        "per_page": max(len(campaigns), 1),
        "page": 1,
        "total_records": len(campaigns),
        "_links": {"self": {"href": osdi.api_url("petitions")},
                   "osdi:petitions": [{"href": osdi.api_url(f"petitions/{c.id}")} for c in campaigns]},
        "_embedded": {"osdi:petitions": [osdi.petition(c, totals[c.id]) for c in campaigns]},
    })


@bp.get("/petitions/<int:campaign_id>")
def petition(campaign_id: int):
    """A campaign: with a key that reaches it, in any status; without a key,
    the public summary of a live or closed campaign (what its page shows)."""
    key = current_key()
    if key is None and g.get("api_token_sent"):
        require_key()  # a token that is no live key: 401, not the public answer
    if key is not None:
        campaign = campaign_of_key(key, campaign_id)
        return hal(osdi.petition(campaign, counts.signature_count(campaign.id)))
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or campaign.status == CampaignStatus.DRAFT:
        raise ApiError(404, _("There is no campaign %(id)s.", id=campaign_id))
    return cache_publicly(hal(osdi.petition(campaign, counts.signature_count(campaign.id))))


# --- Signatures ------------------------------------------------------------------

def _signatures_query(ever_confirmed: bool = True):
    """Signatures that were ever confirmed (a pending one may be a stranger's
    typing: it never leaves the site), with their consent version's number."""
    query = osdi.signature_rows()
    return query.where(Signature.confirmed_at.is_not(None)) if ever_confirmed else query


def question_labels(campaign_id: int) -> dict[str, str]:
    return {str(q.id): q.label for q in questions.questions_of(campaign_id)}


@bp.get("/petitions/<int:campaign_id>/signatures")
@keyed(READ_SIGNERS)
def signatures(campaign_id: int):
    """A page of the campaign's signatures, oldest change first (see listing)."""
    campaign = campaign_of_key(require_key(), campaign_id)
    wanted = page_request(read_time_cursor)
    query = _signatures_query().where(Signature.campaign_id == campaign.id)
    for condition in wanted.conditions:
        column = getattr(Signature, condition.column)
        query = query.where(column > condition.value if condition.operator == "gt" else column < condition.value)
    if wanted.after is not None:
        query = query.where(tuple_(Signature.modified_at, Signature.id) > tuple_(*wanted.after))
    rows = db.session.execute(query.order_by(Signature.modified_at, Signature.id).limit(wanted.per_page + 1)).all()
    more, rows = len(rows) > wanted.per_page, rows[:wanted.per_page]
    labels = question_labels(campaign.id)
    items = [osdi.signature(row, labels) for row in rows]
    links = {"self": {"href": self_link()}, "osdi:petition": {"href": osdi.api_url(f"petitions/{campaign.id}")},
             "osdi:signatures": [item["_links"]["self"] for item in items]}
    if more:
        links["next"] = {"href": next_link(wanted, time_cursor(rows[-1].modified_at, rows[-1].id))}
    return hal({"per_page": wanted.per_page, "page": wanted.page,
                "_links": links, "_embedded": {"osdi:signatures": items}})


@bp.get("/petitions/<int:campaign_id>/signatures/<int:signature_id>")
@keyed(READ_SIGNERS)
def signature(campaign_id: int, signature_id: int):
    """One signature of the campaign (ever confirmed)."""
    campaign = campaign_of_key(require_key(), campaign_id)
    row = db.session.execute(_signatures_query().where(Signature.campaign_id == campaign.id,
                                                       Signature.id == signature_id)).one_or_none()
    if row is None:
        raise ApiError(404, _("Campaign %(campaign)s has no signature %(id)s.", campaign=campaign.id, id=signature_id))
    return hal(osdi.signature(row, question_labels(campaign.id)))


# --- People ----------------------------------------------------------------------

def _readable_campaigns(key) -> list[int]:
    return [c.id for c in api_keys.campaigns_in_scope(key)]


@bp.get("/people")
@keyed(READ_SIGNERS)
def people_list():
    """A page of people: the distinct mailboxes among the signatures of the
    key's campaigns, in an order of their own (cursor: a person's id)."""
    key = require_key()
    campaign_ids = _readable_campaigns(key)
    wanted = page_request(people.mailbox_of)
    mailboxes = people.mailboxes_page(db.session, campaign_ids, wanted) if campaign_ids else []
    more, mailboxes = len(mailboxes) > wanted.per_page, mailboxes[:wanted.per_page]
    found = people.signatures_of(db.session, campaign_ids, mailboxes)
    items = [people.person_resource(mailbox, found[mailbox]) for mailbox in mailboxes if mailbox in found]
    links = {"self": {"href": self_link()}, "osdi:people": [item["_links"]["self"] for item in items]}
    if more:
        links["next"] = {"href": next_link(wanted, people.person_id(mailboxes[-1]))}
    return hal({"per_page": wanted.per_page, "page": wanted.page,
                "_links": links, "_embedded": {"osdi:people": items}})


@bp.get("/people/<person_id>")
@keyed(READ_SIGNERS)
def person(person_id: str):
    """One person, with links to each of their signatures the key may read."""
    key = require_key()
    mailbox = people.mailbox_of(person_id)
    campaign_ids = _readable_campaigns(key)
    found = people.signatures_of(db.session, campaign_ids, [mailbox]) if mailbox and campaign_ids else {}
    if mailbox not in found:
        raise ApiError(404, _("There is no such person among this key's campaigns."))
    return hal(people.person_resource(mailbox, found[mailbox]))


@bp.route("/<path:anything>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def nowhere(anything: str):
    """Any other address under the API: a JSON 404, not the site's HTML page."""
    abort(404)
