"""The API's OpenAPI 3.1 description, built here in Python: served at
/api/v1/openapi.json, rendered as the docs page (see docs), and held to the
API's real answers by the tests (every path called, every body validated
against the schema given here)."""
from __future__ import annotations

from functools import cache

from flask import current_app

from .. import api_keys

JSON = "application/json"
HAL_JSON = "application/hal+json"


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(kind: str, **more) -> dict:
    return {"type": [kind, "null"], **more}


_TIME = _nullable("string", format="date-time")
_LINK = {"type": "object", "required": ["href"], "properties": {"href": {"type": "string"}}}
_LINKS = {"type": "array", "items": _LINK}

SCHEMAS = {
    "Error": {
        "type": "object", "required": ["status", "message"],
        "properties": {"status": {"type": "integer"}, "message": {"type": "string"}},
    },
    "ValidationError": {
        "type": "object", "required": ["status", "message", "errors"],
        "properties": {
            "status": {"const": 422}, "message": {"type": "string"},
            "errors": {"type": "object", "description": "A message per field, named by its place in the body "
                                                        "(person.given_name, custom_fields.<question>...).",
                       "additionalProperties": {"type": "string"}},
        },
    },
    "EntryPoint": {
        "type": "object", "required": ["osdi_version", "_links"],
        "properties": {
            "motd": {"type": "string"}, "vendor_name": {"type": "string"}, "product_name": {"type": "string"},
            "osdi_version": {"type": "string"},
            "_links": {"type": "object", "required": ["self", "osdi:petitions", "osdi:people", "docs", "openapi"],
                       "properties": {"self": _LINK, "osdi:petitions": _LINK, "osdi:people": _LINK,
                                      "docs": _LINK, "openapi": _LINK}},
        },
    },
    "Petition": {
        "type": "object",
        "required": ["identifiers", "title", "total_signatures", "browser_url", "status", "_links"],
        "properties": {
            "identifiers": {"type": "array", "items": {"type": "string"}},
            "origin_system": {"type": "string"},
            "created_date": _TIME, "modified_date": _TIME,
            "title": {"type": "string"}, "name": {"type": "string", "description": "The campaign's slug."},
            "summary": {"type": "string"}, "description": {"type": "string"},
            "petition_text": {"type": "string"}, "browser_url": {"type": "string"},
            "total_signatures": {"type": "integer", "description": "Confirmed signatures."},
            "goal": {"type": "integer"},
            "kind": {"enum": ["boycott", "pledge", "freeze"]},
            "status": {"enum": ["draft", "live", "closed"]},
            "language": {"type": "string"},
            "window": {"oneOf": [{"type": "null"}, {"type": "object", "properties": {
                "start_date": _TIME, "end_date": _TIME, "time_zone": {"type": "string"}}}]},
            "_links": {"type": "object", "required": ["self"], "properties": {
                "self": _LINK, "osdi:signatures": _LINK, "osdi:record_signature_helper": _LINK}},
        },
    },
    "Person": {
        "type": "object", "required": ["given_name", "family_name", "email_addresses", "postal_addresses"],
        "properties": {
            "identifiers": {"type": "array", "items": {"type": "string"}},
            "origin_system": {"type": "string"},
            "created_date": _TIME, "modified_date": _TIME,
            "given_name": {"type": "string"}, "family_name": {"type": "string"},
            "email_addresses": {"type": "array", "items": {"type": "object", "required": ["address"], "properties": {
                "address": {"type": "string"}, "primary": {"type": "boolean"},
                "status": {"enum": ["subscribed", "unsubscribed"]}}}},
            "postal_addresses": {"type": "array", "items": {"type": "object", "properties": {
                "postal_code": {"type": "string"}, "country": {"type": "string"}}}},
            "languages_spoken": {"type": "array", "items": {"type": "string"}},
            "_links": {"type": "object", "properties": {"self": _LINK, "osdi:signatures": _LINKS}},
        },
    },
    "Signature": {
        "type": "object",
        "required": ["identifiers", "created_date", "modified_date", "status", "consents", "person", "_links"],
        "properties": {
            "identifiers": {"type": "array", "items": {"type": "string"}},
            "origin_system": {"type": "string"},
            "created_date": _TIME, "modified_date": _TIME, "confirmed_date": _TIME,
            "status": {"enum": ["pending", "confirmed", "withdrawn", "invalidated"]},
            "comments": _nullable("string", description="The signer's reason, where the campaign asks one."),
            "language": _nullable("string"),
            "consents": {"type": "object", "required": ["email_updates", "show_name"], "properties": {
                "email_updates": {"type": "boolean"}, "show_name": {"type": "boolean"},
                "consent_version": _nullable("integer", description="The version of the wording agreed to "
                                                                    "(none for signatures recorded by API).")}},
            "referrer_data": {"type": "object", "properties": {
                "source": _nullable("string"), "medium": _nullable("string"), "campaign": _nullable("string"),
                "referred_by": _nullable("string")}},
            "custom_fields": {"type": "object", "description": "Answers to the campaign's questions, by label.",
                              "additionalProperties": {"type": "string"}},
            "person": _ref("Person"),
            "_links": {"type": "object", "required": ["self"],
                       "properties": {"self": _LINK, "osdi:petition": _LINK}},
        },
    },
    "RecordSignature": {
        "type": "object", "required": ["person"],
        "properties": {
            "person": {"type": "object", "required": ["given_name", "family_name", "email_addresses",
                                                      "postal_addresses"], "properties": {
                "given_name": {"type": "string"}, "family_name": {"type": "string"},
                "email_addresses": {"type": "array", "minItems": 1, "items": {
                    "type": "object", "required": ["address"], "properties": {"address": {"type": "string"}}}},
                "postal_addresses": {"type": "array", "minItems": 1, "items": {
                    "type": "object", "required": ["country"], "properties": {
                        "postal_code": {"type": "string"},
                        "country": {"type": "string", "description": "ISO 3166-1 alpha-2 code."}}}}}},
            "comments": {"type": "string", "description": "The signer's reason, where the campaign asks one."},
            "custom_fields": {"type": "object", "additionalProperties": {"type": "string"},
                              "description": "Answers to the campaign's questions, by label (or id); "
                                             "pledge_date (YYYY-MM-DD) where a pledge asks a date; time_zone "
                                             "for a freeze."},
            "consents": {"type": "object", "properties": {
                "email_updates": {"type": "boolean"}, "show_name": {"type": "boolean"},
                "show_comments": {"type": "boolean"}, "reminders": {"type": "boolean"}}},
            "language": {"type": "string"},
            "referrer_data": {"type": "object", "properties": {
                "source": {"type": "string"}, "medium": {"type": "string"}, "campaign": {"type": "string"},
                "referrer": {"type": "string", "description": "A signer's referral code."}}},
            "confirmed": {"type": "boolean", "default": False,
                          "description": "Record it as already confirmed: needs confirm_signatures; audited."},
        },
    },
    "Recorded": {
        "type": "object", "required": ["status", "message"],
        "description": "The answer to a key without read_signers: the same whether or not the address had signed.",
        "properties": {"status": {"enum": ["pending", "confirmed"]}, "message": {"type": "string"},
                       "_links": {"type": "object"}},
    },
}


