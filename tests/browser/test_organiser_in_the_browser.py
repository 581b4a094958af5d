"""An organiser runs a campaign in a real browser: logs in, creates and
publishes it, watches a signature arrive, exports counts, logs out."""
from __future__ import annotations

import re

import pytest

from ..builders import PASSWORD, make_organiser
from .steps import (
    confirmation_email,
    confirmation_link,
    expect,
    field,
    figure,
    fill_in_the_pledge,
    log_in_as_organiser,
    press,
)

ORGANISER = "org@example.com"


@pytest.mark.browser
def test_organiser_runs_a_campaign_end_to_end(app, site, page, new_page, smtp, deliver):
    """An organiser creates a campaign, publishes it, sees a supporter's
    confirmed signature on the dashboard, downloads the counts by country,
    and after logging out the dashboard asks them to log in again."""
    with app.app_context():
        make_organiser(ORGANISER)

    log_in_as_organiser(page, ORGANISER, PASSWORD)
    page.get_by_role("link", name="New campaign").click()
    expect(page.get_by_role("heading", name="New campaign")).to_be_visible()
    field(page, "Kind").select_option(label="Pledge (people pledge to log off or walk away)")
    field(page, "Web address").fill("quiet-weekend")
    field(page, "Title").fill("A quiet weekend")
    field(page, "Summary").fill("Log off for one weekend.")
    field(page, "Pledge text").fill("I will log off for the weekend.")
    field(page, "Story").fill("We spend too long *scrolling*.")
    field(page, "Demands").fill("Chronological feeds\nNo autoplay")
    field(page, "Goal").fill("50")
    press(page, "Save")

    dashboard_url = f"{site.url}/organiser/c/quiet-weekend/"
    expect(page).to_have_url(dashboard_url)
    expect(page.get_by_text("Campaign created as a draft.")).to_be_visible()
    expect(page.get_by_role("heading", name="A quiet weekend", level=1)).to_be_visible()
    expect(page.locator(".status")).to_have_text("draft")
    press(page, "Publish")
    expect(page.get_by_text("The campaign is now live.")).to_be_visible()
    expect(page.locator(".status")).to_have_text("live")
    expect(figure(page, "confirmed")).to_have_text("0")

    supporter = new_page()
    supporter.goto("/c/quiet-weekend")
    expect(supporter.get_by_role("heading", name="A quiet weekend")).to_be_visible()
    fill_in_the_pledge(supporter, first_name="Grace", email="grace@example.com", country="United Kingdom")
    press(supporter, "Sign the pledge")
    expect(supporter.get_by_text("confirmation email is on its way")).to_be_visible()
    assert deliver().sent == 1
    supporter.goto(confirmation_link(confirmation_email(smtp, "grace@example.com")))
    press(supporter, "Confirm my signature")
    expect(supporter.get_by_role("heading", name="Your signature is confirmed")).to_be_visible()

    page.reload()
    expect(figure(page, "confirmed")).to_have_text("1")
    expect(figure(page, "pending")).to_have_text("0")
    by_country = page.get_by_role("region", name="Signatures by country")
    expect(by_country.get_by_role("row")).to_have_text([
        re.compile(r"Country\s*Code\s*Signatures"),
        re.compile(r"United Kingdom\s*GB\s*1"),
    ])

    counts_by_country = page.get_by_role("listitem").filter(has_text="Counts by country:")
    with page.expect_download() as downloading:
        counts_by_country.get_by_role("link", name="CSV").click()
    download = downloading.value
    assert download.suggested_filename == "quiet-weekend-signatures-by-country.csv"
    with open(download.path(), encoding="utf-8") as exported:
        assert exported.read().splitlines() == ["country,country_name,signatures", "GB,United Kingdom,1"]
    page.reload()
    expect(page.get_by_role("region", name="Exports").get_by_role("cell", name="counts by country (csv)")) \
        .to_be_visible()

    page.get_by_role("button", name="Log out", exact=True).click()
    expect(page).to_have_url(f"{site.url}/organiser/login")
    expect(page.get_by_text("You have logged out.")).to_be_visible()
    page.goto(dashboard_url)
    expect(page).to_have_url(re.compile(re.escape(f"{site.url}/organiser/login?next=")))
    expect(page.get_by_role("heading", name="Organisers: log in")).to_be_visible()


@pytest.mark.browser
def test_organiser_previews_the_story_before_saving(app, site, page):
    """The organiser previews a Markdown story with a script in it: the
    preview shows the formatting, the script is shown as text and never
    runs, what they typed is kept, and nothing is saved yet."""
    with app.app_context():
        make_organiser(ORGANISER)
    story = "Why this **really matters**.\n\n<script>window.__xss = 1</script>\n\n[bad](javascript:window.__xss=2)"

    log_in_as_organiser(page, ORGANISER, PASSWORD)
    page.get_by_role("link", name="New campaign").click()
    field(page, "Story").fill(story)
    press(page, "Preview")

    preview = page.get_by_role("region", name="Story preview")
    expect(preview).to_be_visible()
    expect(preview.locator("strong")).to_have_text("really matters")
    expect(preview).to_contain_text("<script>window.__xss = 1</script>")
    expect(preview.locator("script")).to_have_count(0)
    expect(preview.locator('a[href^="javascript"]')).to_have_count(0)
    preview.get_by_text("bad").click()
    assert page.evaluate("window.__xss") is None
    expect(field(page, "Story")).to_have_value(story)
    expect(page).to_have_url(f"{site.url}/organiser/campaigns/new")

    page.get_by_role("link", name="Campaigns").click()
    expect(page.get_by_text("You are not a member of any campaign yet.")).to_be_visible()
