"""Businesses joining a boycott: the form, what it refuses, the email that
asks the contact address to confirm the pledge, and the organiser's approval
before an organisation is listed on the public page. A name belongs to no
one: a pledge under a name already taken, from another contact domain, is
kept beside the first for the organisers to judge."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from itsdangerous import URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy import func, select, update
from werkzeug.datastructures import MultiDict

from campaign import businesses as business_service
from campaign import outbox, tokens
from campaign.business_mail import BUSINESS_CONFIRMATION
from campaign.extensions import db
from campaign.models import (
    Business,
    BusinessStatus,
    Campaign,
    CampaignStatus,
    Kind,
    OutboxMessage,
    Signature,
    utcnow,
)

from .builders import csrf_token, log_in, make_campaign, make_organiser
from .test_forms import FORMAT, Page, assert_field_error, page

SLUG = "pause-the-ads"
WEBSITE = "Enter a website address like https://example.com"
SIZE = "Choose the size of your organisation"
FIELDS = ["organisation", "website", "contact_email", "company_size"]


def stored(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def nothing_stored(app) -> bool:
    with app.app_context():
        return stored(Business) == stored(Signature) == stored(OutboxMessage) == 0


def businesses(app) -> list[Business]:
    with app.app_context():
        rows = db.session.scalars(select(Business).order_by(Business.id)).all()
        db.session.expunge_all()
        return rows


@pytest.fixture
def boycott(app):
    """A live boycott campaign."""
    with app.app_context():
        make_campaign(slug=SLUG, kind=Kind.BOYCOTT)
    return SLUG


def valid_business(**fields) -> dict:
    values = {
        "organisation": "Acme Bakery Ltd",
        "website": "https://acme-bakery.example",
        "contact_email": "owner@acme-bakery.example",
        "company_size": "10-49",
    }
    values.update(fields)
    return values


def token(client, slug=SLUG) -> str:
    return csrf_token(client.get(f"/c/{slug}").get_data(as_text=True))


def join(client, slug=SLUG, **fields):
    """Open the campaign page and submit the business form; None leaves a key out."""
    data = {f"business-{k}": v for k, v in valid_business(**fields).items() if v is not None}
    data["business-csrf_token"] = token(client, slug)
    return client.post(f"/c/{slug}/business", data=data)


def assert_business_thanks(response, slug=SLUG) -> None:
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/c/{slug}/business/thanks")


def listed(client, slug=SLUG) -> list[str]:
    """The organisations in the public list of participating businesses."""
    doc = page(client.get(f"/c/{slug}"))
    return [" ".join(e["text"].split()) for e in doc.elements
            if "business-name" in e["attrs"].get("class", "").split() and "business-list" in e["inside"]]


def cli(runner, *args):
    return runner.invoke(args=["campaign", *args])


def confirm_all(app) -> None:
    """Every entry confirmed, as if each contact address had followed its link."""
    with app.app_context():
        for business_id in db.session.scalars(select(Business.id).where(Business.confirmed_at.is_(None))).all():
            business_service.confirm_pledge(business_id)


def queued(app) -> list[tuple[str, str, int]]:
    """(kind, recipient, entry) of every outbox row, oldest first."""
    with app.app_context():
        return [(row.kind, row.recipient, row.business_id)
                for row in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]


def confirm_path(message_text: str) -> str:
    """The /business/confirm/<token> path in a confirmation email."""
    match = re.search(r"https?://[^/\s]+(/business/confirm/[\w.-]+)", message_text)
    assert match, "no confirmation link in the email"
    return match.group(1)


def confirmed_at(app, business_id: int) -> dt.datetime | None:
    with app.app_context():
        return db.session.get(Business, business_id).confirmed_at


# --- The form -------------------------------------------------------------------------


def test_a_boycott_page_has_the_business_form_with_prefixed_fields(client, boycott):
    """Labelled fields named business-*, a size select, a honeypot and the page's CSRF token."""
    html = client.get(f"/c/{SLUG}").get_data(as_text=True)
    doc = Page(html)
    labels = {e["attrs"].get("for"): " ".join(e["text"].split()) for e in doc.elements if e["tag"] == "label"}
    assert labels["business-organisation"] == "Organisation"
    assert labels["business-website"] == "Website"
    assert labels["business-contact_email"] == "Contact email"
    assert labels["business-company_size"] == "Company size"
    for field in FIELDS + ["homepage"]:
        assert doc.attrs(f"business-{field}")["name"] == f"business-{field}"
    sizes = [e["attrs"]["value"] for e in doc.elements if e["tag"] == "option" and "business-company_size" in e["inside"]]
    assert sizes == ["", "1-9", "10-49", "50-249", "250+"]
    assert doc.selected("business-company_size") == []
    [business_token] = [e["attrs"]["value"] for e in doc.elements if e["attrs"].get("name") == "business-csrf_token"]
    assert business_token == csrf_token(html)
    assert "No businesses are listed yet." in html


@pytest.mark.parametrize("kind", [Kind.PLEDGE, Kind.FREEZE])
def test_pledge_and_freeze_campaigns_have_no_business_form(app, client, kind):
    """Only a boycott asks businesses to join; posting anyway is not found."""
    with app.app_context():
        make_campaign(slug="other", kind=kind)
    doc = page(client.get("/c/other"))
    assert doc.by_id("business-organisation") is None
    assert doc.by_id("business") is None
    data = {f"business-{k}": v for k, v in valid_business().items()}
    data["business-csrf_token"] = token(client, "other")
    assert client.post("/c/other/business", data=data).status_code == 404
    assert nothing_stored(app)


