"""What a person using a screen reader, the keyboard or a phone meets, in
Chromium: after a failed submit the focus is on the error summary; nothing
on the page changes every second, and the live count speaks only when the
number changes; times are labelled for what they are with or without
JavaScript; the thank-you page says where the email went and sends it
again; the share buttons look like buttons; and the organiser pages work at
360 px, where closing a live campaign asks first."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from campaign import signing
from campaign.extensions import db
from campaign.models import Campaign, CampaignStatus, Kind, Signature

from ..builders import PASSWORD, confirm_signature, confirmed_signatures, hours_from_now, make_campaign, make_organiser
from .steps import expect, field, fill_in_the_pledge, log_in_as_organiser, press, signature_count

PHONE = {"width": 360, "height": 740}
ORGANISER = "org@example.com"


def error_summary(page):
    return page.get_by_role("alert").filter(has=page.get_by_role("heading", name="There is a problem"))


# --- Focus after a failed submit ------------------------------------------------------

@pytest.mark.browser
@pytest.mark.parametrize("javascript", [True, False], ids=["with-javascript", "without-javascript"])
def test_after_a_failed_sign_the_focus_is_on_the_error_summary(app, new_page, javascript):
    """A supporter presses "Sign the pledge" with the email mistyped: the
    page comes back with the summary focused (a screen reader reads it
    first), and the title says "Error:"; the summary's link leads to the field."""
    with app.app_context():
        slug = make_campaign(title="Focus on the problem").slug
    page = new_page(java_script_enabled=javascript)
    page.goto(f"/c/{slug}")
    fill_in_the_pledge(page, email="not-an-address")
    press(page, "Sign the pledge")

    expect(error_summary(page)).to_be_focused()
    expect(page).to_have_title(re.compile(r"^Error: Focus on the problem"))
    error_summary(page).get_by_role("link").first.click()
    expect(field(page, "Email")).to_be_focused()


@pytest.mark.browser
def test_after_a_failed_login_the_focus_is_on_the_error_summary(app, page):
    """A wrong password: the message that says so has the focus."""
    with app.app_context():
        make_organiser(ORGANISER)
    page.goto("/organiser/login")
    field(page, "Email").fill(ORGANISER)
    field(page, "Password").fill("not the password")
    press(page, "Log in")
    expect(page.get_by_role("alert")).to_be_focused()
    expect(page).to_have_title(re.compile(r"^Error: "))


@pytest.mark.browser
def test_after_a_failed_organiser_form_the_focus_is_on_the_error_summary(app, new_page):
    """The campaign form sent back (without JavaScript too): the summary has the focus."""
    with app.app_context():
        campaign = make_campaign(slug="edited", title="To be edited")
        make_organiser(ORGANISER, campaigns=[campaign])
    page = new_page(java_script_enabled=False)
    page.goto("/organiser/login")
    field(page, "Email").fill(ORGANISER)
    field(page, "Password").fill(PASSWORD)
    press(page, "Log in")
    page.goto("/organiser/c/edited/edit")
    field(page, "Title").fill("")
    press(page, "Save")
    expect(error_summary(page)).to_be_focused()


# --- Nothing that moves every second; a live region that speaks only of changes --------------

def _watch_mutations(page, selector: str) -> None:
    page.evaluate("""(selector) => {
        window.__mutations = 0;
        new MutationObserver((records) => { window.__mutations += records.length; })
            .observe(document.querySelector(selector), {childList: true, characterData: true, subtree: true});
    }""", selector)


@pytest.mark.browser
def test_the_countdown_changes_at_most_once_a_minute(app, page):
    """A freeze three hours away: the countdown shows whole minutes and
    changes once a minute, never each second (WCAG 2.2.2)."""
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    with app.app_context():
        slug = make_campaign(kind=Kind.FREEZE, window_start=(now + dt.timedelta(hours=3, minutes=10, seconds=30))
                             .replace(tzinfo=None), window_end=hours_from_now(27)).slug
    page.clock.install(time=now)
    page.goto(f"/c/{slug}")
    page.clock.pause_at(now + dt.timedelta(seconds=5))  # 3 h 10 min 25 s to go
    countdown = page.locator(".countdown")
    expect(countdown).to_have_text("Starts in 0 d 3 h 11 min")
    _watch_mutations(page, ".countdown")

    page.clock.run_for(20_000)
    expect(countdown).to_have_text("Starts in 0 d 3 h 11 min")
    page.clock.run_for(10_000)
    expect(countdown).to_have_text("Starts in 0 d 3 h 10 min")
    page.clock.run_for(5 * 60_000)
    expect(countdown).to_have_text("Starts in 0 d 3 h 5 min")
    assert page.evaluate("window.__mutations") <= 6, "changed more often than once a minute"


