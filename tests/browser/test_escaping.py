"""Names people type are shown as text, never run as code (stored XSS)."""
from __future__ import annotations

import pytest

from campaign.models import Kind

from ..builders import make_campaign
from .steps import (
    confirm_the_business_pledge,
    confirmation_email,
    confirmation_link,
    expect,
    field,
    fill_in_the_pledge,
    listed_businesses,
    press,
    signers_list,
)

SIGNER_NAME = "<img src=x onerror=window.__xss=1>"
BUSINESS_NAME = "<svg onload=window.__xss=2>"


@pytest.mark.browser
def test_signer_named_like_markup_is_shown_as_text(app, page, smtp, deliver):
    """Someone signs with markup as their first name and shows it publicly:
    the page shows the characters they typed and runs nothing, and neither
    does the confirmation email."""
    with app.app_context():
        slug = make_campaign(slug="no-scripts").slug

    page.goto(f"/c/{slug}")
    fill_in_the_pledge(page, first_name=SIGNER_NAME, email="mallory@example.com")
    press(page, "Sign the pledge")
    expect(page.get_by_text("confirmation email is on its way")).to_be_visible()
    assert deliver().sent == 1
    email = confirmation_email(smtp, "mallory@example.com")

    page.goto(confirmation_link(email))
    press(page, "Confirm my signature")
    page.get_by_role("link", name="Back to the campaign").click()

    expect(signers_list(page)).to_have_text([f"{SIGNER_NAME} United Kingdom"])
    expect(signers_list(page).get_by_role("img")).to_have_count(0)
    assert page.evaluate("window.__xss") is None

    page.set_content(email.html)
    expect(page.get_by_text(f"Hello {SIGNER_NAME},")).to_be_visible()
    assert page.evaluate("window.__xss") is None


@pytest.mark.browser
def test_business_named_like_markup_is_shown_as_text(app, page, runner, smtp, deliver):
    """A business whose name is markup, once approved, is listed as the
    characters it typed and runs nothing."""
    with app.app_context():
        slug = make_campaign(slug="no-scripts-here-either", kind=Kind.BOYCOTT).slug

    page.goto(f"/c/{slug}")
    field(page, "Organisation").fill(BUSINESS_NAME)
    field(page, "Website").fill("https://svg-co.co.uk")
    field(page, "Contact email").fill("owner@svg-co.co.uk")
    field(page, "Company size").select_option(label="1-9 people")
    press(page, "Join as a business")
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    confirm_the_business_pledge(page, smtp, deliver, "owner@svg-co.co.uk")
    result = runner.invoke(args=["campaign", "approve-business", slug, BUSINESS_NAME])
    assert result.exit_code == 0, result.output

    page.goto(f"/c/{slug}")
    expect(listed_businesses(page)).to_have_text([BUSINESS_NAME])
    assert page.evaluate("window.__xss") is None
