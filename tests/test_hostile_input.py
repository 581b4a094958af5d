"""Hostile input: whatever arrives at a public form or URL, the site answers
without a 500, and a refused request stores nothing.

Hypothesis generates the input: any text (control characters, NUL, line and
paragraph separators, bidi marks), very long values, numbers, empty values,
several values for one key, missing and extra fields, invalid UTF-8 in
urlencoded and multipart bodies, and random path segments. Most generated
POSTs carry a valid page token, so validation beyond CSRF is exercised too.

The last part checks that a newline in a signer's name, a campaign title or
an update subject never becomes an email header."""
from __future__ import annotations

import json
import unicodedata
from email import message_from_bytes, policy
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from flask import render_template
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from sqlalchemy import String, select
from werkzeug.datastructures import MultiDict

from campaign import broadcasts, signing, subscriptions, tokens
from campaign.campaigns import image_folder
from campaign.extensions import db
from campaign.mail_merge import single_email
from campaign.models import Campaign, CampaignStatus, CampaignUpdate, Kind, Signature
from campaign.update_mail import update_merge

from .builders import PASSWORD, confirm_signature, csrf_token, hours_from_now, make_campaign, make_organiser

HOSTILE = settings(
    max_examples=40,
    deadline=None,
    report_multiple_bugs=False,
    database=None,  # nothing written into the working tree; failures print their example
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large],
)

PLEDGE, BOYCOTT, DRAFT = "clean-air", "ad-pause", "not-yet"
PUBLIC_SLUGS = {PLEDGE, BOYCOTT}

SIGN_FIELDS = {
    "given_name": "Ada", "family_name": "Lovelace", "email": "ada@example.com", "country": "GB",
    "postal_code": "SW1A 1AA", "email_opt_in": "y", "show_name": "y", "homepage": "",
}
BUSINESS_FIELDS = {
    "organisation": "Acme Ltd", "website": "acme.example", "contact_email": "ads@example.org",
    "company_size": "10-49", "homepage": "",
}
LOGIN_FIELDS = {"email": "org@example.com", "password": PASSWORD}


# --- What hostile input looks like -------------------------------------------

# Pieces that have broken web forms before: control characters, line and
# paragraph separators, zero-width and bidi marks, case-folding expanders,
# spreadsheet formulas, markup, SQL, traversal, percent escapes.
NASTY = st.sampled_from([
    "\x00", "\r\n", "\n", "\r", "\t", "\x0b", "\x0c", "\x1b[2J", "\x7f", "\x85", "\u2028", "\u2029",
    "\u200b", "\u202e", "\ufeff", "\ufffd", "\U0001f600", "ß", "ﬃ", "ΐ", "İ", "e\u0301",
    "=1+1", "+44", "-1", "@SUM(A1)", "<script>alert(1)</script>", "' OR '1'='1", "%00", "%0d%0a",
    "../../etc/passwd", "https://evil.example", "www.evil.example", "a@b", "@", "\\", ".", "..",
])
# st.text() already includes NUL and every other control character; lone
# surrogates are left out because they cannot be encoded (the raw-bytes
# tests send their UTF-8 forms instead).
texts = st.one_of(st.text(), st.lists(st.one_of(st.text(max_size=4), NASTY), max_size=6).map("".join))
long_texts = st.builds(lambda unit, n: (unit * n)[:n], st.text(min_size=1, max_size=8), st.integers(1_000, 20_000))
numbers = st.one_of(st.integers(), st.floats()).map(str)
scalars = st.one_of(texts, long_texts, numbers, st.just(""))
values = st.one_of(scalars, st.lists(scalars, min_size=2, max_size=4))  # several values for one key
extra_fields = st.dictionaries(st.text(min_size=1, max_size=30), values, max_size=3)

# Most POSTs carry the real token, so the rest of validation is reached.
TOKENS = st.sampled_from(["valid"] * 6 + ["none", "forged"])