@pytest.mark.browser
def test_the_live_count_rewrites_its_live_region_only_when_the_number_changes(app, page):
    """The page asks count.json every five seconds: while the count stays the
    same the live region is left alone (a screen reader has nothing to say);
    when someone confirms, it changes once."""
    with app.app_context():
        campaign = make_campaign(title="Counting")
        slug = campaign.slug
    polls = []
    page.route(f"**/c/{slug}/count.json", lambda route: (polls.append(1), route.continue_()))
    page.clock.install()
    page.goto(f"/c/{slug}")
    expect(signature_count(page)).to_have_text("0")
    _watch_mutations(page, "[data-count]")

    def poll_once():
        asked = len(polls)
        page.clock.run_for(5_000)
        for _ in range(100):
            if len(polls) > asked:
                break
            page.wait_for_timeout(50)
        assert len(polls) > asked, "the page did not ask for the count"
        page.wait_for_load_state("networkidle")

    for _ in range(3):
        poll_once()
    assert page.evaluate("window.__mutations") == 0, "the same number was written again"

    with app.app_context():
        confirmed_signatures(db.session.get(Campaign, campaign.id), [("new@example.com", "GB")])
    poll_once()
    expect(signature_count(page)).to_have_text("1")
    poll_once()
    assert page.evaluate("window.__mutations") == 1


@pytest.mark.browser
@pytest.mark.parametrize("javascript", [True, False], ids=["with-javascript", "without-javascript"])
def test_a_time_is_labelled_for_what_it_is(app, new_page, javascript):
    """Without JavaScript the second time of each line is in UTC and says
    so; with it, that time is the viewer's own and is labelled "Your time"."""
    with app.app_context():
        slug = make_campaign(kind=Kind.FREEZE, window_start=hours_from_now(50), window_end=hours_from_now(74),
                             time_zone="Europe/London").slug
    page = new_page(java_script_enabled=javascript, timezone_id="America/New_York")
    page.goto(f"/c/{slug}")
    times = page.locator(".local-time")
    expect(times).to_have_count(2)
    if javascript:
        expect(times.first).to_contain_text("Your time:")
        expect(times.first).not_to_contain_text("UTC")
    else:
        expect(times.first).to_contain_text(re.compile(r"^In UTC: .* UTC$"))
        expect(page.get_by_text("Your time:")).to_have_count(0)


# --- After signing ------------------------------------------------------------------------

@pytest.mark.browser
def test_the_thank_you_page_names_the_address_and_sends_the_email_again(app, page, smtp, deliver):
    """A supporter sees which address the email went to, finds nothing in
    their inbox, presses "Send the email again", and gets a second one."""
    app.config["SIGNATURE_RESEND_AFTER_SECONDS"] = 0
    with app.app_context():
        slug = make_campaign(title="Send it again").slug
    page.goto(f"/c/{slug}")
    fill_in_the_pledge(page, email="grace@example.com")
    press(page, "Sign the pledge")
    expect(page.get_by_text("A confirmation email is on its way to grace@example.com.")).to_be_visible()
    expect(page).to_have_title(re.compile(r"^Check your email"))

    press(page, "Send the email again")
    expect(page.get_by_role("status")).to_contain_text("We are sending it again to grace@example.com")
    deliver()
    assert [m.subject.startswith("Confirm your signature") for m in smtp.to("grace@example.com")] == [True, True]


@pytest.mark.browser
def test_share_buttons_are_on_the_campaign_page_and_look_pressable(app, page):
    """The share links are on the campaign page itself, drawn as outlined
    buttons in the accent colour, not grey ones that look switched off."""
    with app.app_context():
        slug = make_campaign(title="Share me").slug
    page.goto(f"/c/{slug}")
    share = page.get_by_role("region", name="Share this campaign")
    link = share.get_by_role("link", name="WhatsApp")
    expect(link).to_be_visible()
    style = link.evaluate("""(a) => { const s = getComputedStyle(a);
        return {color: s.color, border: s.borderTopColor, width: s.borderTopWidth, opacity: s.opacity,
                background: s.backgroundColor}; }""")
    assert style == {"color": "rgb(8, 76, 55)", "border": "rgb(11, 110, 79)", "width": "2px", "opacity": "1",
                     "background": "rgb(255, 255, 255)"}


# --- Organiser pages at 360 px --------------------------------------------------------------

def _organiser_on_a_phone(app, new_page, **context):
    page = new_page(viewport=PHONE, **context)
    log_in_as_organiser(page, ORGANISER, PASSWORD)
    return page


