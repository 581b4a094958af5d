"""A right-to-left page mirrors: on a 360 px phone in Arabic the campaign
page's labels, checkboxes, progress bar and error summary, and the
organiser's dashboard, start from the right, with the same stylesheet that
starts the English page from the left (static/css/site.css is written with
logical properties). Each test runs in both languages, so a layout that does
not mirror fails in Arabic, and one that mirrors everything, in English.
And the count the page's script refreshes is written as the page wrote it,
in each language's way.

Screenshots of each page are saved in the test's temporary folder."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from PIL import Image

from campaign import counts
from campaign.extensions import db
from campaign.models import SignatureStatus, SignatureTally

from ..builders import PASSWORD, confirmed_signatures, make_campaign, make_organiser
from ..test_formats import translated
from .steps import expect, log_in_as_organiser

PHONE = {"width": 360, "height": 740}
DIRECTIONS = [pytest.param("ar", "rtl", id="arabic"), pytest.param("en", "ltr", id="english")]
# What the form's fields are (by id): the labels are read in the page's language.
FIELDS = ("given_name", "family_name", "email", "country", "postal_code")
CHECKBOXES = ("email_opt_in", "show_name")
# The campaign's own text in Arabic, as its organisers would write it.
ARABIC = {"title": "يوم بلا شبكات", "summary": "نبتعد عن الشبكات الاجتماعية يومًا كاملًا.",
          "pledge_text": "أتعهّد بالابتعاد عن الشبكات الاجتماعية يومًا كاملًا."}

# The extent of an element's text (not of its box: a block label is as wide as its field).
_TEXT_BOX = """(element) => {
  const range = document.createRange();
  range.selectNodeContents(element);
  const box = range.getBoundingClientRect();
  return {left: box.left, right: box.right, top: box.top, bottom: box.bottom};
}"""
# The first line of an element's text (a long message wraps over the whole width).
_FIRST_LINE = """(element) => {
  const range = document.createRange();
  range.selectNodeContents(element);
  const line = range.getClientRects()[0];
  return {left: line.left, right: line.right, top: line.top, bottom: line.bottom};
}"""
_BOX = "(element) => { const b = element.getBoundingClientRect(); return {left: b.left, right: b.right, top: b.top}; }"


def text_box(locator) -> dict:
    return locator.evaluate(_TEXT_BOX)


def box(locator) -> dict:
    return locator.evaluate(_BOX)


def gaps(inner: dict, outer: dict, direction: str) -> tuple[float, float]:
    """How far ``inner`` is from ``outer``'s start edge and from its end edge
    (start: the right in a right-to-left page, the left otherwise)."""
    left, right = inner["left"] - outer["left"], outer["right"] - inner["right"]
    return (right, left) if direction == "rtl" else (left, right)


def assert_at_the_start(inner: dict, outer: dict, direction: str, within: float, what: str) -> None:
    """``inner`` sits against ``outer``'s start edge (within ``within`` px),
    well away from its end."""
    start, end = gaps(inner, outer, direction)
    assert start <= within and end > start + 10, f"{what} is not at the {direction} start: {start=:.1f} {end=:.1f}"


def first_is_at_the_start(first: dict, second: dict, direction: str) -> bool:
    """Of two boxes side by side, whether ``first`` is the one at the start."""
    return first["right"] > second["right"] if direction == "rtl" else first["left"] < second["left"]


def filled_side(progress) -> str:
    """Which end of a progress bar its fill starts from: the darker fifth of
    its screenshot (the fill is the accent green, the track light grey)."""
    image = Image.open(io.BytesIO(progress.screenshot())).convert("L")
    width, height = image.size
    fifth = max(width // 5, 1)

    def lightness(x0: int) -> float:
        pixels = [image.getpixel((x, y)) for x in range(x0, x0 + fifth) for y in range(height)]
        return sum(pixels) / len(pixels)

    left, right = lightness(0), lightness(width - fifth)
    assert abs(left - right) > 30, f"no filled end to see: {left=:.0f} {right=:.0f}"
    return "left" if left < right else "right"


def fits_the_phone(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "the page scrolls sideways"


def a_campaign_in_arabic(app, slug: str, organiser: bool = False) -> str:
    """A campaign published in Arabic, a quarter of the way to its goal."""
    with app.app_context():
        campaign = translated(make_campaign(slug=slug, goal=1000, title="Log off for a day"), ar=ARABIC)
        db.session.add(SignatureTally(campaign_id=campaign.id, status="confirmed", email_opt_in=False,
                                      shard=10_000, signatures=250))
        db.session.commit()
        if organiser:
            make_organiser(campaigns=[campaign])
            confirmed_signatures(campaign, [("a@example.com", "GB"), ("b@example.com", "DE")])
    return slug


def address(language: str, rest: str) -> str:
    return rest if language == "en" else f"/{language}{rest}"


@pytest.mark.browser
@pytest.mark.parametrize("language, direction", DIRECTIONS)
def test_the_campaign_page_starts_from_the_right_in_arabic(app, new_page, tmp_path, language, direction):
    """The sign form's labels sit over the start edge of their fields, each
    checkbox before its words, and the progress bar fills from the start."""
    slug = a_campaign_in_arabic(app, "mirrored")
    page = new_page(viewport=PHONE)
    page.goto(address(language, f"/c/{slug}"))
    expect(page.locator("html")).to_have_attribute("dir", direction)
    page.screenshot(path=tmp_path / f"campaign-{language}.png", full_page=True)
    fits_the_phone(page)

    form = page.locator("#sign form")
    for name in FIELDS:
        label, control = form.locator(f'label[for="{name}"]'), form.locator(f"#{name}")
        expect(control).to_be_visible()
        assert_at_the_start(text_box(label), box(control), direction, within=2, what=f"the label of {name}")
    for name in CHECKBOXES:
        label, checkbox = box(form.locator(f'label[for="{name}"]')), box(form.locator(f"#{name}"))
        assert first_is_at_the_start(checkbox, label, direction), f"the {name} checkbox is not before its words"
    heading, column = text_box(page.locator("h1")), box(page.locator("main"))
    assert gaps(heading, column, direction)[0] <= 17, "the title does not start at the page's start edge"

    progress = page.locator("progress")
    expect(progress).to_have_attribute("value", "250")
    assert filled_side(progress) == ("right" if direction == "rtl" else "left")


@pytest.mark.browser
@pytest.mark.parametrize("language, direction", DIRECTIONS)
def test_the_error_summary_after_an_empty_submit_starts_from_the_right_in_arabic(
        app, new_page, tmp_path, language, direction):
    slug = a_campaign_in_arabic(app, "empty")
    page = new_page(viewport=PHONE)
    page.goto(address(language, f"/c/{slug}"))
    page.locator("#sign form button[type=submit]").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    page.screenshot(path=tmp_path / f"errors-{language}.png", full_page=True)
    fits_the_phone(page)

    edges = box(summary)
    assert_at_the_start(text_box(summary.locator("h2")), edges, direction, within=24, what="the summary's heading")
    items = summary.locator("li").all()
    assert items, "no error listed"
    for item in items:
        indent, other_side = gaps(box(item), edges, direction)
        assert indent > other_side + 20, "the list's indent (where its bullets go) is not on the start side"
        first_line = item.locator("a").evaluate(_FIRST_LINE)
        assert gaps(first_line, box(item), direction)[0] <= 2, "an error in the summary does not start at the start"
    message, control = page.locator("#given_name-error"), page.locator("#given_name")
    assert_at_the_start(text_box(message), box(control), direction, within=2, what="the message beside a field")


@pytest.mark.browser
@pytest.mark.parametrize("language, direction", DIRECTIONS)
def test_the_organiser_dashboard_mirrors_in_arabic(app, new_page, tmp_path, language, direction):
    """The campaign's navigation starts from the right, the figures' first
    one is on the right, the table's first column too, and the charts run
    from the right."""
    slug = a_campaign_in_arabic(app, "dashboard", organiser=True)
    page = new_page(viewport=PHONE)
    log_in_as_organiser(page, "org@example.com", PASSWORD)
    page.goto(address(language, f"/organiser/c/{slug}/"))
    expect(page.locator("html")).to_have_attribute("dir", direction)
    page.screenshot(path=tmp_path / f"dashboard-{language}.png", full_page=True)
    fits_the_phone(page)

    nav = page.locator(".campaign-nav")
    links = nav.locator("a")
    assert_at_the_start(box(links.nth(0)), box(nav), direction, within=1, what="the first link of the navigation")
    assert first_is_at_the_start(box(links.nth(0)), box(links.nth(1)), direction)

    figures = page.locator(".figures > div")
    first, second = box(figures.nth(0)), box(figures.nth(1))
    assert first["top"] == second["top"], "the first two figures are not side by side"
    assert first_is_at_the_start(first, second, direction), "the first figure is not at the start"

    headings = page.locator("section[aria-labelledby=country-title] th")
    assert first_is_at_the_start(box(headings.nth(0)), box(headings.nth(2)), direction)
    number = page.locator("section[aria-labelledby=country-title] td.num").first
    cell = box(number)
    assert gaps(text_box(number), cell, direction)[1] <= 10, "a figure in a table is not at the cell's end"

    # The country chart: each name beside the start of its bar; the daily one: the latest day at the end.
    country_chart = page.locator("svg[aria-labelledby^=chart-country]")
    label, bar = box(country_chart.locator("text").first), box(country_chart.locator("rect").first)
    assert first_is_at_the_start(label, bar, direction), "a country's name is not before its bar"
    days = page.locator("svg[aria-labelledby^=chart-daily] rect")
    oldest, latest = box(days.first), box(days.last)
    assert first_is_at_the_start(oldest, latest, direction), "the days do not run from the start"


@pytest.mark.browser
@pytest.mark.parametrize("language, before, after, milestone", [
    ("es", "9.990", "10.005", "10.000"),
    ("fr", "9\u202f990", "10\u202f005", "10\u202f000"),
    ("ar", "9,990", "10,005", "10,000"),
])
def test_the_refreshed_count_is_written_as_the_page_wrote_it(app, page, language, before, after, milestone):
    """The page's script has no Babel: it groups the digits with the
    separator the page gives it, so the count it refreshes, and the
    milestone it announces, read as the server wrote them."""
    with app.app_context():
        campaign = translated(make_campaign(goal=20_000))
        slug, campaign_id = campaign.slug, campaign.id
        counts.count_transition(campaign_id, False, None, SignatureStatus.CONFIRMED, n=9_990,
                                day=dt.date.today(), country="GB")
        db.session.commit()
    page.clock.install()
    page.goto(f"/{language}/c/{slug}")
    count = page.locator("[data-count]").first  # (the region's name is in the page's language)
    expect(count).to_have_text(before)
    with app.app_context():
        counts.count_transition(campaign_id, False, None, SignatureStatus.CONFIRMED, n=15,
                                day=dt.date.today(), country="GB")
        db.session.commit()
    page.clock.run_for(5_000)
    expect(count).to_have_text(after)
    expect(page.locator("[data-milestone]")).to_contain_text(milestone)
