"""Boycott follow-through: a business pledges a pause period, extends it
from the link in its confirmation email, and an organiser marks it resumed
with evidence; the public list shows each business's status and timeline.
And the scorecard: each demand's status, with dated entries and sources,
recorded by organisers and shown on the public page."""
from __future__ import annotations

import datetime as dt
import re
import time
from types import SimpleNamespace

import itsdangerous.timed
import pytest
from sqlalchemy import select

from campaign import business_pauses, businesses, scorecard, shared_pages, tokens
from campaign.extensions import db
from campaign.models import (
    AuditEvent,
    Business,
    BusinessEvent,
    BusinessStatus,
    Campaign,
    CampaignUpdate,
    Demand,
    DemandEntry,
    Kind,
    UpdateStatus,
    utcnow,
)
from campaign.pause_periods import MOST_EXTENSIONS, default_period

from .builders import csrf_token, form_values, log_in, make_campaign, make_organiser
from .test_forms import page

SLUG = "pause-the-ads"
TODAY = utcnow().date()


def day(days_from_today: int) -> dt.date:
    return TODAY + dt.timedelta(days=days_from_today)


def long_day(d: dt.date) -> str:
    """A day as the English pages write it: July 1, 2026."""
    return f"{d:%B} {d.day}, {d.year}"


def text_of(response) -> str:
    words = " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())
    return re.sub(r" ([:.,)])", r"\1", words)


def first_error(response) -> str:
    doc = page(response)
    return next(iter(doc.summary_links().values()))


@pytest.fixture
def world(app):
    """A live boycott whose window is the next month, with demands; its
    organiser; another campaign's organiser."""
    with app.app_context():
        start = dt.datetime.combine(day(10), dt.time())
        campaign = make_campaign(slug=SLUG, kind=Kind.BOYCOTT, title="Pause the ads",
                                 window_start=start, window_end=start + dt.timedelta(days=31),
                                 demands="Remove hate groups\nLabel manipulated media\nOffer live support")
        make_organiser("org@example.com", campaigns=[campaign])
        other = make_campaign(slug="elsewhere", kind=Kind.BOYCOTT)
        make_organiser("other@example.com", campaigns=[other])
        return SimpleNamespace(id=campaign.id, start=day(10), end=day(40))


def join(client, **fields):
    """Open the campaign page and send its business form as a browser would,
    with ``fields`` changed (None leaves a field empty)."""
    html = client.get(f"/c/{SLUG}").get_data(as_text=True)
    data = {name: value for name, value in form_values(html.split('id="business"')[1]).items()
            if name.startswith("business-")}
    data.update({"business-organisation": "Acme Bakery", "business-website": "acme-bakery.example",
                 "business-contact_email": "owner@acme-bakery.example", "business-company_size": "10-49",
                 "business-csrf_token": csrf_token(html)})
    data.update({f"business-{k}": "" if v is None else v for k, v in fields.items()})
    return client.post(f"/c/{SLUG}/business", data=data)


def the_business(app) -> Business:
    with app.app_context():
        business = db.session.execute(select(Business)).scalar_one()
        db.session.expunge(business)
        return business


def approve(app) -> int:
    with app.app_context():
        business_id = db.session.execute(select(Business.id)).scalar_one()
        businesses.confirm_pledge(business_id)
        businesses.decide(db.session.get(Business, business_id), BusinessStatus.APPROVED)
        return business_id


def edition(app) -> int:
    with app.app_context():
        return db.session.scalar(select(Campaign.edition).where(Campaign.slug == SLUG))


def audit_events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        rows = list(db.session.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars())
        db.session.expunge_all()
        return rows


def public_business(client) -> SimpleNamespace:
    """The first business on the public list: its status line and timeline entries."""
    doc = page(client.get(f"/c/{SLUG}"))
    clean = lambda e: " ".join(e["text"].split())
    status = [clean(e) for e in doc.elements if "pause-status" in e["attrs"].get("class", "")]
    entries = [clean(e) for e in doc.elements if e["tag"] == "li" and "timeline-entry" in e["attrs"].get("class", "")]
    links = [e["attrs"] for e in doc.elements if e["tag"] == "a" and "timeline" in e["inside"]]
    return SimpleNamespace(status=status, entries=entries, links=links)


