"""The API: a CRM reads a campaign's signatures with a key, page by page,
and a partner's server records signatures through the web form's rules.

Keys: no key, an unknown or revoked one, an inactive organiser's: 401; a
key without the permission or the campaign: 403. The API never takes an
organiser's cookie, never sets one, and what a key reads no cache keeps."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, insert, select

from campaign import api_keys, organisers
from campaign.api import people
from campaign.extensions import db
from campaign.models import AuditEvent, Campaign, CampaignStatus, Signature, SignatureStatus, utcnow

from .builders import log_in, make_campaign, make_organiser, sign

ALL = set(api_keys.PERMISSIONS)
T0 = dt.datetime(2026, 11, 1, 12, 0, 0)


def key_for(organiser, campaigns, permissions=frozenset({"read_signers"})) -> str:
    _key, token = api_keys.create_key(organiser, "CRM", list(campaigns), set(permissions))
    db.session.commit()
    return token


def with_key(token: str) -> dict:
    return {"OSDI-API-Token": token}


def add_signatures(campaign_id: int, n: int, start: int = 0, status=SignatureStatus.CONFIRMED,
                   at: dt.datetime = T0) -> None:
    """``n`` signatures in one INSERT, modified one second apart from ``at``."""
    rows = []
    for i in range(start, start + n):
        when = at + dt.timedelta(seconds=i)
        rows.append({"campaign_id": campaign_id, "given_name": f"Given{i}", "family_name": f"Family{i}",
                     "email": f"s{i}@example.com", "email_normalised": f"s{i}@example.com",
                     "email_domain": "example.com", "country": "GB", "postal_code": "N1 1AA",
                     "email_opt_in": i % 2 == 0, "show_name": False, "status": status.value,
                     "emails_sent": 1, "created_at": when, "modified_at": when,
                     "confirmed_at": when if status != SignatureStatus.PENDING else None})
    db.session.execute(insert(Signature), rows)
    db.session.commit()


@pytest.fixture
def world(app):
    """Two organisers, each with a campaign; the first's campaign has signatures."""
    with app.app_context():
        ours, theirs = make_campaign(), make_campaign()
        draft = make_campaign(status=CampaignStatus.DRAFT)
        org = make_organiser("org@example.com", campaigns=[ours, draft])
        other = make_organiser("other@example.com", campaigns=[theirs])
        add_signatures(ours.id, 3)
        add_signatures(ours.id, 2, start=3, status=SignatureStatus.PENDING)
        tokens = {
            "reader": key_for(org, [ours, draft]),
            "counts": key_for(org, [ours], {"read_counts"}),
            "writer": key_for(org, [ours], {"write_signatures"}),
            "confirmer": key_for(org, [ours], {"write_signatures", "confirm_signatures", "read_signers"}),
            "theirs": key_for(other, [theirs]),
        }
        revoked, revoked_token = api_keys.create_key(org, "Old", [ours], {"read_signers"})
        api_keys.revoke_key(revoked)
        db.session.commit()
        tokens["revoked"] = revoked_token
        return type("World", (), {"ours": ours.id, "theirs": theirs.id, "draft": draft.id, "tokens": tokens,
                                  "ours_slug": ours.slug})


# --- Keys ------------------------------------------------------------------------------

def signatures_url(campaign_id: int) -> str:
    return f"/api/v1/petitions/{campaign_id}/signatures"


@pytest.mark.parametrize(("who", "campaign", "status"), [
    (None, "ours", 401),
    ("made-up", "ours", 401),
    ("revoked", "ours", 401),
    ("counts", "ours", 403),           # read_counts alone: no signatures
    ("writer", "ours", 403),
    ("reader", "theirs", 403),         # another organiser's campaign
    ("theirs", "ours", 403),
    ("reader", "nowhere", 404),
    ("reader", "ours", 200),
])
def test_who_may_read_signatures(client, world, who, campaign, status):
    token = {"made-up": "csk_" + "x" * 43, None: None}.get(who, world.tokens.get(who))
    campaign_id = {"ours": world.ours, "theirs": world.theirs, "nowhere": 999}[campaign]
    response = client.get(signatures_url(campaign_id), headers=with_key(token) if token else {})
    assert response.status_code == status, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers
    assert response.is_json and response.get_json()
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_bearer_header_works_like_the_osdi_header(client, world):
    response = client.get(signatures_url(world.ours), headers={"Authorization": f"Bearer {world.tokens['reader']}"})
    assert response.status_code == 200
    assert response.mimetype == "application/hal+json"


