"""A freeze on a 360 px phone, in each of its states: the statement to copy
(a button where the browser can copy, plain text to select where it cannot),
the sign form that takes the browser's time zone, and once it is over the
result and what to do next instead of the form."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from campaign.extensions import db
from campaign.models import Kind, Signature

from ..builders import hours_from_now, make_campaign
from .steps import expect, fill_in_the_pledge, press

PHONE = {"width": 360, "height": 740}
STATEMENT = "I am logging off for 24 hours to ask for safer feeds. #QuietDay"
STATES = {"upcoming": (24, 48), "happening": (-2, 22), "ended": (-48, -24)}


def a_freeze(app, state: str, **fields) -> str:
    starts, ends = STATES[state]
    with app.app_context():
        return make_campaign(kind=Kind.FREEZE, title="A day of quiet", statement=STATEMENT,
                             next_action="Write to your representative on Monday.", check_in_email=True,
                             window_start=hours_from_now(starts), window_end=hours_from_now(ends), **fields).slug


def fits_the_phone(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


@pytest.mark.browser
@pytest.mark.parametrize("state", ["upcoming", "happening"])
def test_phone_user_copies_the_statement_with_one_press(app, new_page, state):
    slug = a_freeze(app, state)
    page = new_page(viewport=PHONE, permissions=["clipboard-read", "clipboard-write"])
    page.goto(f"/c/{slug}")
    fits_the_phone(page)
    expect(page.locator("#statement-text")).to_have_text(STATEMENT)
    copy = page.get_by_role("button", name="Copy the statement")
    expect(copy).to_be_visible()
    copy.click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == STATEMENT


@pytest.mark.browser
@pytest.mark.parametrize("state", ["upcoming", "happening"])
def test_without_javascript_the_statement_is_text_to_select_and_no_button_pretends_to_copy(app, new_page, state):
    slug = a_freeze(app, state)
    page = new_page(viewport=PHONE, java_script_enabled=False)
    page.goto(f"/c/{slug}")
    fits_the_phone(page)
    statement = page.locator("#statement-text")
    expect(statement).to_be_visible()
    expect(statement).to_have_text(STATEMENT)
    assert statement.evaluate("el => getComputedStyle(el).userSelect") != "none"
    expect(page.get_by_role("button", name="Copy the statement")).to_have_count(0)
    expect(page.get_by_role("button", name="Sign the pledge")).to_be_visible()


@pytest.mark.browser
@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_an_ended_freeze_shows_its_result_and_next_action_and_no_form(app, new_page, javascript):
    slug = a_freeze(app, "ended")
    page = new_page(viewport=PHONE, java_script_enabled=javascript)
    page.goto(f"/c/{slug}")
    fits_the_phone(page)
    expect(page.get_by_role("heading", name="The freeze has ended")).to_be_visible()
    result = page.locator(".freeze-result")
    expect(result).to_contain_text("0 people signed up to take part.")
    expect(result).to_contain_text("No one has told us yet whether they took part.")
    expect(result).to_contain_text("Write to your representative on Monday.")
    expect(page.get_by_role("button", name="Sign the pledge")).to_have_count(0)
    expect(page.locator("form[action$='/sign']")).to_have_count(0)
    expect(page.locator("#statement-text")).to_have_count(0)


@pytest.mark.browser
def test_signing_a_freeze_takes_the_time_zone_from_the_browser(app, new_page):
    slug = a_freeze(app, "upcoming")
    page = new_page(viewport=PHONE, timezone_id="Asia/Tokyo")
    page.goto(f"/c/{slug}")
    fill_in_the_pledge(page)
    reminders = page.get_by_label("Email me a reminder the day before and when it starts")
    expect(reminders).not_to_be_checked()
    reminders.check()
    press(page, "Sign the pledge")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    with app.app_context():
        stored = db.session.execute(select(Signature)).scalar_one()
        assert (stored.time_zone, stored.reminder_opt_in) == ("Asia/Tokyo", True)
