"""Forgery and redirects.

Every route that accepts a POST, taken from the URL map rather than a hand
list, refuses a POST without a valid CSRF token (400) and changes nothing,
even for a logged-in administrator; the exceptions are the two that an
email's own buttons post, without cookies or a page token, where the signed
token in the URL is the proof (only its mailbox has it, and it can change
nothing but that signature's own choice): RFC 8058 one-click unsubscribe,
and a freeze's "Did you take part?" answer. The same
submissions with the right token are accepted, so the refusals are the
token's doing.

No response sends the browser to another site: not the login's ?next=,
whatever it holds, and no other route with a ?next= or a Referer."""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from urllib.parse import quote, urljoin, urlsplit

import pytest
from sqlalchemy import select

from campaign import (
    api_keys,
    broadcasts,
    businesses,
    create_app,
    moderation,
    organisers,
    privacy_mail,
    questions,
    scorecard,
    shared_pages,
    signing,
    tokens,
    translations,
    webhooks,
)
from campaign.extensions import db
from campaign.models import (
    Business,
    BusinessStatus,
    Campaign,
    Kind,
    OutboxMessage,
    OutboxStatus,
    PrivacyLink,
    Signature,
    Suppression,
    WebhookEndpoint,
)

from .builders import (
    PASSWORD,
    TOTP_SECRET,
    app_code,
    confirmed_signatures,
    csrf_token,
    log_in,
    make_campaign,
    make_organiser,
    turn_on_two_factor,
    valid_pledge,
)

ONE_CLICK_UNSUBSCRIBE = "public.unsubscribe_now"
CHECK_IN_ANSWER = "public.check_in_answer"
# Posted from emails: authorised by the signed token in their URL (see the module docstring).
TOKEN_IN_URL = {ONE_CLICK_UNSUBSCRIBE, CHECK_IN_ANSWER}
# "Manage my data": the forms carry a page token of their own scope.
MY_DATA_LINK_ENDPOINTS = ("public.my_data_page", "public.my_data_download", "public.my_data_consents",
                          "public.my_data_withdraw", "public.my_data_erase")
MY_DATA_ENDPOINTS = ("public.ask_for_my_data", *MY_DATA_LINK_ENDPOINTS)
SLUG = "ad-pause"
OTHER_SLUG = "another-campaign"
EVIL = "https://evil.example"


def _is_api(endpoint: str) -> bool:
    """The API (/api/v1): authenticated by a key in a header, never a cookie, so exempt as a whole."""
    return endpoint.startswith("api.")