def test_a_logged_in_organisers_cookie_is_no_key(app, client, world):
    """The organiser's own session opens their pages, never the API: 401, and no cookie set or read."""
    assert log_in(client).status_code == 303
    response = client.get(signatures_url(world.ours))
    assert response.status_code == 401
    assert "Set-Cookie" not in response.headers
    posted = client.post(signatures_url(world.ours), json={"person": {}})
    assert posted.status_code == 401
    assert "Set-Cookie" not in posted.headers


def test_a_key_stops_with_its_organiser_or_their_membership(app, client, world):
    with app.app_context():
        organiser = organisers.find_organiser("org@example.com")
        organisers.remove_member(organiser, db.session.get(Campaign, world.ours))
        db.session.commit()
    assert client.get(signatures_url(world.ours), headers=with_key(world.tokens["reader"])).status_code == 403
    with app.app_context():
        organisers.find_organiser("org@example.com").active = False
        db.session.commit()
    assert client.get("/api/v1/petitions", headers=with_key(world.tokens["reader"])).status_code == 401


def test_last_used_is_written_at_most_once_a_minute(app, client, world, monkeypatch):
    moments = iter([T0, T0 + dt.timedelta(seconds=30), T0 + dt.timedelta(seconds=61)])
    seen = []
    for _ in range(3):
        now = next(moments)
        monkeypatch.setattr(api_keys, "utcnow", lambda now=now: now)
        assert client.get("/api/v1/petitions", headers=with_key(world.tokens["counts"])).status_code == 200
        with app.app_context():
            key = api_keys.authenticate(world.tokens["counts"])
            seen.append(key.last_used_at)
    assert seen == [T0, T0, T0 + dt.timedelta(seconds=61)]


def test_the_key_screen_contract(app, world):
    """What the organisers' screen relies on: newest first, shown once, stored hashed."""
    with app.app_context():
        organiser = organisers.find_organiser("org@example.com")
        keys = api_keys.keys_of(organiser)
        assert [k.name for k in keys][:1] == ["Old"] and keys[0].revoked_at is not None
        assert all(len(k.token_hash) == 64 and k.prefix.startswith("csk_") for k in keys)
        assert world.tokens["reader"] not in {k.token_hash for k in keys}
        with pytest.raises(ValueError):
            api_keys.create_key(organiser, "Bad", [db.session.get(Campaign, world.theirs)], {"read_signers"})


# --- Petitions ---------------------------------------------------------------------------

def test_petitions_of_a_counts_only_key(client, world):
    body = client.get("/api/v1/petitions", headers=with_key(world.tokens["counts"])).get_json()
    assert [p["identifiers"][0] for p in body["_embedded"]["osdi:petitions"]] == [f"campaign-site:petition:{world.ours}"]
    assert client.get("/api/v1/people", headers=with_key(world.tokens["counts"])).status_code == 403


def test_a_campaigns_public_summary_needs_no_key(client, world):
    response = client.get(f"/api/v1/petitions/{world.ours}")
    assert response.status_code == 200 and response.headers["Cache-Control"].startswith("public")
    body = response.get_json()
    assert body["total_signatures"] == 0 and body["status"] == "live"
    assert "@example.com" not in response.get_data(as_text=True)
    assert client.get(f"/api/v1/petitions/{world.draft}").status_code == 404
    assert client.get(f"/api/v1/petitions/{world.draft}", headers=with_key(world.tokens["reader"])).status_code == 200
    # A token that is no key is refused, not answered as if it were absent.
    assert client.get(f"/api/v1/petitions/{world.ours}", headers=with_key("csk_nope")).status_code == 401


# --- Signatures, page by page --------------------------------------------------------------

