"""What a screen reader, a keyboard or a phone meets on the pages, read
from the HTML the server sends: a page sent back with errors says so first
in its title and puts its error summary in focus; times are labelled for
what they are without JavaScript; the share links are on the campaign page
itself; taking a live campaign down asks first; the charts are drawn at a
phone's width."""
from __future__ import annotations

import re

import pytest

from campaign import charts, organisers
from campaign.models import CampaignStatus, Kind

from .builders import csrf_token, hours_from_now, log_in, make_campaign, make_organiser, valid_pledge

TITLE = re.compile(r"<title>(.*?)</title>", re.S)


def title(response) -> str:
    return " ".join(TITLE.search(response.get_data(as_text=True)).group(1).split())


def post_with_token(client, page: str, url: str, data: dict, token_field: str = "csrf_token"):
    return client.post(url, data={**data, token_field: csrf_token(client.get(page).get_data(as_text=True))})


# --- Errors: the title and the focus ---------------------------------------------------

@pytest.fixture
def pages(ctx):
    campaign = make_campaign(slug="pledge", title="A pledge")
    make_campaign(slug="boycott", kind=Kind.BOYCOTT, title="A boycott")
    make_organiser("org@example.com", campaigns=[campaign])
    return campaign


def test_the_public_form_sent_back_with_errors_says_error_first_in_its_title(pages, client):
    """A sign POST with a field left out: 422, and the title begins "Error:"."""
    response = post_with_token(client, "/c/pledge", "/c/pledge/sign", valid_pledge(given_name=""))
    assert response.status_code == 422
    assert title(response) == "Error: A pledge · Campaign site"
    assert title(client.get("/c/pledge")) == "A pledge · Campaign site", "no error, no prefix"


def test_the_organiser_login_sent_back_says_error_first_in_its_title(pages, client):
    """A wrong password, or nothing typed: 422, and the title begins "Error:"."""
    wrong = post_with_token(client, "/organiser/login", "/organiser/login",
                            {"email": "org@example.com", "password": "not the password"})
    empty = post_with_token(client, "/organiser/login", "/organiser/login", {"email": "", "password": ""})
    assert wrong.status_code == empty.status_code == 422
    assert title(wrong) == title(empty) == "Error: Log in · Campaign site"
    assert title(client.get("/organiser/login")) == "Log in · Campaign site"


@pytest.mark.parametrize(("page", "url", "data", "token_field"), [
    ("/c/boycott", "/c/boycott/business", {"business-organisation": ""}, "business-csrf_token"),
    ("/organiser/forgot-password", "/organiser/forgot-password", {"email": ""}, "csrf_token"),
], ids=["business-form", "forgot-password"])
def test_other_forms_sent_back_say_error_once(pages, client, page, url, data, token_field):
    """Every form does it, through the base template: once, never twice."""
    response = post_with_token(client, page, url, data, token_field)
    assert response.status_code == 422
    assert title(response).startswith("Error: ") and not title(response).startswith("Error: Error:")


def test_an_error_page_is_not_a_form_with_errors(pages, client):
    """A 404 names its trouble in its own words; no "Error:" from a form."""
    assert not title(client.get("/c/no-such-campaign")).startswith("Error:")


def test_the_error_summary_takes_the_focus_as_the_page_loads(pages, client):
    """Without JavaScript the summary has autofocus (and the form posts to
    no #fragment, which would make a browser skip it); static/js/site.js
    focuses it where a browser does not."""
    html = client.get("/c/pledge").get_data(as_text=True)
    assert 'action="/c/pledge/sign"' in html
    response = post_with_token(client, "/c/pledge", "/c/pledge/sign", valid_pledge(email="nope"))
    summary = re.search(r'<div class="error-summary"[^>]*>', response.get_data(as_text=True)).group(0)
    assert 'role="alert"' in summary and 'tabindex="-1"' in summary and "autofocus" in summary


# --- Times and the countdown --------------------------------------------------------

def test_without_javascript_a_utc_time_is_labelled_utc_not_your_time(ctx, client):
    """The page cannot know the viewer's zone: it says "In UTC:", and leaves
    the words "Your time:" for the script that puts the viewer's time there."""
    campaign = make_campaign(kind=Kind.FREEZE, window_start=hours_from_now(48), window_end=hours_from_now(72),
                             time_zone="Europe/London")
    html = client.get(f"/c/{campaign.slug}").get_data(as_text=True)
    labels = re.findall(r'<span data-local-label="([^"]+)">([^<]+)</span> <time datetime="[^"]+" data-local>([^<]+)',
                        html)
    assert len(labels) == 2
    for script_label, shown_label, time_shown in labels:
        assert (script_label, shown_label) == ("Your time:", "In UTC:")
        assert time_shown.endswith(" UTC")
    assert ">Your time:<" not in html