def submissions(valid: dict[str, str]):
    """(fields, extras): each field valid, hostile or missing (None); or all
    valid but one; or all valid; plus random extra fields."""
    each = st.fixed_dictionaries({k: st.one_of(st.none(), st.just(v), values) for k, v in valid.items()})
    one_bad = st.sampled_from(sorted(valid)).flatmap(lambda k: values.map(lambda bad: {**valid, k: bad}))
    return st.tuples(st.one_of(each, one_bad, st.just(dict(valid))), extra_fields)


def form_data(submission, token: str, good_token: str, token_field: str = "csrf_token", prefix: str = "") -> MultiDict:
    """The submission as posted form data: the token first, then every value of every field."""
    fields, extras = submission
    data = MultiDict()
    if token == "valid":
        data.add(token_field, good_token)
    elif token == "forged":
        data.add(token_field, "forged." + good_token[::-1])
    for name, value in [*((prefix + k, v) for k, v in fields.items()), *extras.items()]:
        for one in ([] if value is None else value if isinstance(value, list) else [value]):
            data.add(name, one)
    return data


def segment(text: str) -> str:
    """``text`` as one URL path segment (dots too, so nothing is resolved away)."""
    return quote(text, safe="").replace(".", "%2E")


def edited(real: str, edit: tuple[int, int, str]) -> str:
    """``real`` with a few characters deleted and others inserted at one place."""
    at, delete, insert = edit
    at %= len(real) + 1
    return real[:at] + insert + real[at + delete:]


edits = st.tuples(st.integers(0, 200), st.integers(0, 3), st.text(max_size=3))


# --- Observing the site ------------------------------------------------------

def send(client, method: str, url: str, **kwargs):
    """The response; an exception escaping the app is the 500 it would be."""
    try:
        return client.open(url, method=method, **kwargs)
    except Exception as exc:  # TESTING propagates exceptions instead of rendering a 500
        raise AssertionError(f"{method} {url[:200]!r} -> 500: {type(exc).__name__}: {str(exc)[:400]}") from exc


def tally(status: int) -> None:
    """Count answers by status in Hypothesis's statistics (--hypothesis-show-statistics)."""
    if currently_in_test_context():
        event(f"answered {status}")


def _hashable(value):
    """A JSON column's dict or list as its text, so rows can be compared as sets."""
    return json.dumps(value, sort_keys=True) if isinstance(value, dict | list) else value


def snapshot(app) -> dict[str, list[tuple]]:
    """Every row of every table."""
    with app.app_context():
        return {t.name: sorted((tuple(map(_hashable, row)) for row in db.session.execute(select(t)).all()), key=repr)
                for t in db.metadata.sorted_tables}


def changed_tables(before, after) -> dict[str, int]:
    """Tables that changed, with how many rows they gained."""
    return {t: len(after[t]) - len(before[t]) for t in after if after[t] != before[t]}


def _controls(value: str) -> list[str]:
    return [f"U+{ord(c):04X}" for c in value if unicodedata.category(c).startswith("C")]


def assert_stored_rows_are_clean(before, after) -> None:
    """New or changed rows fit their columns; names, addresses and websites carry no control characters."""
    for table in db.metadata.sorted_tables:
        old = set(before[table.name])
        for row in after[table.name]:
            if row in old:
                continue
            for column, value in zip(table.columns, row):
                if not isinstance(value, str):
                    continue
                if isinstance(column.type, String) and column.type.length:
                    assert len(value) <= column.type.length, f"{table.name}.{column.name} holds {len(value)} characters"
                if table.name in ("signature", "business"):
                    assert not _controls(value), f"{table.name}.{column.name} stored {_controls(value)}"


def assert_answer(response, before, after, token: str, thanks: str, may_change: dict[str, int]) -> None:
    """No 500; no valid token, a 400; accepted, the thank-you page (a
    redirect to ``thanks``, or, when it is no path, a page saying it) and at
    most ``may_change`` new rows per table; refused, nothing stored."""
    status = response.status_code
    tally(status)
    assert status < 500
    if token != "valid":
        assert status == 400, f"a POST without a valid page token got {status}"
    if status == 303 or (status == 200 and not thanks.startswith("/")):
        if thanks.startswith("/"):
            assert response.headers["Location"] == thanks
        else:
            assert thanks in response.get_data(as_text=True)
        for table, gained in changed_tables(before, after).items():
            assert table in may_change and gained <= may_change[table], f"{table} changed (+{gained})"
        assert_stored_rows_are_clean(before, after)
    else:
        assert after == before, f"refused with {status}, yet {changed_tables(before, after)} changed"


