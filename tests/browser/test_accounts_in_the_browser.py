"""An organiser who forgot their password sets a new one from the emailed
link, then invites a colleague, who chooses their own password: in the
browser, by labels and buttons, without JavaScript."""
from __future__ import annotations

import re

import pytest

from ..builders import make_campaign, make_organiser
from .steps import expect, field, log_in_as_organiser, press

NEW_PASSWORD = "seven tidy otters rowing"
COLLEAGUE_PASSWORD = "lanterns over quiet harbours"


def emailed_link(smtp, address: str, path: str) -> str:
    [email] = smtp.to(address)
    match = re.search(rf"https?://\S+{re.escape(path)}\S+", email.text)
    assert match, email.text
    return match.group(0)


@pytest.mark.browser
def test_a_newcomer_resets_a_password_and_invites_a_colleague(app, new_page, smtp, deliver):
    with app.app_context():
        campaign = make_campaign(slug="log-off-sunday", title="Log off on Sunday")
        make_organiser("lead@example.org", is_admin=True, campaigns=[campaign])
    page = new_page(java_script_enabled=False)

    page.goto("/organiser/login")
    page.get_by_role("link", name="Forgot your password?").click()
    field(page, "Email").fill("lead@example.org")
    press(page, "Email me a link")
    expect(page.get_by_text("If an organiser account has that address")).to_be_visible()
    deliver()

    page.goto(emailed_link(smtp, "lead@example.org", "/organiser/reset-password/"))
    field(page, "New password").fill("password1234")
    field(page, "The new password again").fill("password1234")
    press(page, "Set my password")
    expect(page).to_have_title(re.compile(r"^Error:"))
    expect(page.get_by_text("This password is too common").first).to_be_visible()
    field(page, "New password").fill(NEW_PASSWORD)
    field(page, "The new password again").fill(NEW_PASSWORD)
    press(page, "Set my password")
    expect(page.get_by_text("Your new password is set")).to_be_visible()
    log_in_as_organiser(page, "lead@example.org", NEW_PASSWORD)

    page.get_by_role("link", name="Log off on Sunday").first.click()
    page.get_by_role("link", name="Members").click()
    field(page, "Organiser's email").fill("colleague@example.org")
    press(page, "Add member")
    expect(page.get_by_text("emailed them an invitation")).to_be_visible()
    deliver()

    colleague = new_page(java_script_enabled=False)
    colleague.goto(emailed_link(smtp, "colleague@example.org", "/organiser/invitation/"))
    expect(colleague.get_by_text("You are invited to help run “Log off on Sunday”")).to_be_visible()
    field(colleague, "New password").fill(COLLEAGUE_PASSWORD)
    field(colleague, "The new password again").fill(COLLEAGUE_PASSWORD)
    press(colleague, "Accept the invitation")
    expect(colleague.get_by_text("the invitation is accepted")).to_be_visible()
    log_in_as_organiser(colleague, "colleague@example.org", COLLEAGUE_PASSWORD)
    expect(colleague.get_by_role("link", name="Log off on Sunday").first).to_be_visible()