def test_a_closed_boycott_lists_businesses_but_takes_no_more(app, client):
    """No form once closed, and a post is not found."""
    with app.app_context():
        make_campaign(slug="closed", kind=Kind.BOYCOTT, status=CampaignStatus.CLOSED)
        make_campaign(slug="open", kind=Kind.BOYCOTT)
    doc = page(client.get("/c/closed"))
    assert doc.by_id("business") is not None
    assert doc.by_id("business-organisation") is None
    data = {f"business-{k}": v for k, v in valid_business().items()}
    data["business-csrf_token"] = token(client, "open")  # a valid token for this session
    assert client.post("/c/closed/business", data=data).status_code == 404
    assert nothing_stored(app)


# --- Bad input --------------------------------------------------------------------------


def _org(value, message, id):
    return pytest.param("organisation", value, message, id=f"organisation-{id}")


BAD_INPUT = [
    _org("", "Enter the name of your organisation", "empty"),
    _org("   ", "Enter the name of your organisation", "whitespace-only"),
    _org("A" * 201, "Organisation must be 200 characters or fewer", "201-chars"),
    _org("http://spam.example", "Organisation must not contain a web address", "url"),
    _org("www.example.com", "Organisation must not contain a web address", "www"),
    _org("=SUM(A1)", "Organisation must not start with =, +, - or @", "formula-equals"),
    _org("+1", "Organisation must not start with =, +, - or @", "formula-plus"),
    _org("-x", "Organisation must not start with =, +, - or @", "formula-minus"),
    _org("@home", "Organisation must not start with =, +, - or @", "formula-at"),
    _org("Acme\x00", "Organisation contains characters we cannot accept", "nul"),
    _org("Acme\nBakery", "Organisation contains characters we cannot accept", "newline"),
    pytest.param("website", "", "Enter your organisation's website", id="website-empty"),
    pytest.param("website", "   ", "Enter your organisation's website", id="website-whitespace-only"),
    pytest.param("website", "https://" + "a" * 289 + ".com", "Website must be 300 characters or fewer", id="website-301-chars"),
    pytest.param("website", "acme bakery", WEBSITE, id="website-words"),
    pytest.param("website", "localhost", WEBSITE, id="website-no-dot"),
    pytest.param("website", "https://", WEBSITE, id="website-no-host"),
    pytest.param("website", "ftp://acme.example", WEBSITE, id="website-ftp"),
    pytest.param("website", "javascript:alert(1)", WEBSITE, id="website-javascript"),
    pytest.param("website", "https://[::1", WEBSITE, id="website-unparseable"),
    pytest.param("website", "https://acme.example\x00", WEBSITE, id="website-nul"),
    pytest.param("website", "https://acme.example/\nx", WEBSITE, id="website-newline"),
    pytest.param("contact_email", "", "Enter a contact email address", id="contact_email-empty"),
    pytest.param("contact_email", "  ", "Enter a contact email address", id="contact_email-whitespace-only"),
    pytest.param("contact_email", "no-at-sign", FORMAT, id="contact_email-no-at-sign"),
    pytest.param("contact_email", "owner@", FORMAT, id="contact_email-no-domain"),
    pytest.param("contact_email", "@example.com", FORMAT, id="contact_email-no-local-part"),
    pytest.param("contact_email", "owner@example", FORMAT, id="contact_email-domain-without-dot"),
    pytest.param("contact_email", "owner@@example.com", FORMAT, id="contact_email-two-at-signs"),
    pytest.param("contact_email", "a b@example.com", FORMAT, id="contact_email-space"),
    pytest.param("contact_email", "a" * 300 + "@example.com", FORMAT, id="contact_email-300-char-local-part"),
    pytest.param("contact_email", "owner\x00@example.com", FORMAT, id="contact_email-nul"),
    pytest.param("contact_email", "用户@example.com", FORMAT, id="contact_email-non-ascii-local-part"),
    pytest.param("company_size", "", SIZE, id="company_size-empty"),
    pytest.param("company_size", "huge", SIZE, id="company_size-unknown"),
    pytest.param("company_size", "0", SIZE, id="company_size-zero"),
    pytest.param("company_size", "250", SIZE, id="company_size-near-miss"),
    pytest.param("company_size", "<script>", SIZE, id="company_size-markup"),
]


@pytest.mark.parametrize(("field", "value", "message"), BAD_INPUT)
def test_bad_input_is_refused_with_a_message_beside_the_field(app, client, boycott, field, value, message):
    """422, the exact message beside the field and in the summary, nothing stored."""
    response = join(client, **{field: value})
    assert response.status_code == 422
    doc = page(response)
    assert_field_error(doc, f"business-{field}", message)
    assert list(doc.summary_links()) == [f"#business-{field}"], "only the bad field is in error"
    assert nothing_stored(app)


