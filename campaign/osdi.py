"""Our records in the shape of the Open Supporter Data Interface (OSDI 1.1):
what the API (see api) answers and what webhooks (see webhooks) carry, so a
CRM reads one shape whichever way the data reached it.

OSDI names: a campaign is a ``petition``, a signature a ``signature`` whose
signer is a ``person``. What OSDI has no field for is added under our own
names beside its own (``status``, ``consents``, ``language``...), as OSDI
allows. Every function takes plain rows (ORM objects or SQL rows with the
same attribute names) and returns JSON-ready dicts; timestamps are UTC in
ISO 8601 with a ``Z``."""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app
from sqlalchemy import select

from .links import absolute_url
from .models import ConsentVersion, Signature

# The prefix of our identifiers ("campaign-site:42"): OSDI identifiers name
# the system they come from.
SYSTEM = "campaign-site"


def timestamp(value: dt.datetime | dt.date | None) -> str | None:
    """UTC ISO 8601 with a Z (a date as YYYY-MM-DD); None stays None."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="microseconds") + "Z"
    return value.isoformat()


def identifier(kind: str, id_: int | str) -> str:
    return f"{SYSTEM}:{kind}:{id_}"


def api_url(path: str) -> str:
    """An absolute URL of the API: ``path`` below /api/v1."""
    return _api_root() + path.lstrip("/")


def _api_root() -> str:
    """The API's root URL, built once per app: a page of signatures links
    to hundreds of resources, and building each from the URL map was most
    of the time it took to answer."""
    root = current_app.extensions.get("osdi.api_root")
    if root is None:
        root = current_app.extensions["osdi.api_root"] = absolute_url("api.entry_point").rstrip("/") + "/"
    return root


def petition(campaign, total_signatures: int) -> dict[str, Any]:
    """A campaign as an OSDI petition: only what its public page shows."""
    window = None
    if campaign.window_start or campaign.window_end:
        window = {"start_date": timestamp(campaign.window_start), "end_date": timestamp(campaign.window_end),
                  "time_zone": campaign.time_zone}
    return {
        "identifiers": [identifier("petition", campaign.id)],
        "origin_system": SYSTEM,
        "created_date": timestamp(campaign.created_at),
        "modified_date": timestamp(campaign.created_at),
        "title": campaign.title,
        "name": campaign.slug,
        "summary": campaign.summary,
        "description": campaign.story,
        "petition_text": campaign.pledge_text,
        "browser_url": absolute_url("public.campaign_page", slug=campaign.slug),
        "total_signatures": total_signatures,
        "goal": campaign.goal,
        "kind": campaign.kind,
        "status": campaign.status,
        "language": campaign.default_language,
        "window": window,
        "_links": {
            "self": {"href": api_url(f"petitions/{campaign.id}")},
            "osdi:signatures": {"href": api_url(f"petitions/{campaign.id}/signatures")},
            "osdi:record_signature_helper": {"href": api_url(f"petitions/{campaign.id}/signatures")},
        },
    }


# What ``signature`` reads of a signature row (and its consent version's number).
SIGNATURE_COLUMNS = (
    Signature.id, Signature.campaign_id, Signature.given_name, Signature.family_name, Signature.email,
    Signature.country, Signature.postal_code, Signature.email_opt_in, Signature.show_name, Signature.status,
    Signature.created_at, Signature.confirmed_at, Signature.modified_at, Signature.unsubscribed_at,
    Signature.answers, Signature.source, Signature.medium, Signature.source_campaign, Signature.referred_by_id,
    Signature.language, Signature.reason, ConsentVersion.number.label("consent_version"),
)


def signature_rows():
    """A SELECT of signature rows as ``signature`` takes them: the API and
    the webhooks read signatures alike."""
    return select(*SIGNATURE_COLUMNS).outerjoin(ConsentVersion, ConsentVersion.id == Signature.consent_version_id)


def person(signature) -> dict[str, Any]:
    """The signer of ``signature`` as an OSDI person (email status:
    "subscribed" while they take the campaign's updates)."""
    subscribed = bool(signature.email_opt_in) and signature.unsubscribed_at is None
    postal = {"country": signature.country}
    if signature.postal_code:
        postal["postal_code"] = signature.postal_code
    return {
        "given_name": signature.given_name,
        "family_name": signature.family_name,
        "email_addresses": [{"address": signature.email, "primary": True,
                             "status": "subscribed" if subscribed else "unsubscribed"}],
        "postal_addresses": [postal],
        "languages_spoken": [signature.language] if signature.language else [],
    }


def signature(row, questions: dict[str, str] | None = None) -> dict[str, Any]:
    """A signature as an OSDI signature with its person embedded.
    ``questions``: {question id: label} to name the custom answers by."""
    answers = row.answers or {}
    custom = {(questions or {}).get(key, key): value for key, value in answers.items()}
    petition_url = f"{_api_root()}petitions/{row.campaign_id}"
    return {
        "identifiers": [identifier("signature", row.id)],
        "origin_system": SYSTEM,
        "created_date": timestamp(row.created_at),
        "modified_date": timestamp(row.modified_at),
        "confirmed_date": timestamp(row.confirmed_at),
        "status": row.status,
        "comments": row.reason,
        "language": row.language,
        "consents": {"email_updates": bool(row.email_opt_in) and row.unsubscribed_at is None,
                     "show_name": bool(row.show_name),
                     "consent_version": getattr(row, "consent_version", None)},
        "referrer_data": {"source": row.source, "medium": row.medium, "campaign": row.source_campaign,
                          "referred_by": identifier("signature", row.referred_by_id) if row.referred_by_id else None},
        "custom_fields": custom,
        "person": person(row),
        "_links": {
            "self": {"href": f"{petition_url}/signatures/{row.id}"},
            "osdi:petition": {"href": petition_url},
        },
    }


def business(row) -> dict[str, Any]:
    """A business that joined a boycott (no OSDI type: our own shape)."""
    return {
        "identifiers": [identifier("business", row.id)],
        "origin_system": SYSTEM,
        "created_date": timestamp(row.created_at),
        "decided_date": timestamp(row.decided_at),
        "organisation": row.organisation,
        "website": row.website,
        "company_size": row.company_size,
        "status": row.status,
        "pause_start": timestamp(row.pause_start),
        "pause_end": timestamp(row.pause_end),
        "_links": {"osdi:petition": {"href": api_url(f"petitions/{row.campaign_id}")}},
    }
