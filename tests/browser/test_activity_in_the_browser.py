"""The Activity page (the audit log) in a real browser: on a 360 px phone
without JavaScript, an admin narrows it down with the keyboard alone."""
from __future__ import annotations

import pytest

from campaign import audit
from campaign.extensions import db
from campaign.models import Kind

from ..builders import PASSWORD, make_campaign, make_organiser
from .steps import expect, log_in_as_organiser

ADMIN = "admin@example.com"
PHONE = {"width": 360, "height": 740}


@pytest.mark.browser
def test_an_admin_filters_the_activity_with_the_keyboard_on_a_phone(app, new_page):
    """The table and the filters fit across the screen; choosing an action
    and pressing Enter shows only those events."""
    with app.app_context():
        campaign = make_campaign(slug="phone-audit", kind=Kind.BOYCOTT,
                                 title="A campaign with a title long enough to wrap over several lines")
        member = make_organiser("a.very.long.address.for.an.organiser@campaigns.example.org", campaigns=[campaign])
        make_organiser(ADMIN, is_admin=True)
        audit.record("export.signers", member, campaign, {"format": "csv"}, ip="192.0.2.1")
        audit.record("campaign.edited", member, campaign,
                     {"fields": ["next_action", "pledge_text", "postcode_required", "share_text"]}, ip="192.0.2.1")
        db.session.commit()
    page = new_page(viewport=PHONE, java_script_enabled=False)
    log_in_as_organiser(page, ADMIN, PASSWORD)
    page.get_by_role("link", name="Activity").click()
    expect(page.get_by_role("heading", name="Activity", level=1)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    filters = page.get_by_role("region", name="Filters")
    for label in ("Organiser", "Campaign", "Action", "From (UTC)", "To (UTC), included"):
        box = filters.get_by_label(label, exact=True).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]

    action = filters.get_by_label("Action", exact=True)
    action.focus()
    action.select_option(label="Exported the signer list")
    for _ in range(10):  # Tab on through the dates (a stop for each part of each) to the Show button
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Show":
            break
    expect(page.get_by_role("button", name="Show")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("cell", name="Exported the signer list (CSV)")).to_be_visible()
    expect(page.get_by_role("cell", name="Edited a campaign")).to_have_count(0)
    expect(page.get_by_role("region", name="Filters").get_by_label("Action", exact=True)).to_have_value(
        "export.signers")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