# --- Pledging a pause period ---------------------------------------------------------


def test_the_business_form_offers_the_campaign_window_as_the_pause(app, client, world):
    """The first and last day of the window, in the campaign's time zone, are filled in."""
    doc = page(client.get(f"/c/{SLUG}"))
    assert doc.attrs("business-pause_start")["value"] == world.start.isoformat()
    assert doc.attrs("business-pause_start")["type"] == "date"
    assert doc.attrs("business-pause_end")["value"] == world.end.isoformat()
    labels = {e["attrs"].get("for"): " ".join(e["text"].split()) for e in doc.elements if e["tag"] == "label"}
    assert labels["business-pause_start"] == "First day of the pause (optional)"
    assert labels["business-pause_end"] == "Last day of the pause (optional)"


def test_a_window_ending_at_midnight_local_time_ends_the_day_before(ctx):
    """1 July 00:00 to 1 August 00:00 in London (23:00 UTC the day before) is 1 to 31 July."""
    campaign = Campaign(window_start=dt.datetime(2026, 6, 30, 23), window_end=dt.datetime(2026, 7, 31, 23),
                        time_zone="Europe/London")
    assert default_period(campaign) == (dt.date(2026, 7, 1), dt.date(2026, 7, 31))
    assert default_period(Campaign(time_zone="UTC")) == (None, None)


def test_a_business_pledges_a_dated_pause(app, client, world):
    response = join(client, pause_start=day(5).isoformat(), pause_end=day(35).isoformat())
    assert response.status_code == 303
    business = the_business(app)
    assert (business.pause_start, business.pause_end) == (day(5), day(35))
    with app.app_context():
        [pledged] = db.session.execute(select(BusinessEvent)).scalars().all()
        assert (pledged.kind, pledged.happened_on, pledged.pause_start, pledged.pause_end) == (
            "pledged", TODAY, day(5), day(35))


def test_empty_days_mean_from_today_until_further_notice(app, client, world):
    assert join(client, pause_start=None, pause_end=None).status_code == 303
    business = the_business(app)
    assert (business.pause_start, business.pause_end) == (TODAY, None)


PAUSE_BAD_INPUT = [
    pytest.param({"pause_start": "2026-02-30"}, "Enter the first day of the pause as a date, like 2026-07-01", id="start-no-such-day"),
    pytest.param({"pause_start": "next monday"}, "Enter the first day of the pause as a date, like 2026-07-01", id="start-words"),
    pytest.param({"pause_end": "31/07/2026"}, "Enter the last day of the pause as a date, like 2026-07-31", id="end-day-first"),
    pytest.param({"pause_end": "10000-01-01"}, "Enter the last day of the pause as a date, like 2026-07-31", id="end-year-10000"),
    pytest.param({"pause_start": day(20).isoformat(), "pause_end": day(19).isoformat()},
                 "The pause must end on or after the day it starts", id="end-before-start"),
    pytest.param({"pause_start": day(-30).isoformat(), "pause_end": day(-1).isoformat()},
                 "The pause must end today or later", id="already-over"),
    pytest.param({"pause_start": day(400).isoformat(), "pause_end": None},
                 "The pause must start within a year from today", id="start-too-far-ahead"),
    pytest.param({"pause_start": day(-400).isoformat(), "pause_end": None},
                 "The pause cannot have started more than a year ago", id="start-too-long-ago"),
    pytest.param({"pause_start": day(1).isoformat(), "pause_end": day(1 + 732).isoformat()},
                 "A pause with an end date can last at most two years: leave the end empty for “until further notice”",
                 id="longer-than-two-years"),
]


