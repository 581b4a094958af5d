"""The campaign page on a 360 px phone."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from campaign import businesses, signing
from campaign.extensions import db
from campaign.models import BusinessStatus, Kind, Signature

from ..builders import confirm_signature, make_campaign
from .steps import BUSINESS_LABELS, PLEDGE_LABELS, expect, field, listed_businesses, signers_list

PHONE = {"width": 360, "height": 740}


@pytest.mark.browser
@pytest.mark.parametrize(
    ("kind", "labels"),
    # "Copy link": the share section's link to copy, on the campaign page too.
    [(Kind.PLEDGE, PLEDGE_LABELS + ["Copy link"]), (Kind.BOYCOTT, PLEDGE_LABELS + BUSINESS_LABELS + ["Copy link"])],
    ids=["pledge", "boycott"],
)
def test_phone_user_sees_the_whole_form_without_scrolling_sideways(app, new_page, kind, labels):
    """On a 360 px wide phone a person can reach every field and the
    "Sign the pledge" button without scrolling sideways, and every field
    they can see is labelled."""
    with app.app_context():
        slug = make_campaign(
            kind=kind,
            title="A rather long campaign title that has to wrap on a small phone screen",
            summary="A summary long enough to wrap over several lines on a narrow screen.",
        ).slug
    page = new_page(viewport=PHONE)
    page.goto(f"/c/{slug}")

    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    sign = page.get_by_role("button", name="Sign the pledge")
    expect(sign).to_be_visible()
    _assert_fits_across(sign)

    for label in labels:
        control = field(page, label)
        expect(control).to_be_visible()
        _assert_fits_across(control)

    on_screen = [c for c in page.locator("input, select, textarea").filter(visible=True).all() if _on_screen(c)]
    for control in on_screen:
        expect(control).to_have_accessible_name(re.compile(r"\S"))
    assert len(on_screen) == len(labels), "a visible field is missing from the labels this test knows"


@pytest.mark.browser
def test_phone_user_is_not_pushed_sideways_by_a_long_public_name(app, new_page):
    """A signer and a business with very long one-word names are listed: on a
    360 px phone the names wrap, and the page still needs no sideways scrolling."""
    with app.app_context():
        campaign = make_campaign(kind=Kind.BOYCOTT)
        signing.sign(campaign, signing.Pledge(
            given_name="W" * 100, family_name="Long", email="long@example.com",
            country="GB", postal_code=None, email_opt_in=False, show_name=True,
        ))
        confirm_signature(db.session.execute(select(Signature)).scalar_one())
        businesses.join_as_business(campaign, businesses.BusinessPledge(
            organisation="M" * 200, website="https://long.co.uk",
            contact_email="owner@long.co.uk", company_size="1-9",
        ))
        businesses.confirm_pledge(campaign.businesses[0].id)
        businesses.decide_business(campaign, "M" * 200, BusinessStatus.APPROVED)
        slug = campaign.slug
    page = new_page(viewport=PHONE)
    page.goto(f"/c/{slug}")

    expect(signers_list(page)).to_have_count(1)
    expect(listed_businesses(page)).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def _on_screen(control) -> bool:
    """Not parked off-screen (as the honeypot for bots is)."""
    box = control.bounding_box()
    return box is not None and box["x"] + box["width"] > 0


def _assert_fits_across(element):
    box = element.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], f"{element} sticks out: {box}"