def _collection(name: str, item: str, paged: bool = True) -> dict:
    properties = {
        "per_page": {"type": "integer"}, "page": {"type": "integer"},
        "_links": {"type": "object", "required": ["self"], "properties": {
            "self": _LINK, "next": _LINK, f"osdi:{name}": _LINKS}},
        "_embedded": {"type": "object", "required": [f"osdi:{name}"],
                      "properties": {f"osdi:{name}": {"type": "array", "items": _ref(item)}}},
    }
    if not paged:
        properties.update({"total_records": {"type": "integer"}, "total_pages": {"type": "integer"}})
    return {"type": "object", "required": ["_links", "_embedded"], "properties": properties}


SCHEMAS.update({
    "PetitionCollection": _collection("petitions", "Petition", paged=False),
    "SignatureCollection": _collection("signatures", "Signature"),
    "PersonCollection": _collection("people", "Person"),
})

_ERRORS = {
    "400": ("Malformed parameters or filter.", "Error"),
    "401": ("No API key, or one that is unknown or revoked.", "Error"),
    "403": ("The key lacks the permission, or does not reach this campaign.", "Error"),
    "404": ("No such campaign, signature or person.", "Error"),
    "409": ("The campaign is not taking signatures.", "Error"),
    "422": ("The signature has errors: a message per field.", "ValidationError"),
    "429": ("Too many requests for this key (or address): see Retry-After.", "Error"),
}