def assert_accepted_or_untouched(response, before, after, accepted: int, may_change: dict[str, int]) -> None:
    """No 500; accepted, at most ``may_change`` new rows per table; otherwise refused, nothing stored."""
    tally(response.status_code)
    assert response.status_code < 500
    if response.status_code == accepted:
        for table, gained in changed_tables(before, after).items():
            assert table in may_change and gained <= may_change[table], f"{table} changed (+{gained})"
        assert_stored_rows_are_clean(before, after)
    else:
        assert response.status_code >= 400
        assert after == before, f"refused with {response.status_code}, yet {changed_tables(before, after)} changed"


# --- The world the requests arrive in ----------------------------------------

@pytest.fixture
def world(app, client):
    """A pledge, a boycott with a window, a draft, one pending signer, one
    organiser; and the tokens a visitor's page would carry."""
    with app.app_context():
        pledge = make_campaign(slug=PLEDGE)
        make_campaign(slug=BOYCOTT, kind=Kind.BOYCOTT, window_start=hours_from_now(24), window_end=hours_from_now(48))
        make_campaign(slug=DRAFT, status=CampaignStatus.DRAFT)
        signing.sign(pledge, signing.Pledge("Sam", "Signer", "sam@example.com", "GB", None, True, False))
        signature_id = db.session.execute(select(Signature.id)).scalar_one()
        confirm_token = tokens.token_for(tokens.CONFIRM, signature_id)
        unsubscribe_token = tokens.token_for(tokens.UNSUBSCRIBE, signature_id)
        make_organiser()
    return SimpleNamespace(
        confirm_token=confirm_token,
        unsubscribe_token=unsubscribe_token,
        page_token=csrf_token(client.get(f"/c/{PLEDGE}").get_data(as_text=True)),
        confirm_page_token=csrf_token(client.get(f"/confirm/{confirm_token}").get_data(as_text=True)),
        session_token=csrf_token(client.get("/organiser/login").get_data(as_text=True)),
    )


# --- The public forms --------------------------------------------------------

@HOSTILE
@given(submission=submissions(SIGN_FIELDS), token=TOKENS)
def test_the_sign_form_survives_any_submission_and_a_refusal_stores_nothing(app, client, world, submission, token):
    """Any fields, values, repeats and extras posted to /c/<slug>/sign: no 500; refused, nothing stored."""
    before = snapshot(app)
    response = send(client, "POST", f"/c/{PLEDGE}/sign", data=form_data(submission, token, world.page_token))
    assert_answer(response, before, snapshot(app), token, "Check your email",
                  may_change={"signature": 1, "signature_tally": 1, "outbox_message": 1, "consent_version": 1})


@HOSTILE
@given(submission=submissions(BUSINESS_FIELDS), token=TOKENS)
def test_the_business_form_survives_any_submission_and_a_refusal_stores_nothing(app, client, world, submission, token):
    """Any business-* fields posted to /c/<slug>/business: no 500; refused, nothing stored."""
    data = form_data(submission, token, world.page_token, token_field="business-csrf_token", prefix="business-")
    before = snapshot(app)
    response = send(client, "POST", f"/c/{BOYCOTT}/business", data=data)
    assert_answer(response, before, snapshot(app), token, f"/c/{BOYCOTT}/business/thanks",
                  may_change={"business": 1})


@HOSTILE
@example(submission=({**LOGIN_FIELDS, "email": "org\x00@example.com"}, {}), token="valid", next_=None)
@given(submission=submissions(LOGIN_FIELDS), token=TOKENS,
       next_=st.one_of(st.none(), scalars, st.sampled_from(["//evil.example", "/\\evil.example", "/\t/evil.example"])))
