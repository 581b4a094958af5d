"""A supporter on a phone pledges to log off from a date and says why; the
organiser approves the reason and it appears on the campaign page: in the
browser, by labels and buttons, without JavaScript."""
from __future__ import annotations

import datetime as dt

import pytest

from ..builders import PASSWORD, make_campaign, make_organiser
from .steps import confirmation_email, confirmation_link, expect, field, fill_in_the_pledge, log_in_as_organiser, press

REASON = "I want my evenings back for my family."


@pytest.mark.browser
def test_a_supporter_gives_a_reason_that_shows_once_the_organiser_approves_it(app, new_page, smtp, deliver):
    with app.app_context():
        campaign = make_campaign(slug="walk-away", title="Walk away", asks_date=True,
                                 date_question="I will log off from", asks_reason=True)
        make_organiser("lead@example.org", campaigns=[campaign])
    start = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    phone = new_page(java_script_enabled=False, viewport={"width": 360, "height": 740})

    phone.goto("/c/walk-away")
    fill_in_the_pledge(phone, first_name="Ada", email="ada@example.com")
    field(phone, "Why are you pledging? (optional)").fill(REASON)
    field(phone, "Show my reason on this page (we read it first)").check()
    press(phone, "Sign the pledge")
    expect(phone.get_by_text("Enter the date you will start").first).to_be_visible()
    expect(field(phone, "Why are you pledging? (optional)")).to_have_value(REASON)
    field(phone, "I will log off from").fill(start)
    press(phone, "Sign the pledge")
    expect(phone.get_by_text("confirmation email is on its way")).to_be_visible()

    deliver()
    phone.goto(confirmation_link(confirmation_email(smtp, "ada@example.com")))
    expect(field(phone, "Why are you pledging? (optional)")).to_have_value(REASON)
    expect(field(phone, "I will log off from")).to_have_value(start)
    press(phone, "Confirm my signature")
    expect(phone.get_by_role("heading", name="Your signature is confirmed")).to_be_visible()

    organiser = new_page(java_script_enabled=False)
    log_in_as_organiser(organiser, "lead@example.org", PASSWORD)
    organiser.get_by_role("link", name="Walk away").first.click()
    organiser.get_by_role("link", name="Reasons").click()
    expect(organiser.get_by_text(REASON)).to_be_visible()
    organiser.get_by_role("button", name=f"Approve: {REASON}").click()
    expect(organiser.get_by_text("The reason is on the campaign page.")).to_be_visible()

    phone.goto("/c/walk-away")
    reasons = phone.get_by_role("region", name="Why people are pledging")
    expect(reasons.get_by_text(REASON)).to_be_visible()
    expect(reasons.get_by_text("Ada, United Kingdom")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