@pytest.mark.parametrize("fields, message", PAUSE_BAD_INPUT)
def test_a_pause_period_that_cannot_be_right_is_refused_with_a_message(app, client, world, fields, message):
    response = join(client, **fields)
    assert response.status_code == 422
    assert first_error(response) == message
    with app.app_context():
        assert db.session.execute(select(Business)).first() is None


# --- Extending from the emailed link -----------------------------------------------------


def extend_path(smtp, deliver) -> str:
    deliver()
    [email] = [m for m in smtp.to("owner@acme-bakery.example") if m.subject.startswith("Confirm")]
    match = re.search(r"https?://[^/\s]+(/business/extend/[\w.-]+)", email.text)
    assert match, f"no extend link in the email:\n{email.text}"
    assert "/business/extend/" in email.html
    return match.group(1)


def extend(client, path, **fields):
    """Send the extend page's form; a page that shows none is sent a token of that page all the same."""
    with client.application.app_context():
        token = shared_pages.page_token("")
    return client.post(path, data={"csrf_token": token, **fields})


def test_a_business_extends_its_pause_from_the_link_in_its_email(app, client, world, smtp, deliver):
    """The page shows the pause, not the name typed; the POST moves the last
    day, adds "extended" to the public timeline and to the audit log."""
    join(client, pause_start=day(10).isoformat(), pause_end=day(40).isoformat())
    path = extend_path(smtp, deliver)
    approve(app)
    before = edition(app)
    shown = client.get(path)
    assert shown.status_code == 200 and shown.headers["Cache-Control"] == "no-store"
    assert "Acme Bakery" not in shown.get_data(as_text=True)
    assert f"{long_day(day(10))} to {long_day(day(40))}" in text_of(shown)

    done = extend(client, path, pause_end=day(70).isoformat())
    assert done.status_code == 200 and "Your pause is extended" in text_of(done)
    assert the_business(app).pause_end == day(70)
    assert edition(app) > before
    shown = public_business(client)
    assert shown.status == [f"Extended: pausing {long_day(day(10))} to {long_day(day(70))}"]
    assert shown.entries == [f"{long_day(TODAY)}: pledged to pause its ads {long_day(day(10))} to {long_day(day(40))}",
                             f"{long_day(TODAY)}: extended the pause to {long_day(day(70))}"]
    [event] = audit_events(app, "business.extended")
    assert event.organiser_id is None and event.detail == {"business": the_business(app).id,
                                                           "until_further_notice": False}

    again = extend(client, path, until_further_notice="y")
    assert again.status_code == 200 and the_business(app).pause_end is None
    assert public_business(client).entries[-1] == f"{long_day(TODAY)}: extended the pause until further notice"
    assert "already until further notice" in text_of(client.get(path))


EXTEND_BAD_INPUT = [
    pytest.param({}, "Enter the new last day of the pause, or tick “Until further notice”", id="nothing"),
    pytest.param({"pause_end": "soon"}, "Enter the new last day as a date, like 2026-08-31", id="unreadable"),
    pytest.param({"pause_end": "SAME"}, "Choose a day after the current last day, {end}", id="same-day"),
    pytest.param({"pause_end": "EARLIER"}, "Choose a day after the current last day, {end}", id="shorter"),
    pytest.param({"pause_end": "FAR", }, "A pause with an end date can last at most two years: tick “Until further notice” instead", id="over-two-years"),
    pytest.param({"pause_end": "LATER", "until_further_notice": "y"}, "Give a new last day or tick “Until further notice”, not both", id="both"),
]


@pytest.mark.parametrize("fields, message", EXTEND_BAD_INPUT)
def test_an_extension_that_does_not_extend_is_refused_with_a_message(app, client, world, smtp, deliver, fields, message):
    join(client, pause_start=day(10).isoformat(), pause_end=day(40).isoformat())
    path = extend_path(smtp, deliver)
    approve(app)
    days = {"SAME": day(40), "EARLIER": day(30), "FAR": day(10 + 732), "LATER": day(50)}
    fields = {k: days[v].isoformat() if v in days else v for k, v in fields.items()}
    response = extend(client, path, **fields)
    assert response.status_code == 422
    assert first_error(response) == message.format(end=long_day(day(40)))
    assert the_business(app).pause_end == day(40)
    assert audit_events(app, "business.extended") == []


