"""Organiser accounts and permissions: logging in and out, the session
cookie, rate limits, safe redirects, and who may open which back-office page
(checked by crawling every organiser route in the URL map)."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from campaign import api_keys, broadcasts, businesses, moderation, questions, webhooks
from campaign.extensions import db
from campaign.models import CampaignStatus, Kind, Organiser

from .builders import PASSWORD, confirmed_signatures, csrf_token, log_in, make_campaign, make_organiser

LOGIN = "/organiser/login"
WRONG_LOGIN = "The email address or password is not right."


def path_of(response) -> str:
    return urlsplit(response.headers["Location"]).path


def token_for(client) -> str:
    return csrf_token(client.get(LOGIN).get_data(as_text=True))


def logged_in_client(app, email):
    client = app.test_client()
    assert log_in(client, email).status_code == 303
    return client


# --- Logging in and out ------------------------------------------------------

def test_the_login_page_asks_for_email_and_password(client):
    """The login page has labelled Email and Password fields and a Log in button."""
    page = client.get(LOGIN)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<label for="email">Email</label>' in html
    assert '<label for="password">Password</label>' in html
    assert ">Log in</button>" in html


def test_an_organiser_logs_in_and_sees_their_campaigns(ctx, client):
    """The right address and password lead to the campaign list."""
    campaign = make_campaign(title="Ad-free weekend")
    make_organiser(campaigns=[campaign])
    response = log_in(client)
    assert response.status_code == 303
    assert path_of(response) == "/organiser/"
    html = client.get("/organiser/").get_data(as_text=True)
    assert "Ad-free weekend" in html and ">Log out</button>" in html


def test_the_address_is_not_case_sensitive_at_login(ctx, client):
    """ORG@Example.COM logs in the organiser created as org@example.com."""
    make_organiser("org@example.com")
    assert log_in(client, email="  ORG@Example.COM ").status_code == 303


@pytest.mark.parametrize("email, password", [
    ("org@example.com", "not the right password"),
    ("nobody@example.com", PASSWORD),
    ("retired@example.com", PASSWORD),
], ids=["wrong-password", "unknown-address", "deactivated-account"])
def test_a_failed_login_gives_one_message_whatever_went_wrong(ctx, client, email, password):
    """Wrong password, unknown or deactivated address: same status, same message."""
    make_organiser("org@example.com")
    make_organiser("retired@example.com").active = False
    db.session.commit()
    response = log_in(client, email=email, password=password)
    assert response.status_code == 422
    assert WRONG_LOGIN in response.get_data(as_text=True)
    assert client.get("/organiser/").status_code == 302


@pytest.mark.parametrize("email", ["a\x00b@example.com", "x" * 400 + "@example.com", "", "\u202eorg@example.com"],
                         ids=["nul-byte", "too-long", "empty", "bidi-override"])
def test_odd_login_addresses_are_refused_without_an_error(ctx, client, email):
    """Strange input in the email field is a failed login (422), never a 500."""
    make_organiser("org@example.com")
    assert log_in(client, email=email).status_code == 422


def test_logging_out_is_a_post_with_a_log_out_button(ctx, client):
    """GET /organiser/logout is 405; the Log out button's POST ends the session."""
    make_organiser()
    log_in(client)
    assert client.get("/organiser/logout").status_code == 405
    assert client.get("/organiser/").status_code == 200
    response = client.post("/organiser/logout", data={"csrf_token": token_for(client)})
    assert response.status_code == 303 and path_of(response) == LOGIN
    assert client.get("/organiser/").status_code == 302


def test_logging_out_needs_the_csrf_token(ctx, client):
    """A cross-site form cannot log an organiser out."""
    make_organiser()
    log_in(client)
    assert client.post("/organiser/logout").status_code == 400
    assert client.get("/organiser/").status_code == 200