def test_the_entered_values_are_kept_and_the_sign_form_is_untouched(app, client, boycott):
    """The business form comes back filled in; the sign form above it shows no errors."""
    response = join(client, organisation="Zoë's Café", contact_email="owner@", company_size="250+")
    assert response.status_code == 422
    doc = page(response)
    assert doc.attrs("business-organisation")["value"] == "Zoë's Café"
    assert doc.attrs("business-website")["value"] == "https://acme-bakery.example"
    assert doc.attrs("business-contact_email")["value"] == "owner@"
    assert doc.selected("business-company_size") == ["250+"]
    assert list(doc.summary_links()) == ["#business-contact_email"]
    assert doc.by_id("given_name-error") is None
    assert "aria-invalid" not in doc.attrs("given_name")
    assert nothing_stored(app)


def test_a_refused_signature_leaves_the_business_form_untouched(app, client, boycott):
    """A mistake in the sign form on a boycott page marks only the sign form."""
    response = client.post(
        f"/c/{SLUG}/sign",
        data={"given_name": "", "family_name": "Lovelace", "email": "ada@example.com", "country": "GB",
              "csrf_token": token(client)},
    )
    assert response.status_code == 422
    doc = page(response)
    assert list(doc.summary_links()) == ["#given_name"]
    assert doc.by_id("business-organisation-error") is None
    assert nothing_stored(app)


# --- Good input --------------------------------------------------------------------------


GOOD_INPUT = [
    pytest.param({}, {}, id="plain"),
    pytest.param({"organisation": "Zoë's Café"}, {}, id="apostrophe-and-accents"),
    pytest.param({"organisation": "Müller & Söhne GmbH"}, {}, id="ampersand"),
    pytest.param({"organisation": "O" * 200}, {}, id="200-char-name"),
    pytest.param({"organisation": "  Acme Bakery Ltd  "}, {"organisation": "Acme Bakery Ltd"}, id="surrounding-spaces"),
    pytest.param({"website": "acme-bakery.example"}, {"website": "https://acme-bakery.example"}, id="website-without-scheme"),
    pytest.param({"website": "http://acme-bakery.example/shop?x=1"}, {}, id="website-http-with-path"),
    pytest.param({"contact_email": "owner+pledge@example.com"}, {}, id="email-plus-tag"),
    pytest.param({"contact_email": "owner@bücher.de"}, {"contact_email": "owner@xn--bcher-kva.de"}, id="email-idn"),
    *[pytest.param({"company_size": size}, {}, id=f"size-{size}") for size in ("1-9", "10-49", "50-249", "250+")],
]


@pytest.mark.parametrize(("fields", "expected"), GOOD_INPUT)
def test_a_good_pledge_is_stored_pending(app, client, boycott, fields, expected):
    """303 to the business thank-you page and one pending row, as entered (tidied)."""
    assert_business_thanks(join(client, **fields))
    [business] = businesses(app)
    want = {**valid_business(**fields), **expected}
    assert business.organisation == want["organisation"].strip()
    assert business.website == want["website"]
    assert business.contact_email == want["contact_email"]
    assert business.company_size == want["company_size"]
    assert business.status == BusinessStatus.PENDING
    assert business.decided_at is None
    assert business.confirmed_at is None
    assert business.contact_domain == want["contact_email"].rpartition("@")[2]
    assert nothing_stored_but_the_business_and_its_email(app)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({"organisation": "ß" * 200}, {}, id="200-chars-that-casefold-to-400"),
        pytest.param({"organisation": "ﬃ" * 200}, {}, id="200-ligatures-that-casefold-to-600"),
        pytest.param(
            {"website": "acme.example/" + "a" * 287},
            {"website": "https://acme.example/" + "a" * 287},
            id="300-char-website-without-scheme",
        ),
    ],
)
def test_input_at_the_length_limit_is_stored_whole(app, client, boycott, fields, expected):
    """What the form accepts, the database takes: no 500 on PostgreSQL, whose
    VARCHAR limits are enforced, for a name whose case-folded key is longer
    than the name or a website the form prefixes with https://."""
    assert len(next(iter(fields.values()))) in (200, 300)
    assert_business_thanks(join(client, **fields))
    [business] = businesses(app)
    want = {**valid_business(**fields), **expected}
    assert business.organisation == want["organisation"]
    assert business.website == want["website"]


def nothing_stored_but_the_business_and_its_email(app) -> bool:
    """No signature; one email queued, asking the contact address to confirm."""
    with app.app_context():
        [business] = db.session.scalars(select(Business)).all()
        recipient = business.contact_email
        business_id = business.id
    return stored_signatures(app) == 0 and queued(app) == [(BUSINESS_CONFIRMATION, recipient, business_id)]


def stored_signatures(app) -> int:
    with app.app_context():
        return stored(Signature)


def test_the_thank_you_page_says_to_look_for_the_confirmation_link(client, boycott):
    """The person knows to confirm from the contact inbox, and that the listing waits for a check."""
    response = join(client)
    thanks = client.get(response.headers["Location"])
    assert thanks.status_code == 200
    text = " ".join(thanks.get_data(as_text=True).split())
    assert "Check your email" in text
    assert "We are sending an email to the contact address you gave, with a link to confirm your pledge." in text
    assert "once the pledge is confirmed and an organiser has checked it" in text


# --- Approval ------------------------------------------------------------------------------