def pages(client, url: str, token: str, between=None) -> list[int]:
    """Every signature id, following _links.next; ``between(n)`` runs after page n."""
    ids, n = [], 0
    while url:
        response = client.get(url, headers=with_key(token))
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        ids += [int(s["identifiers"][0].rsplit(":", 1)[1]) for s in body["_embedded"]["osdi:signatures"]]
        url = body["_links"].get("next", {}).get("href", "").replace("http://campaigns.test", "")
        n += 1
        if between:
            between(n)
    return ids


def test_paging_is_stable_while_signatures_arrive(app, client, world):
    """Rows inserted between pages come after the cursor: nothing skipped, nothing repeated; pending ones never."""
    with app.app_context():
        add_signatures(world.ours, 20, start=10, at=T0 - dt.timedelta(hours=1))
        before = set(db.session.execute(select(Signature.id).where(
            Signature.campaign_id == world.ours, Signature.confirmed_at.is_not(None))).scalars())

    def arrive(n):
        with app.app_context():
            add_signatures(world.ours, 2, start=100 + 2 * n, at=utcnow())
    ids = pages(client, signatures_url(world.ours) + "?per_page=5", world.tokens["reader"], between=arrive)
    assert len(ids) == len(set(ids))
    assert before <= set(ids)
    with app.app_context():
        pending = set(db.session.execute(select(Signature.id).where(
            Signature.status == SignatureStatus.PENDING)).scalars())
    assert not pending & set(ids)


def test_a_signature_as_a_crm_reads_it(app, client, world):
    body = client.get(signatures_url(world.ours) + "?per_page=1", headers=with_key(world.tokens["reader"])).get_json()
    assert body["per_page"] == 1 and body["page"] == 1
    assert "page=2" in body["_links"]["next"]["href"] and "after=" in body["_links"]["next"]["href"]
    first = body["_embedded"]["osdi:signatures"][0]
    assert first["person"]["given_name"] == "Given0"
    assert first["person"]["email_addresses"][0]["address"] == "s0@example.com"
    assert first["person"]["postal_addresses"][0] == {"postal_code": "N1 1AA", "country": "GB"}
    assert first["status"] == "confirmed" and first["created_date"] == "2026-11-01T12:00:00.000000Z"
    one = client.get(first["_links"]["self"]["href"].replace("http://campaigns.test", ""),
                     headers=with_key(world.tokens["reader"]))
    assert one.get_json() == first
    with app.app_context():
        pending_id = db.session.execute(select(Signature.id).where(
            Signature.status == SignatureStatus.PENDING)).scalars().first()
    assert client.get(f"{signatures_url(world.ours)}/{pending_id}",
                      headers=with_key(world.tokens["reader"])).status_code == 404


def test_filter_by_modified_date(client, world):
    url = signatures_url(world.ours) + "?filter=modified_date gt '2026-11-01T12:00:00.5Z'"
    body = client.get(url, headers=with_key(world.tokens["reader"])).get_json()
    assert [s["person"]["given_name"] for s in body["_embedded"]["osdi:signatures"]] == ["Given1", "Given2"]
    assert "total_records" not in body
    url = signatures_url(world.ours) + ("?filter=created_date lt '2026-11-01T12:00:01Z' and "
                                        "modified_date gt '2026-11-01T11:00:00+00:00'")
    body = client.get(url, headers=with_key(world.tokens["reader"])).get_json()
    assert [s["person"]["given_name"] for s in body["_embedded"]["osdi:signatures"]] == ["Given0"]


@pytest.mark.parametrize(("query", "message"), [
    ("filter=modified_date gt 2026-11-01", "cannot be read"),
    ("filter=modified_date ge '2026-11-01'", "operator"),
    ("filter=given_name gt 'a'", "cannot use “given_name”"),
    ("filter=modified_date gt 'yesterday'", "not a date and time"),
    ("filter=modified_date gt '2026-11-01' or created_date lt '2026-12-01'", "cannot be read"),
    ("per_page=0", "per_page must be a whole number"),
    ("per_page=ten", "per_page must be a whole number"),
    ("page=2", "_links.next"),
    ("after=not-a-cursor", "after= cursor"),
])
def test_bad_list_parameters_get_a_clear_400(client, world, query, message):
    response = client.get(f"{signatures_url(world.ours)}?{query}", headers=with_key(world.tokens["reader"]))
    assert response.status_code == 400
    assert message in response.get_json()["message"]


