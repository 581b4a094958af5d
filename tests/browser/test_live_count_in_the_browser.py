"""The live count, in Chromium: it rises without a reload when someone
confirms elsewhere, on the campaign page and on the thank-you page; a
milestone passed while the page is open is announced once; and a page
asks for the count only while someone can see it and is using it (not
while its tab is hidden, not after ten minutes without input).

The page's clock is Playwright's, so five seconds of polling take no time;
the count is the site's own, read from the database each time."""
from __future__ import annotations

import datetime as dt

import pytest

from campaign import counts
from campaign.extensions import db
from campaign.models import SignatureStatus

from ..builders import make_campaign
from .steps import (
    confirmation_email,
    confirmation_link,
    expect,
    fill_in_the_pledge,
    press,
    signature_count,
)

POLL_MS = 5_000


class Polls:
    """The page's requests for count.json, counted as they leave."""

    def __init__(self, page, slug: str):
        self.page = page
        self.asked = 0
        page.route(f"**/c/{slug}/count.json", self._count)

    def _count(self, route):
        self.asked += 1
        route.continue_()

    def wait_for(self, at_least: int) -> None:
        for _ in range(100):
            if self.asked >= at_least:
                break
            self.page.wait_for_timeout(50)
        assert self.asked >= at_least, f"the page asked {self.asked} times, not {at_least}"
        self.page.wait_for_load_state("networkidle")

    def after(self, milliseconds: int) -> int:
        """Let the page's clock run; how many times it asked meanwhile."""
        before = self.asked
        self.page.clock.run_for(milliseconds)
        self.page.wait_for_timeout(200)
        self.page.wait_for_load_state("networkidle")
        return self.asked - before

    def next(self) -> None:
        """One poll's worth of time, and its answer shown."""
        before = self.asked
        self.page.clock.run_for(POLL_MS)
        self.wait_for(before + 1)


def set_hidden(page, hidden: bool) -> None:
    """The tab goes to the background (or comes back), as a browser says it."""
    page.evaluate("""(hidden) => {
        Object.defineProperty(document, "hidden", {configurable: true, get: () => hidden});
        Object.defineProperty(document, "visibilityState", {configurable: true,
                                                            get: () => hidden ? "hidden" : "visible"});
        document.dispatchEvent(new Event("visibilitychange"));
    }""", hidden)


def add_confirmed(app, campaign_id: int, n: int) -> None:
    """``n`` confirmed signatures more (or fewer: moderation) in the stored count."""
    with app.app_context():
        counts.count_transition(campaign_id, False, None, SignatureStatus.CONFIRMED, n=n,
                                day=dt.date.today(), country="GB")
        db.session.commit()


@pytest.mark.browser
def test_the_count_rises_without_reload_when_someone_confirms_elsewhere(app, new_page, smtp, deliver):
    """Ada signs and waits on the thank-you page; Sam watches the campaign
    page. Grace signs in her own browser and confirms through the emailed
    link: both of their pages show 1 without reloading."""
    with app.app_context():
        slug = make_campaign(title="Count me in").slug
    watcher = new_page()
    watcher.clock.install()
    watcher.goto(f"/c/{slug}")
    expect(signature_count(watcher)).to_have_text("0")
    watching = Polls(watcher, slug)

    ada = new_page()
    ada.clock.install()
    ada.goto(f"/c/{slug}")
    fill_in_the_pledge(ada, email="ada@example.com")
    press(ada, "Sign the pledge")
    expect(ada.get_by_role("heading", name="Check your email")).to_be_visible()
    thanks_count = ada.get_by_role("region", name="Signatures").locator("[data-count]")
    expect(thanks_count).to_have_text("0")
    waiting = Polls(ada, slug)

    grace = new_page()
    grace.goto(f"/c/{slug}")
    fill_in_the_pledge(grace, first_name="Grace", last_name="Hopper", email="grace@example.com")
    press(grace, "Sign the pledge")
    deliver()
    grace.goto(confirmation_link(confirmation_email(smtp, "grace@example.com")))
    press(grace, "Confirm my signature")
    expect(grace.get_by_role("heading", name="Your signature is confirmed")).to_be_visible()

    watching.next()
    waiting.next()
    expect(signature_count(watcher)).to_have_text("1")
    expect(thanks_count).to_have_text("1")
    assert watcher.url.endswith(f"/c/{slug}"), "no reload"