def test_a_business_is_listed_only_once_confirmed_and_approved(app, client, runner, boycott):
    """Pending is invisible; approve-business refuses an entry whose contact
    address has not confirmed, then puts the confirmed one on the public list."""
    assert_business_thanks(join(client, organisation="Acme Bakery Ltd"))
    assert listed(client) == []

    refused = cli(runner, "approve-business", SLUG, "Acme Bakery Ltd")
    assert refused.exit_code != 0
    assert [b.status for b in businesses(app)] == [BusinessStatus.PENDING]
    assert listed(client) == []

    confirm_all(app)
    result = cli(runner, "approve-business", SLUG, "acme  bakery LTD")
    assert result.exit_code == 0, result.output
    assert "Acme Bakery Ltd: approved." in result.output
    assert listed(client) == ["Acme Bakery Ltd"]
    [business] = businesses(app)
    assert business.status == BusinessStatus.APPROVED
    assert business.decided_at is not None


def test_a_rejected_business_stays_off_the_list(app, client, runner, boycott):
    """reject-business records the decision; the public page never shows it."""
    join(client, organisation="Dodgy Dealers")
    join(client, organisation="Good Grocers")
    assert cli(runner, "reject-business", SLUG, "Dodgy Dealers").exit_code == 0, "unconfirmed: may still be rejected"
    confirm_all(app)
    assert cli(runner, "approve-business", SLUG, "Good Grocers").exit_code == 0
    assert listed(client) == ["Good Grocers"]
    assert [b.status for b in businesses(app)] == [BusinessStatus.REJECTED, BusinessStatus.APPROVED]


def test_approved_businesses_are_listed_in_name_order(app, client, runner, boycott):
    """The list reads alphabetically, whatever the order they joined in."""
    for name in ("Zebra Print", "apple Studio", "Moss & Co"):
        join(client, organisation=name)
        confirm_all(app)
        assert cli(runner, "approve-business", SLUG, name).exit_code == 0
    assert listed(client) == ["apple Studio", "Moss & Co", "Zebra Print"]


@pytest.mark.parametrize("command", ["approve-business", "reject-business"])
def test_deciding_on_an_unknown_business_fails(app, client, runner, boycott, command):
    """A typo in the name exits non-zero and changes nothing."""
    join(client, organisation="Acme Bakery Ltd")
    result = cli(runner, command, SLUG, "Acme Bakeries")
    assert result.exit_code != 0
    assert "No business named 'Acme Bakeries'" in result.output
    assert [b.status for b in businesses(app)] == [BusinessStatus.PENDING]
    assert listed(client) == []


def test_deciding_on_an_unknown_campaign_fails(client, runner, boycott):
    """The slug must name a campaign."""
    join(client)
    result = cli(runner, "approve-business", "no-such-campaign", "Acme Bakery Ltd")
    assert result.exit_code != 0
    assert "No campaign with slug 'no-such-campaign'" in result.output


def test_approving_in_one_campaign_does_not_list_in_another(app, client, runner, boycott):
    """The same organisation may join two boycotts; each is decided on its own."""
    with app.app_context():
        make_campaign(slug="second", kind=Kind.BOYCOTT)
    assert_business_thanks(join(client, organisation="Acme Bakery Ltd"))
    assert_business_thanks(join(client, "second", organisation="Acme Bakery Ltd"), "second")
    assert len(businesses(app)) == 2
    confirm_all(app)
    assert cli(runner, "approve-business", "second", "Acme Bakery Ltd").exit_code == 0
    assert listed(client, "second") == ["Acme Bakery Ltd"]
    assert listed(client) == []


def test_contact_emails_and_websites_never_appear_on_the_public_page(app, client, runner, boycott):
    """Only the organisation's name is public, pending or approved."""
    join(client, organisation="Acme Bakery Ltd", contact_email="secret.owner@acme-bakery.example")
    confirm_all(app)
    for _ in range(2):
        html = client.get(f"/c/{SLUG}").get_data(as_text=True)
        assert "secret.owner" not in html
        assert "acme-bakery.example" not in html
        assert cli(runner, "approve-business", SLUG, "Acme Bakery Ltd").exit_code == 0
    assert listed(client) == ["Acme Bakery Ltd"]


# --- Duplicates and bots ---------------------------------------------------------------------


@pytest.mark.parametrize("again", ["Acme Bakery Ltd", "ACME BAKERY LTD", "  acme   bakery  ltd "])
def test_joining_twice_from_the_same_domain_stores_nothing_new(app, client, boycott, again):
    """The same organisation (any case or spacing) from the same contact
    domain gets the same thank-you, one row, as first entered."""
    assert_business_thanks(join(client, organisation="Acme Bakery Ltd"))
    assert_business_thanks(join(client, organisation=again, contact_email="Someone.Else@ACME-BAKERY.example"))
    [business] = businesses(app)
    assert business.organisation == "Acme Bakery Ltd"
    assert business.contact_email == "owner@acme-bakery.example"
    assert business.contact_domain == "acme-bakery.example"


def test_a_second_submission_does_not_undo_an_approval(app, client, runner, boycott):
    """Joining again after approval leaves the listing as it was."""
    join(client)
    confirm_all(app)
    assert cli(runner, "approve-business", SLUG, "Acme Bakery Ltd").exit_code == 0
    assert_business_thanks(join(client, organisation="acme bakery ltd"))
    assert [b.status for b in businesses(app)] == [BusinessStatus.APPROVED]
    assert listed(client) == ["Acme Bakery Ltd"]


@pytest.mark.parametrize("honeypot", ["http://spam.example", "x" * 10_000])
def test_a_filled_honeypot_gets_the_thank_you_and_stores_nothing(app, client, boycott, honeypot):
    """A bot cannot tell it was caught."""
    assert_business_thanks(join(client, homepage=honeypot))
    assert nothing_stored(app)