def test_the_login_form_survives_any_submission_and_never_leaves_the_site(app, client, world, submission, token, next_):
    """Any email, password and ?next= posted to /organiser/login: no 500; a login lands on this site."""
    url = "/organiser/login" + ("" if next_ is None else "?next=" + quote(next_, safe=""))
    before = snapshot(app)
    response = send(client, "POST", url, data=form_data(submission, token, world.session_token))
    after = snapshot(app)
    assert response.status_code < 500
    if token != "valid":
        assert response.status_code == 400
    if response.status_code == 303:
        location = response.headers["Location"]
        assert location.startswith("/") and not location.startswith("//") and "\\" not in location
        assert not _controls(location)
        assert set(changed_tables(before, after)) <= {"organiser", "organiser_session", "login_throttle",
                                                      "audit_event"}, \
            "a login records its time, its session and its audit event, nothing more"
    else:
        assert set(changed_tables(before, after)) <= {"login_throttle", "audit_event"}, \
            "a failed login is counted and logged, nothing more"


# --- Invalid UTF-8 and malformed bodies --------------------------------------

RAW_PIECES = st.one_of(
    st.binary(max_size=48),
    st.sampled_from([
        b"\xff", b"\xfe\xff", b"\xc0\x80", b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xf4\x90\x80\x80", b"\xe2\x80\xa8",
        b"\x00", b"\r\n", b"%FF", b"%C0%80", b"%ED%A0%80", b"%00", b"%0D%0A", b"=", b"&", b"+", b"%", b"%G1", b'"',
    ]),
)
raw_values = st.lists(RAW_PIECES, max_size=4).map(b"".join)
ENCODINGS = ["urlencoded", "multipart", "multipart without boundary", "text"]
BOUNDARY = b"hostile-boundary-7f3a"

# name: (path, fields, prefix, token field, accepted answer, tables it may change)
TARGETS = {
    "sign": (f"/c/{PLEDGE}/sign", SIGN_FIELDS, "", "csrf_token", 200,
             {"signature": 1, "signature_tally": 1, "outbox_message": 1, "consent_version": 1}),
    "business": (f"/c/{BOYCOTT}/business", BUSINESS_FIELDS, "business-", "business-csrf_token", 303,
                 {"business": 1, "outbox_message": 1}),
    "confirm": ("/confirm/{confirm_token}", {"given_name": "Fan", "family_name": "Person", "country": "GB"}, "",
                "csrf_token", 200, {"signature": 0, "signature_tally": 2, "daily_country_count": 1}),
    "unsubscribe": ("/unsubscribe/{unsubscribe_token}", {"scope": "all"}, "", "csrf_token", 200,
                    {"signature": 0, "suppression": 1}),
    "login": ("/organiser/login", LOGIN_FIELDS, "", "csrf_token", 303,
              {"organiser": 0, "organiser_session": 1, "login_throttle": 0, "audit_event": 1}),
}


@st.composite
def raw_bodies(draw, fields: dict[str, str], prefix: str, token_field: str):
    """(token given, body, content type): invalid UTF-8 in names and values."""
    pairs = []
    with_token = draw(st.booleans()) or draw(st.booleans())  # three times in four
    if with_token:
        pairs.append((token_field.encode(), b"TOKEN"))
    for name, good in fields.items():
        value = draw(st.one_of(st.none(), st.just(good.encode()), raw_values))
        if value is not None:
            pairs.append(((prefix + name).encode(), value))
    pairs += draw(st.lists(st.tuples(raw_values, raw_values), max_size=3))
    encoding = draw(st.sampled_from(ENCODINGS))
    if encoding == "urlencoded":
        return with_token, b"&".join(k + b"=" + v for k, v in pairs), "application/x-www-form-urlencoded"
    if encoding == "multipart":
        part = b'--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n'
        parts = (part % (BOUNDARY, k, v) for k, v in pairs)
        body = b"".join(parts) + b"--" + BOUNDARY + b"--\r\n"
        return with_token, body, "multipart/form-data; boundary=" + BOUNDARY.decode()
    garbage = draw(st.binary(max_size=300))
    content_type = {"multipart without boundary": "multipart/form-data", "text": "text/plain"}[encoding]
    return False, garbage, content_type