def test_the_link_extends_nothing_before_the_pledge_is_confirmed(app, client, world, smtp, deliver):
    join(client, pause_start=day(10).isoformat(), pause_end=day(40).isoformat())
    path = extend_path(smtp, deliver)
    assert "Confirm the pledge first" in text_of(client.get(path))
    assert extend(client, path, pause_end=day(60).isoformat()).status_code == 409
    assert the_business(app).pause_end == day(40)


def test_the_link_extends_nothing_once_the_business_is_marked_resumed(app, client, world, smtp, deliver):
    join(client, pause_start=day(-10).isoformat(), pause_end=day(40).isoformat())
    path = extend_path(smtp, deliver)
    business_id = approve(app)
    with app.app_context():
        business_pauses.mark_resumed(db.session.get(Business, business_id), None, day(-1), "Ads seen.",
                                     "https://ads.example/acme")
    assert "advertises again since" in text_of(client.get(path))
    assert extend(client, path, pause_end=day(60).isoformat()).status_code == 409
    assert the_business(app).pause_end == day(40)


def test_the_link_extends_at_most_a_few_times(app, client, world, smtp, deliver):
    """Whoever holds the link can only lengthen the pause, and only so often."""
    join(client, pause_start=day(10).isoformat(), pause_end=day(40).isoformat())
    path = extend_path(smtp, deliver)
    approve(app)
    for n in range(1, MOST_EXTENSIONS + 1):
        assert extend(client, path, pause_end=day(40 + n).isoformat()).status_code == 200
    assert "extended as often as a link allows" in text_of(client.get(path))
    assert extend(client, path, pause_end=day(90).isoformat()).status_code == 409
    assert the_business(app).pause_end == day(40 + MOST_EXTENSIONS)


def test_an_old_forged_or_borrowed_link_extends_nothing(app, client, world, smtp, deliver, monkeypatch):
    """Past BUSINESS_EXTEND_LINK_DAYS: 410 with a page that says so. A
    tampered token, or another link's token (the confirm link's) : 404."""
    join(client, pause_start=day(10).isoformat(), pause_end=day(40).isoformat())
    path = extend_path(smtp, deliver)
    business_id = approve(app)

    now = time.time()
    with monkeypatch.context() as patched, app.app_context():
        patched.setattr(itsdangerous.timed.time, "time", lambda: now - 181 * 86400)
        expired = tokens.extend_token(business_id)
    response = client.get(f"/business/extend/{expired}")
    assert response.status_code == 410 and "This link has expired" in text_of(response)
    with app.app_context():
        confirm_token = tokens.token_for(tokens.CONFIRM_BUSINESS, business_id)
    for token in (path.rsplit("/", 1)[1][:-3] + "AAA", confirm_token):
        assert client.get(f"/business/extend/{token}").status_code == 404
    assert the_business(app).pause_end == day(40)


# --- Marking a business resumed ----------------------------------------------------------


def organiser(app, email="org@example.com"):
    client = app.test_client()
    assert log_in(client, email).status_code == 303
    return client


def resume(client, business_id, slug=SLUG, **fields):
    url = f"/organiser/c/{slug}/businesses/{business_id}"
    token = csrf_token(client.get("/organiser/login").get_data(as_text=True))
    data = {"resumed_on": day(-2).isoformat(), "note": "Its ads are back in the ad library.",
            "evidence_url": "https://ads.example/library?id=42", **fields}
    return client.post(f"{url}/resume", data={"csrf_token": token, **{k: v for k, v in data.items() if v is not None}})


