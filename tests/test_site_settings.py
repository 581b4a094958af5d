"""Site settings: an admin names the site, its logo text and icon, who runs
it, its contact address and privacy notice; every page shows them at once."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from campaign.extensions import db
from campaign.models import AuditEvent

from .builders import csrf_token, form_values, log_in, make_campaign, make_organiser

SETTINGS = "/organiser/site"


@pytest.fixture
def admin(app):
    with app.app_context():
        make_organiser("admin@example.com", is_admin=True)
        make_organiser("org@example.com")
        make_campaign(slug="walk-away", title="Walk away")
    client = app.test_client()
    log_in(client, "admin@example.com")
    return client


def save(client, **changes):
    data = form_values(client.get(SETTINGS).get_data(as_text=True))
    data.update(changes)
    return client.post(SETTINGS, data=data)


def test_the_defaults_name_the_site_and_link_its_own_privacy_notice(app, client):
    with app.app_context():
        make_campaign(slug="walk-away", title="Walk away")
    page = client.get("/c/walk-away").get_data(as_text=True)
    assert '<a class="site-name" href="/">Campaign site</a>' in page
    assert '<a href="/privacy">Privacy notice</a>' in page and "Run by" not in page
    privacy = client.get("/privacy")
    assert privacy.status_code == 200 and "What we collect" in privacy.get_data(as_text=True)
    # What the API and the webhooks pass on is said where supporters read who sees their details.
    assert "into their own supporter database, through this site’s API or its webhooks" in privacy.get_data(
        as_text=True)


def test_an_admin_sets_what_every_page_shows_and_the_cached_page_changes_at_once(app, admin):
    public = app.test_client()
    assert "Fair Feeds" not in public.get("/c/walk-away").get_data(as_text=True)  # built and kept
    response = save(admin, site_name="Fair Feeds", logo_text="FAIR FEEDS", favicon_text="FF",
                    accent_colour="#7A1F5C", organiser_name="The Fair Feeds coalition",
                    contact_email="hello@fairfeeds.example", privacy_url="")
    assert response.status_code == 303

    page = public.get("/c/walk-away").get_data(as_text=True)
    assert "<title>Walk away · Fair Feeds</title>" in page
    assert '<a class="site-name" href="/">FAIR FEEDS</a>' in page
    assert "Run by The Fair Feeds coalition" in page
    assert '<a href="mailto:hello@fairfeeds.example">hello@fairfeeds.example</a>' in page
    icon = public.get("/favicon.svg")
    assert icon.mimetype == "image/svg+xml"
    assert 'fill="#7a1f5c"' in icon.get_data(as_text=True) and ">FF</text>" in icon.get_data(as_text=True)
    assert "The Fair Feeds coalition" in public.get("/privacy").get_data(as_text=True)
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "site.settings")).one()
    assert event.detail["fields"] == ["site_name", "logo_text", "favicon_text", "accent_colour", "organiser_name",
                                      "contact_email"]


def test_a_privacy_notice_elsewhere_is_linked_from_every_page(app, admin):
    save(admin, privacy_url="https://fairfeeds.example/privacy")
    page = app.test_client().get("/").get_data(as_text=True)
    assert '<a href="https://fairfeeds.example/privacy">Privacy notice</a>' in page


def test_the_icon_escapes_what_an_admin_types(app, admin):
    save(admin, favicon_text="<s")
    body = app.test_client().get("/favicon.ico").get_data(as_text=True)
    assert "<s<" not in body and "&lt;s" in body


def test_an_admin_writes_the_sites_own_privacy_notice_in_markdown(app, admin):
    public = app.test_client()
    notice = ("## Who we are\n\nThe **Fair Feeds** coalition, 1 Example Street.\n\n"
              "<script>alert('x')</script>\n\n[Write to us](javascript:alert(1))")
    assert save(admin, privacy_notice=notice).status_code == 303
    page = public.get("/privacy").get_data(as_text=True)
    assert "<h2>Who we are</h2>" in page and "<strong>Fair Feeds</strong>" in page
    assert "<script>alert" not in page and 'href="javascript:' not in page
    assert "What we collect" not in page, "the organisers' notice replaces the site's own"
    # What the site does with details, and when, stays stated under it.
    assert "How long this site keeps details" in page and "days after a campaign closes" in page
    assert save(admin, privacy_notice="").status_code == 303
    page = public.get("/privacy").get_data(as_text=True)
    assert "What we collect" in page and "Who we are" not in page



SETTINGS_ERRORS = [
    ("site_name", "x" * 81, "The site name must be 80 characters or fewer"),
    ("logo_text", "x" * 41, "The logo text must be 40 characters or fewer"),
    ("favicon_text", "abc", "The icon holds at most 2 characters"),
    ("accent_colour", "", "Enter a colour like #1d4f91"),
    ("accent_colour", "blue", "Enter a colour like #1d4f91"),
    ("accent_colour", "#12345", "Enter a colour like #1d4f91"),
    ("accent_colour", "#ffff00", "Choose a darker colour: white letters on it must be easy to read"),
    ("organiser_name", "x" * 201, "This must be 200 characters or fewer"),
    ("organiser_name", "Bell\x07", "contains characters we cannot accept"),
    ("contact_email", "not an address", "Enter an email address in the correct format, like name@example.com"),
    ("privacy_url", "javascript:alert(1)", "Enter an address starting with https://"),
    ("privacy_url", "//evil.example/privacy", "Enter an address starting with https://"),
    ("privacy_url", "https://nodot", "Enter an address starting with https://"),
    ("privacy_url", "https://" + "x" * 300 + ".example", "The address must be 300 characters or fewer"),
    ("privacy_notice", "x" * 20_001, "The privacy notice must be 20,000 characters or fewer"),
    ("privacy_notice", "We keep\x00 nothing", "contains characters we cannot accept"),
]


@pytest.mark.parametrize(("name", "value", "message"), SETTINGS_ERRORS,
                         ids=[f"{n}-{v[:10]}" for n, v, _ in SETTINGS_ERRORS])
def test_a_bad_setting_says_why_and_nothing_changes(app, admin, name, value, message):
    typed = {"site_name": "Kept as typed", name: value}
    response = save(admin, **typed)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and f'id="{name}-error"' in html
    if name != "site_name":
        assert 'value="Kept as typed"' in html
    assert "Kept as typed" not in app.test_client().get("/").get_data(as_text=True)


def test_only_admins_reach_the_site_settings(app, admin):
    organiser = app.test_client()
    log_in(organiser, "org@example.com")
    assert organiser.get(SETTINGS).status_code == 404
    token = csrf_token(organiser.get("/organiser/login").get_data(as_text=True))
    assert organiser.post(SETTINGS, data={"csrf_token": token, "site_name": "Hijacked",
                                          "accent_colour": "#000000"}).status_code == 404
    assert "Hijacked" not in app.test_client().get("/").get_data(as_text=True)
