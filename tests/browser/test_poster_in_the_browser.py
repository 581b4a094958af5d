"""An organiser prints a campaign's poster: one A4 sheet with the pledge and
the QR code, nothing of the site around it; on a phone the page fits its
screen; the Print button is there only where a script can press it."""
from __future__ import annotations

import re

import pytest

from campaign.models import Kind

from ..builders import make_campaign
from .steps import expect

PHONE = {"width": 360, "height": 740}
A4_MM = (210, 297)


@pytest.fixture
def slug(app):
    with app.app_context():
        return make_campaign(
            kind=Kind.BOYCOTT, title="Pause your ads on the platform for the whole of July, until it acts",
            summary="Brands large and small pause their paid ads for a month.",
            pledge_text="We will not buy ads there from 1 to 31 July, and we will say why in public.").slug


@pytest.mark.browser
def test_the_poster_prints_on_one_a4_sheet_without_the_site_around_it(new_page, slug):
    page = new_page()
    page.goto(f"/c/{slug}/poster")
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.locator(".site-footer")).to_be_hidden()
    expect(page.get_by_role("button", name="Print the poster")).to_be_hidden()
    expect(page.get_by_role("heading", name=re.compile("^Pause your ads"))).to_be_visible()
    qr = page.get_by_role("img", name=re.compile(r"^QR code: a link to .*\/c\/" + slug + "$"))
    expect(qr).to_be_visible()
    width_mm = qr.bounding_box()["width"] * 25.4 / 96
    assert 80 <= width_mm <= 90, f"the QR code prints {width_mm:.0f} mm wide"

    pdf = page.pdf(prefer_css_page_size=True)
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 1, "more than one sheet"
    box = re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert box, "no page size in the PDF"
    size_mm = tuple(round(float(points) * 25.4 / 72) for points in box.groups())
    assert size_mm == A4_MM


@pytest.mark.browser
@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_poster_page_fits_a_phone_and_says_how_to_print(new_page, slug, javascript):
    page = new_page(viewport=PHONE, java_script_enabled=javascript)
    page.goto(f"/c/{slug}/poster")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    expect(page.get_by_text("use your browser’s Print command")).to_be_visible()
    print_button = page.get_by_role("button", name="Print the poster")
    if javascript:
        expect(print_button).to_be_visible()
    else:
        expect(print_button).to_be_hidden()
    expect(page.get_by_role("img", name=re.compile("^QR code"))).to_be_visible()


@pytest.mark.browser
def test_the_poster_is_a_link_away_from_the_campaign_page(page, slug):
    page.goto(f"/c/{slug}")
    page.get_by_role("link", name="Print a poster with a QR code").click()
    expect(page).to_have_url(re.compile(f"/c/{slug}/poster$"))
    expect(page.get_by_text("Scan to sign the pledge")).to_be_visible()
