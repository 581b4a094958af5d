"""The sign form: what it accepts, what it refuses and how it tells the person.

Bad input gives the page again (422) with the entered values kept, an error
summary at the top linking to each field in error, the message beside the
field, and nothing stored."""
from __future__ import annotations

import time
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from campaign.extensions import db
from campaign.models import OutboxMessage, Signature

from .builders import csrf_token, make_campaign, valid_pledge

SLUG = "clean-air"
FORMAT = "Enter an email address in the correct format, like name@example.com"
COUNTRY = "Choose your country from the list"
POSTCODE_CHARS = "Enter a postcode using letters, numbers, spaces and hyphens"


# --- Reading the page -------------------------------------------------------

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


class Page(HTMLParser):
    """Just enough of the DOM for the tests: every element with its attributes,
    its text and the ids and classes of its ancestors."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[dict] = []
        self._open: list[dict] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        element = {
            "tag": tag,
            "attrs": dict(attrs),
            "text": "",
            "inside": [a for e in self._open for a in (e["attrs"].get("id"), e["attrs"].get("class")) if a],
        }
        self.elements.append(element)
        if tag not in _VOID:
            self._open.append(element)

    def handle_endtag(self, tag):
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i]["tag"] == tag:
                del self._open[i:]
                break

    def handle_data(self, data):
        for element in self._open:
            element["text"] += data

    # Queries

    def by_id(self, element_id: str) -> dict | None:
        return next((e for e in self.elements if e["attrs"].get("id") == element_id), None)

    def attrs(self, element_id: str) -> dict:
        element = self.by_id(element_id)
        assert element is not None, f"no element with id {element_id!r}"
        return element["attrs"]

    def text(self, element_id: str) -> str:
        element = self.by_id(element_id)
        assert element is not None, f"no element with id {element_id!r}"
        return " ".join(element["text"].split())

    def error_summary(self) -> dict | None:
        return next(
            (e for e in self.elements if "error-summary" in e["attrs"].get("class", "").split()), None
        )

    def summary_links(self) -> dict[str, str]:
        """href -> link text, for the links in the error summary."""
        return {
            e["attrs"]["href"]: " ".join(e["text"].split())
            for e in self.elements
            if e["tag"] == "a" and "error-summary" in e["inside"]
        }

    def selected(self, select_id: str) -> list[str]:
        return [
            e["attrs"].get("value")
            for e in self.elements
            if e["tag"] == "option" and select_id in e["inside"] and "selected" in e["attrs"]
        ]


def page(response) -> Page:
    return Page(response.get_data(as_text=True))


def assert_field_error(doc: Page, field_id: str, message: str) -> None:
    """The message is beside the field, the field points at it, and the
    summary at the top links to the field with the same message."""
    summary = doc.error_summary()
    assert summary is not None, "no error summary"
    assert summary["attrs"].get("role") == "alert"
    assert doc.summary_links().get(f"#{field_id}") == message
    assert doc.text(f"{field_id}-error") == f"Error: {message}"
    control = doc.attrs(field_id)
    assert control.get("aria-invalid") == "true"
    assert f"{field_id}-error" in control.get("aria-describedby", "").split()


def stored(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def nothing_stored(app) -> bool:
    with app.app_context():
        return stored(Signature) == 0 and stored(OutboxMessage) == 0


# --- Posting the form ---------------------------------------------------------


@pytest.fixture
def campaign(app):
    """A live pledge campaign, postcode optional."""
    with app.app_context():
        make_campaign(slug=SLUG)
    return SLUG


def token(client, slug=SLUG) -> str:
    return csrf_token(client.get(f"/c/{slug}").get_data(as_text=True))


def post_sign(client, slug=SLUG, **fields):
    """Open the page and submit the form with a valid pledge changed by `fields`
    (None leaves a key out)."""
    data = {k: v for k, v in valid_pledge(**fields).items() if v is not None}
    data["csrf_token"] = token(client, slug)
    return client.post(f"/c/{slug}/sign", data=data)


def assert_thanks(response, slug=SLUG) -> None:
    """The thank-you page, in answer to the POST itself (it names the
    address typed, so it is personal: no redirect to a shared page)."""
    assert response.status_code == 200
    assert "Check your email" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"


# --- The fresh form -------------------------------------------------------------


def test_the_form_has_labelled_fields_and_unticked_consent_boxes(client, campaign):
    """Each field has its label; the two consent boxes start unticked."""
    doc = page(client.get(f"/c/{SLUG}"))
    labels = {e["attrs"].get("for"): " ".join(e["text"].split()) for e in doc.elements if e["tag"] == "label"}
    assert labels["given_name"] == "First name"
    assert labels["family_name"] == "Last name"
    assert labels["email"] == "Email"
    assert labels["country"] == "Country"
    assert labels["postal_code"] == "Postcode (optional)"
    for box in ("email_opt_in", "show_name"):
        attrs = doc.attrs(box)
        assert attrs["type"] == "checkbox"
        assert "checked" not in attrs, f"{box} must start unticked"
    assert doc.attrs("homepage")["type"] == "text"
    assert doc.error_summary() is None


def test_the_country_list_holds_iso_codes_and_nothing_is_preselected(client, campaign):
    """The country select offers ISO 3166-1 alpha-2 codes, with none chosen."""
    doc = page(client.get(f"/c/{SLUG}"))
    codes = [e["attrs"]["value"] for e in doc.elements if e["tag"] == "option" and "country" in e["inside"]]
    assert codes[0] == ""
    assert {"GB", "FR", "DE", "US", "JP"} <= set(codes)
    assert all(len(code) == 2 and code.isupper() for code in codes[1:])
    assert doc.selected("country") == []


# --- Bad input, field by field --------------------------------------------------


def _name_rows(field: str, label: str) -> list:
    required = f"Enter your {label.lower()}"
    return [
        pytest.param(field, "", required, id=f"{field}-empty"),
        pytest.param(field, "   \t ", required, id=f"{field}-whitespace-only"),
        pytest.param(field, "A" * 101, f"{label} must be 100 characters or fewer", id=f"{field}-101-chars"),
        pytest.param(field, "http://spam.example", f"{label} must not contain a web address", id=f"{field}-url"),
        pytest.param(field, "www.example.com", f"{label} must not contain a web address", id=f"{field}-www"),
        pytest.param(field, "=SUM(A1)", f"{label} must not start with =, +, - or @", id=f"{field}-formula-equals"),
        pytest.param(field, "+1", f"{label} must not start with =, +, - or @", id=f"{field}-formula-plus"),
        pytest.param(field, "-x", f"{label} must not start with =, +, - or @", id=f"{field}-formula-minus"),
        pytest.param(field, "@home", f"{label} must not start with =, +, - or @", id=f"{field}-formula-at"),
        pytest.param(field, "Ada\x00", f"{label} contains characters we cannot accept", id=f"{field}-nul"),
        pytest.param(field, "Ada\nLovelace", f"{label} contains characters we cannot accept", id=f"{field}-newline"),
    ]


BAD_INPUT = [
    *_name_rows("given_name", "First name"),
    *_name_rows("family_name", "Last name"),
    pytest.param("email", "", "Enter your email address", id="email-empty"),
    pytest.param("email", "   ", "Enter your email address", id="email-whitespace-only"),
    pytest.param("email", "no-at-sign", FORMAT, id="email-no-at-sign"),
    pytest.param("email", "ada@", FORMAT, id="email-no-domain"),
    pytest.param("email", "@example.com", FORMAT, id="email-no-local-part"),
    pytest.param("email", "ada@example", FORMAT, id="email-domain-without-dot"),
    pytest.param("email", "ada@@example.com", FORMAT, id="email-two-at-signs"),
    pytest.param("email", "a b@example.com", FORMAT, id="email-space"),
    pytest.param("email", "a" * 300 + "@example.com", FORMAT, id="email-300-char-local-part"),
    pytest.param("email", "ada\x00@example.com", FORMAT, id="email-nul"),
    pytest.param("email", "用户@example.com", FORMAT, id="email-non-ascii-local-part"),
    pytest.param("country", "", COUNTRY, id="country-empty"),
    pytest.param("country", "XX", COUNTRY, id="country-unknown-code"),
    pytest.param("country", "GBR", COUNTRY, id="country-alpha-3"),
    pytest.param("country", "<script>", COUNTRY, id="country-markup"),
    pytest.param("country", "gb", COUNTRY, id="country-lowercase"),
    pytest.param("postal_code", "A" * 17, "Postcode must be 16 characters or fewer", id="postcode-17-chars"),
    pytest.param("postal_code", "SW1A 1AA<script>", POSTCODE_CHARS, id="postcode-markup"),
    pytest.param("postal_code", "=1+1", POSTCODE_CHARS, id="postcode-formula"),
    pytest.param("postal_code", "SW1A\x001AA", POSTCODE_CHARS, id="postcode-nul"),
]


@pytest.mark.parametrize(("field", "value", "message"), BAD_INPUT)
def test_bad_input_is_refused_with_a_message_beside_the_field(app, client, campaign, field, value, message):
    """422, the exact message beside the field and in the summary, nothing stored."""
    response = post_sign(client, **{field: value})
    assert response.status_code == 422
    doc = page(response)
    assert_field_error(doc, field, message)
    assert list(doc.summary_links()) == [f"#{field}"], "only the bad field is in error"
    assert nothing_stored(app)


def test_postcode_is_required_when_the_campaign_asks_for_it(app, client):
    """A campaign with postcode_required refuses a missing or blank postcode."""
    with app.app_context():
        make_campaign(slug="local", postcode_required=True)
    doc = page(client.get("/c/local"))
    assert "required" in doc.attrs("postal_code")
    [label] = [e for e in doc.elements if e["tag"] == "label" and e["attrs"].get("for") == "postal_code"]
    assert " ".join(label["text"].split()) == "Postcode"

    for missing in ("", "   ", None):
        response = post_sign(client, "local", postal_code=missing)
        assert response.status_code == 422, repr(missing)
        assert_field_error(page(response), "postal_code", "Enter your postcode")
    assert nothing_stored(app)

    assert_thanks(post_sign(client, "local", postal_code="SW1A 1AA"), "local")


def test_the_entered_values_are_kept_when_the_form_is_refused(app, client, campaign):
    """The person does not have to type everything again."""
    response = post_sign(
        client,
        given_name="Zoë",
        family_name="O'Brien",
        email="not-an-email",
        country="FR",
        postal_code="75001",
        email_opt_in="y",
        show_name="y",
    )
    assert response.status_code == 422
    doc = page(response)
    assert doc.attrs("given_name")["value"] == "Zoë"
    assert doc.attrs("family_name")["value"] == "O'Brien"
    assert doc.attrs("email")["value"] == "not-an-email"
    assert doc.selected("country") == ["FR"]
    assert doc.attrs("postal_code")["value"] == "75001"
    assert "checked" in doc.attrs("email_opt_in")
    assert "checked" in doc.attrs("show_name")
    assert list(doc.summary_links()) == ["#email"]
    assert nothing_stored(app)


def test_entered_values_are_shown_again_as_text_never_as_markup(app, client, campaign):
    """Markup typed into a field comes back escaped inside the value attribute."""
    hostile = '"><script>alert(1)</script>'
    response = post_sign(client, given_name=hostile, family_name=hostile, email="ada@", postal_code=hostile)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    doc = page(response)
    assert doc.attrs("given_name")["value"] == hostile
    assert doc.attrs("postal_code")["value"] == hostile
    assert nothing_stored(app)


def test_every_field_in_error_is_listed_in_the_summary_in_page_order(app, client, campaign):
    """Several mistakes at once: one summary link per field, top to bottom."""
    response = post_sign(client, given_name="", family_name="=x", email="ada@", country="", postal_code="=1")
    assert response.status_code == 422
    doc = page(response)
    assert list(doc.summary_links()) == ["#given_name", "#family_name", "#email", "#country", "#postal_code"]
    assert_field_error(doc, "given_name", "Enter your first name")
    assert_field_error(doc, "family_name", "Last name must not start with =, +, - or @")
    assert_field_error(doc, "email", FORMAT)
    assert_field_error(doc, "country", COUNTRY)
    assert_field_error(doc, "postal_code", POSTCODE_CHARS)
    assert nothing_stored(app)


# --- Good input --------------------------------------------------------------------


GOOD_INPUT = [
    pytest.param({"given_name": "Zoë"}, id="diaeresis"),
    pytest.param({"family_name": "O'Brien"}, id="apostrophe"),
    pytest.param({"given_name": "Jean-Luc"}, id="hyphen"),
    pytest.param({"given_name": "José María"}, id="accents-and-space"),
    pytest.param({"given_name": "A" * 100, "family_name": "B" * 100}, id="100-char-names"),
    pytest.param({"given_name": "  Ada  "}, id="surrounding-spaces"),
    pytest.param({"email": "ada@bücher.de"}, id="internationalised-domain"),
    pytest.param({"email": "ada+pledge@example.com"}, id="plus-tag"),
    pytest.param({"postal_code": "SW1A 1AA"}, id="postcode"),
    pytest.param({"postal_code": "A" * 16}, id="16-char-postcode"),
    pytest.param({"postal_code": "", "country": "JP"}, id="no-postcode"),
    pytest.param({"email_opt_in": "y", "show_name": "y"}, id="both-boxes-ticked"),
]


@pytest.mark.parametrize("fields", GOOD_INPUT)
def test_valid_edge_cases_are_accepted(app, client, campaign, fields):
    """303 to the thank-you page and exactly one pending signature."""
    assert_thanks(post_sign(client, **fields))
    with app.app_context():
        [signature] = db.session.scalars(select(Signature)).all()
        assert signature.given_name == fields.get("given_name", "Ada").strip()
        assert signature.family_name == fields.get("family_name", "Lovelace")
        assert signature.country == fields.get("country", "GB")


def test_what_is_stored_from_a_good_signature(app, client, campaign):
    """Names as typed (trimmed), an internationalised domain as punycode,
    consent only when ticked."""
    assert_thanks(post_sign(client, given_name=" José María ", email="ada@bücher.de", postal_code=" SW1A 1AA "))
    with app.app_context():
        [signature] = db.session.scalars(select(Signature)).all()
        assert signature.given_name == "José María"
        assert signature.email == "ada@xn--bcher-kva.de"
        assert signature.postal_code == "SW1A 1AA"
        assert signature.email_opt_in is False
        assert signature.show_name is False


# --- Hostile input ------------------------------------------------------------------


def test_ten_thousand_characters_in_every_field_is_refused_not_a_crash(app, client, campaign):
    """Every visible field in error, no 500, nothing stored."""
    huge = "x" * 10_000
    response = post_sign(
        client, given_name=huge, family_name=huge, email=huge, country=huge, postal_code=huge,
        email_opt_in=huge, show_name=huge,
    )
    assert response.status_code == 422
    assert list(page(response).summary_links()) == [
        "#given_name", "#family_name", "#email", "#country", "#postal_code"]
    assert nothing_stored(app)


@pytest.mark.parametrize("text", ["a" * 400_000, "a-" * 200_000, "http" * 100_000],
                         ids=["letters", "hyphenated", "scheme-like"])
def test_a_name_as_long_as_the_body_allows_is_refused_at_once(app, client, campaign, text):
    """A name as long as a request may be (about half a megabyte here) was
    scanned for web addresses from every letter: one such POST kept a worker
    busy for many minutes. It is refused by its length, quickly."""
    started = time.perf_counter()
    response = post_sign(client, given_name=text, family_name=text)
    elapsed = time.perf_counter() - started
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "First name must be 100 characters or fewer" in body
    assert "Last name must be 100 characters or fewer" in body
    assert elapsed < 5, f"refusing two long names took {elapsed:.1f} s"
    assert nothing_stored(app)


def test_ten_thousand_characters_in_the_honeypot_is_a_bot(app, client, campaign):
    """The same thank-you page, nothing stored."""
    assert_thanks(post_sign(client, homepage="x" * 10_000))
    assert nothing_stored(app)


@pytest.mark.parametrize("field", ["given_name", "family_name", "email", "country", "postal_code"])
def test_a_repeated_key_whose_first_value_is_bad_is_refused(app, client, campaign, field):
    """A good value sent after a bad one does not sneak past the checks."""
    bad = {"given_name": "=x", "family_name": "", "email": "ada@", "country": "XX", "postal_code": "=1"}[field]
    data = [(k, v) for k, v in valid_pledge().items() if k != field]
    data += [(field, bad), (field, valid_pledge(postal_code="SW1A 1AA")[field]), ("csrf_token", token(client))]
    response = client.post(f"/c/{SLUG}/sign", data=MultiDict(data))
    assert response.status_code == 422
    assert list(page(response).summary_links()) == [f"#{field}"]
    assert nothing_stored(app)


def test_repeated_keys_never_store_two_signatures(app, client, campaign):
    """Every key twice, with two different people: one signature, the first values."""
    second = valid_pledge(given_name="Grace", family_name="Hopper", email="grace@example.com", country="US")
    data = []
    for key, value in valid_pledge().items():
        data += [(key, value), (key, second[key])]
    data += [("csrf_token", token(client))] * 2
    assert_thanks(client.post(f"/c/{SLUG}/sign", data=MultiDict(data)))
    with app.app_context():
        [signature] = db.session.scalars(select(Signature)).all()
        assert (signature.given_name, signature.email, signature.country) == ("Ada", "ada@example.com", "GB")


@pytest.mark.parametrize(
    "missing",
    [
        pytest.param(["given_name"], id="given_name"),
        pytest.param(["family_name"], id="family_name"),
        pytest.param(["email"], id="email"),
        pytest.param(["country"], id="country"),
        pytest.param(["given_name", "family_name", "email", "country", "postal_code"], id="every-field"),
    ],
)
def test_missing_keys_are_refused(app, client, campaign, missing):
    """A post without some fields at all gets the 'enter' messages, not a crash."""
    response = post_sign(client, **{key: None for key in missing})
    assert response.status_code == 422
    expected = [f"#{key}" for key in missing if key != "postal_code"]
    assert list(page(response).summary_links()) == expected
    assert nothing_stored(app)


def test_missing_checkboxes_and_honeypot_mean_unticked(app, client, campaign):
    """A browser leaves unticked boxes out; that is a normal, valid post."""
    assert_thanks(post_sign(client))
    with app.app_context():
        [signature] = db.session.scalars(select(Signature)).all()
        assert (signature.email_opt_in, signature.show_name) == (False, False)


@pytest.mark.parametrize("field", ["given_name", "family_name", "email", "country", "postal_code"])
def test_invalid_utf8_is_refused_not_a_crash(app, client, campaign, field):
    """Raw bytes that are not UTF-8 in a field: never a 500, nothing stored.

    Werkzeug cannot decode such a body and reads it as an empty form, so the
    CSRF check refuses it first (400)."""
    values = {k: v.encode() for k, v in valid_pledge(postal_code="SW1A 1AA").items()}
    values[field] = values[field][:2] + b"\xff\xfe\xc3(" + values[field][2:]
    values["csrf_token"] = token(client).encode()
    body = b"&".join(k.encode() + b"=" + v for k, v in values.items())
    response = client.post(f"/c/{SLUG}/sign", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert nothing_stored(app)


def test_a_body_over_one_mebibyte_is_too_large(app, client, campaign):
    """413, not a 500, nothing stored."""
    response = post_sign(client, given_name="x" * (1024 * 1024 + 1))
    assert response.status_code == 413
    assert nothing_stored(app)


# --- CSRF -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "csrf",
    [
        pytest.param(None, id="no-token"),
        pytest.param("", id="empty-token"),
        pytest.param("not-the-token", id="wrong-token"),
    ],
)
def test_a_post_without_the_right_csrf_token_is_refused(app, client, campaign, csrf):
    """400, nothing stored: another site cannot sign in a visitor's name."""
    client.get(f"/c/{SLUG}")  # a session exists, so only the token is wrong
    data = valid_pledge()
    if csrf is not None:
        data["csrf_token"] = csrf
    response = client.post(f"/c/{SLUG}/sign", data=data)
    assert response.status_code == 400
    assert nothing_stored(app)