@pytest.mark.browser
def test_a_milestone_passed_while_the_page_is_open_is_announced_once(app, page):
    """9,990 have signed when the page opens; passing 10,000 is announced
    (in a live region, so a screen reader says it too), and only once:
    not again at the next polls, nor when the count dips below and passes
    it again. Reaching the goal is announced as the goal."""
    with app.app_context():
        campaign = make_campaign(title="Ten thousand", goal=10_020)
        slug, campaign_id = campaign.slug, campaign.id
    add_confirmed(app, campaign_id, 9_990)
    page.clock.install()
    page.goto(f"/c/{slug}")
    expect(signature_count(page)).to_have_text("9,990")
    milestone = page.locator("[data-milestone]")
    expect(milestone).to_have_text("")
    expect(milestone).to_have_attribute("aria-live", "polite")
    polls = Polls(page, slug)

    polls.next()
    expect(milestone).to_have_text("", timeout=1_000)  # nothing passed, nothing said

    add_confirmed(app, campaign_id, 15)
    polls.next()
    expect(signature_count(page)).to_have_text("10,005")
    expect(page.get_by_text("We passed 10,000 signatures!")).to_be_visible()
    page.evaluate("""() => {
        window.__said = 0;
        new MutationObserver((records) => { window.__said += records.length; })
            .observe(document.querySelector("[data-milestone]"), {childList: true, characterData: true, subtree: true});
    }""")

    add_confirmed(app, campaign_id, 5)
    polls.next()
    expect(signature_count(page)).to_have_text("10,010")
    add_confirmed(app, campaign_id, -20)
    polls.next()
    expect(signature_count(page)).to_have_text("9,990")
    add_confirmed(app, campaign_id, 20)
    polls.next()
    expect(signature_count(page)).to_have_text("10,010")
    assert page.evaluate("window.__said") == 0, "10,000 was announced again"

    add_confirmed(app, campaign_id, 15)
    polls.next()
    expect(signature_count(page)).to_have_text("10,025")
    expect(milestone).to_have_text("We reached our goal of 10,020 signatures!")
    expect(page.get_by_role("region", name="Signatures").locator("[data-goal]")).to_have_text("20,000")
    assert page.evaluate("window.__said") == 1


@pytest.mark.browser
def test_a_page_in_a_hidden_tab_stops_asking_and_asks_at_once_when_shown(app, page):
    with app.app_context():
        campaign = make_campaign(title="Hide and seek")
        slug, campaign_id = campaign.slug, campaign.id
    page.clock.install()
    page.goto(f"/c/{slug}")
    polls = Polls(page, slug)
    assert polls.after(POLL_MS) == 1

    set_hidden(page, True)
    assert polls.after(10 * 60_000) == 0, "asked while the tab was hidden"

    add_confirmed(app, campaign_id, 3)
    set_hidden(page, False)
    polls.wait_for(2)
    expect(signature_count(page)).to_have_text("3")
    assert polls.after(POLL_MS) == 1, "back to every five seconds"


@pytest.mark.browser
def test_an_idle_page_stops_asking_after_ten_minutes_and_starts_again_on_the_next_key(app, page):
    with app.app_context():
        campaign = make_campaign(title="Anyone there?")
        slug, campaign_id = campaign.slug, campaign.id
    page.clock.install()
    page.goto(f"/c/{slug}")
    polls = Polls(page, slug)
    assert polls.after(9 * 60_000) >= 100, "polls every five seconds while in use"

    assert polls.after(2 * 60_000) <= 12, "still asking after ten minutes without input"
    assert polls.after(10 * 60_000) == 0, "still asking after ten minutes without input"

    add_confirmed(app, campaign_id, 2)
    asked = polls.asked
    page.keyboard.press("Tab")
    polls.wait_for(asked + 1)
    expect(signature_count(page)).to_have_text("2")
    assert polls.after(POLL_MS) == 1, "back to every five seconds"


@pytest.mark.browser
def test_without_javascript_the_pages_show_the_count_as_it_was_when_loaded(app, new_page):
    with app.app_context():
        campaign = make_campaign(title="No script")
        slug, campaign_id = campaign.slug, campaign.id
    add_confirmed(app, campaign_id, 1_234)
    page = new_page(java_script_enabled=False)
    page.goto(f"/c/{slug}")
    expect(signature_count(page)).to_have_text("1,234")
    page.goto(f"/c/{slug}/thanks")
    expect(page.get_by_role("region", name="Signatures").locator("[data-count]")).to_have_text("1,234")