@pytest.mark.parametrize("target", sorted(TARGETS))
@HOSTILE
@given(data=st.data())
def test_invalid_utf8_and_malformed_bodies_never_fail_and_a_refusal_stores_nothing(app, client, world, target, data):
    """Raw bytes (urlencoded, multipart, or bodies that match no form encoding): no 500; refused, nothing stored."""
    path, fields, prefix, token_field, accepted, may_change = TARGETS[target]
    with_token, body, content_type = data.draw(raw_bodies(fields, prefix, token_field))
    token = world.session_token if target == "login" else world.page_token
    body = body.replace(b"TOKEN", token.encode(), 1) if with_token else body
    before = snapshot(app)
    response = send(client, "POST", path.format(**vars(world)), data=body, content_type=content_type)
    after = snapshot(app)
    if target == "login" and response.status_code in (422, 429):
        # A refused login is counted against its address and logged: those rows are meant to change.
        for rows in (before, after):
            rows.pop("login_throttle")
            rows.pop("audit_event")
    assert_accepted_or_untouched(response, before, after, accepted, may_change)


MISSING = object()
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=6,
)


@st.composite
def json_documents(draw, fields: dict[str, str], prefix: str, token_field: str):
    """(token given, document): any JSON at all, or the form's fields with values of any JSON type."""
    if draw(st.integers(0, 3)) == 0:
        return False, draw(json_values)
    with_token = draw(st.booleans()) or draw(st.booleans())
    document = {token_field: "TOKEN"} if with_token else {}
    for name, good in fields.items():
        value = draw(st.one_of(st.just(good), json_values, st.just(MISSING)))
        if value is not MISSING:
            document[prefix + name] = value
    document.update(draw(st.dictionaries(st.text(max_size=20), json_values, max_size=2)))
    return with_token, document


@pytest.mark.parametrize("target", sorted(TARGETS))
@HOSTILE
@given(data=st.data())
def test_json_bodies_with_values_of_any_type_never_fail_and_a_refusal_stores_nothing(app, client, world, target, data):
    """JSON where a form is expected (numbers, nulls, lists, objects as text): no 500; refused, nothing stored."""
    path, fields, prefix, token_field, accepted, may_change = TARGETS[target]
    with_token, document = data.draw(json_documents(fields, prefix, token_field))
    token = world.session_token if target == "login" else world.page_token
    if with_token:
        document[token_field] = token
    before = snapshot(app)
    response = send(client, "POST", path.format(**vars(world)), data=json.dumps(document),
                    content_type="application/json", headers={"X-CSRFToken": token} if with_token else {})
    after = snapshot(app)
    assert_accepted_or_untouched(response, before, after, accepted, may_change)


PLAIN_JSON = {"a number": lambda form, field: 0, "a list": lambda form, field: [1], "a string": lambda form, field: "x",
              "true": lambda form, field: True, "a number for a text field": lambda form, field: {**form, field: 5},
              "an object for a text field": lambda form, field: {**form, field: {"a": 1}}}


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_a_json_body_where_a_form_is_expected_is_refused_without_a_500(app, client, world, target):
    """The plainest JSON, always tried: 0, [1], "x", true, or the form with 5 or {} in a text field: never a 500."""
    path, fields, prefix, token_field, accepted, may_change = TARGETS[target]
    token = world.session_token if target == "login" else world.page_token
    form = {token_field: token, **{prefix + k: v for k, v in fields.items()}}
    field = prefix + next(iter(fields), "anything")
    failures = []
    for shape, document in PLAIN_JSON.items():
        before = snapshot(app)
        try:
            response = send(client, "POST", path.format(**vars(world)), data=json.dumps(document(form, field)),
                            content_type="application/json", headers={"X-CSRFToken": token})
            assert_accepted_or_untouched(response, before, snapshot(app), accepted, may_change)
        except AssertionError as exc:
            failures.append(f"{shape}: {str(exc).splitlines()[0]}")
    assert not failures, "\n".join(failures)


# --- Emailed links: /confirm/<token> and /unsubscribe/<token> ---------------

