"""An organiser connects their other tools, on a 360 px phone without
JavaScript: an API key seen once, then a webhook to a receiver that gets a
test event, seen in the endpoint's delivery log, and a dead letter
redelivered with one button. axe checks the pages only
a POST shows (a form sent back, a token or a secret shown once)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from campaign import webhooks
from campaign.extensions import db
from campaign.models import OutboxMessage, OutboxStatus, WebhookAttempt, WebhookEndpoint

from ..builders import PASSWORD, make_campaign, make_organiser
from ..webhook_receiver import Receiver
from .steps import expect, field, log_in_as_organiser, press
from .test_accessibility import AxeChecks

PHONE = {"width": 360, "height": 740}
ORGANISER = "organiser@example.com"
TITLE = "Pause the ads"


def fits_across(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


@pytest.mark.browser
def test_an_organiser_makes_an_api_key_and_a_webhook_that_receives_a_test_event(app, new_page, deliver):
    with app.app_context():
        campaign = make_campaign(title=TITLE)
        make_organiser(ORGANISER, campaigns=[campaign])
        slug = campaign.slug
    # The receiver listens on 127.0.0.1: the tests' own relaxation of the address check.
    app.config["WEBHOOK_ALLOW_PRIVATE_ADDRESSES"] = True
    page = new_page(viewport=PHONE)
    axe = AxeChecks(page)
    log_in_as_organiser(page, ORGANISER, PASSWORD)

    # An API key: a form sent back, then the key, once.
    page.get_by_role("link", name="API keys").click()
    expect(page.get_by_role("heading", name="API keys", level=1)).to_be_visible()
    press(page, "Create the key")
    expect(page.get_by_role("alert")).to_contain_text("Enter a name for the key")
    axe.check("the API key form sent back with errors")
    field(page, "Name").fill("Our CRM")
    campaign_box = field(page, TITLE)
    campaign_box.focus()
    page.keyboard.press("Space")
    expect(campaign_box).to_be_checked()
    page.get_by_label("Read campaigns and their counts").check()
    press(page, "Create the key")
    expect(page.get_by_role("heading", name="Your new API key")).to_be_visible()
    token = field(page, "Your API key").input_value()
    assert token.startswith("csk_") and fits_across(page)
    expect(page.get_by_role("link", name="Read the API documentation")).to_have_attribute("href", "/api/v1/docs")
    axe.check("a new API key, shown once")
    page.get_by_role("link", name="I have kept it: back to my API keys").click()
    expect(page.get_by_role("link", name="Revoke the key Our CRM")).to_be_visible()
    assert token not in page.content() and fits_across(page)

    # A webhook to the test receiver, its secret once, then a test event in its log.
    with Receiver() as receiver:
        page.goto(f"/organiser/c/{slug}/")
        page.get_by_role("link", name="Webhooks").click()
        field(page, "Address (URL)").fill(receiver.url("/hook"))
        page.get_by_label("A signature is confirmed").check()
        press(page, "Add the endpoint")
        expect(page.get_by_role("heading", name="The endpoint’s signing secret")).to_be_visible()
        secret = field(page, "Signing secret").input_value()
        assert secret and fits_across(page)
        axe.check("a new webhook endpoint's secret, shown once")
        page.get_by_role("link", name="I have kept it: go to the endpoint").click()
        press(page, "Send a test event")
        expect(page.get_by_role("status")).to_contain_text("A test event is on its way")
        deliver()
        assert len(receiver.requests) == 1
        page.reload()
        log = page.get_by_role("region", name="Delivery log")
        expect(log.get_by_role("cell", name="Test event")).to_be_visible()
        expect(log.get_by_role("cell", name="HTTP 200 · delivered")).to_be_visible()
        assert secret not in page.content() and fits_across(page)

        # An event given up on, whose receiver answered with markup: shown as text, with its button.
        with app.app_context():
            endpoint_id = db.session.execute(select(WebhookEndpoint.id)).scalar_one()
            message = OutboxMessage(kind=webhooks.KIND, recipient="", status=OutboxStatus.FAILED,
                                    webhook_endpoint_id=endpoint_id, headers={"event": "signature.confirmed"})
            db.session.add(message)
            db.session.flush()
            db.session.add(WebhookAttempt(endpoint_id=endpoint_id, message_id=message.id, event="signature.confirmed",
                                          attempt=9, status_code=503, duration_ms=12,
                                          response="<b>Down for maintenance</b> " + "x" * 300))
            db.session.commit()
        page.reload()
        given_up = page.get_by_role("region", name="Events we gave up on")
        expect(given_up.get_by_text("<b>Down for maintenance</b>")).to_be_visible()
        assert fits_across(page)
        axe.check("an endpoint with its delivery log and a dead letter")
        given_up.get_by_role("button", name=re.compile("^Redeliver")).click()
        expect(page.get_by_role("status")).to_contain_text("queued to be delivered again")
    axe.assert_no_violations()
