"""Boycott follow-through on a 360 px phone: a business pledges a pause,
extends it from the link in its email, an organiser marks it resumed with
evidence, and the public timeline shows each step; an organiser records a
demand's status and the public scorecard shows it."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from campaign.models import Kind, utcnow

from ..builders import PASSWORD, make_campaign, make_organiser
from .steps import (
    businesses_section,
    confirm_the_business_pledge,
    expect,
    field,
    listed_businesses,
    log_in_as_organiser,
    press,
)

PHONE = {"width": 360, "height": 740}
TODAY = utcnow().date()


def day(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


def long_day(d: dt.date) -> str:
    """A day as the English pages write it: July 1, 2026."""
    return f"{d:%B} {d.day}, {d.year}"


def fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


@pytest.mark.browser
def test_business_pledges_a_pause_extends_it_and_is_marked_resumed_with_evidence(app, new_page, runner, smtp, deliver):
    with app.app_context():
        start = dt.datetime.combine(day(-5), dt.time())
        campaign = make_campaign(slug="pause-the-ads", kind=Kind.BOYCOTT, title="Pause the ads",
                                 window_start=start, window_end=start + dt.timedelta(days=31))
        make_organiser("org@example.com", campaigns=[campaign])
    business = new_page(viewport=PHONE)

    business.goto("/c/pause-the-ads")
    expect(field(business, "First day of the pause (optional)")).to_have_value(day(-5).isoformat())
    expect(field(business, "Last day of the pause (optional)")).to_have_value(day(25).isoformat())
    field(business, "Organisation").fill("Acme Bakery")
    field(business, "Website").fill("acme-bakery.co.uk")
    field(business, "Contact email").fill("owner@acme-bakery.co.uk")
    field(business, "Company size").select_option(label="10-49 people")
    field(business, "Last day of the pause (optional)").fill(day(20).isoformat())
    press(business, "Join as a business")
    expect(business.get_by_role("heading", name="Check your email")).to_be_visible()
    confirm_the_business_pledge(business, smtp, deliver, "owner@acme-bakery.co.uk")
    result = runner.invoke(args=["campaign", "approve-business", "pause-the-ads", "Acme Bakery"])
    assert result.exit_code == 0, result.output

    business.goto("/c/pause-the-ads")
    expect(listed_businesses(business)).to_have_text(["Acme Bakery"])
    expect(businesses_section(business)).to_contain_text(f"Pausing: {long_day(day(-5))} to {long_day(day(20))}")

    [email] = [m for m in smtp.to("owner@acme-bakery.co.uk") if m.subject.startswith("Confirm")]
    business.goto(re.search(r"https?://\S+/business/extend/\S+", email.text).group(0))
    expect(business.get_by_role("heading", name="Extend your pause")).to_be_visible()
    field(business, "New last day of the pause").fill(day(50).isoformat())
    press(business, "Extend our pause")
    expect(business.get_by_role("heading", name="Your pause is extended")).to_be_visible()
    business.goto("/c/pause-the-ads")
    expect(businesses_section(business)).to_contain_text(f"Extended: pausing {long_day(day(-5))} to {long_day(day(50))}")

    organiser = new_page(viewport=PHONE)
    log_in_as_organiser(organiser, "org@example.com", PASSWORD)
    organiser.get_by_role("link", name="Pause the ads").click()
    organiser.get_by_role("link", name="Businesses").click()
    organiser.get_by_role("link", name="Acme Bakery").click()
    field(organiser, "Day it resumed advertising").fill(day(-1).isoformat())
    field(organiser, "Public note").fill("Its ads are running again.")
    field(organiser, "Link to the evidence").fill("https://ads.example/library?advertiser=acme")
    press(organiser, "Mark as resumed")
    expect(organiser.get_by_role("status")).to_contain_text("Acme Bakery is marked resumed")
    organiser_timeline = organiser.get_by_role("list", name="Timeline of Acme Bakery").get_by_role("listitem")
    expect(organiser_timeline).to_have_count(3)
    assert fits_the_phone(organiser)

    business.reload()
    timeline = businesses_section(business).get_by_role("list", name="Timeline of Acme Bakery").get_by_role("listitem")
    expect(timeline).to_have_text([
        f"{long_day(TODAY)}: pledged to pause its ads {long_day(day(-5))} to {long_day(day(20))}",
        f"{long_day(TODAY)}: extended the pause to {long_day(day(50))}",
        f"{long_day(day(-1))}: resumed advertising. Its ads are running again. Evidence (Acme Bakery)",
    ])
    expect(businesses_section(business)).to_contain_text(f"Resumed: advertising again since {long_day(day(-1))}")
    evidence = businesses_section(business).get_by_role("link", name="Evidence (Acme Bakery)")
    expect(evidence).to_have_attribute("href", "https://ads.example/library?advertiser=acme")
    expect(evidence).to_have_attribute("rel", re.compile(r"\bnofollow\b.*\bnoopener\b"))
    assert fits_the_phone(business)


@pytest.mark.browser
def test_organiser_records_a_demand_s_status_and_the_public_scorecard_shows_it(app, new_page):
    with app.app_context():
        campaign = make_campaign(slug="pause-the-ads", kind=Kind.BOYCOTT, title="Pause the ads",
                                 demands="Remove hate groups\nLabel manipulated media")
        make_organiser("org@example.com", campaigns=[campaign])
    public = new_page(viewport=PHONE)
    public.goto("/c/pause-the-ads")
    demands = public.get_by_role("region", name="Our demands")
    expect(demands.get_by_text("No response yet")).to_have_count(2)

    organiser = new_page(viewport=PHONE)
    log_in_as_organiser(organiser, "org@example.com", PASSWORD)
    organiser.get_by_role("link", name="Pause the ads").click()
    organiser.get_by_role("link", name="Scorecard").click()
    field(organiser, "Demand").select_option(label="2. Label manipulated media")
    field(organiser, "Status").select_option(label="Partly met")
    field(organiser, "Public note (optional)").fill("Labels on some posts only.")
    field(organiser, "Link to the source").fill("https://news.example/labels")
    press(organiser, "Record the change")
    expect(organiser.get_by_role("status")).to_contain_text("The status is recorded")
    assert fits_the_phone(organiser)

    public.reload()
    demands = public.get_by_role("region", name="Our demands")
    rows = demands.get_by_role("listitem").filter(has_text="Label manipulated media")
    expect(rows.first).to_contain_text("Partly met")
    expect(rows.first).to_contain_text(f"{long_day(TODAY)}: Partly met. Labels on some posts only.")
    expect(demands.get_by_role("link", name="Source")).to_have_attribute("href", "https://news.example/labels")
    expect(demands.get_by_text("No response yet")).to_have_count(1)
    assert fits_the_phone(public)
