"""A partner's page embeds a campaign (embed.js, or a bare frame) and people
sign inside the frame, in a browser that blocks third-party cookies.

The partner is served by the test itself on another port and another host
name (http://localhost:<port>, while the site is http://127.0.0.1:<port>):
another site for the browser, as a partner's would be."""
from __future__ import annotations

import html
import re
import threading
from contextlib import contextmanager

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from campaign.extensions import db
from campaign.models import Signature

from ..builders import csrf_token, make_campaign, valid_pledge
from ..smtp import free_port
from .conftest import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS
from .steps import confirmation_email, confirmation_link, expect, fill_in_the_pledge, press

TITLE = "Stop the ad money"


@contextmanager
def partner_site(pages: dict[str, str]):
    """A partner's site on its own port: ``pages`` maps paths to HTML."""
    port = free_port()

    @Request.application
    def partner(request):
        body = pages.get(request.path)
        if body is None:
            return Response("not here", status=404)
        return Response(f"<!doctype html><html lang='en'><head><title>Partner</title></head><body>{body}</body></html>",
                        mimetype="text/html")

    server = make_server("127.0.0.1", port, partner, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def script_snippet(site_url: str, slug: str) -> str:
    return (f'<h1>News from our partner</h1><p>Our friends need you:</p>'
            f'<script src="{site_url}/static/embed.js" data-campaign="{slug}" data-title="{TITLE}" async></script>'
            f'<p id="after">After the form.</p>')


@pytest.fixture
def cookieless_browser(browser):
    """Chromium with third-party cookies blocked (the phase-out's own test
    switch); each test's contexts close with the fixture."""
    chromium = browser.browser_type.launch(executable_path=CHROMIUM, headless=True,
                                           args=[*CHROMIUM_ARGS, "--test-third-party-cookie-phaseout"])
    yield chromium
    chromium.close()


def partner_page(chromium, **options):
    context = chromium.new_context(**options)
    context.set_default_timeout(TIMEOUT_MS)
    return context.new_page()


def the_signature(app, email: str) -> Signature:
    with app.app_context():
        signature = db.session.execute(select(Signature).where(Signature.email == email)).scalar_one()
        db.session.expunge(signature)
        return signature


@pytest.mark.browser
def test_a_person_signs_inside_a_partners_frame_confirms_and_the_partners_count_rises(
        app, site, cookieless_browser, smtp, deliver):
    with partner_site({"/": script_snippet(site.url, "ad-money")}) as partner:
        with app.app_context():
            make_campaign(slug="ad-money", title=TITLE, goal=10, embed_origins=partner)
        page = partner_page(cookieless_browser)
        page.goto(partner + "/")
        frame = page.frame_locator(f'iframe[title="{TITLE}"]')
        expect(frame.get_by_role("heading", name=TITLE)).to_be_visible()
        expect(frame.get_by_role("region", name="Signatures").get_by_role("status")).to_have_text("0")
        # embed.js made the frame as tall as its form (it starts at 640 px).
        iframe = page.locator(f'iframe[title="{TITLE}"]')
        expect(iframe).not_to_have_attribute("style", re.compile(r"height: 640px"))
        height = iframe.bounding_box()["height"]
        assert height > 900, height

        fill_in_the_pledge(frame, first_name="Ada", email="ada@example.com")
        press(frame, "Sign the pledge")
        expect(frame.get_by_role("heading", name="Check your email")).to_be_visible()
        expect(frame.get_by_text("ada@example.com")).to_be_visible()
        # The frame shrank to the thank-you page.
        page.wait_for_function(f"document.querySelector('iframe').getBoundingClientRect().height < {height - 200}")
        assert page.context.cookies() == [], "nothing may need a cookie, in the frame or out of it"

        signature = the_signature(app, "ada@example.com")
        assert (signature.source, signature.medium) == ("localhost", "embed")

        assert deliver().sent == 1
        confirming = partner_page(cookieless_browser)
        confirming.goto(confirmation_link(confirmation_email(smtp, "ada@example.com")))
        press(confirming, "Confirm my signature")
        expect(confirming.get_by_role("heading", name="Your signature is confirmed")).to_be_visible()

        page.reload()
        frame = page.frame_locator(f'iframe[title="{TITLE}"]')
        expect(frame.get_by_role("region", name="Signatures").get_by_role("status")).to_have_text("1")
        # The link to the full page leaves the frame.
        link = frame.get_by_role("link", name="More about this campaign")
        expect(link).to_have_attribute("target", "_blank")


@pytest.mark.browser
def test_the_partners_page_itself_cannot_post_the_form(app, site, browser):
    """The page token is no secret (anyone can read the frame), but a form or
    a script on the partner's page posting to the sign route is refused
    (400) and stores nothing: the browser says the POST comes from another site."""
    with app.app_context():
        make_campaign(slug="guarded", title=TITLE)
    client = app.test_client()
    token = csrf_token(client.get("/c/guarded/embed").get_data(as_text=True))
    fields = "".join(f'<input type="hidden" name="{name}" value="{html.escape(value)}">'
                     for name, value in {**valid_pledge(email="forged@example.com"), "csrf_token": token}.items())
    pages = {"/forge": f'<form method="post" action="{site.url}/c/guarded/embed/sign">{fields}'
                       f'<button type="submit">Send it</button></form>',
             "/script": "<p>A script posts.</p>"}
    with partner_site(pages) as partner:
        with app.app_context():
            from campaign.models import Campaign
            db.session.execute(db.update(Campaign).values(embed_origins=partner))
            db.session.commit()
        page = partner_page(browser)
        page.goto(partner + "/forge")
        with page.expect_response(f"{site.url}/c/guarded/embed/sign") as answer:
            page.get_by_role("button", name="Send it").click()
        assert answer.value.status == 400
        expect(page.get_by_role("heading", name="This form has expired")).to_be_visible()

        page.goto(partner + "/script")
        body = "&".join(f"{k}={v}" for k, v in {**valid_pledge(email="scripted@example.com"),
                                                  "csrf_token": token}.items())
        status = page.evaluate("""([url, body]) => fetch(url, {method: "POST", body: body, credentials: "include",
                headers: {"Content-Type": "application/x-www-form-urlencoded"}}).then(r => r.status, () => "blocked")""",
                               [f"{site.url}/c/guarded/embed/sign", body])
        assert status in (400, "blocked")
    with app.app_context():
        assert db.session.execute(select(Signature)).first() is None


@pytest.mark.browser
def test_a_site_not_on_the_list_gets_an_empty_frame(app, site, browser):
    """frame-ancestors: the browser refuses to show the page in a frame on a
    site the campaign does not list."""
    with partner_site({"/": script_snippet(site.url, "listed-only")}) as stranger:
        with app.app_context():
            make_campaign(slug="listed-only", title=TITLE, embed_origins="https://partner.example")
        page = partner_page(browser)
        refusals = []
        page.on("console", lambda message: refusals.append(message.text))
        page.goto(stranger + "/")
        expect(page.locator(f'iframe[title="{TITLE}"]')).to_be_attached()
        page.wait_for_timeout(1500)
        assert not any(frame.url.startswith(site.url) and frame.title() == f"{TITLE} · Campaign site"
                       for frame in page.frames)
        expect(page.frame_locator(f'iframe[title="{TITLE}"]').get_by_role("heading", name=TITLE)).to_have_count(0)
        assert any("frame-ancestors" in text for text in refusals), refusals


@pytest.mark.browser
def test_a_bare_frame_works_without_javascript(app, site, new_page):
    """The frame snippet alone, JavaScript off everywhere: signing works,
    errors come back in the frame (422), and the signature is an embedded one."""
    with partner_site({"/": f'<iframe src="{site.url}/c/bare/embed" title="{TITLE}" '
                            'style="width:100%;height:1400px;border:0"></iframe>'}) as partner:
        with app.app_context():
            make_campaign(slug="bare", title=TITLE, embed_origins=partner)
        page = new_page(java_script_enabled=False)
        page.goto(partner + "/")
        frame = page.frame_locator(f'iframe[title="{TITLE}"]')
        press(frame, "Sign the pledge")
        expect(frame.get_by_role("alert")).to_contain_text("Enter your first name")
        fill_in_the_pledge(frame, first_name="Grace", email="grace@example.com")
        press(frame, "Sign the pledge")
        expect(frame.get_by_role("heading", name="Check your email")).to_be_visible()
    signature = the_signature(app, "grace@example.com")
    assert (signature.medium, signature.status) == ("embed", "pending")


@pytest.mark.browser
def test_an_organiser_lists_a_partner_and_previews_the_frame(app, page):
    """The Embed tab: its preview is the embed page in a frame of our own
    page; a bad line is refused with its message, a good list is saved."""
    from ..builders import PASSWORD, make_organiser
    from .steps import field, log_in_as_organiser

    with app.app_context():
        make_organiser("org@example.com", campaigns=[make_campaign(slug="tabbed", title=TITLE)])
    log_in_as_organiser(page, "org@example.com", PASSWORD)
    page.goto("/organiser/c/tabbed/")
    page.get_by_role("navigation", name="This campaign").get_by_role("link", name="Embed").click()
    expect(page.get_by_role("heading", name="Embed", exact=True)).to_be_visible()
    preview = page.frame_locator(f'iframe[title="Preview of the embedded form: {TITLE}"]')
    expect(preview.get_by_role("heading", name=TITLE)).to_be_visible()
    expect(page.get_by_label("With a script: the frame grows with its content")).to_have_value(
        re.compile(r'^<script src="http://127\.0\.0\.1:\d+/static/embed\.js" data-campaign="tabbed"'))

    field(page, "Partner sites").fill("https://partner.example/petition")
    press(page, "Save")
    expect(page.get_by_role("alert")).to_contain_text("Line 1: give only the site's address, without a path")
    field(page, "Partner sites").fill("https://partner.example\nhttp://localhost:8000")
    press(page, "Save")
    expect(page.get_by_role("status")).to_contain_text("Saved")
    expect(field(page, "Partner sites")).to_have_value("https://partner.example\nhttp://localhost:8000")