# Which token to put in the link; the real ones are only known at run time.
links = st.one_of(
    st.tuples(st.just("real")), st.tuples(st.just("other")), st.tuples(st.just("edited"), edits),
    st.tuples(st.just("any"), st.one_of(texts, long_texts, NASTY)),
)


def link_token(spec: tuple, real: str, other: str) -> str:
    """The real token, the other link's token, the real one edited, or anything at all."""
    kind, *rest = spec
    return {"real": lambda: real, "other": lambda: other, "edited": lambda: edited(real, *rest),
            "any": lambda: rest[0]}[kind]()


@HOSTILE
@example(spec=("real",), submission=({"scope": "all"}, {}), token="none")
@example(spec=("real",), submission=({"scope": "all"}, {}), token="forged")
@example(spec=("other",), submission=({"scope": "all"}, {}), token="valid")
@given(spec=links, submission=submissions({"scope": "all"}), token=TOKENS)
def test_confirm_links_answer_any_token_and_only_a_real_one_confirms(app, client, world, spec, submission, token):
    """GET and POST /confirm/<anything>: no 500; a GET changes nothing; only a real token with a page token confirms."""
    link = link_token(spec, world.confirm_token, world.unsubscribe_token)
    url = "/confirm/" + segment(link)
    with app.app_context():
        names_a_signature = bool(link) and tokens.signature_for(tokens.CONFIRM, link) is not None

    before = snapshot(app)
    shown = send(client, "GET", url)
    assert shown.status_code < 500
    assert snapshot(app) == before, "a GET never confirms: mail scanners follow links"
    assert (shown.status_code == 200) == names_a_signature

    # The confirm page's form carries its own page token (they are per page).
    page_token = world.confirm_page_token if names_a_signature else world.page_token
    posted = send(client, "POST", url, data=form_data(submission, token, page_token))
    after = snapshot(app)
    assert posted.status_code < 500
    if not names_a_signature:
        assert posted.status_code != 200 and after == before
    elif token != "valid":
        assert posted.status_code == 400 and after == before
    elif posted.status_code == 422:  # what the confirmer sent back is not a name and country we can record
        assert after == before
    else:
        assert posted.status_code == 200
        assert set(changed_tables(before, after)) <= {"signature", "signature_tally", "daily_country_count"}


@HOSTILE
@example(spec=("real",), submission=({"scope": "all"}, {}))
@example(spec=("other",), submission=({"scope": "all"}, {}))
@given(spec=links, submission=submissions({"scope": "all"}))
def test_unsubscribe_links_answer_any_token_and_only_a_real_one_unsubscribes(app, world, spec, submission):
    """GET and POST /unsubscribe/<anything>, without cookies: no 500; a token naming no signature changes nothing."""
    link = link_token(spec, world.unsubscribe_token, world.confirm_token)
    url = "/unsubscribe/" + segment(link)
    with app.app_context():
        names_a_signature = bool(link) and subscriptions.signature_for_unsubscribe(link) is not None
    client = app.test_client(use_cookies=False)  # as a mail client's one-click POST

    before = snapshot(app)
    shown = send(client, "GET", url)
    assert shown.status_code < 500
    assert snapshot(app) == before, "a GET never unsubscribes: mail scanners follow links"
    assert (shown.status_code == 200) == names_a_signature

    posted = send(client, "POST", url, data=form_data(submission, "none", ""))
    after = snapshot(app)
    assert posted.status_code < 500
    if names_a_signature:
        assert posted.status_code == 200
        assert set(changed_tables(before, after)) <= {"signature", "suppression"}
    else:
        assert posted.status_code != 200 and after == before


# --- Public pages with any slug or name --------------------------------------

slugs = st.one_of(texts, long_texts, NASTY, st.sampled_from(sorted(PUBLIC_SLUGS | {DRAFT})),
                  edits.map(lambda e: edited(PLEDGE, e)))


CAMPAIGN_PAGES = ["", "/count.json", "/calendar.ics", "/thanks", "/business/thanks"]