def test_an_organiser_marks_a_business_resumed_with_a_note_and_evidence(app, client, world):
    join(client, pause_start=day(-10).isoformat(), pause_end=day(40).isoformat())
    business_id = approve(app)
    org = organiser(app)
    own_page = org.get(f"/organiser/c/{SLUG}/businesses/{business_id}")
    assert own_page.status_code == 200 and "Mark as resumed" in text_of(own_page)
    before = edition(app)

    response = resume(org, business_id)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/organiser/c/{SLUG}/businesses/{business_id}"
    assert edition(app) > before
    shown = public_business(client)
    assert shown.status == [f"Resumed: advertising again since {long_day(day(-2))}"]
    assert shown.entries[-1] == f"{long_day(day(-2))}: resumed advertising. Its ads are back in the ad library. Evidence (Acme Bakery)"
    [link] = shown.links
    assert link["href"] == "https://ads.example/library?id=42"
    assert set(link["rel"].split()) >= {"nofollow", "noopener", "noreferrer"}
    [event] = audit_events(app, "business.resumed")
    assert event.detail == {"business": business_id}
    assert "Evidence" in text_of(org.get(f"/organiser/c/{SLUG}/businesses/{business_id}"))

    twice = resume(org, business_id, resumed_on=day(-1).isoformat())
    assert twice.status_code == 303 and len(audit_events(app, "business.resumed")) == 1


RESUME_BAD_INPUT = [
    pytest.param({"resumed_on": None}, "Enter the day it resumed advertising", id="no-day"),
    pytest.param({"resumed_on": "yesterday"}, "Enter the day it resumed as a date, like 2026-08-15", id="unreadable-day"),
    pytest.param({"resumed_on": day(5).isoformat()}, "The day it resumed cannot be in the future", id="future"),
    pytest.param({"resumed_on": day(-20).isoformat()}, f"The day it resumed must not be before its pause started ({long_day(day(-10))})", id="before-the-pause"),
    pytest.param({"note": None}, "Write a short public note: what you saw, and where", id="no-note"),
    pytest.param({"note": "x" * 501}, "The note must be 500 characters or fewer", id="note-too-long"),
    pytest.param({"evidence_url": None}, "Add a link to the evidence, such as the business’s page in an ad library", id="no-evidence"),
    pytest.param({"evidence_url": "javascript:alert(1)"}, "Enter the evidence as a web address starting https:// or http://", id="javascript"),
    pytest.param({"evidence_url": "ftp://ads.example/x"}, "Enter the evidence as a web address starting https:// or http://", id="ftp"),
    pytest.param({"evidence_url": "ads.example/acme"}, "Enter the evidence as a web address starting https:// or http://", id="no-scheme"),
    pytest.param({"evidence_url": "https://localhost/x"}, "Enter the evidence as a web address starting https:// or http://", id="no-dot"),
    pytest.param({"evidence_url": 'https://ads.example/"onmouseover=x'}, "Enter the evidence as a web address starting https:// or http://", id="quote"),
    pytest.param({"evidence_url": "https://ads.example/" + "a" * 2000}, "The link must be 2000 characters or fewer", id="too-long"),
]


@pytest.mark.parametrize("fields, message", RESUME_BAD_INPUT)
def test_a_resumption_that_cannot_be_published_is_refused_with_a_message(app, client, world, fields, message):
    join(client, pause_start=day(-10).isoformat(), pause_end=day(40).isoformat())
    business_id = approve(app)
    response = resume(organiser(app), business_id, **fields)
    assert response.status_code == 422
    assert first_error(response) == message
    assert the_business(app).resumed_on is None
    assert audit_events(app, "business.resumed") == []


def test_only_a_listed_business_can_be_marked_resumed(app, client, world):
    join(client)
    business_id = the_business(app).id
    response = resume(organiser(app), business_id)
    assert response.status_code == 303 and the_business(app).resumed_on is None


def test_another_campaign_s_organiser_sees_and_changes_nothing(app, client, world):
    join(client)
    business_id = approve(app)
    other = organiser(app, "other@example.com")
    assert other.get(f"/organiser/c/{SLUG}/businesses/{business_id}").status_code == 404
    assert resume(other, business_id).status_code == 404
    assert resume(other, business_id, slug="elsewhere").status_code == 404
    assert other.get(f"/organiser/c/{SLUG}/scorecard").status_code == 404
    assert the_business(app).resumed_on is None