def test_per_page_is_at_most_100(client, world):
    body = client.get(signatures_url(world.ours) + "?per_page=1000", headers=with_key(world.tokens["reader"]))
    assert body.get_json()["per_page"] == 100


def test_people_are_mailboxes_with_their_signatures(app, client, world):
    with app.app_context():
        other = make_campaign()
        organisers.add_member(organisers.find_organiser("org@example.com"), other)
        add_signatures(other.id, 1)  # s0@example.com signed both
        token = key_for(organisers.find_organiser("org@example.com"),
                        [db.session.get(Campaign, world.ours), other])
    body = client.get("/api/v1/people?per_page=2", headers=with_key(token)).get_json()
    first = body["_embedded"]["osdi:people"][0]
    assert first["email_addresses"][0]["address"] == "s0@example.com"
    assert len(first["_links"]["osdi:signatures"]) == 2
    rest = client.get(body["_links"]["next"]["href"].replace("http://campaigns.test", ""), headers=with_key(token))
    assert [p["given_name"] for p in rest.get_json()["_embedded"]["osdi:people"]] == ["Given2"]
    pid = first["_links"]["self"]["href"].rsplit("/", 1)[1]
    assert "example" not in pid
    assert client.get(f"/api/v1/people/{pid}", headers=with_key(token)).get_json() == first
    # Another organiser's key does not find them; a forged id is nobody.
    assert client.get(f"/api/v1/people/{pid}", headers=with_key(world.tokens["theirs"])).status_code == 404
    assert client.get(f"/api/v1/people/{pid[:-2]}AA", headers=with_key(token)).status_code == 404
    with app.app_context():
        assert people.mailbox_of(pid) == "s0@example.com"


# --- Recording signatures ----------------------------------------------------------------

def osdi_body(email="new@example.com", **changes) -> dict:
    body = {"person": {"given_name": "Grace", "family_name": "Hopper", "email_addresses": [{"address": email}],
                       "postal_addresses": [{"postal_code": "E1 6AN", "country": "GB"}]},
            "consents": {"email_updates": True, "show_name": False},
            "referrer_data": {"source": "Partner CRM"}}
    body.update(changes)
    return body


def record(client, world, token="writer", **kwargs):
    return client.post(signatures_url(world.ours), json=osdi_body(**kwargs), headers=with_key(world.tokens[token]))


def test_a_recorded_signature_is_pending_until_its_owner_confirms(app, client, world, smtp, deliver):
    response = record(client, world)
    assert response.status_code == 202
    assert response.get_json()["status"] == "pending" and "person" not in response.get_json()
    deliver()
    assert len(smtp.to("new@example.com")) == 1
    with app.app_context():
        signature = db.session.execute(select(Signature).where(Signature.email == "new@example.com")).scalar_one()
        assert signature.status == SignatureStatus.PENDING and signature.email_opt_in
        assert signature.source == "partner-crm" and signature.consent_version_id is None
    # The same mailbox again (a +tag): the same signature, and the same answer as for a stranger.
    again = record(client, world, email="New+crm@example.com")
    assert again.status_code == 202 and again.get_json() == response.get_json()
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Signature).where(
            Signature.email_normalised == "new@example.com")).scalar_one() == 1


def test_a_tag_flood_through_the_api_sends_no_more_than_the_web_form(app, client, world, smtp, deliver):
    for n in range(8):
        assert record(client, world, email=f"flood+{n}@example.com").status_code == 202
    deliver()
    by_api = len(smtp.to("flood@example.com"))
    smtp.reset()
    for n in range(8):
        sign(client, world.ours_slug, email=f"web+{n}@example.com")
    deliver()
    assert by_api == len(smtp.to("web@example.com")) <= app.config["MAILBOX_UNCONFIRMED_PER_HOUR"]