@HOSTILE
@example(slug="\x00", page="")  # PostgreSQL refuses NUL in a query parameter
@given(slug=slugs, page=st.sampled_from(CAMPAIGN_PAGES))
def test_campaign_pages_answer_any_slug(app, client, world, slug, page):
    """GET /c/<anything> and its count, calendar and thank-you pages: no 500, no change, only public campaigns shown."""
    before = snapshot(app)
    response = send(client, "GET", f"/c/{segment(slug)}{page}")
    assert response.status_code < 500
    assert snapshot(app) == before
    if slug not in PUBLIC_SLUGS:
        assert response.status_code != 200, "drafts and unknown campaigns are not found"


@HOSTILE
@example(slug="\x00", form="sign")
@given(slug=slugs, form=st.sampled_from(["sign", "business"]))
def test_signing_or_joining_at_any_slug_stores_nothing_unless_the_campaign_is_open(app, client, world, slug, form):
    """POST a valid pledge to /c/<anything>/sign or /business: no 500, and only an open campaign takes it."""
    if form == "sign":
        data = {**SIGN_FIELDS, "csrf_token": world.page_token}
    else:
        data = {"business-" + k: v for k, v in {**BUSINESS_FIELDS, "csrf_token": world.page_token}.items()}
    before = snapshot(app)
    response = send(client, "POST", f"/c/{segment(slug)}/{form}", data=data)
    assert response.status_code < 500
    if slug not in PUBLIC_SLUGS:
        assert response.status_code != 303 and snapshot(app) == before, "drafts and unknown campaigns take nothing"


@HOSTILE
@given(name=st.one_of(texts, long_texts, NASTY, st.sampled_from([
    "..", "../dev-secret-key", "../campaign.sqlite", "..\\dev-secret-key", "/etc/passwd", "%2e%2e%2fdev-secret-key",
    "....//dev-secret-key", "dev-secret-key\x00.png", "x.png"])))
def test_media_answers_any_name_and_serves_nothing_outside_the_uploads(app, client, world, name):
    """GET /media/<anything>: no 500, and only a file in the uploads folder is ever served."""
    for url in (f"/media/{segment(name)}", "/media/" + quote(name, safe="/")):
        response = send(client, "GET", url)
        assert response.status_code < 500
        if response.status_code == 200:
            with app.app_context():
                folder = image_folder().resolve()
            assert "/" not in name and (folder / name).resolve().parent == folder


# --- Newlines never become email headers -------------------------------------

NEWLINES = ["\r\n", "\n", "\r", "\r\n\t", "\n ", "\x0b", "\x0c", "\x1c", "\x85", "\u2028", "\u2029"]
INJECTION = "{nl}Bcc: victim@evil.example{nl}X-Injected: yes"
TOP_LEVEL = {"From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type",
             "Content-Transfer-Encoding", "List-Unsubscribe", "List-Unsubscribe-Post"}
IN_PARTS = {"Content-Type", "Content-Transfer-Encoding", "MIME-Version"}


def assert_no_injected_headers(message, recipient: str) -> None:
    """Exactly the headers we write, one recipient, and a one-line subject."""
    names = [k.lower() for k in message.keys()]
    assert set(message.keys()) <= TOP_LEVEL, f"unexpected headers {set(message.keys()) - TOP_LEVEL}"
    assert names.count("to") == 1 and names.count("subject") == 1
    assert message["To"].addresses[0].addr_spec == recipient and len(message["To"].addresses) == 1
    assert "\n" not in str(message["Subject"]) and "\r" not in str(message["Subject"])
    for part in message.walk():
        if part is not message:
            assert set(part.keys()) <= IN_PARTS, f"unexpected part headers {set(part.keys()) - IN_PARTS}"


def assert_delivered_cleanly(smtp, recipients: dict[str, int]) -> None:
    """Nothing for the injected Bcc; each email to one recipient with clean headers; the expected number each."""
    assert not smtp.to("victim@evil.example"), "an injected Bcc received mail"
    for received in smtp.received:
        assert len(received.envelope_to) == 1
        assert_no_injected_headers(received.message, received.envelope_to[0])
    assert {r: len(smtp.to(r)) for r in recipients} == recipients


