"""A supporter signs a pledge in a real browser, with and without JavaScript."""
from __future__ import annotations

import re

import pytest

from ..builders import make_campaign
from .steps import (
    confirmation_email,
    confirmation_link,
    expect,
    field,
    fill_in_the_pledge,
    press,
    signature_count,
    signers_list,
)

BAD_EMAIL_MESSAGE = "Enter an email address in the correct format, like name@example.com"


@pytest.mark.browser
@pytest.mark.parametrize("javascript", [True, False], ids=["with-javascript", "without-javascript"])
def test_supporter_signs_confirms_and_sees_count_rise(app, site, new_page, smtp, deliver, javascript):
    """A supporter fills in the pledge, confirms from the emailed link, and
    sees the count go from 0 to 1 and their first name in the recent signers;
    the page needs no JavaScript for any of it."""
    with app.app_context():
        slug = make_campaign(slug="save-the-park", title="Save the park", goal=10).slug
    page = new_page(java_script_enabled=javascript)

    page.goto(f"/c/{slug}")
    expect(page.get_by_role("heading", name="Save the park")).to_be_visible()
    expect(signature_count(page)).to_have_text("0")
    fill_in_the_pledge(page, first_name="Ada", email="ada@example.com", country="United Kingdom")
    press(page, "Sign the pledge")

    expect(page.get_by_text("confirmation email is on its way")).to_be_visible()

    assert deliver().sent == 1
    link = confirmation_link(confirmation_email(smtp, "ada@example.com"))
    assert link.startswith(f"{site.url}/confirm/"), "emailed links must point at the site"

    page.goto(link)
    press(page, "Confirm my signature")
    expect(page.get_by_role("heading", name="Your signature is confirmed")).to_be_visible()

    page.get_by_role("link", name="Back to the campaign").click()
    expect(page).to_have_url(f"{site.url}/c/{slug}")
    expect(signature_count(page)).to_have_text("1")
    expect(signers_list(page)).to_have_text(["Ada United Kingdom"])


@pytest.mark.browser
def test_bad_email_shows_its_error_next_to_the_field(app, page):
    """A supporter types an address the browser lets through but the site
    cannot use: the page comes back (422) with the message beside the Email
    field and in the summary at the top, and what they typed is kept."""
    with app.app_context():
        slug = make_campaign(slug="clean-rivers").slug

    page.goto(f"/c/{slug}")
    fill_in_the_pledge(page, first_name="Ada", email="ada@example")
    with page.expect_response(lambda response: response.request.method == "POST") as answer:
        press(page, "Sign the pledge")
    assert answer.value.status == 422

    email = field(page, "Email")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_have_accessible_description(re.compile(re.escape(BAD_EMAIL_MESSAGE)))
    beside = page.get_by_text(f"Error: {BAD_EMAIL_MESSAGE}")
    expect(beside).to_be_visible()
    _assert_just_above(beside, email)

    summary = page.get_by_role("alert", name="There is a problem")
    expect(summary).to_be_visible()
    assert summary.bounding_box()["y"] < field(page, "First name").bounding_box()["y"], \
        "the error summary belongs at the top, above the form"
    summary.get_by_role("link", name=BAD_EMAIL_MESSAGE).click()
    expect(email).to_be_focused()

    expect(field(page, "First name")).to_have_value("Ada")
    expect(field(page, "Last name")).to_have_value("Lovelace")
    expect(email).to_have_value("ada@example")

    email.fill("ada@example.com")
    press(page, "Sign the pledge")
    expect(page.get_by_text("confirmation email is on its way")).to_be_visible()


def _assert_just_above(message, control, within_px: float = 24):
    """The message sits directly over the control, not somewhere else on the page."""
    above, below = message.bounding_box(), control.bounding_box()
    gap = below["y"] - (above["y"] + above["height"])
    assert 0 <= gap <= within_px, f"message is {gap:.0f}px from its field"
    assert abs(above["x"] - below["x"]) <= within_px, "message is not aligned with its field"


@pytest.mark.browser
def test_the_confirmer_sees_what_will_be_recorded_and_a_change_made_there_is_stored(app, site, new_page, smtp,
                                                                                    deliver):
    """Someone signed with Ada's address as "Mallory"; Ada opens the emailed
    link, sees the name and choices that would be recorded, corrects them
    by keyboard, and what she confirms is what the public list shows."""
    with app.app_context():
        slug = make_campaign(slug="whose-choice", title="Whose choice", goal=10).slug
    page = new_page(java_script_enabled=False)
    page.goto(f"/c/{slug}")
    fill_in_the_pledge(page, first_name="Mallory", email="ada@example.com", country="France", show_name=False)
    press(page, "Sign the pledge")
    deliver()

    page.goto(confirmation_link(confirmation_email(smtp, "ada@example.com")))
    expect(page.get_by_role("heading", name="What we will record")).to_be_visible()
    expect(field(page, "First name")).to_have_value("Mallory")
    expect(field(page, "Country")).to_have_value("FR")
    expect(field(page, "Show my first name on the public list")).not_to_be_checked()
    expect(field(page, "Email me updates about this campaign")).not_to_be_checked()

    field(page, "First name").fill("Ada")
    field(page, "Country").select_option(label="United Kingdom")
    field(page, "Show my first name on the public list").focus()
    page.keyboard.press("Space")
    press(page, "Confirm my signature")
    expect(page.get_by_role("heading", name="Your signature is confirmed")).to_be_visible()

    page.get_by_role("link", name="Back to the campaign").click()
    expect(signature_count(page)).to_have_text("1")
    expect(signers_list(page)).to_have_text(["Ada United Kingdom"])
    expect(page.get_by_text("Mallory")).to_have_count(0)