def test_the_countdown_words_come_from_the_page_in_whole_minutes(ctx, client):
    """The script only fills in numbers (once a minute): the words are the page's, translated there."""
    campaign = make_campaign(kind=Kind.FREEZE, window_start=hours_from_now(48), window_end=hours_from_now(72))
    html = client.get(f"/c/{campaign.slug}").get_data(as_text=True)
    assert 'data-countdown-text="Starts in {days} d {hours} h {minutes} min"' in html
    assert "data-countdown-done=" in html and " s\"" not in html


# --- Sharing -----------------------------------------------------------------------------

def test_the_campaign_page_itself_has_the_share_links(ctx, client):
    """Not only the thank-you page: a visitor can share before signing."""
    campaign = make_campaign(share_text="Join me")
    html = client.get(f"/c/{campaign.slug}").get_data(as_text=True)
    assert ">Share this campaign</h2>" in html
    for service in ("mailto:", "https://x.com/intent/post", "https://www.facebook.com/sharer/sharer.php",
                    "https://wa.me/", "https://t.me/share/url"):
        assert f'href="{service}' in html
    assert f'value="http://campaigns.test/c/{campaign.slug}" readonly' in html


# --- Taking a live campaign down asks first ------------------------------------------------

@pytest.fixture
def organiser_client(ctx, client):
    live = make_campaign(slug="live-one", title="Live one")
    make_organiser(campaigns=[live])
    assert log_in(client).status_code == 303
    return client


@pytest.mark.parametrize(("to", "button", "heading"), [
    ("closed", "Close the campaign", "Close “Live one”?"),
    ("draft", "Take it back to draft", "Take “Live one” back to draft?"),
])
def test_taking_a_live_campaign_down_from_the_dashboard_asks_first(organiser_client, to, button, heading):
    """The dashboard's Close and Back to draft lead (GET, no script) to a
    page that says what will happen; only its button's POST does it."""
    client = organiser_client
    dashboard = client.get("/organiser/c/live-one/").get_data(as_text=True)
    assert re.search(r'<form method="get" action="/organiser/c/live-one/status" class="inline">\s*'
                     rf'<input type="hidden" name="to" value="{to}">', dashboard)
    asked = client.get(f"/organiser/c/live-one/status?to={to}")
    html = asked.get_data(as_text=True)
    assert asked.status_code == 200 and heading in html and f">{button}</button>" in html
    assert 'action="/organiser/c/live-one/status"' in html and f'name="action" value="{to}"' in html
    assert client.get("/c/live-one").status_code == 200, "asking changed nothing"
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    response = client.post("/organiser/c/live-one/status", data={"csrf_token": token, "action": to})
    assert response.status_code == 303
    assert client.get("/c/live-one").status_code == (200 if to == "closed" else 404)


def test_there_is_nothing_to_confirm_for_a_campaign_that_is_not_live(organiser_client):
    """A closed campaign's page that asks first sends back to the dashboard;
    publishing needs no asking, and is no choice there."""
    organisers.add_member(organisers.find_organiser("org@example.com"),
                          make_campaign(slug="closed-one", status=CampaignStatus.CLOSED))
    answer = organiser_client.get("/organiser/c/closed-one/status?to=closed")
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/organiser/c/closed-one/")
    assert organiser_client.get("/organiser/c/live-one/status?to=live").status_code == 400


# --- Charts at a phone's width -------------------------------------------------------------

def test_the_charts_are_drawn_at_a_phones_width_so_their_labels_keep_their_size():
    """At 360 px a chart shows at about its own size, so a 13 px label stays
    about 13 px (drawn 600 wide, it was shrunk to half)."""
    rows = [{"country": "GB", "country_name": "United Kingdom", "signatures": 40},
            {"country": "CD", "country_name": "Congo - Kinshasa", "signatures": 3}]
    daily = charts.daily_chart([{"date": "2026-05-01", "signatures": 4}])
    by_country = charts.country_chart(rows)
    assert daily.width == by_country.width == charts.WIDTH <= 328
    assert all(bar.x + bar.width <= charts.WIDTH for bar in daily.bars + by_country.bars)
    assert max(bar.x + bar.width for bar in by_country.bars) <= charts.WIDTH - 40, "room for the number"