def pending_then_confirmed(campaign, given_name: str, address: str, deliver) -> Signature:
    """A confirmed, opted-in signature made through the service layer, which checks
    no names; its confirmation email is sent before it is confirmed."""
    signing.sign(campaign, signing.Pledge(given_name, "Lovelace", address, "GB", None, True, True))
    deliver()
    signature = db.session.execute(select(Signature).where(Signature.email == address)).scalar_one()
    confirm_signature(signature)
    return signature


@pytest.mark.parametrize("nl", NEWLINES, ids=repr)
def test_a_newline_in_a_signers_name_adds_no_header_to_their_emails(app, smtp, deliver, nl):
    """A name with CR/LF (only the service layer lets one in) stays in the body of the confirmation and the update."""
    with app.app_context():
        campaign = make_campaign(title="Clean air")
        pending_then_confirmed(campaign, "Ada" + INJECTION.format(nl=nl), "ada@example.com", deliver)
        broadcasts.schedule(broadcasts.create_update(campaign, None, "News from the campaign", "We did it."))
    deliver()
    assert_delivered_cleanly(smtp, {"ada@example.com": 2})
    assert sorted(m.subject for m in smtp.received) == ["Confirm your signature: Clean air", "News from the campaign"]
    confirmation, update = sorted(smtp.received, key=lambda m: m.subject)
    # Before confirmation a name that holds a domain is not mailed at all...
    assert confirmation.text.startswith("Hello,") and "evil.example" not in confirmation.text
    # ...after it, the name the mailbox's owner confirmed is in the body, as written.
    assert "Bcc: victim@evil.example" in update.text


@pytest.mark.parametrize("nl", NEWLINES, ids=repr)
def test_a_newline_in_a_campaign_title_or_an_update_subject_adds_no_header(app, smtp, deliver, nl):
    """CR/LF in a title (confirmation, already signed, milestone, test) or an update subject: one line, no extra header."""
    title = "Clean air" + INJECTION.format(nl=nl)
    subject = "News" + INJECTION.format(nl=nl)
    with app.app_context():
        campaign = make_campaign(title=title, goal=1, milestone_emails=True)
        pending_then_confirmed(campaign, "Ada", "ada@example.com", deliver)
        signing.sign(campaign, signing.Pledge("Ada", "Lovelace", "ada@example.com", "GB", None, True, True))
        organiser = make_organiser()
        update = broadcasts.create_update(campaign, organiser, subject, "We did it.")
        broadcasts.send_test(update, organiser.email)
        broadcasts.schedule(update)
    deliver()
    assert_delivered_cleanly(smtp, {"ada@example.com": 4, "org@example.com": 1})
    flat_title, flat_subject = " ".join(title.split()), " ".join(subject.split())
    assert sorted(m.subject for m in smtp.received) == sorted([
        f"Confirm your signature: {flat_title}", f"You have already signed: {flat_title}",
        f"We reached 1 signatures: {flat_title}", flat_subject, f"[Test] {flat_subject}",
    ])


@HOSTILE
@given(title=st.text(max_size=200), subject=st.text(max_size=200), given_name=st.text(max_size=100))
def test_no_title_subject_or_name_can_add_a_header_to_any_email(ctx, title, subject, given_name):
    """Any text at all: the mail-merged update and the outbox's emails keep our headers and a one-line subject."""
    campaign = Campaign(slug="any", kind=Kind.PLEDGE, title=title, summary="", story="", pledge_text="", demands="")
    update = CampaignUpdate(campaign=campaign, subject=subject, body="We did it.")
    raw = update_merge(update).message(
        "ada@example.com", {"givenname": given_name, "link": "http://campaigns.test/unsubscribe/abc"}).raw
    merged = message_from_bytes(raw, policy=policy.default)
    assert_no_injected_headers(merged, "ada@example.com")
    assert " ".join(str(merged["Subject"]).split()) == " ".join(subject.split())

    sent = single_email("ada@example.com", render_template("email/confirm_signature.subject.txt", campaign=campaign),
                        f"Hello {given_name}", None)
    plain = message_from_bytes(sent.raw, policy=policy.default)
    assert_no_injected_headers(plain, "ada@example.com")
    assert " ".join(str(plain["Subject"]).split()) == " ".join(f"Confirm your signature: {title}".split())
