"""A business joins a boycott and is listed once an organiser approves it."""
from __future__ import annotations

import pytest

from campaign.models import Kind

from ..builders import make_campaign
from .steps import businesses_section, confirm_the_business_pledge, expect, field, listed_businesses, press


@pytest.mark.browser
def test_business_joins_a_boycott_and_is_listed_once_approved(app, page, runner, smtp, deliver):
    """A business fills in the business form, confirms from the link emailed
    to its contact address, and stays off the public list until an organiser
    runs `flask campaign approve-business`."""
    with app.app_context():
        slug = make_campaign(slug="pause-the-ads", kind=Kind.BOYCOTT, title="Pause the ads").slug

    page.goto(f"/c/{slug}")
    expect(businesses_section(page)).to_contain_text("No businesses are listed yet.")
    field(page, "Organisation").fill("Acme Bakery")
    field(page, "Website").fill("acme-bakery.co.uk")
    field(page, "Contact email").fill("owner@acme-bakery.co.uk")
    field(page, "Company size").select_option(label="10-49 people")
    press(page, "Join as a business")
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    confirm_the_business_pledge(page, smtp, deliver, "owner@acme-bakery.co.uk")

    page.goto(f"/c/{slug}")
    expect(businesses_section(page)).to_contain_text("No businesses are listed yet.")
    expect(businesses_section(page).get_by_text("Acme Bakery")).to_have_count(0)

    result = runner.invoke(args=["campaign", "approve-business", slug, "Acme Bakery"])
    assert result.exit_code == 0, result.output
    assert "Acme Bakery: approved." in result.output

    page.reload()
    expect(listed_businesses(page)).to_have_text(["Acme Bakery"])
