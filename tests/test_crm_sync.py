"""A CRM keeps a copy of a campaign's signers: it syncs through the API
(first everything, then only what changed), then follows the campaign's
webhooks. After a thousand confirmations, a withdrawal and an invalidation,
its copy equals the site's data, and it saw every event exactly once."""
from __future__ import annotations

import hashlib
import hmac
from urllib.parse import quote, urlsplit

import pytest
from sqlalchemy import insert, select

from campaign import api_keys, identity, moderation, my_data, outbox, signing, webhooks
from campaign.extensions import db
from campaign.models import Campaign, Organiser, Signature, SignatureStatus, utcnow

from .builders import confirmed_signatures, make_campaign, make_organiser
from .conftest import fresh_app
from .webhook_receiver import Receiver

CONFIRMATIONS = 1000


@pytest.fixture
def crm_app(database_url, mail_server, tmp_path):
    """The site, allowed to reach the CRM's receiver on 127.0.0.1 (the tests' relaxation)."""
    with fresh_app(database_url, mail_server, tmp_path, WEBHOOK_ALLOW_PRIVATE_ADDRESSES=True,
                   OUTBOX_BATCH_SIZE=200) as app:
        yield app


class Crm:
    """What a CRM does with the API and the webhooks, knowing only what the
    documentation says."""

    def __init__(self, client, token: str, petition: int, secret: str = ""):
        self.client, self.token, self.petition, self.secret = client, token, petition, secret
        self.copy: dict[str, dict] = {}
        self.last_modified: str | None = None
        self.keys_seen: set[str] = set()
        self.duplicates = 0
        self.bad_signatures = 0

    def sync(self) -> int:
        """Read the signatures changed since the last sync (all, the first
        time), following _links.next; returns how many were read."""
        url = f"/api/v1/petitions/{self.petition}/signatures?per_page=100"
        if self.last_modified:
            url += "&filter=" + quote(f"modified_date gt '{self.last_modified}'")
        read = 0
        while url:
            answer = self.client.get(url, headers={"OSDI-API-Token": self.token})
            assert answer.status_code == 200, answer.get_data(as_text=True)
            page = answer.get_json()
            for item in page["_embedded"]["osdi:signatures"]:
                self.keep(item)
                read += 1
            following = page["_links"].get("next")
            url = None
            if following:
                parts = urlsplit(following["href"])
                url = f"{parts.path}?{parts.query}"
        return read

    def keep(self, item: dict) -> None:
        key = item["identifiers"][0]
        known = self.copy.get(key)
        if known is None or known["modified_date"] <= item["modified_date"]:
            self.copy[key] = item
        if self.last_modified is None or item["modified_date"] > self.last_modified:
            self.last_modified = item["modified_date"]

    def receive(self, request) -> None:
        """One webhook delivery: check its signature, skip one already
        handled (by its idempotency key), apply its signature."""
        stamp = dict(part.split("=", 1) for part in request.headers["Campaign-Signature"].split(","))
        expected = hmac.new(self.secret.encode(), stamp["t"].encode() + b"." + request.body,
                            hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, stamp["v1"]):
            self.bad_signatures += 1
            return
        key = request.headers["Idempotency-Key"]
        if key in self.keys_seen:
            self.duplicates += 1
            return
        self.keys_seen.add(key)
        event = request.json()
        if "signature" in event:
            self.keep(event["signature"])

    def view(self) -> dict[str, tuple]:
        return {key: _essentials(item) for key, item in self.copy.items()}


def _essentials(item: dict) -> tuple:
    person = item["person"]
    address = person["email_addresses"][0]
    postal = person["postal_addresses"][0]
    return (item["status"], person["given_name"], person["family_name"], address["address"], address["status"],
            postal.get("country"), postal.get("postal_code"), item["confirmed_date"], item["consents"]["show_name"])


def _site_view(client, token: str, petition: int) -> dict[str, tuple]:
    """The site's own data, read afresh through the API from the start."""
    fresh = Crm(client, token, petition)
    fresh.sync()
    return fresh.view()