# --- Hostile input ------------------------------------------------------------------------------


def test_ten_thousand_characters_in_every_field_is_refused_not_a_crash(app, client, boycott):
    """Every field in error, no 500, nothing stored."""
    huge = "x" * 10_000
    response = join(client, **{field: huge for field in FIELDS})
    assert response.status_code == 422
    assert list(page(response).summary_links()) == [f"#business-{f}" for f in FIELDS]
    assert nothing_stored(app)


def test_missing_keys_are_refused(app, client, boycott):
    """Only the token: every field asks to be filled in."""
    response = client.post(f"/c/{SLUG}/business", data={"business-csrf_token": token(client)})
    assert response.status_code == 422
    assert list(page(response).summary_links()) == [f"#business-{f}" for f in FIELDS]
    assert nothing_stored(app)


def test_unprefixed_field_names_are_not_read(app, client, boycott):
    """The sign form's names do not fill the business form."""
    data = {**valid_business(), "business-csrf_token": token(client)}
    response = client.post(f"/c/{SLUG}/business", data=data)
    assert response.status_code == 422
    assert nothing_stored(app)


@pytest.mark.parametrize("field", FIELDS)
def test_a_repeated_key_whose_first_value_is_bad_is_refused(app, client, boycott, field):
    """A good value sent after a bad one does not sneak past the checks."""
    bad = {"organisation": "=x", "website": "localhost", "contact_email": "owner@", "company_size": "huge"}[field]
    data = [(f"business-{k}", v) for k, v in valid_business().items() if k != field]
    data += [(f"business-{field}", bad), (f"business-{field}", valid_business()[field])]
    data += [("business-csrf_token", token(client))]
    response = client.post(f"/c/{SLUG}/business", data=MultiDict(data))
    assert response.status_code == 422
    assert list(page(response).summary_links()) == [f"#business-{field}"]
    assert nothing_stored(app)