def _post_endpoints() -> list[str]:
    """Every endpoint that accepts a POST, from an app built like the tests' own (the API's aside)."""
    app = create_app({"TESTING": True, "SECRET_KEY": "x" * 40, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    return sorted({rule.endpoint for rule in app.url_map.iter_rules()
                   if "POST" in rule.methods and not _is_api(rule.endpoint)})


POST_ENDPOINTS = _post_endpoints()

# What a person would genuinely submit to each route, so that the token is
# the only thing missing. A route not listed here gets an empty body.
GENUINE = {
    "public.sign": valid_pledge(email="new-signer@example.com"),
    "public.embed_sign": valid_pledge(email="embedded-signer@example.com"),
    "public.join_as_business": {
        "business-organisation": "Globex", "business-website": "globex.example",
        "business-contact_email": "ads@example.org", "business-company_size": "50-249"},
    "public.confirm": {"given_name": "Fan", "family_name": "Person", "country": "GB"},
    "public.unsubscribe_now": {"scope": "all"},
    "public.check_in_answer": {"answer": "yes"},
    "public.ask_for_my_data": {"email": "fan@example.com"},
    "public.my_data_download": {"format": "json"},
    "public.my_data_erase": {"confirm": "y"},
    "organiser.login": {"email": "admin@example.com", "password": PASSWORD},
    "organiser.logout": {},
    "organiser.organiser_account": {"action": "deactivate"},
    "organiser.forgot_password": {"email": "member@example.com"},
    "organiser.reset_password": {"password": "a brand new passphrase", "confirm": "a brand new passphrase"},
    "organiser.accept_invitation": {"password": "a brand new passphrase", "confirm": "a brand new passphrase"},
    "organiser.invite_organiser": {"invite-email": "colleague@example.com"},
    "organiser.manage_organisers": {"email": "new-organiser@example.com", "password": "a long enough password"},
    "organiser.new_campaign": {
        "kind": "pledge", "slug": "brand-new", "title": "Brand new", "summary": "One sentence.",
        "pledge_text": "I pledge.", "goal": "100", "time_zone": "UTC"},
    "organiser.edit_campaign": {
        "kind": "boycott", "slug": SLUG, "title": "Renamed", "summary": "One sentence.",
        "pledge_text": "I pledge.", "goal": "100", "time_zone": "UTC"},
    "organiser.change_status": {"action": "closed"},
    "organiser.decide_business": {"action": "rejected"},  # not confirmed by its contact address yet
    "organiser.invalidate": {"email_domain": "example.com", "reason": "a test", "confirm": "yes"},
    "organiser.undo_invalidation": {},
    "organiser.members": {"email": "outsider@example.com"},
    "organiser.remove_member": {},
    "organiser.milestones": {"action": "on"},
    "organiser.new_update": {"subject": "News", "body": "We did it.", "action": "send"},
    "organiser.confirm_update": {},
    "organiser.cancel_update": {},
    "organiser.campaign_embed": {"origins": "https://partner.example"},
    "organiser.campaign_languages": {"language": "fr"},
    "organiser.campaign_translation": {"title": "Pausa publicitaria"},
    "organiser.campaign_questions": {"label": "Postcode district", "kind": "text", "in_export": "y"},
    "organiser.edit_question": {"label": "Are you a paid-up member?", "kind": "yesno"},
    "organiser.question_visibility": {"action": "hide"},
    "organiser.move_question": {"action": "up"},
    "organiser.require_two_factor": {"action": "on"},
    "organiser.site_settings_page": {"site_name": "Renamed", "accent_colour": "#1d4f91"},
    "organiser.revoke_api_key": {"action": "revoke"},
    "organiser.campaign_webhooks": {"url": "https://crm.example.org/new", "events": "signature.confirmed"},
    "organiser.webhook_endpoint": {"url": "https://crm.example.org/moved", "events": "signature.withdrawn"},
    "organiser.webhook_active": {"action": "off"},
    "organiser.webhook_test": {"action": "test"},
    "organiser.webhook_secret": {"action": "rotate"},
    "organiser.delete_webhook": {"action": "delete"},
    "organiser.campaign_scorecard": {"demand": scorecard.demand_key("First demand"), "status": "met",
                                     "happened_on": dt.date.today().isoformat(),
                                     "source_url": "https://news.example/answer"},
}


# Submissions that need something set up first (an organiser with two-factor
# on, a login waiting for its code): called with (app, client) just before
# the POST; they return the submission.
def _enrolling(app, client):
    with app.app_context():
        admin = organisers.find_organiser("admin@example.com")
        admin.totp_secret = TOTP_SECRET
        db.session.commit()
    return {"code": app_code()}


def _admin_with_two_factor(body):
    def setup(app, client):
        with app.app_context():
            turn_on_two_factor("admin@example.com")
        return {key: value() if callable(value) else value for key, value in body.items()}
    return setup


def _member_with_two_factor(app, client):
    with app.app_context():
        turn_on_two_factor("member@example.com")
    return {"action": "reset"}


def _waiting_for_code(app, client):
    with app.app_context():
        turn_on_two_factor("admin@example.com")
    assert log_in(client, "admin@example.com").headers["Location"].endswith("/organiser/login/code")
    return {"code": app_code(), "csrf_token": csrf_token(client.get("/organiser/login/code").get_data(as_text=True))}


def _signed_a_minute_ago(app, client):
    """The thank-you page's "send the email again", for the pending signer,
    whose last email is old enough to send another."""
    with app.app_context():
        app.config["SIGNATURE_RESEND_AFTER_SECONDS"] = 0
        campaign_id = db.session.execute(select(Signature.campaign_id).where(
            Signature.email == "pending@example.com")).scalar_one()
        return {"token": tokens.resend_token(campaign_id, "pending@example.com")}


def _confirmed_pledge_of_a_month(app, client):
    """The business pledge, confirmed, pausing for a month: its extend link works."""
    with app.app_context():
        business = db.session.execute(select(Business)).scalar_one()
        business.pause_start, business.pause_end = dt.date.today(), dt.date.today() + dt.timedelta(days=30)
        db.session.commit()
        businesses.confirm_pledge(business.id)
    return {"pause_end": (dt.date.today() + dt.timedelta(days=60)).isoformat()}


def _listed_business(app, client):
    """The business pledge, confirmed and approved: it can be marked resumed."""
    with app.app_context():
        business = db.session.execute(select(Business)).scalar_one()
        businesses.confirm_pledge(business.id)
        businesses.decide(db.session.get(Business, business.id), BusinessStatus.APPROVED)
    return {"resumed_on": dt.date.today().isoformat(), "note": "Its ads are back.",
            "evidence_url": "https://ads.example/library"}


def _complete_in_spanish(app, client):
    """A whole Spanish translation, not yet published: it can be."""
    with app.app_context():
        campaign = db.session.execute(select(Campaign).where(Campaign.slug == SLUG)).scalar_one()
        texts = {"title": "Pausa publicitaria", "summary": "Una frase.", "story": "Por qué importa.",
                 "pledge_text": "Me comprometo.", "demands": "Primera exigencia\nSegunda exigencia"}
        labels = {question.id: (f"Pregunta {question.id}", []) for question in questions.questions_of(campaign.id)}
        translations.save_translation(campaign, "es", texts, labels)
    return {"action": "publish"}


def _asking_reasons(app, client):
    """The campaign becomes a pledge that asks reasons: the fan's waits."""
    with app.app_context():
        campaign = db.session.execute(select(Campaign).where(Campaign.slug == SLUG)).scalar_one()
        campaign.kind, campaign.asks_reason = Kind.PLEDGE, True
        db.session.commit()
    return {"action": "approve"}


def _fans_signature(body):
    """A "Manage my data" action on the fan's own signature (the link is theirs)."""
    def setup(app, client):
        with app.app_context():
            fan = db.session.execute(select(Signature.id).where(Signature.email == "fan@example.com")).scalar_one()
        return {"signature": str(fan), **body}
    return setup


def _new_api_key(app, client):
    """A key for the campaign the admin manages."""
    with app.app_context():
        campaign_id = db.session.execute(select(Campaign.id).where(Campaign.slug == SLUG)).scalar_one()
    return {"name": "Our CRM", "campaigns": str(campaign_id), "permissions": "read_counts"}


def _dead_letter(app, client):
    """A delivery to the campaign's endpoint, given up on: it can be redelivered."""
    with app.app_context():
        endpoint_id = db.session.execute(select(WebhookEndpoint.id)).scalar_one()
        message = OutboxMessage(kind=webhooks.KIND, recipient="", status=OutboxStatus.FAILED,
                                webhook_endpoint_id=endpoint_id, headers={"event": "signature.confirmed"})
        db.session.add(message)
        db.session.commit()
        return {"message": str(message.id)}


PREPARED = {
    "organiser.api_keys_page": _new_api_key,
    "organiser.webhook_redeliver": _dead_letter,
    "public.my_data_consents": _fans_signature({"change": "stop_updates"}),
    "public.my_data_withdraw": _fans_signature({}),
    "organiser.decide_reason": _asking_reasons,
    "organiser.translation_publication": _complete_in_spanish,
    "public.business_extend": _confirmed_pledge_of_a_month,
    "organiser.resume_business": _listed_business,
    "public.resend": _signed_a_minute_ago,
    "organiser.enable_two_factor": _enrolling,
    "organiser.new_recovery_codes": _admin_with_two_factor({"codes-code": app_code}),
    "organiser.disable_two_factor": _admin_with_two_factor({"off-password": PASSWORD, "off-code": app_code}),
    "organiser.reset_two_factor": _member_with_two_factor,
    "organiser.login_code": _waiting_for_code,
}


# --- Helpers -----------------------------------------------------------------

def snapshot(app) -> dict[str, list[tuple]]:
    """Every row of every table."""
    with app.app_context():
        return {t.name: sorted(map(tuple, db.session.execute(select(t)).all()), key=repr)
                for t in db.metadata.sorted_tables}


def changed_tables(before, after) -> list[str]:
    return [t for t in after if after[t] != before[t]]


def is_logged_in(client) -> bool:
    return client.get("/organiser/").status_code == 200


def lands_on(location: str):
    """Where a browser goes for this Location: URL parsers drop control
    characters and spaces at the ends and tabs and newlines anywhere, and
    read a backslash as a slash."""
    cleaned = location.strip("".join(map(chr, range(0x21))))
    for dropped in "\t\r\n":
        cleaned = cleaned.replace(dropped, "")
    return urlsplit(urljoin("http://localhost/organiser/login", cleaned.replace("\\", "/")))


def assert_stays_on_site(location: str) -> None:
    """A path on this site (not //, no backslash), or an absolute URL on this host; and a browser agrees."""
    assert not any(ord(c) < 32 or ord(c) == 127 for c in location), f"control characters in Location {location!r}"
    parts = urlsplit(location)
    local_path = location.startswith("/") and not location.startswith("//") and "\\" not in location
    same_host = parts.scheme in ("http", "https") and parts.netloc == "localhost"
    assert local_path or same_host, f"Location {location[:200]!r} leaves the site"
    target = lands_on(location)
    assert target.scheme in ("http", "https") and target.netloc == "localhost", \
        f"a browser would follow {location[:200]!r} to {target.scheme}://{target.netloc}"


def url_of(app, endpoint: str, world, method: str) -> str:
    """The endpoint's URL with every argument filled with a real value."""
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    args = {name: world.tokens[endpoint] if name == "token" else world.args[name] for name in rule.arguments}
    return app.url_map.bind("localhost").build(endpoint, args, method=method)


def uses_page_token(endpoint: str) -> bool:
    """Public forms carry the shared page token; the back office, the session's."""
    return endpoint.split(".")[0] == "public"


def with_token(body: dict, token: str | None) -> dict:
    if token is None:
        return dict(body)
    return {**body, "csrf_token": token, "business-csrf_token": token, "invite-csrf_token": token,
            "codes-csrf_token": token, "off-csrf_token": token}


# --- The world ---------------------------------------------------------------

@pytest.fixture
def world(app, client):
    """A live boycott with a pending and a confirmed signer, an invalidated
    batch, a pending business, a draft update and a member; an administrator
    logged in; and every kind of token a forger might try."""
    with app.app_context():
        campaign = make_campaign(slug=SLUG, kind=Kind.BOYCOTT)
        admin = make_organiser("admin@example.com", is_admin=True)
        member = make_organiser("member@example.com", campaigns=[campaign])
        make_organiser("outsider@example.com")
        signing.sign(campaign, signing.Pledge("Pat", "Pending", "pending@example.com", "GB", None, False, False))
        pending = db.session.execute(select(Signature).where(Signature.email == "pending@example.com")).scalar_one()
        [fan] = confirmed_signatures(campaign, [("fan@example.com", "GB", True)])
        fan.reason, fan.reason_public, fan.reason_status = "Because it matters.", True, "pending"
        db.session.commit()
        confirmed_signatures(campaign, [("bot@spam.example", "GB")])
        batch = moderation.invalidate(campaign, moderation.Criteria(email_domain="spam.example"), admin, "spam")
        businesses.join_as_business(campaign, businesses.BusinessPledge(
            "Acme Ltd", "https://acme.example", "ads@example.org", "10-49"))
        business_id = db.session.execute(select(Business.id)).scalar_one()
        update = broadcasts.create_update(campaign, admin, "News", "We did it.")
        questions.add_question(campaign, "Organisation", "text")
        question = questions.add_question(campaign, "Are you a member?", "yesno")
        args = {"slug": SLUG, "business_id": business_id, "invalidation_id": batch.id,
                "organiser_id": member.id, "update_id": update.id, "question_id": question.id,
                "signature_id": fan.id, "language": "es",
                "name": "missing.png", "mail_id": "missing", "filename": "css/site.css",
                # The API's (see test_the_api_is_the_only_blueprint_exempt_and_takes_no_cookie).
                "campaign_id": campaign.id, "person_id": "nobody", "anything": "nowhere"}
        link_tokens = {"public.confirm": tokens.token_for(tokens.CONFIRM, pending.id),
                       "public.unsubscribe": tokens.token_for(tokens.UNSUBSCRIBE, fan.id),
                       "public.unsubscribe_now": tokens.token_for(tokens.UNSUBSCRIBE, fan.id),
                       "public.business_confirm": tokens.token_for(tokens.CONFIRM_BUSINESS, business_id),
                       "organiser.reset_password": organisers.reset_token(member),
                       "organiser.accept_invitation": organisers.invitation_token(
                           organisers.invite("invited@example.com", admin, campaign=campaign))}
        expired_page_token = shared_pages._serializer().dumps([shared_pages._hour() - shared_pages.TOKEN_HOURS - 1,
                                                               SLUG])
        make_campaign(slug=OTHER_SLUG)
        key, _token = api_keys.create_key(admin, "A CRM", [campaign], {"read_counts"})
        endpoint, _secret = webhooks.create_endpoint(campaign, "https://crm.example.org/hooks",
                                                     {"signature.confirmed"}, admin)
        db.session.commit()
        args.update(key_id=key.id, endpoint_id=endpoint.id)
        fan_id = fan.id
        link_tokens["public.business_extend"] = tokens.extend_token(business_id)
        link_tokens["public.impact"] = tokens.token_for(tokens.IMPACT, fan_id)
        # A freeze that has ended, with a signer who signed before its end.
        freeze = make_campaign(slug="ended-freeze", kind=Kind.FREEZE, window_start=dt.datetime(2020, 1, 1),
                               window_end=dt.datetime(2020, 1, 2))
        [joined] = confirmed_signatures(freeze, [("joined@example.com", "GB", True)])
        db.session.execute(db.update(Signature).where(Signature.id == joined.id)
                           .values(created_at=dt.datetime(2019, 12, 31)))
        db.session.commit()
        link_tokens["public.check_in"] = link_tokens[CHECK_IN_ANSWER] = tokens.token_for(tokens.CHECK_IN, joined.id)
        # The fan's "Manage my data" link, as emailed to them.
        privacy_link = PrivacyLink(mailbox="fan@example.com")
        db.session.add(privacy_link)
        db.session.commit()
        for endpoint in MY_DATA_LINK_ENDPOINTS:
            link_tokens[endpoint] = privacy_mail.link_token(privacy_link.id)
    assert log_in(client, "admin@example.com").status_code == 303
    stranger = app.test_client()
    return SimpleNamespace(
        args=args, tokens=link_tokens, fan_id=fan_id,
        page_token=csrf_token(client.get(f"/c/{SLUG}").get_data(as_text=True)),
        other_page_token=csrf_token(client.get(f"/c/{OTHER_SLUG}").get_data(as_text=True)),
        confirm_page_token=csrf_token(client.get(f"/confirm/{link_tokens['public.confirm']}").get_data(as_text=True)),
        session_token=csrf_token(client.get("/organiser/login").get_data(as_text=True)),
        strangers_token=csrf_token(stranger.get("/organiser/login").get_data(as_text=True)),
        expired_page_token=expired_page_token,
        my_data_page_token=csrf_token(client.get("/my-data").get_data(as_text=True)),
    )


def right_token(endpoint: str, world) -> str:
    """The token the page behind ``endpoint``'s form carries: its campaign's
    page token, the confirm page's own, or the organiser's session token."""
    if endpoint in ("public.confirm", "public.business_confirm", "public.business_extend"):
        return world.confirm_page_token
    if endpoint in MY_DATA_ENDPOINTS:
        return world.my_data_page_token
    return world.page_token if uses_page_token(endpoint) else world.session_token


def forgeries(endpoint: str, world) -> list[tuple[str, str | None, dict]]:
    """(what, token, headers): every way of posting without a valid token."""
    right = right_token(endpoint, world)
    tried = [
        ("no token", None, {}),
        ("an empty token", "", {}),
        ("a tampered token", right.rsplit(".", 1)[0] + "." + "A" * 27, {}),
        ("another visitor's session token", world.strangers_token, {}),
    ]
    if uses_page_token(endpoint):
        tried += [
            ("an expired page token", world.expired_page_token, {}),
            ("the page token, posted from another site (Origin)", right, {"Origin": EVIL}),
            ("the page token, posted from another site (Sec-Fetch-Site)", right, {"Sec-Fetch-Site": "cross-site"}),
            ("the page token, saying nothing of where it comes from", right, {"Sec-Fetch-Site": ""}),
            ("the page token, from another site's page (Referer)", right,
             {"Sec-Fetch-Site": "", "Referer": EVIL + "/page"}),
            ("another campaign's page token", world.other_page_token, {}),
        ]
    else:
        tried += [("the public page token instead of the session's", world.page_token, {})]
    return tried


# --- CSRF --------------------------------------------------------------------

def test_every_post_route_but_those_posted_from_emails_refuses_a_post_without_a_valid_token(app, client, world):
    """Each POST rule in the URL map, with no token or an empty, tampered, foreign, expired or cross-site one: 400."""
    rules = [r for r in app.url_map.iter_rules() if "POST" in r.methods and not _is_api(r.endpoint)]
    assert sorted({r.endpoint for r in rules}) == POST_ENDPOINTS

    mail_client = app.test_client(use_cookies=False)
    accepted, problems = set(), []
    for rule in rules:
        url = url_of(app, rule.endpoint, world, "POST")
        one_click = rule.endpoint in TOKEN_IN_URL
        for what, token, headers in forgeries(rule.endpoint, world):
            before = snapshot(app)
            response = (mail_client if one_click else client).post(
                f"{url}?next={quote(EVIL)}", data=with_token(GENUINE.get(rule.endpoint, {}), token), headers=headers)
            changed = changed_tables(before, snapshot(app))
            still_in = is_logged_in(client)
            if response.status_code != 400 or changed or not still_in:
                accepted.add(rule.endpoint)
                if not one_click:
                    problems.append(f"{rule.endpoint} ({rule.rule}) with {what}: {response.status_code}, "
                                    f"changed {changed or 'nothing'}{'' if still_in else ', logged out'}")
            if not still_in:
                log_in(client, "admin@example.com")
            if one_click:
                assert response.status_code == 200, f"{rule.endpoint} with {what}: {response.status_code}"
                assert "Location" not in response.headers and "Set-Cookie" not in response.headers

    assert not problems, "accepted without a valid CSRF token:\n" + "\n".join(problems)
    assert accepted == TOKEN_IN_URL


def test_the_api_is_the_only_blueprint_exempt_and_takes_no_cookie(app, client, world):
    """The API is exempt from the CSRF check as a whole (and nothing else
    is): it authenticates by a key in a header, so the logged-in
    administrator's cookie alone gets a 401 and changes nothing."""
    from campaign.extensions import csrf
    assert {bp.name for bp in csrf._exempt_blueprints} == {"api"}
    api_posts = [r for r in app.url_map.iter_rules() if "POST" in r.methods and _is_api(r.endpoint)]
    assert "api.record_signature" in {r.endpoint for r in api_posts}
    assert is_logged_in(client)
    with app.app_context():
        campaign_id = db.session.execute(select(Campaign.id).where(Campaign.slug == SLUG)).scalar_one()
    for rule in api_posts:
        url = app.url_map.bind("localhost").build(rule.endpoint, {"campaign_id": campaign_id, "anything": "x"},
                                                  method="POST")
        before = snapshot(app)
        response = client.post(url, json={"person": {"given_name": "Fan", "family_name": "Person",
                                                     "email_addresses": [{"address": "cookie@example.com"}],
                                                     "postal_addresses": [{"country": "GB"}]}})
        assert response.status_code in (401, 404) and response.is_json, (rule.endpoint, response.status_code)
        assert response.status_code == 401 or rule.endpoint != "api.record_signature"
        assert "Set-Cookie" not in response.headers
        assert not changed_tables(before, snapshot(app))


def test_one_click_unsubscribe_works_without_a_token_or_cookies(app, world):
    """RFC 8058: a mail client's POST, with no cookie and no token, unsubscribes: 200, no redirect, no cookie set."""
    mail_client = app.test_client(use_cookies=False)
    url = url_of(app, ONE_CLICK_UNSUBSCRIBE, world, "POST")

    response = mail_client.post(url, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert "Location" not in response.headers and "Set-Cookie" not in response.headers
    with app.app_context():
        assert db.session.get(Signature, world.fan_id).unsubscribed_at is not None

    again = mail_client.post(url, data={"scope": "all"})
    assert again.status_code == 200
    assert "Location" not in again.headers and "Set-Cookie" not in again.headers
    with app.app_context():
        assert db.session.get(Suppression, "fan@example.com") is not None


@pytest.mark.parametrize("endpoint", POST_ENDPOINTS)
def test_with_the_right_token_each_post_route_does_its_job(app, client, world, endpoint):
    """The control: the same genuine submission with the right token is accepted, and any redirect stays on the site."""
    right = right_token(endpoint, world)
    url = url_of(app, endpoint, world, "POST")
    body = GENUINE.get(endpoint, {})
    if endpoint in PREPARED:
        body = PREPARED[endpoint](app, client)
        right = body.pop("csrf_token", right)
    before = snapshot(app)
    response = client.post(f"{url}?next={quote(EVIL)}", data=with_token(body, right))
    changed = changed_tables(before, snapshot(app))
    assert response.status_code in (200, 303), response.get_data(as_text=True)[:500]
    if "Location" in response.headers:
        assert_stays_on_site(response.headers["Location"])
    assert changed or not is_logged_in(client), f"{endpoint} did nothing: add a genuine submission to GENUINE"


# --- Redirects ---------------------------------------------------------------

HOSTILE_NEXT = [
    "https://evil.example",
    "//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "http:evil.example",
    "/%2F%2Fevil.example",
    " //evil.example",
    "javascript:alert(1)",
    "/organiser/%0d%0aSet-Cookie:x=1",
    "/" + "a" * 5000,
    # What browsers also read as another host.
    "///evil.example",
    "/\t/evil.example",
    "/%09/evil.example",
    "/%5Cevil.example",
    "https:/evil.example",
    "https:evil.example",
    "http://localhost@evil.example",
    "HTTPS://EVIL.EXAMPLE",
    "\x00//evil.example",
    "%2F%2Fevil.example",
    "data:text/html,<script>alert(1)</script>",
]


@pytest.mark.parametrize("sent_as", ["decoded value", "raw query text"])
@pytest.mark.parametrize("target", HOSTILE_NEXT, ids=lambda v: repr(v[:40]))
def test_login_never_redirects_off_the_site(app, client, target, sent_as):
    """/organiser/login?next=<hostile>: after a successful login the Location is on this site; nothing is injected."""
    with app.app_context():
        make_organiser()
    query = {"next": target} if sent_as == "decoded value" else "next=" + target.replace("#", "%23").replace("&", "%26")
    page = client.get("/organiser/login", query_string=query)
    response = client.post("/organiser/login", query_string=query, data={
        "email": "org@example.com", "password": PASSWORD, "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert response.status_code == 303
    assert_stays_on_site(response.headers["Location"])
    assert not any(c.startswith("x=") for c in response.headers.getlist("Set-Cookie"))
    assert is_logged_in(client)


@pytest.mark.parametrize("target", ["/organiser/", f"/organiser/c/{SLUG}/?tab=exports"])
def test_login_honours_a_local_next(app, client, target):
    """A path on this site is where the organiser was going: the login sends them there."""
    with app.app_context():
        make_organiser()
    page = client.get("/organiser/login", query_string={"next": target})
    response = client.post("/organiser/login", query_string={"next": target}, data={
        "email": "org@example.com", "password": PASSWORD, "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert response.status_code == 303
    assert response.headers["Location"] == target


REDIRECT_PARAMETERS = ["next", "return_to", "returnTo", "redirect", "redirect_to", "redirect_uri", "url",
                       "continue", "goto", "r", "dest", "destination"]


@pytest.mark.parametrize("target", [EVIL, "//evil.example", "/\\evil.example"])
def test_no_get_route_redirects_to_a_url_from_the_request(app, client, world, target):
    """Every GET rule, anonymous and logged in, with ?next= (and cousins) and a foreign Referer: no Location leaves."""
    anonymous = app.test_client()
    query = {name: target for name in REDIRECT_PARAMETERS}
    followed = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        url = url_of(app, rule.endpoint, world, "GET")
        for visitor in (anonymous, client):
            with visitor.get(url, query_string=query, headers={"Referer": target + "/page"}) as response:
                response.get_data()  # a streamed export runs to its end, as a server would make it
            assert response.status_code < 500, f"GET {url}: {response.status_code}"
            if "Location" in response.headers:
                followed.append(rule.endpoint)
                assert_stays_on_site(response.headers["Location"])
    assert followed, "the crawl saw no redirect at all: the login_required ones at least should be there"
