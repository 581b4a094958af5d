"""A supporter manages their own data on a 360 px phone, reading their
email at /dev/mail, the development mail catcher, as a newcomer would."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from campaign import signing
from campaign.dev.mailcatcher import list_mail, start_catcher
from campaign.extensions import db
from campaign.models import Signature

from ..builders import confirm_signature, make_campaign
from ..conftest import fresh_app, served
from ..smtp import free_port
from .conftest import LiveSite
from .steps import expect, field, fill_in_the_pledge, press, signature_count

PHONE = {"width": 360, "height": 740}
ADDRESS = "robin.hood+causes@example.org"


@pytest.fixture
def site(database_url, mail_server, tmp_path):
    """The site in debug mode (so /dev/mail exists), its email going to the
    development mail catcher (overrides the browser tests' own ``site``)."""
    port, catcher_port = free_port(), free_port()
    url = f"http://127.0.0.1:{port}"
    folder = tmp_path / "dev-mail"
    catcher = start_catcher(folder, catcher_port)
    with fresh_app(database_url, mail_server, tmp_path, SITE_URL=url, MAIL_PORT=catcher_port, DEBUG=True,
                   DEV_MAIL_FOLDER=str(folder)) as app:
        app.debug = True
        with served(app, port):
            yield LiveSite(app=app, url=url)
    catcher.stop()


def caught(site) -> list:
    """Every email the catcher holds, newest first."""
    return list_mail(Path(site.app.config["DEV_MAIL_FOLDER"]))


def fits_the_phone(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], \
        f"{page.url} scrolls sideways on a 360 px phone"


def open_from_dev_mail(page, subject: str, link: re.Pattern) -> None:
    """Open /dev/mail, the newest email with ``subject``, and the link in it."""
    page.goto("/dev/mail")
    page.get_by_role("link", name=re.compile("^" + re.escape(subject))).first.click()
    page.get_by_role("link", name=link).first.click()


@pytest.mark.browser
def test_supporter_downloads_stops_updates_withdraws_and_erases_their_data(app, site, new_page, deliver):
    """Robin signed two campaigns. From the link emailed to them they
    download their data, stop one campaign's updates, withdraw the other
    signature (its count drops), then erase everything: the one signature
    left still counts, the last email says so, and signing with their
    address again sends them nothing."""
    with app.app_context():
        park = make_campaign(slug="save-the-park", title="Save the park")
        rivers = make_campaign(slug="clean-rivers", title="Clean rivers")
        for campaign, opt_in in ((park, True), (rivers, False)):
            signing.sign(campaign, signing.Pledge("Robin", "Hood", ADDRESS, "GB", "NG1 1AA", opt_in, True))
            signature = db.session.execute(db.select(Signature).where(
                Signature.campaign_id == campaign.id)).scalar_one()
            confirm_signature(signature)
    deliver()
    page = new_page(viewport=PHONE)
    page.goto("/c/clean-rivers")
    expect(signature_count(page)).to_have_text("1")

    page.goto("/my-data")
    fits_the_phone(page)
    field(page, "Email").fill(ADDRESS)
    press(page, "Email me a link")
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    deliver()
    open_from_dev_mail(page, "Your link to the data", re.compile(r"my-data\/[A-Za-z0-9_.\-]+$"))
    expect(page.get_by_role("heading", name="Your data", exact=True)).to_be_visible()
    own_page = page.url
    fits_the_phone(page)
    park_section = page.get_by_role("region", name="Save the park")
    rivers_section = page.get_by_role("region", name="Clean rivers")
    expect(park_section.get_by_text("NG1 1AA")).to_be_visible()

    with page.expect_download() as download:
        press(page, "Download as JSON")
    data = json.loads(open(download.value.path(), encoding="utf-8").read())
    assert sorted(s["campaign"]["title"] for s in data["signatures"]) == ["Clean rivers", "Save the park"]
    assert {s["postcode"] for s in data["signatures"]} == {"NG1 1AA"}
    assert {e["kind"] for e in data["emails"]} >= {"confirmation", "my_data_link"}

    park_section.get_by_role("button", name="Stop updates").click()
    expect(page.get_by_role("status")).to_have_text("Your choice is saved.")
    expect(park_section.get_by_text("Updates by email: stopped on")).to_be_visible()

    rivers_section.get_by_role("button", name="Withdraw my signature").click()
    expect(page.get_by_role("status")).to_contain_text("Your signature is withdrawn")
    expect(rivers_section.get_by_text("Withdrawn by you: it no longer counts.")).to_be_visible()
    page.goto("/c/clean-rivers")
    expect(signature_count(page)).to_have_text("0")

    page.goto(own_page)
    press(page, "Erase everything")
    expect(page.get_by_role("alert")).to_contain_text("Tick the box to confirm that you want everything erased")
    field(page, "I understand that this erases everything above, for good").check()
    press(page, "Erase everything")
    expect(page.get_by_role("heading", name="Your data is erased")).to_be_visible()
    fits_the_phone(page)
    deliver()
    newest = caught(site)[0]
    assert newest.subject.startswith("Your data was erased")
    assert "robin.hood" in newest.to.lower()
    page.goto("/c/save-the-park")
    expect(signature_count(page)).to_have_text("1")

    emails_so_far = len(caught(site))
    someone = new_page(viewport=PHONE)
    someone.goto("/c/save-the-park")
    fill_in_the_pledge(someone, first_name="Someone", email=ADDRESS)
    press(someone, "Sign the pledge")
    expect(someone.get_by_role("heading", name="Check your email")).to_be_visible()
    someone.goto("/my-data")
    field(someone, "Email").fill(ADDRESS)
    press(someone, "Email me a link")
    deliver()
    assert len(caught(site)) == emails_so_far, "no email reaches an erased mailbox"
    page.goto("/c/save-the-park")
    expect(signature_count(page)).to_have_text("1")
