"""An organiser turns on two-factor authentication on a phone, without
JavaScript, then logs in with a code from the app and, having lost the
phone, with a recovery code: by labels and buttons."""
from __future__ import annotations

import re
import time

import pyotp
import pytest

from ..builders import PASSWORD, make_campaign, make_organiser
from .steps import expect, field, log_in_as_organiser, press

CODE_LABEL = "Code from your authenticator app, or a recovery code"
KEY = re.compile(r"^[A-Z2-7]{4}( [A-Z2-7]{1,4})+$")


def log_out(page) -> None:
    page.get_by_role("button", name="Log out", exact=True).click()
    expect(page.get_by_role("heading", name="Organisers: log in")).to_be_visible()


def enter_password(page, email: str) -> None:
    page.goto("/organiser/login")
    field(page, "Email").fill(email)
    field(page, "Password").fill(PASSWORD)
    press(page, "Log in")
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()


@pytest.mark.browser
def test_an_organiser_turns_on_two_factor_and_logs_in_with_a_code_and_with_a_recovery_code(app, new_page):
    with app.app_context():
        campaign = make_campaign(slug="freeze-friday", title="Freeze on Friday")
        make_organiser("lead@example.org", campaigns=[campaign])
    page = new_page(java_script_enabled=False, viewport={"width": 360, "height": 740})

    log_in_as_organiser(page, "lead@example.org", PASSWORD)
    page.get_by_role("link", name="Two-factor").click()
    qr = page.get_by_role("img", name="QR code to scan with your authenticator app")
    expect(qr).to_be_visible()
    box = qr.bounding_box()
    assert box and 120 <= box["width"] <= 360, "the QR code is big enough to scan and fits the phone"
    key = page.get_by_text(KEY).inner_text().replace(" ", "")
    app_on_phone = pyotp.TOTP(key)

    field(page, "Code from your app").fill("123")
    press(page, "Turn on two-factor authentication")
    expect(page).to_have_title(re.compile(r"^Error:"))
    expect(page.get_by_text("Enter the 6 digits your app shows").first).to_be_visible()
    assert page.get_by_text(KEY).inner_text().replace(" ", "") == key, "the same key: no need to scan again"

    field(page, "Code from your app").fill(app_on_phone.now())
    press(page, "Turn on two-factor authentication")
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    codes = page.get_by_role("main").get_by_role("list").last.get_by_role("listitem").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z2-9]{5}-[a-z2-9]{5}", c) for c in codes)
    page.get_by_role("link", name="I have kept them: go to my campaigns").click()
    log_out(page)

    # The password alone now leads to the code step; the app's next code opens the site.
    enter_password(page, "lead@example.org")
    field(page, CODE_LABEL).fill(app_on_phone.at(time.time() + 30))
    press(page, "Log in")
    expect(page.get_by_role("heading", name="Your campaigns")).to_be_visible()
    expect(page.get_by_role("link", name="Freeze on Friday").first).to_be_visible()
    log_out(page)

    # The phone is lost: a recovery code, once.
    enter_password(page, "lead@example.org")
    field(page, CODE_LABEL).fill(codes[0])
    press(page, "Log in")
    expect(page.get_by_text("Recovery codes left: 9.")).to_be_visible()
    log_out(page)

    enter_password(page, "lead@example.org")
    field(page, CODE_LABEL).fill(codes[0])
    press(page, "Log in")
    expect(page).to_have_title(re.compile(r"^Error:"))
    expect(page.get_by_text("That code is not right, or it has been used already").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, "nothing pushes the phone sideways"