def _fits_the_phone(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "the page scrolls sideways"


@pytest.mark.browser
def test_organiser_inputs_are_full_size_on_a_phone(app, new_page):
    """Password, number, date-and-time and file inputs are as big and as
    clearly drawn as the text inputs (a 177 x 21 px password box was not)."""
    with app.app_context():
        campaign = make_campaign(slug="inputs", kind=Kind.FREEZE, window_start=hours_from_now(24),
                                 window_end=hours_from_now(48))
        make_organiser(ORGANISER, campaigns=[campaign])
    login = new_page(viewport=PHONE)
    login.goto("/organiser/login")
    boxes = {"Password": field(login, "Password").bounding_box(), "Email": field(login, "Email").bounding_box()}
    assert boxes["Password"] == boxes["Email"] | {"y": boxes["Password"]["y"]}
    page = _organiser_on_a_phone(app, new_page)
    page.goto("/organiser/c/inputs/edit")
    for label in ("Title", "Goal", "Window starts", "Window ends", "Image"):
        control, box = field(page, label), field(page, label).bounding_box()
        assert box["height"] >= 44, f"{label}: {box}"
        room = control.evaluate("(e) => e.closest('.field').getBoundingClientRect().width")
        assert box["width"] == room, f"{label} is {box['width']} px wide, not the whole {room} px of its field"
        assert control.evaluate("(e) => getComputedStyle(e).borderTopWidth") == "2px", label
    _fits_the_phone(page)


@pytest.mark.browser
def test_chart_labels_stay_readable_on_a_phone(app, new_page):
    """The dashboard's charts scale to the phone, but their labels are still
    at least 12 px tall there (they were about 5)."""
    with app.app_context():
        campaign = make_campaign(slug="charted")
        make_organiser(ORGANISER, campaigns=[campaign])
        confirmed_signatures(campaign, [("a@example.com", "GB"), ("b@example.com", "CD"), ("c@example.com", "FR")])
    page = _organiser_on_a_phone(app, new_page)
    page.goto("/organiser/c/charted/")
    labels = page.locator(".chart-label")
    expect(labels.first).to_be_visible()
    sizes = labels.evaluate_all(
        "(els) => els.map((e) => parseFloat(getComputedStyle(e).fontSize) * e.getScreenCTM().a)")
    assert len(sizes) >= 6 and min(sizes) >= 12, sizes
    _fits_the_phone(page)


_WORDS_BROKEN = """(table) => {
  // Each line break inside a cell must fall between words, not inside one.
  const broken = [];
  for (const cell of table.querySelectorAll("td")) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node.textContent;
      let top = null;
      for (let i = 0; i < text.length; i++) {
        const range = document.createRange();
        range.setStart(node, i); range.setEnd(node, i + 1);
        const rect = range.getClientRects()[0];
        if (!rect) { continue; }
        if (top !== null && rect.top > top + 2 && /\\S/.test(text[i - 1]) && /\\S/.test(text[i])) {
          broken.push(text.slice(0, i) + "|" + text.slice(i));
        }
        top = rect.top;
      }
    }
  }
  return broken;
}"""


@pytest.mark.browser
def test_the_signatures_table_breaks_no_word_on_a_phone(app, new_page):
    """Searching signatures at 360 px: each row is a stack of labelled
    cells; names, addresses and dates wrap between words, never inside one."""
    with app.app_context():
        campaign = make_campaign(slug="searched")
        make_organiser(ORGANISER, campaigns=[campaign])
        for given, family, email in [("Maximilian", "Featherstonehaugh", "max.feather@example.org"),
                                     ("Anna-Karin", "Lindqvist-Öberg", "annakarin@example.org")]:
            signing.sign(campaign, signing.Pledge(given, family, email, "SE", None, False, False))
        for signature in db.session.execute(select(Signature)).scalars():
            confirm_signature(signature)
    page = _organiser_on_a_phone(app, new_page)
    page.goto("/organiser/c/searched/signatures?email_domain=example.org")
    table = page.locator("table").filter(has_text="Featherstonehaugh")
    expect(table.get_by_text("Maximilian Featherstonehaugh")).to_be_visible()
    assert table.evaluate(_WORDS_BROKEN) == []
    _fits_the_phone(page)


@pytest.mark.browser
def test_closing_a_live_campaign_asks_first_without_javascript(app, new_page):
    """On a phone without JavaScript: "Close…" leads to a page that says
    what closing does; "No, keep it live" changes nothing; "Close the
    campaign" closes it."""
    with app.app_context():
        campaign = make_campaign(slug="closing-time", title="Closing time")
        make_organiser(ORGANISER, campaigns=[campaign])
        confirmed_signatures(campaign, [("a@example.com", "GB")])
        campaign_id = campaign.id
    page = _organiser_on_a_phone(app, new_page, java_script_enabled=False)
    page.goto("/organiser/c/closing-time/")
    press(page, "Close")
    expect(page.get_by_role("heading", name="Close “Closing time”?")).to_be_visible()
    expect(page.get_by_text("It is live and has 1 confirmed signature.")).to_be_visible()
    _fits_the_phone(page)
    page.get_by_role("link", name="No, keep it live").click()
    expect(page.locator(".status")).to_have_text("live")

    press(page, "Close")
    press(page, "Close the campaign")
    expect(page.get_by_text("The campaign is now closed.")).to_be_visible()
    with app.app_context():
        assert db.session.get(Campaign, campaign_id).status == CampaignStatus.CLOSED