def _responses(ok: dict, *errors: str) -> dict:
    answers = dict(ok)
    for code in (*errors, "429"):
        answers[code] = {"$ref": f"#/components/responses/E{code}"}
    return answers


def _ok(code: str, description: str, schema: str, media: str = HAL_JSON) -> dict:
    return {code: {"description": description, "content": {media: {"schema": _ref(schema)}}}}


_PAGING = [{"$ref": "#/components/parameters/per_page"}, {"$ref": "#/components/parameters/page"},
           {"$ref": "#/components/parameters/after"}, {"$ref": "#/components/parameters/filter"}]
_CAMPAIGN = {"$ref": "#/components/parameters/campaign_id"}
_KEYED = [{"osdiToken": []}, {"bearer": []}]


def _keyed(operation: dict, permission: str | None) -> dict:
    needs = f"Needs an API key with the permission `{permission}`." if permission else \
        "Needs an API key (any permission)."
    return {**operation, "security": _KEYED, "description": operation.get("description", "") + " " + needs}


PATHS = {
    "/": {"get": {
        "operationId": "entryPoint", "summary": "The entry point",
        "description": "Links to every collection, these docs and this document. No key needed.",
        "security": [{}], "responses": _responses(_ok("200", "The entry point.", "EntryPoint")),
    }},
    "/petitions": {"get": _keyed({
        "operationId": "listPetitions", "summary": "The key's campaigns",
        "description": "Every campaign the key is scoped to (and its organiser still manages), with its count.",
        "responses": _responses(_ok("200", "The key's petitions.", "PetitionCollection"), "401"),
    }, None)},
    "/petitions/{campaign_id}": {"get": {
        "operationId": "getPetition", "summary": "A campaign",
        "description": "With a key that reaches it: the campaign in any status. Without a key: the public "
                       "summary of a live or closed campaign (no personal data); a draft is 404.",
        "parameters": [_CAMPAIGN], "security": [*_KEYED, {}],
        "responses": _responses(_ok("200", "The petition.", "Petition"), "401", "403", "404"),
    }},
    "/petitions/{campaign_id}/signatures": {
        "get": _keyed({
            "operationId": "listSignatures", "summary": "A campaign's signatures, page by page",
            "description": "Signatures that were ever confirmed, whatever their status now (confirmed, withdrawn, "
                           "invalidated), ordered by last change then id. Follow `_links.next` (a cursor: pages "
                           "stay right while signatures arrive). For an incremental sync, filter on "
                           "`modified_date gt` the latest modified_date you hold, less a few seconds.",
            "parameters": [_CAMPAIGN, *_PAGING],
            "responses": _responses(_ok("200", "A page of signatures.", "SignatureCollection"),
                                    "400", "401", "403", "404"),
        }, "read_signers"),
        "post": _keyed({
            "operationId": "recordSignature", "summary": "Record a signature (record signature helper)",
            "description": "Validated like the web form, deduplicated by mailbox, within the same email limits, "
                           "and confirmed by its owner from the email sent (double opt-in). With "
                           "`\"confirmed\": true` and the permission confirm_signatures, recorded as confirmed "
                           "(audited). With read_signers the answer is the signature; otherwise the same answer "
                           "whether or not the address had signed before.",
            "parameters": [_CAMPAIGN],
            "requestBody": {"required": True, "content": {JSON: {"schema": _ref("RecordSignature")}}},
            "responses": _responses({
                "201": {"description": "Recorded as confirmed.", "content": {HAL_JSON: {"schema": {
                    "oneOf": [_ref("Signature"), _ref("Recorded")]}}}},
                "202": {"description": "Recorded; a confirmation email is on its way.", "content": {
                    HAL_JSON: {"schema": {"oneOf": [_ref("Signature"), _ref("Recorded")]}}}},
            }, "400", "401", "403", "404", "409", "422"),
        }, "write_signatures"),
    },
    "/petitions/{campaign_id}/signatures/{signature_id}": {"get": _keyed({
        "operationId": "getSignature", "summary": "A signature",
        "parameters": [_CAMPAIGN, {"name": "signature_id", "in": "path", "required": True,
                                   "schema": {"type": "integer"}}],
        "responses": _responses(_ok("200", "The signature.", "Signature"), "401", "403", "404"),
    }, "read_signers")},
    "/people": {"get": _keyed({
        "operationId": "listPeople", "summary": "People, page by page",
        "description": "The distinct mailboxes among the signatures of the key's campaigns, each with links to "
                       "their signatures. Filter on modified_date or created_date of their signatures.",
        "parameters": _PAGING,
        "responses": _responses(_ok("200", "A page of people.", "PersonCollection"), "400", "401", "403"),
    }, "read_signers")},
    "/people/{person_id}": {"get": _keyed({
        "operationId": "getPerson", "summary": "A person",
        "parameters": [{"name": "person_id", "in": "path", "required": True, "schema": {"type": "string"},
                        "description": "An opaque id, stable for a mailbox."}],
        "responses": _responses(_ok("200", "The person.", "Person"), "401", "403", "404"),
    }, "read_signers")},
    "/openapi.json": {"get": {
        "operationId": "openapi", "summary": "This document", "security": [{}],
        "responses": _responses({"200": {"description": "The OpenAPI document.",
                                         "content": {JSON: {"schema": {"type": "object"}}}}}),
    }},
    "/docs": {"get": {
        "operationId": "docs", "summary": "The documentation page", "security": [{}],
        "responses": _responses({"200": {"description": "This document as a web page.",
                                         "content": {"text/html": {"schema": {"type": "string"}}}}}),
    }},
}

