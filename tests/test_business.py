"""Businesses joining a boycott: the form, what it refuses, and the organiser's
approval before an organisation is listed on the public page."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from campaign.extensions import db
from campaign.models import Business, BusinessStatus, CampaignStatus, Kind, OutboxMessage, Signature

from .builders import csrf_token, make_campaign
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
    return [" ".join(e["text"].split()) for e in doc.elements if e["tag"] == "li" and "business-list" in e["inside"]]


def cli(runner, *args):
    return runner.invoke(args=["campaign", *args])


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
    assert nothing_stored_but_the_business(app)


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


def nothing_stored_but_the_business(app) -> bool:
    with app.app_context():
        return stored(Signature) == stored(OutboxMessage) == 0


def test_the_thank_you_page_says_an_organiser_will_check_it(client, boycott):
    """The person knows the listing waits for a check."""
    response = join(client)
    thanks = client.get(response.headers["Location"])
    assert thanks.status_code == 200
    assert "once an organiser has checked it" in thanks.get_data(as_text=True)


# --- Approval ------------------------------------------------------------------------------


def test_a_business_is_listed_only_once_approved(app, client, runner, boycott):
    """Pending is invisible; approve-business puts it on the public list."""
    assert_business_thanks(join(client, organisation="Acme Bakery Ltd"))
    assert listed(client) == []

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
    assert cli(runner, "reject-business", SLUG, "Dodgy Dealers").exit_code == 0
    assert cli(runner, "approve-business", SLUG, "Good Grocers").exit_code == 0
    assert listed(client) == ["Good Grocers"]
    assert [b.status for b in businesses(app)] == [BusinessStatus.REJECTED, BusinessStatus.APPROVED]


def test_approved_businesses_are_listed_in_name_order(client, runner, boycott):
    """The list reads alphabetically, whatever the order they joined in."""
    for name in ("Zebra Print", "apple Studio", "Moss & Co"):
        join(client, organisation=name)
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
    assert cli(runner, "approve-business", "second", "Acme Bakery Ltd").exit_code == 0
    assert listed(client, "second") == ["Acme Bakery Ltd"]
    assert listed(client) == []


def test_contact_emails_and_websites_never_appear_on_the_public_page(client, runner, boycott):
    """Only the organisation's name is public, pending or approved."""
    join(client, organisation="Acme Bakery Ltd", contact_email="secret.owner@acme-bakery.example")
    for _ in range(2):
        html = client.get(f"/c/{SLUG}").get_data(as_text=True)
        assert "secret.owner" not in html
        assert "acme-bakery.example" not in html
        assert cli(runner, "approve-business", SLUG, "Acme Bakery Ltd").exit_code == 0
    assert listed(client) == ["Acme Bakery Ltd"]


# --- Duplicates and bots ---------------------------------------------------------------------


@pytest.mark.parametrize("again", ["Acme Bakery Ltd", "ACME BAKERY LTD", "  acme   bakery  ltd "])
def test_joining_twice_stores_nothing_new(app, client, boycott, again):
    """The same organisation (any case or spacing) gets the same thank-you, one row."""
    assert_business_thanks(join(client, organisation="Acme Bakery Ltd"))
    assert_business_thanks(join(client, organisation=again, contact_email="someone.else@example.com"))
    [business] = businesses(app)
    assert business.organisation == "Acme Bakery Ltd"
    assert business.contact_email == "owner@acme-bakery.example"


def test_a_second_submission_does_not_undo_an_approval(app, client, runner, boycott):
    """Joining again after approval leaves the listing as it was."""
    join(client)
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
