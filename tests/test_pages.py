"""What the public pages show: the list, a campaign, its window, its count."""
import datetime as dt

import pytest
from icalendar import Calendar
from markupsafe import escape

from campaign import counts, signing
from campaign.demo import DEMO_TRANSLATIONS, demo_campaigns
from campaign.extensions import db
from campaign.models import CampaignStatus, Kind, Signature, SignatureStatus

from .builders import confirm_signature, hours_from_now, make_campaign


def add_confirmed(campaign, n, show_name=False, country="GB", name="Sam"):
    """Confirmed signatures through the service, as if people had confirmed."""
    for i in range(n):
        signing.sign(campaign, signing.Pledge(
            given_name=f"{name}{i}" if n > 1 else name, family_name="Test",
            email=f"{name.lower()}{i}-{campaign.slug}@example.com", country=country,
            postal_code=None, email_opt_in=False, show_name=show_name))
    for signature in db.session.query(Signature).filter_by(campaign_id=campaign.id, status=SignatureStatus.PENDING):
        confirm_signature(signature)


def test_home_lists_live_campaigns_with_their_counts(ctx, client):
    live = make_campaign(title="Live one", summary="Short summary here")
    make_campaign(title="Hidden draft", status=CampaignStatus.DRAFT)
    add_confirmed(live, 3)
    html = client.get("/").get_data(as_text=True)
    assert "Live one" in html and "Short summary here" in html
    assert f'href="/c/{live.slug}"' in html
    assert "<strong>3</strong> signatures" in html
    assert "Hidden draft" not in html


def test_the_three_demo_campaigns_are_seeded_once(ctx, client, runner):
    assert "3 created" in runner.invoke(args=["demo", "seed"]).output
    assert "already present" in runner.invoke(args=["demo", "seed"]).output
    kinds = {"stop-hate-for-profit": "boycott", "walkaway": "pledge", "account-freeze": "freeze"}
    for slug, kind in kinds.items():
        page = client.get(f"/c/{slug}")
        assert page.status_code == 200
        assert f"campaign--{kind}" in page.get_data(as_text=True)


def test_the_demo_pages_say_only_what_is_true_of_them(ctx, client, runner):
    """Each demo campaign as a newcomer reads it: no promise the page does
    not keep, no pointer to something that is not where it says."""
    runner.invoke(args=["demo", "seed"])
    pages = {slug: client.get(f"/c/{slug}").get_data(as_text=True)
             for slug in ("stop-hate-for-profit", "walkaway", "account-freeze")}
    for slug, html in pages.items():
        assert "<title>" in html and "· Fair Feeds</title>" in html, slug
        assert "Run by Fair Feeds, a demonstration coalition" in html
        sign_form, story = html.index('id="sign"'), html.index('class="story"')
        assert sign_form < story, "the story's 'on this page' finds the form before it"
    for campaign in demo_campaigns(dt.date.today()):
        written = " ".join(str(campaign.get(name, "")) for name in (
            "title", "summary", "story", "pledge_text", "statement", "share_text", "next_action")).lower()
        for untrue in ("below", "millions", "for good"):
            assert untrue not in written, f"{campaign['slug']} says {untrue!r}"
    freeze = pages["account-freeze"]
    assert "For the next 24 hours I&#39;m freezing my account" in freeze, "the statement the steps ask to post"
    assert "9:00" in freeze
    pledge = pages["walkaway"]
    assert "I will log off from" in pledge and "Why are you pledging?" in pledge
    assert "stay off until" in pledge and "Our demands" in pledge
    boycott = pages["stop-hate-for-profit"]
    assert "Join as a business" in boycott and "July" in boycott


# What would be untrue of a demo page, in each of its other languages: the
# story comes after the form (so nothing is "below" it), no campaign has
# millions, and nobody leaves for good.
UNTRUE = {"es": ("abajo", "millones", "para siempre"),
          "fr": ("ci-dessous", "millions", "pour de bon", "pour toujours"),
          "ar": ("أدناه", "ملايين", "إلى الأبد")}
# The month of the boycott, the hour of the freeze, as each language writes them.
JULY = {"es": "julio", "fr": "juillet", "ar": "يوليو"}
NINE = {"es": "9:00", "fr": "9\u00a0h", "ar": "9:00"}


