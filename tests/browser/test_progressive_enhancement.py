"""JavaScript only adds conveniences; without it nothing broken is on show."""
from __future__ import annotations

import pytest

from ..builders import make_campaign
from .steps import expect, press


@pytest.mark.browser
def test_supporter_with_javascript_copies_the_campaign_link(app, site, new_page):
    """After signing, a supporter presses "Copy link" and has the campaign's
    address on their clipboard, ready to paste."""
    with app.app_context():
        slug = make_campaign(slug="copy-me").slug
    page = new_page(permissions=["clipboard-read", "clipboard-write"])

    page.goto(f"/c/{slug}/thanks")
    press(page, "Copy link")
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == f"{site.url}/c/{slug}"


@pytest.mark.browser
def test_supporter_without_javascript_sees_no_copy_button_that_cannot_work(app, new_page):
    """Without JavaScript the "Copy link" button could do nothing, so it is
    not shown; the link itself is there to select and copy by hand."""
    with app.app_context():
        slug = make_campaign(slug="copy-by-hand").slug
    page = new_page(java_script_enabled=False)

    page.goto(f"/c/{slug}/thanks")
    expect(page.get_by_label("Copy link")).to_be_visible()
    expect(page.get_by_role("button", name="Copy link")).to_be_hidden(timeout=1_000)