# --- The scorecard -------------------------------------------------------------------------


def public_scorecard(client) -> list[SimpleNamespace]:
    doc = page(client.get(f"/c/{SLUG}"))
    clean = lambda e: " ".join(e["text"].split())
    rows = [e for e in doc.elements if e["tag"] == "li" and "demand" in e["attrs"].get("class", "").split()]
    texts = [clean(e) for e in doc.elements if "demand-text" in e["attrs"].get("class", "")]
    statuses = [clean(e) for e in doc.elements if "status-badge" in e["attrs"].get("class", "")]
    assert len(rows) == len(texts) == len(statuses)
    return [SimpleNamespace(text=t, status=s) for t, s in zip(texts, statuses)]


def record(client, which: str, slug=SLUG, **fields):
    """Choose the demand ``which`` by its text on the scorecard screen and send the form."""
    html = client.get(f"/organiser/c/{slug}/scorecard").get_data(as_text=True)
    options = dict(re.findall(r'<option value="([0-9a-f]{64})">\d+\. ([^<]*)</option>', html))
    key = next(k for k, text in options.items() if text == which)
    data = {"demand": key, "status": "met", "happened_on": day(-1).isoformat(), "note": "They said yes.",
            "source_url": "https://news.example/yes", "csrf_token": csrf_token(html), **fields}
    return client.post(f"/organiser/c/{slug}/scorecard", data={k: v for k, v in data.items() if v is not None})


def test_each_demand_starts_with_no_response(client, world):
    assert [(r.text, r.status) for r in public_scorecard(client)] == [
        ("Remove hate groups", "No response yet"), ("Label manipulated media", "No response yet"),
        ("Offer live support", "No response yet")]


def test_an_organiser_records_a_demand_s_status_and_the_public_page_shows_it(app, client, world):
    org = organiser(app)
    before = edition(app)
    response = record(org, "Label manipulated media", status="partly_met", note="Labels on some posts only.")
    assert response.status_code == 303 and response.headers["Location"] == f"/organiser/c/{SLUG}/scorecard"
    assert edition(app) > before
    assert [r.status for r in public_scorecard(client)] == ["No response yet", "Partly met", "No response yet"]
    html = client.get(f"/c/{SLUG}").get_data(as_text=True)
    assert f"{long_day(day(-1))}: Partly met. Labels on some posts only." in text_of(client.get(f"/c/{SLUG}"))
    [link] = [attrs for attrs in (e["attrs"] for e in page(client.get(f"/c/{SLUG}")).elements if e["tag"] == "a")
              if attrs.get("href") == "https://news.example/yes"]
    assert set(link["rel"].split()) >= {"nofollow", "noopener", "noreferrer"}
    assert 'id="demands-title"' in html
    [event] = audit_events(app, "demand.status")
    assert event.detail == {"line": 2, "status": "partly_met", "announce": False}

    record(org, "Label manipulated media", status="met", happened_on=TODAY.isoformat())
    assert [r.status for r in public_scorecard(client)][1] == "Met"
    record(org, "Label manipulated media", status="rejected", happened_on=day(-30).isoformat())
    assert [r.status for r in public_scorecard(client)][1] == "Met", "an entry back-dated adds history only"
    assert text_of(org.get(f"/organiser/c/{SLUG}/scorecard")).count("Rejected.") == 1