@pytest.mark.parametrize("language", ["es", "fr", "ar"])
def test_the_demo_pages_say_only_what_is_true_of_them_in_every_language(ctx, client, runner, language):
    """The same newcomer's reading of each demo campaign's page in Spanish,
    French and Arabic: all of it in that language, nothing untrue."""
    runner.invoke(args=["demo", "seed"])
    english = {campaign["slug"]: campaign for campaign in demo_campaigns(dt.date.today())}
    pages = {}
    for slug, languages in DEMO_TRANSLATIONS.items():
        html = client.get(f"/{language}/c/{slug}").get_data(as_text=True)
        pages[slug] = html
        words = languages[language]
        assert f"<h1>{escape(words['title'])}</h1>" in html
        assert escape(words["pledge_text"]) in html and escape(words["summary"]) in html
        assert english[slug]["title"] not in html and english[slug]["pledge_text"] not in html, "no English left"
        sign_form, story = html.index('id="sign"'), html.index('class="story"')
        assert sign_form < story, "the story's 'on this page' finds the form before it"
        written = " ".join(words.values()).lower()
        for untrue in UNTRUE[language]:
            assert untrue not in written, f"{slug} in {language} says {untrue!r}"
    freeze = DEMO_TRANSLATIONS["account-freeze"][language]
    assert escape(freeze["statement"]) in pages["account-freeze"], "the statement the steps ask to post"
    assert NINE[language] in freeze["story"] and NINE[language] in freeze["pledge_text"]
    pledge = DEMO_TRANSLATIONS["walkaway"][language]
    assert f">{escape(pledge['date_question'])}<" in pages["walkaway"], "the date question labels the date"
    assert JULY[language] in DEMO_TRANSLATIONS["stop-hate-for-profit"][language]["title"]


def test_a_campaign_page_shows_pledge_story_demands_count_and_form(ctx, client):
    campaign = make_campaign(
        pledge_text="I will log off.", demands="Open data\nNo dark patterns",
        story="## Why\n\nBecause **enough**.", goal=100)
    add_confirmed(campaign, 2)
    html = client.get(f"/c/{campaign.slug}").get_data(as_text=True)
    assert "I will log off." in html
    assert '<p class="demand-text">Open data</p>' in html and '<p class="demand-text">No dark patterns</p>' in html
    assert html.count("No response yet") == 2, "each demand shows its status on the scorecard"
    assert "<strong>enough</strong>" in html
    assert 'role="status"' in html and ">2</span>" in html
    assert '<progress value="2" max="100"' in html
    for label in ("First name", "Last name", "Email", "Country", "Postcode",
                  "Email me updates about this campaign", "Show my first name on the public list"):
        assert f">{label}<" in html or f">{label} <" in html
    assert 'name="csrf_token"' in html
    assert "Sign the pledge</button>" in html
    assert 'name="email_opt_in" type="checkbox" value="y">' in html  # unticked


def test_the_story_markdown_is_sanitised(ctx, client):
    campaign = make_campaign(story=(
        "Hello <script>alert(1)</script>\n\n[click](javascript:alert(1))\n\n"
        "<img src=x onerror=alert(1)>\n\n[ok](https://example.org)"))
    html = client.get(f"/c/{campaign.slug}").get_data(as_text=True)
    assert "<script>alert(1)" not in html
    assert "href=\"javascript:" not in html
    assert "<img" not in html
    assert 'href="https://example.org"' in html and 'rel="noopener noreferrer nofollow"' in html


def test_recent_signers_show_first_name_and_country_only_if_they_agreed(ctx, client):
    campaign = make_campaign()
    add_confirmed(campaign, 1, show_name=True, country="FR", name="Marie")
    add_confirmed(campaign, 1, show_name=False, country="DE", name="Hidden")
    html = client.get(f"/c/{campaign.slug}").get_data(as_text=True)
    assert "Marie" in html and "France" in html
    assert "Hidden" not in html
    assert "Test" not in html.split('class="signers"')[1]  # no family names
    assert "@example.com" not in html  # never an email address


def test_pending_signers_are_not_listed_or_counted(ctx, client):
    campaign = make_campaign()
    signing.sign(campaign, signing.Pledge("Pat", "Pending", "pat@example.com", "GB", None, False, True))
    html = client.get(f"/c/{campaign.slug}").get_data(as_text=True)
    assert "Pat" not in html
    assert client.get(f"/c/{campaign.slug}/count.json").get_json()["signatures"] == 0


@pytest.mark.parametrize(("count", "goal", "fixed", "shown"), [
    (0, 100, False, 100),
    (99, 100, False, 100),
    (100, 100, False, 200),
    (199, 100, False, 200),
    (200, 100, False, 500),
    (999, 500, False, 1000),
    (1000, 1000, False, 2000),
    (4999, 1000, False, 5000),
    (5000, 1000, False, 10000),
    (150, 100, True, 100),
    (0, 7, False, 7),
    (7, 7, False, 10),
])
def test_the_goal_steps_up_to_the_next_1_2_5(count, goal, fixed, shown):
    assert counts.displayed_goal(count, goal, fixed) == shown


def test_the_shown_goal_rises_when_reached(ctx, client):
    campaign = make_campaign(goal=2)
    add_confirmed(campaign, 2)
    assert client.get(f"/c/{campaign.slug}/count.json").get_json() == {
        "slug": campaign.slug, "signatures": 2, "goal": 5, "status": "live"}
    html = client.get(f"/c/{campaign.slug}").get_data(as_text=True)
    assert '<progress value="2" max="5"' in html


