"""On a 360 x 740 phone, each kind of campaign in each state of its window
shows its count, its bar and a call to action in the first screen, and the
call to action leads to the form (or, for a freeze that has ended, to its
result, with no form to sign)."""
from __future__ import annotations

import pytest

from campaign.models import Kind

from ..builders import hours_from_now, make_campaign
from .steps import expect

PHONE = {"width": 360, "height": 740}
WINDOWS = {
    "upcoming": (48, 72),
    "happening": (-1, 23),
    "ended": (-48, -24),
}
LONG_SUMMARY = ("Brands pause their paid ads on the network for a month, until it acts on hate and "
                "disinformation; customers sign to back them, and businesses join them.")


def in_first_screen(locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"]


@pytest.mark.browser
@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
@pytest.mark.parametrize("state", list(WINDOWS))
@pytest.mark.parametrize("kind", [Kind.BOYCOTT, Kind.PLEDGE, Kind.FREEZE], ids=lambda k: k.value)
def test_the_call_to_action_is_in_the_first_screen(app, new_page, kind, state, javascript):
    starts, ends = WINDOWS[state]
    with app.app_context():
        make_campaign(slug="first-screen", kind=kind, title="A campaign title long enough to wrap on a phone",
                      summary=LONG_SUMMARY, window_start=hours_from_now(starts), window_end=hours_from_now(ends),
                      statement="For 24 hours I am quiet." if kind == Kind.FREEZE else "")
    page = new_page(viewport=PHONE, java_script_enabled=javascript)
    page.goto("/c/first-screen")

    tally = page.get_by_role("region", name="Signatures")
    assert in_first_screen(tally.get_by_role("status")), "the count"
    assert in_first_screen(tally.locator("progress")), "the bar"
    ended_freeze = kind == Kind.FREEZE and state == "ended"
    name = "See how many took part" if ended_freeze else \
        "Join the freeze" if kind == Kind.FREEZE else "Sign the pledge"
    action = page.get_by_role("link", name=name)
    assert in_first_screen(action), f"{name!r} in the first screen"

    action.click()
    if ended_freeze:
        expect(page.get_by_role("heading", name="The result")).to_be_in_viewport()
        expect(page.get_by_role("button", name="Sign the pledge")).to_have_count(0)
    else:
        expect(page.get_by_label("First name", exact=True)).to_be_in_viewport()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