def test_a_change_can_go_to_supporters_as_an_update_the_organiser_confirms(app, client, world):
    org = organiser(app)
    response = record(org, "Remove hate groups", announce="y")
    assert response.status_code == 303
    with app.app_context():
        update = db.session.execute(select(CampaignUpdate)).scalar_one()
        assert update.status == UpdateStatus.DRAFT
        assert update.subject == "Our demand: Met"
        assert update.body.startswith("**Remove hate groups**")
        assert "<https://news.example/yes>" in update.body and f"/c/{SLUG}#demands" in update.body
        update_id = update.id
    assert response.headers["Location"] == f"/organiser/c/{SLUG}/updates/{update_id}/send"
    assert "Here is the update for supporters" in text_of(org.get(response.headers["Location"]))
    [created] = audit_events(app, "update.created")
    assert created.detail == {"update_id": update_id, "demand_line": 1}


SCORECARD_BAD_INPUT = [
    pytest.param({"demand": ""}, "Choose a demand from the list", id="no-demand"),
    pytest.param({"demand": "f" * 64}, "Choose a demand from the list", id="unknown-demand"),
    pytest.param({"status": "ignored"}, "Choose a status from the list", id="unknown-status"),
    pytest.param({"happened_on": None}, "Enter the day of the change", id="no-day"),
    pytest.param({"happened_on": "31.12.2026"}, "Enter the day as a date, like 2026-08-15", id="unreadable-day"),
    pytest.param({"happened_on": day(3).isoformat()}, "The day of the change cannot be in the future", id="future"),
    pytest.param({"source_url": None}, "Add a link to the source: where the response or the change can be read", id="met-without-source"),
    pytest.param({"source_url": "javascript:alert(1)"}, "Enter the source as a web address starting https:// or http://", id="javascript"),
    pytest.param({"source_url": "data:text/html,hi"}, "Enter the source as a web address starting https:// or http://", id="data"),
    pytest.param({"source_url": "https://news.example/a b"}, "Enter the source as a web address starting https:// or http://", id="space"),
    pytest.param({"note": "y" * 501}, "The note must be 500 characters or fewer", id="note-too-long"),
    pytest.param({"note": "bad\x00note"}, "Public note (optional) contains characters we cannot accept", id="note-nul"),
]


@pytest.mark.parametrize("fields, message", SCORECARD_BAD_INPUT)
def test_a_status_that_cannot_be_published_is_refused_with_a_message(app, world, fields, message):
    response = record(organiser(app), "Remove hate groups", **fields)
    assert response.status_code == 422
    assert first_error(response) == message
    with app.app_context():
        assert db.session.execute(select(DemandEntry)).first() is None
    assert audit_events(app, "demand.status") == []


def test_no_response_needs_no_source(app, client, world):
    assert record(organiser(app), "Offer live support", status="no_response", source_url=None).status_code == 303


def test_a_demand_keeps_its_history_when_lines_move_and_starts_afresh_when_reworded(ctx):
    """Rows follow a line's text (case and spaces aside), never its position."""
    campaign = make_campaign(demands="Remove hate groups\nLabel manipulated media")
    key = scorecard.demand_key("Label manipulated media")
    scorecard.record_status(campaign, key, "met", TODAY, "", "https://news.example/x", None)

    campaign.demands = "A new first demand\n  label   MANIPULATED media \nRemove hate groups"
    db.session.commit()
    assert [(r.text, r.status) for r in scorecard.scorecard_of(campaign)] == [
        ("A new first demand", "no_response"), ("label   MANIPULATED media", "met"),
        ("Remove hate groups", "no_response")]

    campaign.demands = "Remove hate groups\nLabel all manipulated media"
    db.session.commit()
    assert [r.status for r in scorecard.scorecard_of(campaign)] == ["no_response", "no_response"]
    [former] = scorecard.former_demands(campaign)
    assert former.status == "met" and len(former.entries) == 1

    campaign.demands = "Remove hate groups\nLabel manipulated media"
    db.session.commit()
    assert [r.status for r in scorecard.scorecard_of(campaign)] == ["no_response", "met"]
    assert scorecard.former_demands(campaign) == []
    with pytest.raises(scorecard.UnknownDemand):
        scorecard.record_status(campaign, scorecard.demand_key("Never a demand"), "met", TODAY, "", None, None)
    assert db.session.scalar(select(db.func.count()).select_from(Demand)) == 1
