"""The API's OpenAPI document is valid, and true: every documented path is
called, answers with a status it documents, and its body matches the
schema documented for that status."""
from __future__ import annotations

import pytest
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate

from campaign import api_keys
from campaign.extensions import db

from .builders import confirmed_signatures, make_campaign, make_organiser


@pytest.fixture
def spec(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def test_the_document_is_valid_openapi_31(spec):
    validate(spec)
    assert spec["openapi"].startswith("3.1")
    assert set(spec["components"]["securitySchemes"]) == {"osdiToken", "bearer"}


def _schema_of(spec: dict, operation: dict, status: int, media: str) -> dict | None:
    answer = operation["responses"].get(str(status))
    assert answer is not None, f"{operation['operationId']} answered {status}, which it does not document"
    if "$ref" in answer:
        answer = spec["components"]["responses"][answer["$ref"].rsplit("/", 1)[1]]
    content = answer.get("content", {})
    assert media in content, f"{operation['operationId']} {status} answered {media}, documented {list(content)}"
    return content[media]["schema"]


def test_every_documented_path_answers_as_documented(app, client, spec):
    with app.app_context():
        campaign = make_campaign()
        organiser = make_organiser(campaigns=[campaign])
        signature = confirmed_signatures(campaign, [("fan@example.com", "GB")])[0]
        _key, token = api_keys.create_key(organiser, "CRM", [campaign], set(api_keys.PERMISSIONS))
        _key, counts_only = api_keys.create_key(organiser, "Counts", [campaign], {"read_counts"})
        db.session.commit()
        ids = {"campaign_id": campaign.id, "signature_id": signature.id}
    keyed = {"OSDI-API-Token": token}
    people = client.get("/api/v1/people", headers=keyed).get_json()
    ids["person_id"] = people["_links"]["osdi:people"][0]["href"].rsplit("/", 1)[1]
    good = {"person": {"given_name": "Grace", "family_name": "Hopper",
                       "email_addresses": [{"address": "grace@example.com"}],
                       "postal_addresses": [{"country": "GB"}]}}
    calls = [
        # (path, method, headers, body, query)
        ("/", "get", {}, None, ""),
        ("/petitions", "get", keyed, None, ""),
        ("/petitions", "get", {}, None, ""),
        ("/petitions/{campaign_id}", "get", keyed, None, ""),
        ("/petitions/{campaign_id}", "get", {}, None, ""),
        ("/petitions/{campaign_id}/signatures", "get", keyed, None, "?per_page=1"),
        ("/petitions/{campaign_id}/signatures", "get", keyed, None, "?filter=nonsense"),
        ("/petitions/{campaign_id}/signatures", "get", {"OSDI-API-Token": counts_only}, None, ""),
        ("/petitions/{campaign_id}/signatures", "post", keyed, good, ""),
        ("/petitions/{campaign_id}/signatures", "post", keyed, {**good, "confirmed": True}, ""),
        ("/petitions/{campaign_id}/signatures", "post", {"OSDI-API-Token": counts_only}, good, ""),
        ("/petitions/{campaign_id}/signatures", "post", keyed, {"person": {}}, ""),
        ("/petitions/{campaign_id}/signatures/{signature_id}", "get", keyed, None, ""),
        ("/petitions/{campaign_id}/signatures/{signature_id}", "get", {}, None, ""),
        ("/people", "get", keyed, None, ""),
        ("/people/{person_id}", "get", keyed, None, ""),
        ("/people/{person_id}", "get", keyed, None, "NOBODY"),
        ("/openapi.json", "get", {}, None, ""),
        ("/docs", "get", {}, None, ""),
    ]
    called = set()
    for path, method, headers, body, query in calls:
        operation = spec["paths"][path][method]
        url = "/api/v1" + path.format(**ids)
        if query == "NOBODY":
            url, query = url.rsplit("/", 1)[0] + "/nobody", ""
        response = client.open(url + query, method=method.upper(), headers=headers, json=body)
        schema = _schema_of(spec, operation, response.status_code, response.mimetype)
        if response.is_json:
            OAS31Validator({**schema, "components": spec["components"]}).validate(response.get_json())
        called.add((path, method))
    documented = {(path, method) for path, methods in spec["paths"].items() for method in methods}
    assert called == documented


def test_the_docs_page_shows_every_operation_and_the_webhooks(client, spec):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and "Set-Cookie" not in page.headers
    html = page.get_data(as_text=True)
    for methods in spec["paths"].values():
        for operation in methods.values():
            assert f'id="{operation["operationId"]}"' in html
    assert 'id="webhooks"' in html and "<script src=\"http" not in html