PARAMETERS = {
    "campaign_id": {"name": "campaign_id", "in": "path", "required": True, "schema": {"type": "integer"}},
    "per_page": {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 25},
                 "description": "Items per page (at most 100)."},
    "page": {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1},
             "description": "The page number, as given in _links.next (a page beyond the first needs its cursor)."},
    "after": {"name": "after", "in": "query", "schema": {"type": "string"},
              "description": "The opaque cursor of _links.next."},
    "filter": {"name": "filter", "in": "query", "schema": {"type": "string"},
               "example": "modified_date gt '2026-12-01T00:00:00Z'",
               "description": "OSDI filter: modified_date or created_date, gt or lt, a quoted ISO 8601 time; "
                              "conditions joined by `and`."},
}


@cache
def _document(site_url: str) -> dict:
    permissions = ", ".join(f"`{name}`" for name in api_keys.PERMISSIONS)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Campaign site API", "version": "1.0.0",
            "description": "OSDI 1.1 over HAL+JSON: campaigns (petitions), their signatures and signers (people), "
                           "and the record signature helper. API keys are made by organisers on their API keys "
                           f"screen, scoped to campaigns and permissions ({permissions}).",
        },
        "servers": [{"url": site_url.rstrip("/") + "/api/v1"}],
        "security": _KEYED,
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "parameters": PARAMETERS,
            "responses": {f"E{code}": {"description": description,
                                       "content": {JSON: {"schema": _ref(schema)}}}
                          for code, (description, schema) in _ERRORS.items()},
            "securitySchemes": {
                "osdiToken": {"type": "apiKey", "in": "header", "name": "OSDI-API-Token",
                              "description": "The key, as shown once when it was made."},
                "bearer": {"type": "http", "scheme": "bearer", "description": "The same key as a bearer token."},
            },
        },
    }


def document() -> dict:
    """The OpenAPI document of this site (its server is SITE_URL)."""
    return _document(current_app.config["SITE_URL"])