def test_passwords_are_stored_as_argon2_hashes(ctx, runner):
    """`flask organiser create` keeps an argon2 hash, never the password itself."""
    result = runner.invoke(args=["organiser", "create", "new@example.com"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    stored = db.session.execute(select(Organiser.password_hash).where(Organiser.email == "new@example.com")).scalar_one()
    assert stored.startswith("$argon2") and PASSWORD not in stored


@pytest.mark.parametrize("password, created", [("x" * 11, False), ("x" * 12, True)], ids=["11-chars", "12-chars"])
def test_a_password_needs_at_least_twelve_characters(ctx, runner, client, password, created):
    """Twelve characters are enough; eleven are refused with a message."""
    result = runner.invoke(args=["organiser", "create", "new@example.com"], input=f"{password}\n{password}\n")
    assert (result.exit_code == 0) is created
    if not created:
        assert "The password must be at least 12 characters long" in result.output
    assert (log_in(client, "new@example.com", password).status_code == 303) is created


# --- The session cookie ------------------------------------------------------

def session_cookie(response) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, "no session cookie set"
    return cookies[-1]


def test_the_session_cookie_is_http_only_and_same_site_lax(ctx, client):
    """Scripts cannot read the session cookie and other sites' forms do not send it."""
    make_organiser()
    cookie = session_cookie(log_in(client))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # the test site is plain http


def test_the_session_cookie_is_secure_when_the_site_is_https(app_with):
    """With SITE_URL on https, the session cookie is only sent over https."""
    app = app_with(SITE_URL="https://x.test")
    with app.app_context():
        make_organiser()
    client = app.test_client()
    page = client.get(LOGIN, base_url="https://x.test")
    # Over https Flask-WTF also checks the Referer, as a browser sends it.
    response = client.post(LOGIN, base_url="https://x.test", headers={"Referer": "https://x.test/organiser/login"}, data={
        "email": "org@example.com", "password": PASSWORD, "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert response.status_code == 303
    cookie = session_cookie(response)
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


# --- Rate limits ---------------------------------------------------------------

@pytest.fixture
def limited(app_with):
    app = app_with(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://",
                    RATELIMIT_LOGIN="4 per minute", RATELIMIT_LOGIN_ACCOUNT="2 per minute")
    with app.app_context():
        make_organiser()
    return app


def attempt(client, email, password, ip):
    page = client.get(LOGIN, environ_base={"REMOTE_ADDR": ip})
    return client.post(LOGIN, environ_base={"REMOTE_ADDR": ip}, data={
        "email": email, "password": password, "csrf_token": csrf_token(page.get_data(as_text=True))})


def test_guesses_from_one_address_at_one_account_hit_that_pair_s_limit(limited):
    """One client address guessing at one account is stopped; the account
    itself is not: the organiser logs in from her own address."""
    client = limited.test_client()
    statuses = [attempt(client, "org@example.com", f"guess number {i}", "198.51.100.1").status_code
                for i in range(1, 4)]
    assert statuses == [422, 422, 429]
    assert attempt(client, "ORG@example.com", PASSWORD, "198.51.100.50").status_code == 303


def test_login_attempts_are_limited_per_address(limited):
    """Many accounts tried from one client address hit the address's limit; others are unaffected."""
    client = limited.test_client()
    statuses = [attempt(client, f"guess{i}@example.com", PASSWORD, "203.0.113.7").status_code for i in range(5)]
    assert statuses == [422, 422, 422, 422, 429]
    refused = attempt(client, "org@example.com", PASSWORD, "203.0.113.7")
    assert refused.status_code == 429 and "Too many attempts" in refused.get_data(as_text=True)
    assert attempt(client, "org@example.com", PASSWORD, "203.0.113.8").status_code == 303


def test_viewing_the_login_page_is_not_limited(limited):
    """Only attempts count: opening the page many times is fine."""
    client = limited.test_client()
    assert {client.get(LOGIN).status_code for _ in range(10)} == {200}


# --- Where login leads ------------------------------------------------------------

def log_in_with_next(client, next_url):
    page = client.get(LOGIN, query_string={"next": next_url})
    return client.post(LOGIN, query_string={"next": next_url}, data={
        "email": "org@example.com", "password": PASSWORD, "csrf_token": csrf_token(page.get_data(as_text=True))})


@pytest.mark.parametrize("next_url", [
    "https://evil.example", "//evil.example", "///evil.example", "/\\evil.example", "\\\\evil.example",
    "https:evil.example", "javascript:alert(1)", "/\t/evil.example", " //evil.example",
], ids=["absolute", "scheme-relative", "triple-slash", "backslash", "double-backslash",
        "scheme-no-slashes", "javascript", "tab", "leading-space"])
def test_login_never_redirects_off_the_site(ctx, client, next_url):
    """A `next` that is not a local path leads to the campaign list instead."""
    make_organiser()
    response = log_in_with_next(client, next_url)
    assert response.status_code == 303
    assert response.headers["Location"] == "/organiser/"


def test_login_returns_to_the_local_page_asked_for(ctx, client):
    """next=/organiser/c/x/ is honoured."""
    make_organiser()
    response = log_in_with_next(client, "/organiser/c/x/")
    assert response.headers["Location"] == "/organiser/c/x/"


def test_a_logged_out_organiser_lands_back_where_they_were_going(ctx, client):
    """Opening a dashboard logged out goes via login and back to the dashboard."""
    campaign = make_campaign()
    make_organiser(campaigns=[campaign])
    first = client.get(f"/organiser/c/{campaign.slug}/")
    assert path_of(first) == LOGIN
    next_url = parse_qs(urlsplit(first.headers["Location"]).query)["next"][0]
    assert next_url == f"/organiser/c/{campaign.slug}/"
    response = log_in_with_next(client, next_url)
    assert response.headers["Location"] == f"/organiser/c/{campaign.slug}/"
    assert client.get(response.headers["Location"]).status_code == 200


# --- Who sees what: a crawl of every organiser route -------------------------------

# Pages only an administrator may use, even on a campaign one is a member of.
ADMIN_ONLY = {
    ("organiser.manage_organisers", "GET"), ("organiser.manage_organisers", "POST"),
    ("organiser.members", "POST"), ("organiser.remove_member", "POST"), ("organiser.organiser_account", "POST"),
    ("organiser.invite_organiser", "POST"), ("organiser.require_two_factor", "POST"),
    ("organiser.reset_two_factor", "POST"), ("organiser.site_settings_page", "GET"),
    ("organiser.site_settings_page", "POST"),
}
# An organiser's own API key: nobody else's business, an admin's neither.
KEY_OWNER_ONLY = {("organiser.revoke_api_key", "GET"), ("organiser.revoke_api_key", "POST")}
ACCEPTABLE = {200, 303, 400, 410, 422}
# Pages for people who cannot log in (yet): a forgotten password, an emailed link.
BEFORE_LOGIN = {"organiser.forgot_password": {"GET": 200, "POST": 422},
                "organiser.reset_password": {"GET": 410, "POST": 410},
                "organiser.accept_invitation": {"GET": 410, "POST": 410},
                # The code step, without a password entered first, sends back to the password.
                "organiser.login_code": {"GET": 303, "POST": 303}}


@pytest.fixture
def world(ctx):
    """Two campaigns; a member of each, and an admin who belongs to neither."""
    ours = make_campaign(kind=Kind.BOYCOTT, status=CampaignStatus.DRAFT, title="Ours: the quiet boycott")
    theirs = make_campaign(kind=Kind.PLEDGE, status=CampaignStatus.DRAFT, title="Theirs: a secret pledge")
    member = make_organiser("member@example.com", campaigns=[ours])
    make_organiser("outsider@example.com", campaigns=[theirs])
    make_organiser("admin@example.com", is_admin=True)
    businesses.join_as_business(ours, businesses.BusinessPledge(
        "Acme Ltd", "https://acme.example", "ads@acme.example", "10-49"))
    business = ours.businesses[0]
    confirmed_signatures(ours, [("mistake@example.com", "GB"), ("fine@example.com", "FR")])
    batch = moderation.invalidate(ours, moderation.Criteria(email="mistake@example.com"), member, "test")
    update = broadcasts.create_update(ours, member, "News", "Thank you for signing.")
    question = questions.add_question(ours, "Are you a member?", "yesno")
    key, _token = api_keys.create_key(member, "Our CRM", [ours], {"read_counts"})
    endpoint, _secret = webhooks.create_endpoint(ours, "https://crm.example.org/hooks", {"signature.confirmed"}, member)
    db.session.commit()
    return {"ours": ours, "theirs": theirs, "arguments": {
        "slug": ours.slug, "business_id": business.id, "invalidation_id": batch.id, "organiser_id": member.id,
        "update_id": update.id, "question_id": question.id, "token": "not-a-real-token",
        "signature_id": 1, "language": "es", "key_id": key.id, "endpoint_id": endpoint.id}}


def organiser_requests(app, arguments):
    """(endpoint, method, path) for every organiser route and method, logout last."""
    adapter = app.url_map.bind("campaigns.test")
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("organiser."):
            continue
        unknown = set(rule.arguments) - set(arguments)
        assert not unknown, f"the crawl does not know how to fill {unknown} in {rule.rule}"
        path = adapter.build(rule.endpoint, {k: arguments[k] for k in rule.arguments})
        for method in sorted(rule.methods & {"GET", "POST"}):
            found.append((rule.endpoint, method, path))
    assert len(found) >= 20, "the crawl found suspiciously few organiser routes"
    return sorted(found, key=lambda r: r[0] in ("organiser.logout", "organiser.logout_everywhere"))


def crawl(app, client, arguments):
    """Request every organiser route as ``client``; POSTs carry a valid CSRF token."""
    token = token_for(client)
    results = []
    for endpoint, method, path in organiser_requests(app, arguments):
        if method == "GET":
            response = client.get(path)
        else:
            response = client.post(path, data={"csrf_token": token})
        response.get_data()  # read streamed bodies to the end, as a browser would
        response.close()
        results.append((endpoint, method, path, response.status_code, response.headers.get("Location", "")))
    return results


def test_the_crawl_covers_every_kind_of_organiser_page(app, world):
    """The crawl reaches dashboards, exports, moderation, businesses and members."""
    endpoints = {endpoint for endpoint, _, _ in organiser_requests(app, world["arguments"])}
    assert {"organiser.login", "organiser.dashboard", "organiser.export_signers", "organiser.invalidate",
            "organiser.decide_business", "organiser.members", "organiser.manage_organisers",
            "organiser.business_page", "organiser.resume_business", "organiser.campaign_scorecard",
            "organiser.campaign_sources", "organiser.campaign_embed", "organiser.campaign_consents",
            "organiser.campaign_languages", "organiser.campaign_translation",
            "organiser.translation_publication", "organiser.api_keys_page", "organiser.revoke_api_key",
            "organiser.campaign_webhooks", "organiser.webhook_endpoint", "organiser.webhook_redeliver",
            "organiser.delete_webhook"} <= endpoints


def test_anonymous_visitors_are_sent_to_login_from_every_organiser_page(app, client, world):
    """Every organiser URL and method redirects an anonymous visitor to /organiser/login
    (but the pages for getting in: a forgotten password, an emailed link)."""
    wrong = []
    for endpoint, method, path, status, location in crawl(app, client, world["arguments"]):
        if endpoint == "organiser.login":
            expected_ok = status == (200 if method == "GET" else 422)
        elif endpoint in BEFORE_LOGIN:
            expected_ok = status == BEFORE_LOGIN[endpoint][method]
        else:
            expected_ok = status == 302 and urlsplit(location).path == LOGIN
        if not expected_ok:
            wrong.append((method, path, status, location))
    assert wrong == []


def test_a_member_of_another_campaign_gets_404_for_every_page_of_this_one(app, world):
    """An organiser of a different campaign sees 404s, never this campaign, nor admin pages."""
    client = logged_in_client(app, "outsider@example.com")
    wrong = []
    for endpoint, method, path, status, _ in crawl(app, client, world["arguments"]):
        is_campaign_page = path.startswith(f"/organiser/c/{world['arguments']['slug']}/")
        if is_campaign_page or (endpoint, method) in ADMIN_ONLY | KEY_OWNER_ONLY:
            if status != 404:
                wrong.append((method, path, status))
        elif status not in ACCEPTABLE:
            wrong.append((method, path, status))
    assert wrong == []


def test_a_member_can_use_every_page_of_their_campaign(app, world):
    """A member never meets a 404 or 500 on their own campaign, except admin-only actions."""
    client = logged_in_client(app, "member@example.com")
    wrong = []
    for endpoint, method, path, status, _ in crawl(app, client, world["arguments"]):
        expected = {404} if (endpoint, method) in ADMIN_ONLY else ACCEPTABLE
        if status not in expected:
            wrong.append((method, path, status))
    assert wrong == []


def test_an_admin_can_use_every_page_of_every_campaign(app, world):
    """An admin, though a member of nothing, can open every organiser page
    (but another organiser's API key)."""
    client = logged_in_client(app, "admin@example.com")
    index = client.get("/organiser/").get_data(as_text=True)
    assert world["ours"].title in index and world["theirs"].title in index
    wrong = [(method, path, status) for endpoint, method, path, status, _ in crawl(app, client, world["arguments"])
             if status not in ({404} if (endpoint, method) in KEY_OWNER_ONLY else ACCEPTABLE)]
    assert wrong == []


@pytest.mark.parametrize("email, sees_ours, sees_theirs", [
    ("member@example.com", True, False),
    ("outsider@example.com", False, True),
    ("admin@example.com", True, True),
], ids=["member", "outsider", "admin"])
def test_the_campaign_list_shows_only_the_campaigns_one_may_see(app, world, email, sees_ours, sees_theirs):
    """/organiser/ never shows another campaign's title to a non-member."""
    html = logged_in_client(app, email).get("/organiser/").get_data(as_text=True)
    assert (world["ours"].title in html) is sees_ours
    assert (world["theirs"].title in html) is sees_theirs


@pytest.mark.parametrize("slug", ["no-such-campaign", "a%00b", "x" * 200, "%E2%80%AE"],
                         ids=["unknown", "nul-byte", "very-long", "bidi-override"])
def test_an_unknown_or_malformed_campaign_address_is_404(ctx, client, slug):
    """Campaign pages for an address that cannot exist are plain 404s, never 500s."""
    make_organiser(is_admin=True)
    log_in(client)
    assert client.get(f"/organiser/c/{slug}/").status_code == 404