def test_confirmed_needs_its_permission_and_is_audited(app, client, world, smtp, deliver):
    refused = record(client, world, confirmed=True)
    assert refused.status_code == 403
    response = record(client, world, token="confirmer", email="verified@example.com", confirmed=True)
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "confirmed" and body["person"]["given_name"] == "Grace"
    deliver()
    assert smtp.to("verified@example.com") == []  # confirmed: no link to click
    public = client.get(f"/api/v1/petitions/{world.ours}").get_json()
    assert public["total_signatures"] == 1
    with app.app_context():
        event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "api.signature_confirmed")
                                   ).scalar_one()
        assert event.campaign_id == world.ours and event.detail["signature_id"] == int(
            body["identifiers"][0].rsplit(":", 1)[1])


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"person": {"family_name": "H", "email_addresses": [{"address": "a@example.com"}],
                 "postal_addresses": [{"country": "GB"}]}}, "person.given_name", "Enter your first name"),
    ({"person": {"given_name": "G", "family_name": "H", "email_addresses": [{"address": "not an address"}],
                 "postal_addresses": [{"country": "GB"}]}}, "person.email_addresses[0].address",
     "Enter an email address in the correct format"),
    ({"person": {"given_name": "G", "family_name": "H", "email_addresses": [{"address": "a@example.com"}],
                 "postal_addresses": [{"country": "XX"}]}}, "person.postal_addresses[0].country",
     "Choose your country from the list"),
    ({"person": {"given_name": "G", "family_name": "H", "email_addresses": [{"address": "a@example.com"}],
                 "postal_addresses": [{"country": "GB", "postal_code": "<b>"}]}},
     "person.postal_addresses[0].postal_code", "Enter a postcode using letters"),
    ({"person": {"given_name": "G" * 101, "family_name": "H", "email_addresses": [{"address": "a@example.com"}],
                 "postal_addresses": [{"country": "GB"}]}}, "person.given_name", "100 characters or fewer"),
    ({"person": {"given_name": 7, "family_name": "H", "email_addresses": [{"address": "a@example.com"}],
                 "postal_addresses": [{"country": "GB"}]}}, "person.given_name", "Must be a string"),
    ({"person": "Grace"}, "person", "Must be an object"),
    ({"person": {"given_name": "G", "family_name": "H", "email_addresses": "a@example.com",
                 "postal_addresses": [{"country": "GB"}]}}, "person.email_addresses", "Must be a list"),
    ({"consents": {"email_updates": "yes"}}, "consents.email_updates", "Must be true or false"),
    ({"consents": {"sell_my_data": True}}, "consents.sell_my_data", "Unknown consent"),
    ({"custom_fields": {"Shoe size": "42"}}, "custom_fields.Shoe size", "asks no question"),
    ({"comments": "Because."}, "comments", "does not ask for a reason"),
    ({"confirmed": "yes"}, "confirmed", "Must be true or false"),
])
def test_bad_signatures_get_the_forms_own_messages(app, client, world, change, field, message):
    response = record(client, world, **change)
    assert response.status_code == 422, response.get_json()
    assert message in response.get_json()["errors"][field]
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Signature).where(
            Signature.email.in_(["a@example.com", "new@example.com"]))).scalar_one() == 0


def test_a_body_that_is_not_json_and_a_closed_campaign(app, client, world):
    response = client.post(signatures_url(world.ours), data="given_name=G",
                           headers=with_key(world.tokens["writer"]))
    assert response.status_code == 400 and response.is_json
    with app.app_context():
        db.session.get(Campaign, world.ours).status = CampaignStatus.CLOSED
        db.session.commit()
    assert record(client, world).status_code == 409


def test_unknown_api_addresses_answer_json(client):
    response = client.get("/api/v1/no/such/thing")
    assert response.status_code == 404 and response.is_json


def test_the_rate_limit_is_per_key(app_with):
    app = app_with(RATELIMIT_ENABLED=True, RATELIMIT_API="3 per minute", RATELIMIT_STORAGE_URI="memory://")
    with app.app_context():
        campaign = make_campaign()
        organiser = make_organiser(campaigns=[campaign])
        busy, quiet = (key_for(organiser, [campaign], {"read_counts"}) for _ in range(2))
    client = app.test_client()
    answers = [client.get("/api/v1/petitions", headers=with_key(busy)).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    limited = client.get("/api/v1/petitions", headers=with_key(busy))
    assert limited.is_json and limited.get_json()["status"] == 429 and "Retry-After" in limited.headers
    assert client.get("/api/v1/petitions", headers=with_key(quiet)).status_code == 200
