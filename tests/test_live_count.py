"""The live count as the server draws it (static/js/site.js refreshes it):
the same tally on the campaign page and the pages after signing, filled on
each request while the rest of the page is built once per edition, with
the milestone sentences translated in the page for the script to use."""
from __future__ import annotations

import datetime as dt
import html as markup
import re

import pytest

from campaign import counts
from campaign.extensions import db
from campaign.models import SignatureStatus

from .builders import make_campaign, sign


def add_confirmed(campaign, n: int) -> None:
    counts.count_transition(campaign.id, False, None, SignatureStatus.CONFIRMED, n=n, day=dt.date.today(),
                            country="GB")
    db.session.commit()


def tally(html: str) -> str:
    match = re.search(r'<section class="tally".*?</section>', html, re.S)
    assert match, "no tally on the page"
    return match.group(0)


def attribute(html: str, name: str) -> str:
    match = re.search(rf'{name}="([^"]*)"', html)
    assert match, f"no {name}"
    return markup.unescape(match.group(1))


@pytest.mark.parametrize("path", ["/c/{slug}", "/c/{slug}/thanks"], ids=["campaign page", "thank-you page"])
def test_the_tally_shows_the_count_read_on_each_request(client, ctx, path):
    campaign = make_campaign(goal=5_000)
    add_confirmed(campaign, 1_234)
    first = tally(client.get(path.format(slug=campaign.slug)).get_data(as_text=True))
    assert attribute(first, "data-count-url") == f"/c/{campaign.slug}/count.json"
    assert attribute(first, "data-count-number") == "1234"
    assert attribute(first, "data-goal-number") == "5000"
    assert re.search(r"data-count>1,234</span>", first)
    assert '<progress value="1234" max="5000"' in first

    add_confirmed(campaign, 1)
    again = tally(client.get(path.format(slug=campaign.slug)).get_data(as_text=True))
    assert re.search(r"data-count>1,235</span>", again), "filled again, not kept with the page"


def test_the_answer_to_a_sign_post_shows_the_count_too(client, ctx):
    campaign = make_campaign()
    add_confirmed(campaign, 7)
    response = sign(client, campaign.slug, email="ada@example.com")
    assert response.status_code == 200
    assert re.search(r"data-count>7</span>", tally(response.get_data(as_text=True)))


def test_the_milestone_sentences_are_in_the_page_for_the_script(client, ctx):
    campaign = make_campaign()
    page = tally(client.get(f"/c/{campaign.slug}").get_data(as_text=True))
    assert attribute(page, "data-milestone-text") == "We passed {number} signatures!"
    assert attribute(page, "data-goal-text") == "We reached our goal of {number} signatures!"
    assert re.search(r'<p class="milestone" aria-live="polite" data-milestone></p>', page), \
        "an empty live region, there before anything is said in it"


def test_the_count_speaks_on_the_campaign_page_and_keeps_quiet_after_signing(client, ctx):
    """A screen reader hears each change of the count on the campaign page;
    on the thank-you page, where the person reads what to do next, only a
    milestone is said."""
    campaign = make_campaign()
    page = tally(client.get(f"/c/{campaign.slug}").get_data(as_text=True))
    thanks = tally(client.get(f"/c/{campaign.slug}/thanks").get_data(as_text=True))
    assert '<span role="status" aria-live="polite" data-count>0</span>' in page
    assert "<span data-count>0</span>" in thanks and 'role="status"' not in thanks
    assert 'aria-live="polite" data-milestone' in thanks
