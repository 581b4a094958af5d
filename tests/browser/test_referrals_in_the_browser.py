"""A supporter's own link brings two friends, and their page says so; a
link's source codes are recorded with and without JavaScript."""
from __future__ import annotations

import pytest
from flask import request
from sqlalchemy import select

from campaign.extensions import db
from campaign.models import Signature

from ..builders import PASSWORD, make_campaign, make_organiser
from .steps import (
    confirmation_email,
    confirmation_link,
    expect,
    field,
    fill_in_the_pledge,
    log_in_as_organiser,
    press,
)
from .test_accessibility import AxeChecks

PHONE = {"width": 360, "height": 740}


def sign_and_confirm(page, smtp, deliver, first_name: str, email: str) -> None:
    """Sign on the page as it is, then confirm from the emailed link."""
    fill_in_the_pledge(page, first_name=first_name, email=email)
    press(page, "Sign the pledge")
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    deliver()
    page.goto(confirmation_link(confirmation_email(smtp, email)))
    press(page, "Confirm my signature")
    expect(page.get_by_role("heading", name="Your signature is confirmed")).to_be_visible()


@pytest.mark.browser
def test_a_supporters_link_brings_two_friends_and_their_page_says_so(app, site, new_page, smtp, deliver):
    """Ada signs and confirms; the page gives her own link. Two friends open
    it in browsers of their own, sign and confirm. Ada's page, reloaded from
    her confirmation link and on her "your impact" page, says 2 people
    signed through it; the organisers see her (first name and country) as
    the top referrer. On a phone nothing needs scrolling sideways."""
    with app.app_context():
        campaign = make_campaign(slug="spread-the-word", title="Spread the word")
        make_organiser("org@example.com", campaigns=[campaign])
    ada = new_page()
    ada.goto("/c/spread-the-word")
    sign_and_confirm(ada, smtp, deliver, "Ada", "ada@example.com")
    confirmed_at = ada.url
    expect(ada.get_by_text("Nobody has signed through your link yet.")).to_be_visible()
    own_link = field(ada, "Copy link").input_value()
    assert own_link.startswith(f"{site.url}/c/spread-the-word?ref=")

    for first_name, email in (("Grace", "grace@example.com"), ("Mary", "mary@example.com")):
        friend = new_page()
        friend.goto(own_link)
        sign_and_confirm(friend, smtp, deliver, first_name, email)

    ada.goto(confirmed_at)
    expect(ada.get_by_text("2 people signed through your link.")).to_be_visible()
    ada.get_by_role("link", name="Keep this page to see later how many signed through your link").click()
    expect(ada.get_by_role("heading", name="Your impact on Spread the word")).to_be_visible()
    expect(ada.get_by_text("2 people signed through your link.")).to_be_visible()
    expect(field(ada, "Copy link")).to_have_value(own_link)
    impact_url = ada.url
    axe = AxeChecks(ada)
    axe.check("the impact page")

    phone = new_page(viewport=PHONE)
    phone.goto(impact_url)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    organiser = new_page()
    log_in_as_organiser(organiser, "org@example.com", PASSWORD)
    organiser.goto("/organiser/c/spread-the-word/")
    organiser.get_by_role("navigation", name="This campaign").get_by_role("link", name="Sources").click()
    referrers = organiser.get_by_role("table", name="Top referrers")
    expect(referrers.get_by_role("row").nth(1)).to_have_text("AdaUnited Kingdom2")
    axe = AxeChecks(organiser)
    axe.check("the Sources page with figures")
    axe.assert_no_violations()


@pytest.mark.browser
@pytest.mark.parametrize("javascript", [True, False], ids=["with-javascript", "without-javascript"])
def test_a_links_source_is_recorded_with_and_without_javascript(app, site, new_page, javascript):
    """?source=newsletter&utm_medium=email: with script the form's hidden
    fields carry them (the Referer here has no query, to show it); without,
    the POST's Referer does."""
    with app.app_context():
        make_campaign(slug="newsletter-drive")
    arrived = []

    @app.before_request
    def note_the_referer():
        if request.method == "POST":
            arrived.append(request.headers.get("Referer"))

    page = new_page(java_script_enabled=javascript)
    page.goto("/c/newsletter-drive?source=newsletter&utm_medium=email")
    expect(page.locator('input[name="source"]')).to_have_value("newsletter" if javascript else "")
    expect(page.locator('input[name="utm_medium"]')).to_have_value("email" if javascript else "")
    if javascript:
        # As a browser that keeps the query out of the Referer would: only the fields carry the codes.
        page.evaluate("history.replaceState(null, '', location.pathname)")
    fill_in_the_pledge(page, email="reader@example.com")
    press(page, "Sign the pledge")
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    assert arrived == [f"{site.url}/c/newsletter-drive" + ("" if javascript else "?source=newsletter&utm_medium=email")]

    with app.app_context():
        signature = db.session.execute(select(Signature).where(Signature.email == "reader@example.com")).scalar_one()
        assert (signature.source, signature.medium) == ("newsletter", "email")


@pytest.mark.browser
def test_the_sources_page_fits_a_phone_whatever_the_sources_are_called(app, new_page):
    """The longest source a link can leave (64 characters, no space to break
    at) and a long first name: on a 360 px phone nothing scrolls sideways."""
    from campaign import provenance, signing

    from ..builders import confirm_signature

    with app.app_context():
        campaign = make_campaign(slug="long-names")
        make_organiser("org@example.com", campaigns=[campaign])
        signing.sign(campaign, signing.Pledge("Wolfeschlegelsteinhausenbergerdorff", "X", "w@example.com", "DE", None,
                                              False, False, provenance=provenance.Provenance("s" * 64, "m" * 64)))
        sharer = db.session.execute(select(Signature).where(Signature.email == "w@example.com")).scalar_one()
        confirm_signature(sharer)
        signing.sign(campaign, signing.Pledge("Friend", "X", "f@example.com", "DE", None, False, False,
                                              provenance=provenance.Provenance("t" * 64, referral=sharer.referral_code)))
        confirm_signature(db.session.execute(select(Signature).where(Signature.email == "f@example.com")).scalar_one())
    page = new_page(viewport=PHONE)
    log_in_as_organiser(page, "org@example.com", PASSWORD)
    page.goto("/organiser/c/long-names/sources")
    expect(page.get_by_role("heading", name="Sources", exact=True)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