def test_invalid_utf8_is_refused_not_a_crash(app, client, boycott):
    """Raw bytes that are not UTF-8: the body reads as empty, the CSRF check refuses it."""
    body = (
        b"business-organisation=Ac\xff\xfeme&business-website=acme.example"
        b"&business-contact_email=owner%40acme.example&business-company_size=1-9"
        b"&business-csrf_token=" + token(client).encode()
    )
    response = client.post(f"/c/{SLUG}/business", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert nothing_stored(app)


def test_a_body_over_one_mebibyte_is_too_large(app, client, boycott):
    """413, nothing stored."""
    response = join(client, organisation="x" * (1024 * 1024 + 1))
    assert response.status_code == 413
    assert nothing_stored(app)


@pytest.mark.parametrize(
    "csrf",
    [
        pytest.param(None, id="no-token"),
        pytest.param("", id="empty-token"),
        pytest.param("not-the-token", id="wrong-token"),
    ],
)
def test_a_post_without_the_right_csrf_token_is_refused(app, client, boycott, csrf):
    """400, nothing stored."""
    client.get(f"/c/{SLUG}")
    data = {f"business-{k}": v for k, v in valid_business().items()}
    if csrf is not None:
        data["business-csrf_token"] = csrf
    response = client.post(f"/c/{SLUG}/business", data=data)
    assert response.status_code == 400
    assert nothing_stored(app)


# --- Name squatting ---------------------------------------------------------------------------


def test_a_name_taken_from_another_domain_does_not_drop_the_real_pledge(app, client, boycott):
    """ACME pledged first from evil.example; ACME's own pledge from
    acme.example is kept beside it: two pending entries, each asked to
    confirm at its own address, the same thank-you page for both."""
    first = join(client, organisation="ACME", website="https://acme.example", contact_email="boss@evil.example")
    second = join(client, organisation="Acme", website="https://acme.example", contact_email="ads@acme.example")
    assert_business_thanks(first)
    assert_business_thanks(second)
    assert first.get_data() == second.get_data()
    squatter, real = businesses(app)
    assert (squatter.organisation, squatter.contact_domain) == ("ACME", "evil.example")
    assert (real.organisation, real.contact_domain) == ("Acme", "acme.example")
    assert [b.status for b in (squatter, real)] == [BusinessStatus.PENDING] * 2
    assert squatter.confirmed_at is None and real.confirmed_at is None
    assert queued(app) == [(BUSINESS_CONFIRMATION, "boss@evil.example", squatter.id),
                           (BUSINESS_CONFIRMATION, "ads@acme.example", real.id)]
    assert listed(client) == []


def test_pledging_again_from_the_same_domain_asks_again_but_not_too_often(app, client, boycott):
    """Nothing new is stored; an entry still waiting is sent its email again,
    at its own address, once the last one is ten minutes old; a confirmed
    entry is sent nothing."""
    join(client)
    [business] = businesses(app)
    again = {"organisation": "ACME BAKERY LTD", "contact_email": "someone.else@acme-bakery.example"}
    assert_business_thanks(join(client, **again))
    assert len(queued(app)) == 1, "a double click sends nothing more"

    def eleven_minutes_pass():
        with app.app_context():
            db.session.execute(update(Business).values(last_emailed_at=utcnow() - dt.timedelta(minutes=11)))
            db.session.commit()

    eleven_minutes_pass()
    assert_business_thanks(join(client, **again))
    assert queued(app) == [(BUSINESS_CONFIRMATION, "owner@acme-bakery.example", business.id)] * 2
    assert len(businesses(app)) == 1

    confirm_all(app)
    eleven_minutes_pass()
    assert_business_thanks(join(client, **again))
    assert len(queued(app)) == 2
    assert len(businesses(app)) == 1


# --- The confirmation email and its link ---------------------------------------------------------


def test_the_email_names_the_campaign_and_nothing_the_pledger_typed(app, client, smtp, deliver, boycott):
    """A pledger may give anyone's address: the email must not carry their
    words (an organisation name or a website could advertise anything)."""
    join(client, organisation="Cheap Pills Direct", website="https://cheap-pills.example/buy-now",
         contact_email="someone@mailbox.example")
    assert deliver().sent == 1
    [email] = smtp.to("someone@mailbox.example")
    with app.app_context():
        title = db.session.scalar(select(Campaign.title).where(Campaign.slug == SLUG))
    assert email.subject == f"Confirm your business pledge: {title}"
    for body in (email.subject, email.text, email.html):
        for typed in ("Cheap Pills", "cheap-pills", "buy-now"):
            assert typed.lower() not in body.lower()
    assert title in email.text and title in email.html
    assert confirm_path(email.text) == confirm_path(email.html)


def test_the_link_shows_a_button_and_only_the_post_confirms(app, client, smtp, deliver, boycott):
    """GET (a mail scanner, a preview) changes nothing; the button confirms;
    pressing it again is harmless."""
    join(client)
    deliver()
    path = confirm_path(smtp.to("owner@acme-bakery.example")[0].text)
    [business] = businesses(app)

    for _ in range(2):
        shown = client.get(path)
        assert shown.status_code == 200
        assert "Confirm our pledge" in shown.get_data(as_text=True)
    assert confirmed_at(app, business.id) is None

    campaign_token = csrf_token(client.get(f"/c/{SLUG}").get_data(as_text=True))
    assert client.post(path, data={"csrf_token": campaign_token}).status_code == 400, \
        "a campaign page's token is not the confirm page's"
    assert confirmed_at(app, business.id) is None

    token = csrf_token(client.get(path).get_data(as_text=True))
    done = client.post(path, data={"csrf_token": token})
    assert done.status_code == 200
    assert "Your pledge is confirmed" in done.get_data(as_text=True)
    first = confirmed_at(app, business.id)
    assert first is not None

    again = client.post(path, data={"csrf_token": token})
    assert again.status_code == 200 and "Your pledge is confirmed" in again.get_data(as_text=True)
    assert "Your pledge is confirmed" in client.get(path).get_data(as_text=True)
    assert confirmed_at(app, business.id) == first
    assert [b.status for b in businesses(app)] == [BusinessStatus.PENDING], "confirming is not approving"
    assert listed(client) == []


def test_confirming_needs_no_cookie_but_refuses_another_site(app, client, boycott):
    """The emailed link works in any browser; a POST from another site or without the page's token is refused."""
    join(client)
    [business] = businesses(app)
    with app.app_context():
        path = f"/business/confirm/{tokens.token_for(tokens.CONFIRM_BUSINESS, business.id)}"
    browser = app.test_client(use_cookies=False)
    token = csrf_token(browser.get(path).get_data(as_text=True))
    assert browser.post(path, data={"csrf_token": token}, headers={"Origin": "https://evil.example"}).status_code == 400
    assert browser.post(path, data={"csrf_token": "nonsense"}).status_code == 400
    assert browser.post(path, data={}).status_code == 400
    assert confirmed_at(app, business.id) is None
    confirmed = browser.post(path, data={"csrf_token": token})
    assert confirmed.status_code == 200 and "Set-Cookie" not in confirmed.headers
    assert confirmed_at(app, business.id) is not None


def _forged_tokens(app, business_id: int) -> dict[str, str]:
    secret = app.config["SECRET_KEY"]
    with app.app_context():
        genuine = tokens.token_for(tokens.CONFIRM_BUSINESS, business_id)
        return {
            "garbage": "not-a-token",
            "tampered": genuine.rsplit(".", 1)[0] + "." + "A" * 27,
            "a signature's confirm token": tokens.token_for(tokens.CONFIRM, business_id),
            "an unsubscribe token": tokens.token_for(tokens.UNSUBSCRIBE, business_id),
            "timed, with the signatures' salt": URLSafeTimedSerializer(secret, salt=tokens.CONFIRM).dumps(business_id),
            "another site's secret": URLSafeSerializer("x" * 40, salt=tokens.CONFIRM_BUSINESS).dumps(business_id),
            "not naming an id": URLSafeSerializer(secret, salt=tokens.CONFIRM_BUSINESS).dumps("1"),
        }


def test_a_forged_or_other_purpose_token_is_not_found(app, client, boycott):
    """404 for GET and POST, nothing changed; and a business link does not open a signature's page."""
    join(client)
    [business] = businesses(app)
    page_token = csrf_token(client.get(f"/c/{SLUG}").get_data(as_text=True))
    for what, forged in _forged_tokens(app, business.id).items():
        assert client.get(f"/business/confirm/{forged}").status_code == 404, what
        assert client.post(f"/business/confirm/{forged}", data={"csrf_token": page_token}).status_code == 404, what
    with app.app_context():
        genuine = tokens.token_for(tokens.CONFIRM_BUSINESS, business.id)
    assert client.get(f"/confirm/{genuine}").status_code == 404
    assert client.get(f"/business/confirm/{genuine}").status_code == 200
    assert confirmed_at(app, business.id) is None


def test_a_link_to_an_entry_that_is_gone_is_not_found(app, client, boycott):
    join(client)
    [business] = businesses(app)
    with app.app_context():
        path = f"/business/confirm/{tokens.token_for(tokens.CONFIRM_BUSINESS, business.id)}"
        db.session.delete(db.session.get(Business, business.id))
        db.session.commit()
    assert client.get(path).status_code == 404


def _emailed_days_ago(app, business_id: int, days: float) -> str:
    """The entry's link, its latest email sent ``days`` ago."""
    with app.app_context():
        db.session.execute(update(Business).where(Business.id == business_id)
                           .values(last_emailed_at=utcnow() - dt.timedelta(days=days)))
        db.session.commit()
        return f"/business/confirm/{tokens.token_for(tokens.CONFIRM_BUSINESS, business_id)}"


def test_an_expired_link_says_so_and_offers_to_pledge_again(app, client, boycott):
    """CONFIRM_LINK_DAYS after the latest email the link confirms nothing: a
    friendly page with the way back to the form; pledging again sends a new
    link, and the link works again."""
    join(client)
    [business] = businesses(app)
    days = app.config["CONFIRM_LINK_DAYS"]
    assert days == 30
    link = _emailed_days_ago(app, business.id, days - 1)
    assert client.get(link).status_code == 200
    token = csrf_token(client.get(link).get_data(as_text=True))

    _emailed_days_ago(app, business.id, days + 1)
    response = client.get(link)
    assert response.status_code == 410
    text = " ".join(response.get_data(as_text=True).split())
    assert "This confirmation link has expired: links work for 30 days after we send them." in text
    assert f'href="/c/{SLUG}#business"' in text and "Pledge again" in text
    assert client.post(link, data={"csrf_token": token}).status_code == 410
    assert confirmed_at(app, business.id) is None

    assert_business_thanks(join(client))
    assert len(queued(app)) == 2, "pledging again sends a new link"
    assert client.post(link, data={"csrf_token": token}).status_code == 200
    assert confirmed_at(app, business.id) is not None


def test_an_expired_link_of_a_confirmed_entry_still_says_it_is_confirmed(app, client, boycott):
    join(client)
    confirm_all(app)
    [business] = businesses(app)
    response = client.get(_emailed_days_ago(app, business.id, 60))
    assert response.status_code == 200
    assert "Your pledge is confirmed" in response.get_data(as_text=True)


@pytest.mark.parametrize(("status", "says"), [
    (CampaignStatus.CLOSED, "has closed: it no longer takes pledges, so this one was not confirmed."),
    (CampaignStatus.DRAFT, "is not open at the moment, so the pledge cannot be confirmed."),
])
def test_a_link_of_a_campaign_that_is_not_open_says_why(app, client, boycott, status, says):
    """Closed or back to draft: a page that says why, and nothing confirmed."""
    join(client)
    [business] = businesses(app)
    with app.app_context():
        path = f"/business/confirm/{tokens.token_for(tokens.CONFIRM_BUSINESS, business.id)}"
    token = csrf_token(client.get(path).get_data(as_text=True))
    with app.app_context():
        db.session.execute(update(Campaign).where(Campaign.slug == SLUG).values(status=status))
        db.session.commit()
    response = client.get(path)
    assert response.status_code == 410
    assert says in " ".join(response.get_data(as_text=True).split())
    assert client.post(path, data={"csrf_token": token}).status_code == 410
    assert confirmed_at(app, business.id) is None


def test_no_email_once_the_entry_is_confirmed_or_gone(app, client, smtp, deliver, boycott):
    """Written when sent: an entry confirmed or removed meanwhile is not asked to confirm."""
    join(client, organisation="Confirmed Meanwhile", contact_email="one@acme.example")
    join(client, organisation="Removed Meanwhile", contact_email="two@acme.example")
    confirm_all(app)
    with app.app_context():
        db.session.execute(update(Business).where(Business.organisation == "Removed Meanwhile")
                           .values(confirmed_at=None))
        db.session.delete(db.session.scalar(select(Business).where(Business.organisation == "Removed Meanwhile")))
        db.session.commit()
    result = deliver()
    assert (result.sent, result.skipped) == (0, 2)
    assert smtp.received == []
    with app.app_context():
        assert sorted(db.session.scalars(select(OutboxMessage.last_error))) == ["business confirmed", "business removed"]


def test_the_email_counts_against_the_mailbox_allowance(app, client, smtp, deliver, boycott):
    """Pledges under many names with someone else's address: that inbox gets
    at most the hourly allowance of emails it did not ask for."""
    assert outbox._kinds[BUSINESS_CONFIRMATION].capped
    per_hour = app.config["MAILBOX_UNCONFIRMED_PER_HOUR"]
    for n in range(per_hour + 2):
        assert_business_thanks(join(client, organisation=f"Flood {n}", contact_email="victim@inbox.example"))
    result = deliver()
    assert (result.sent, result.skipped) == (per_hour, 2)
    assert len(smtp.to("victim@inbox.example")) == per_hour
    assert len(businesses(app)) == per_hour + 2


# --- Organisers --------------------------------------------------------------------------------


def organiser_of(app, client, slug=SLUG, email="org@example.com") -> None:
    """Log in as an organiser who is a member of campaign ``slug``."""
    with app.app_context():
        campaign = db.session.scalar(select(Campaign).where(Campaign.slug == slug))
        make_organiser(email, campaigns=[campaign])
    assert log_in(client, email).status_code == 303


def decide(client, business_id: int, action: str, slug=SLUG):
    token = csrf_token(client.get("/organiser/login").get_data(as_text=True))
    return client.post(f"/organiser/c/{slug}/businesses/{business_id}", data={"csrf_token": token, "action": action})


def queue_text(client, slug=SLUG) -> str:
    return " ".join(client.get(f"/organiser/c/{slug}/businesses").get_data(as_text=True).split())


def test_organisers_see_the_contact_domain_beside_the_website_and_a_warning_when_they_differ(app, client, boycott):
    join(client, organisation="ACME", website="https://www.acme.example", contact_email="boss@evil.example")
    join(client, organisation="ACME", website="acme.example/shop", contact_email="ads@mail.acme.example")
    organiser_of(app, client)
    text = queue_text(client)
    assert "Contact address is at evil.example, website is acme.example" in text
    assert text.count("Contact address is at") == 1, "a subdomain of the website's domain is no warning"
    assert "Domain: mail.acme.example" in text and "Domain: acme.example" in text
    assert text.count("Not yet") == 2
    assert "Approve ACME" not in text, "no Approve button before the contact address confirms"
    assert text.count("Can be approved once its contact address confirms.") == 2


def test_organisers_cannot_approve_an_unconfirmed_pledge(app, client, boycott):
    """A clear message, and nothing changes; rejecting is allowed."""
    join(client)
    [business] = businesses(app)
    organiser_of(app, client)
    response = decide(client, business.id, "approved")
    assert response.status_code == 303
    text = " ".join(client.get(response.headers["Location"]).get_data(as_text=True).split())
    assert "Acme Bakery Ltd cannot be approved yet: its contact address has not confirmed the pledge." in text
    assert [b.status for b in businesses(app)] == [BusinessStatus.PENDING]
    assert listed(client) == []

    confirm_all(app)
    assert "Yes" in queue_text(client)
    decide(client, business.id, "approved")
    assert [b.status for b in businesses(app)] == [BusinessStatus.APPROVED]
    assert listed(client) == ["Acme Bakery Ltd"]


def test_approving_one_of_two_entries_with_the_same_name_approves_only_that_one(app, client, boycott):
    """Decided by id: the real ACME is listed, the other entry stays as it was."""
    join(client, organisation="ACME", website="https://acme.example", contact_email="boss@evil.example")
    join(client, organisation="ACME", website="https://acme.example", contact_email="ads@acme.example")
    confirm_all(app)
    squatter, real = businesses(app)
    organiser_of(app, client)
    assert 'aria-label="Approve ACME (acme.example)"' in queue_text(client)
    assert decide(client, real.id, "approved").status_code == 303
    assert [b.status for b in businesses(app)] == [BusinessStatus.PENDING, BusinessStatus.APPROVED]
    assert listed(client) == ["ACME"]
    assert decide(client, squatter.id, "rejected").status_code == 303
    assert [b.status for b in businesses(app)] == [BusinessStatus.REJECTED, BusinessStatus.APPROVED]
    assert listed(client) == ["ACME"]


def test_an_organiser_of_another_campaign_cannot_decide(app, client, boycott):
    """Access is as before: only the campaign's organisers see and decide its businesses."""
    with app.app_context():
        make_campaign(slug="theirs", kind=Kind.BOYCOTT)
    join(client)
    confirm_all(app)
    [business] = businesses(app)
    organiser_of(app, client, slug="theirs", email="other@example.com")
    assert client.get(f"/organiser/c/{SLUG}/businesses").status_code == 404
    assert decide(client, business.id, "approved").status_code == 404
    assert decide(client, business.id, "approved", slug="theirs").status_code == 404
    assert [b.status for b in businesses(app)] == [BusinessStatus.PENDING]


def test_the_command_line_will_not_guess_between_two_entries_of_one_name(app, client, runner, boycott):
    join(client, organisation="ACME", contact_email="boss@evil.example")
    join(client, organisation="ACME", contact_email="ads@acme.example")
    confirm_all(app)
    assert cli(runner, "approve-business", SLUG, "ACME").exit_code != 0
    assert [b.status for b in businesses(app)] == [BusinessStatus.PENDING] * 2
    assert listed(client) == []


@pytest.mark.parametrize(("contact", "website", "match"), [
    ("acme.example", "https://acme.example", True),
    ("acme.example", "https://WWW.Acme.example/shop", True),
    ("www.acme.example", "acme.example", True),
    ("mail.acme.example", "http://acme.example", True),
    ("xn--bcher-kva.de", "https://bücher.de", True),
    ("evil.example", "https://acme.example", False),
    ("notacme.example", "https://acme.example", False),
    ("acme.example.evil.example", "https://acme.example", False),
])
def test_a_contact_domain_matches_its_website_or_a_domain_under_it(contact, website, match):
    domain = business_service.website_domain(website if "://" in website else "https://" + website)
    assert business_service.contact_matches_website(contact, domain) is match