def test_drafts_are_not_public(ctx, client):
    draft = make_campaign(status=CampaignStatus.DRAFT)
    for path in ("", "/count.json", "/thanks", "/calendar.ics"):
        assert client.get(f"/c/{draft.slug}{path}").status_code == 404
    assert client.get("/c/no-such-campaign").status_code == 404


def test_a_closed_campaign_shows_its_final_count_and_takes_no_signatures(ctx, client):
    campaign = make_campaign(status=CampaignStatus.LIVE)
    add_confirmed(campaign, 4)
    campaign.status = CampaignStatus.CLOSED
    db.session.commit()
    html = client.get(f"/c/{campaign.slug}").get_data(as_text=True)
    assert "This campaign is closed" in html and "closed with 4 signatures" in html
    assert "Sign the pledge</button>" not in html
    assert client.post(f"/c/{campaign.slug}/sign", data={}).status_code in (400, 404)


def freeze(**fields):
    values = {"kind": Kind.FREEZE, "time_zone": "America/New_York",
              "next_action": "Join the next day of action."}
    values.update(fields)
    return make_campaign(**values)


def test_an_upcoming_freeze_shows_its_times_and_a_calendar_file(ctx, client):
    campaign = freeze(window_start=dt.datetime(2099, 3, 1, 14, 0), window_end=dt.datetime(2099, 3, 2, 14, 0))
    html = client.get(f"/c/{campaign.slug}").get_data(as_text=True)
    assert "The freeze starts soon" in html
    # 14:00 UTC is 09:00 in New York in March 2099 (before DST starts).
    assert "Sunday, March 1, 2099, 9:00\u202fAM EST" in html
    assert '<time datetime="2099-03-01T14:00:00Z" data-local>' in html
    assert "data-countdown" in html
    ics = client.get(f"/c/{campaign.slug}/calendar.ics")
    assert ics.status_code == 200 and ics.mimetype == "text/calendar"
    [event] = Calendar.from_ical(ics.data).walk("VEVENT")
    assert event.decoded("dtstart") == dt.datetime(2099, 3, 1, 14, 0, tzinfo=dt.UTC)
    assert event.decoded("dtend") == dt.datetime(2099, 3, 2, 14, 0, tzinfo=dt.UTC)
    assert str(event["summary"]) == campaign.title


def test_a_freeze_happening_now_shows_the_banner_and_steps(ctx, client):
    campaign = freeze(window_start=hours_from_now(-2), window_end=hours_from_now(22),
                      statement="I am going quiet for a day.")
    html = client.get(f"/c/{campaign.slug}").get_data(as_text=True)
    assert "The freeze is happening now" in html
    assert "Post the statement below" in html and "go quiet" in html
    assert "I am going quiet for a day." in html
    assert "data-countdown" not in html


def test_an_ended_freeze_shows_the_result_and_the_next_action(ctx, client):
    campaign = freeze(window_start=hours_from_now(-48), window_end=hours_from_now(-24))
    add_confirmed(campaign, 3)
    html = client.get(f"/c/{campaign.slug}").get_data(as_text=True)
    assert "The freeze has ended" in html
    # Signing up is not taking part: only answers to "Did you take part?" say that (see test_freeze_follow_through).
    assert "3 people signed up to take part." in html and "took part." not in html
    assert "Join the next day of action." in html
    assert "Sign the pledge</button>" not in html


def test_a_boycott_shows_its_pause_window(ctx, client):
    campaign = make_campaign(kind=Kind.BOYCOTT, time_zone="America/Los_Angeles",
                             window_start=dt.datetime(2099, 7, 1, 7), window_end=dt.datetime(2099, 8, 1, 7))
    html = client.get(f"/c/{campaign.slug}").get_data(as_text=True)
    assert "The pause starts soon" in html
    assert "Wednesday, July 1, 2099, 12:00\u202fAM PDT" in html
    assert client.get(f"/c/{campaign.slug}/calendar.ics").status_code == 200


def test_a_pledge_without_a_window_has_no_calendar(ctx, client):
    campaign = make_campaign()
    assert client.get(f"/c/{campaign.slug}/calendar.ics").status_code == 404


def test_the_thank_you_page_has_plain_share_links(ctx, client):
    campaign = make_campaign(share_text="Join me & sign")
    html = client.get(f"/c/{campaign.slug}/thanks").get_data(as_text=True)
    for service in ("mailto:", "https://x.com/intent/post", "https://www.facebook.com/sharer/sharer.php",
                    "https://wa.me/", "https://t.me/share/url"):
        assert service in html
    assert f"http://campaigns.test/c/{campaign.slug}" in html
    assert "Copy link" in html
    # No third-party scripts: the only script is our own.
    assert html.count("<script") == 1 and 'src="/static/js/site.js"' in html


def test_dev_mail_is_not_found_outside_debug(ctx, client):
    assert client.get("/dev/mail").status_code == 404