def _pending(campaign, n: int, first: int) -> list[int]:
    """``n`` pending signatures, written as the sign form would leave them
    (the test is about what follows their confirmation)."""
    now = utcnow()
    rows = []
    for number in range(first, first + n):
        email = f"signer{number}@example.org"
        rows.append({"campaign_id": campaign.id, "given_name": f"Signer{number}", "family_name": "Example",
                     "email": email, "email_normalised": identity.normalise_email(email),
                     "email_domain": "example.org", "country": "GB", "email_opt_in": number % 2 == 0,
                     "show_name": number % 3 == 0, "status": SignatureStatus.PENDING.value, "created_at": now,
                     "modified_at": now, "emails_sent": 1, "last_emailed_at": now, "language": "en"})
    db.session.execute(insert(Signature), rows)
    db.session.commit()
    return list(db.session.execute(select(Signature.id).where(
        Signature.campaign_id == campaign.id, Signature.status == SignatureStatus.PENDING)
        .order_by(Signature.id)).scalars())


def test_a_crm_syncs_through_the_api_then_follows_webhooks_to_an_equal_copy(crm_app):
    client = crm_app.test_client()
    with crm_app.app_context():
        campaign = make_campaign()
        organiser = make_organiser(campaigns=[campaign])
        petition = campaign.id
        confirmed_signatures(campaign, [(f"early{n}@example.net", "FR") for n in range(30)])
        _key, token = api_keys.create_key(organiser, "CRM", [campaign], {"read_signers"})
        db.session.commit()

    # The first sync reads everything; the next only what changed since.
    crm = Crm(client, token, petition)
    assert crm.sync() == 30
    with crm_app.app_context():
        confirmed_signatures(db.session.get(Campaign, petition), [(f"later{n}@example.net", "DE") for n in range(5)])
    assert crm.sync() == 5
    assert crm.view() == _site_view(client, token, petition)

    # Then it follows the webhooks.
    with Receiver() as receiver:
        with crm_app.app_context():
            campaign = db.session.get(Campaign, petition)
            organiser = db.session.execute(select(Organiser)).scalar_one()
            _endpoint, crm.secret = webhooks.create_endpoint(
                campaign, receiver.url("/crm"),
                {"signature.confirmed", "signature.withdrawn", "signature.invalidated", "signature.erased"},
                organiser)
            db.session.commit()
            ids = _pending(campaign, CONFIRMATIONS, first=1)
            for signature_id in ids:
                page = signing.confirm(signature_id, signing.Choices("Signer", "Example", "GB", True, False))
                assert page is not None and page.confirmed_now
            withdrawn_id, invalidated_id = ids[10], ids[11]
            assert my_data.withdraw(f"signer{11}@example.org", withdrawn_id)
            moderation.invalidate(campaign, moderation.Criteria(email="signer12@example.org"), organiser,
                                  reason="duplicate")
            # One the CRM only ever read through the API erases their data.
            erased_id = db.session.execute(select(Signature.id).where(
                Signature.email == "early3@example.net")).scalar_one()
            assert my_data.erase("early3@example.net").signatures == 1
            outbox.drain()
        for request in receiver.requests:
            crm.receive(request)

    assert crm.bad_signatures == 0 and crm.duplicates == 0
    events = [request.headers["Campaign-Event"] for request in receiver.requests]
    assert events.count("signature.confirmed") == CONFIRMATIONS
    assert events.count("signature.withdrawn") == 1 and events.count("signature.invalidated") == 1
    assert events.count("signature.erased") == 1
    site = _site_view(client, token, petition)
    assert len(site) == 30 + 5 + CONFIRMATIONS
    assert crm.view() == site
    statuses = [item[0] for item in site.values()]
    assert statuses.count("withdrawn") == 1 and statuses.count("invalidated") == 1
    assert crm.copy[f"campaign-site:signature:{withdrawn_id}"]["status"] == "withdrawn"
    assert crm.copy[f"campaign-site:signature:{invalidated_id}"]["status"] == "invalidated"
    erased = crm.copy[f"campaign-site:signature:{erased_id}"]
    assert erased["person"]["email_addresses"][0]["address"] == "" and "early3" not in str(crm.copy)
    # Its next incremental sync finds nothing it had not already heard of.
    crm.sync()
    assert crm.view() == site