def test_the_page_token_is_shared_so_a_cached_page_works_for_everyone(app, client, campaign):
    """The campaign page may come from a shared cache: its form token is the
    same for every visitor, and any visitor may use it."""
    from_another_visitor = token(app.test_client())
    assert from_another_visitor == token(client)
    response = client.post(f"/c/{SLUG}/sign", data={**valid_pledge(), "csrf_token": from_another_visitor})
    assert_thanks(response)


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site", "Origin": "https://sub.campaigns.test"},
    {"Sec-Fetch-Site": ""},
    {"Sec-Fetch-Site": "", "Referer": "https://evil.example/page"},
    {"Sec-Fetch-Site": "", "Referer": "not a url ["},
], ids=["other-origin", "opaque-origin", "cross-site-fetch", "sibling-site", "says-nothing", "other-referer",
        "broken-referer"])
def test_a_post_from_another_site_is_refused_even_with_a_good_token(app, client, campaign, headers):
    """Cross-site forgery is stopped by what the browser says about where the
    POST comes from, which a page on another site cannot change."""
    response = client.post(f"/c/{SLUG}/sign", data={**valid_pledge(), "csrf_token": token(client)},
                           headers=headers)
    assert response.status_code == 400
    assert nothing_stored(app)


@pytest.mark.parametrize("headers", [
    {"Sec-Fetch-Site": "", "Origin": "http://localhost"},
    {"Sec-Fetch-Site": "", "Referer": f"http://localhost/c/{SLUG}"},
    {"Sec-Fetch-Site": "", "Referer": f"http://campaigns.test/c/{SLUG}"},
], ids=["origin-only", "referer-only", "referer-of-the-site-url"])
def test_an_older_browser_that_sends_only_origin_or_referer_can_sign(app, client, campaign, headers):
    response = client.post(f"/c/{SLUG}/sign", data={**valid_pledge(), "csrf_token": token(client)},
                           headers=headers)
    assert_thanks(response)


def test_a_page_token_works_only_on_its_own_campaign(app, client, campaign):
    """A token taken from one campaign's page is refused on another's."""
    with app.app_context():
        make_campaign(slug="another-campaign")
    other = csrf_token(client.get("/c/another-campaign").get_data(as_text=True))
    assert other != token(client)
    response = client.post(f"/c/{SLUG}/sign", data={**valid_pledge(), "csrf_token": other})
    assert response.status_code == 400
    assert nothing_stored(app)
    assert client.post("/c/another-campaign/sign", data={**valid_pledge(), "csrf_token": other}).status_code == 200


def test_a_post_from_this_site_is_accepted(app, client, campaign):
    """What a browser sends from our own page: same-origin and our Origin."""
    response = client.post(f"/c/{SLUG}/sign", data={**valid_pledge(), "csrf_token": token(client)},
                           headers={"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"})
    assert_thanks(response)
