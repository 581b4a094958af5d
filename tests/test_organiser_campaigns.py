"""Organisers run campaigns: create and edit them through the form (with an
image), preview, publish and close them, decide on businesses, manage members
and organiser accounts."""
from __future__ import annotations

import datetime as dt
import html as html_lib
import io
import re
import struct
import zlib
from pathlib import Path

import pytest
from PIL import ExifTags, Image
from sqlalchemy import func, select

from campaign import businesses, organisers
from campaign.extensions import db
from campaign.models import (
    Business,
    BusinessStatus,
    Campaign,
    CampaignStatus,
    Kind,
    Membership,
    Organiser,
    OutboxMessage,
)

from .builders import (
    PASSWORD,
    confirmed_signatures,
    csrf_token,
    log_in,
    make_campaign,
    make_organiser,
    sign,
    valid_pledge,
)

NEW = "/organiser/campaigns/new"


@pytest.fixture(autouse=True)
def instance_folder(app, tmp_path):
    """Uploads go to a temporary instance folder, never the project's own."""
    app.instance_path = str(tmp_path / "instance")
    return Path(app.instance_path)


@pytest.fixture
def organiser(ctx, client):
    """A logged-in organiser (not an admin)."""
    person = make_organiser("org@example.com")
    assert log_in(client).status_code == 303
    return person


def campaign_form(**fields) -> dict:
    """Every field of the campaign form, filled in as a person would."""
    values = {
        "kind": "pledge", "slug": "log-off-sunday", "title": "Log off on Sunday",
        "summary": "One day a month without the feed.", "story": "## Why\n\nBecause **enough**.",
        "pledge_text": "I will log off on the first Sunday.", "demands": "Chronological feeds\nNo dark patterns",
        "goal": "500", "time_zone": "UTC", "window_start": "", "window_end": "",
        "share_text": "I am logging off on Sunday.", "next_action": "Tell your friends.",
    }
    values.update(fields)
    return {k: v for k, v in values.items() if v is not None}


def submit(client, url=NEW, image=None, **fields):
    page = client.get(url)
    data = {**campaign_form(**fields), "csrf_token": csrf_token(page.get_data(as_text=True))}
    if image is not None:
        data["image"] = (io.BytesIO(image[1]), image[0])
        return client.post(url, data=data, content_type="multipart/form-data")
    return client.post(url, data=data)


def field_error(page_html: str, field_id: str) -> str | None:
    """The error message shown beside a field, if any."""
    match = re.search(rf'id="{field_id}-error"><span class="visually-hidden">Error:</span> (.*?)</p>', page_html)
    return html_lib.unescape(match.group(1)) if match else None


def campaign_count() -> int:
    db.session.expire_all()
    return db.session.execute(select(func.count()).select_from(Campaign)).scalar_one()


def stored(slug: str) -> Campaign | None:
    db.session.expire_all()
    return db.session.execute(select(Campaign).where(Campaign.slug == slug)).scalar_one_or_none()


def post_action(client, url, action=None):
    token = csrf_token(client.get("/organiser/login").get_data(as_text=True))
    data = {"csrf_token": token}
    if action is not None:
        data["action"] = action
    return client.post(url, data=data)


# --- Tiny but valid images -------------------------------------------------------

def png_bytes(padding: int = 0) -> bytes:
    """A 1x1 PNG; ``padding`` adds an ancillary chunk to reach a size."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
    idat = chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
    extra = chunk(b"tEXt", b"pad\x00" + b"x" * padding) if padding else b""
    return b"\x89PNG\r\n\x1a\n" + ihdr + extra + idat + chunk(b"IEND", b"")


def png_claiming(width: int, height: int) -> bytes:
    """A few hundred bytes of PNG whose header claims ``width`` x ``height``, built
    by hand as an attacker would: only the first row of pixels follows (a
    decompression bomb needs no more to be refused, or to do its harm)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    idat = chunk(b"IDAT", zlib.compress(b"\x00" * (1 + 3 * width), 9))
    return b"\x89PNG\r\n\x1a\n" + ihdr + idat + chunk(b"IEND", b"")


def pillow_bytes(format_name: str, size: tuple[int, int] = (3, 2), **options) -> bytes:
    """A real image of ``size`` written by Pillow, its pixels not all alike."""
    width, height = size
    pattern = bytes(i * 37 % 256 for i in range(256))
    image = Image.frombytes("RGB", size, pattern * (width * height * 3 // 256 + 1))
    out = io.BytesIO()
    image.save(out, format_name, **options)
    return out.getvalue()


def decoded(data: bytes) -> Image.Image:
    """``data`` opened and decoded whole by Pillow (raises if it cannot be)."""
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


JPEG = pillow_bytes("JPEG")
WEBP = pillow_bytes("WEBP")
GIF = pillow_bytes("GIF")
MPO = pillow_bytes("MPO", save_all=True, append_images=[Image.new("RGB", (3, 2), "blue")])


# --- Creating, previewing, publishing, closing ----------------------------------------

def test_an_organiser_creates_a_campaign_which_starts_as_a_draft(organiser, client):
    """Every field is saved; the window is entered in local time and stored in UTC."""
    response = submit(client, kind="boycott", slug="Quiet-July", goal="2500", goal_fixed="y",
                      postcode_required="y", time_zone="Europe/Paris",
                      window_start="2031-07-01T09:00", window_end="2031-07-03T18:30")
    assert response.status_code == 303
    assert response.headers["Location"] == "/organiser/c/quiet-july/"
    campaign = stored("quiet-july")
    assert campaign.status == CampaignStatus.DRAFT
    assert (campaign.kind, campaign.title, campaign.goal, campaign.goal_fixed, campaign.postcode_required) == (
        "boycott", "Log off on Sunday", 2500, True, True)
    assert campaign.summary == "One day a month without the feed."
    assert campaign.pledge_text == "I will log off on the first Sunday."
    assert campaign.demand_list == ["Chronological feeds", "No dark patterns"]
    assert campaign.story == "## Why\n\nBecause **enough**."
    assert (campaign.share_text, campaign.next_action) == ("I am logging off on Sunday.", "Tell your friends.")
    assert campaign.time_zone == "Europe/Paris"
    # Paris is UTC+2 in summer.
    assert campaign.window_start == dt.datetime(2031, 7, 1, 7, 0)
    assert campaign.window_end == dt.datetime(2031, 7, 3, 16, 30)
    assert organisers.is_member(organiser, campaign)
    assert "Campaign created as a draft." in client.get(response.headers["Location"]).get_data(as_text=True)


def test_the_edit_form_shows_the_window_in_the_campaign_time_zone(organiser, client):
    """What was typed as local time comes back as the same local time."""
    submit(client, slug="tokyo-night", time_zone="Asia/Tokyo",
           window_start="2031-01-10T20:00", window_end="2031-01-10T23:00")
    assert stored("tokyo-night").window_start == dt.datetime(2031, 1, 10, 11, 0)
    page = client.get("/organiser/c/tokyo-night/edit").get_data(as_text=True)
    assert 'value="2031-01-10T20:00"' in page and 'value="2031-01-10T23:00"' in page


def test_an_organiser_edits_a_campaign(organiser, client):
    """Changed fields are saved; the organiser is taken back to the dashboard."""
    submit(client, slug="first-name")
    response = submit(client, "/organiser/c/first-name/edit", slug="second-name", title="A better title", goal="750")
    assert response.status_code == 303 and response.headers["Location"] == "/organiser/c/second-name/"
    campaign = stored("second-name")
    assert (campaign.title, campaign.goal) == ("A better title", 750)
    assert stored("first-name") is None


def test_a_draft_is_hidden_from_the_public_but_members_can_preview_it(organiser, client):
    """The public page of a draft is 404; the members' preview shows it."""
    submit(client, slug="not-yet", title="Not yet public")
    assert client.get("/c/not-yet").status_code == 404
    assert client.get("/c/not-yet/count.json").status_code == 404
    preview = client.get("/organiser/c/not-yet/preview")
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "Not yet public" in html and "Preview: this is how the page looks to the public" in html


def test_publishing_makes_a_campaign_public(organiser, client):
    """Publish (status live): the page and its signing form are open to all."""
    submit(client, slug="go-live", title="Going live")
    response = post_action(client, "/organiser/c/go-live/status", "live")
    assert response.status_code == 303
    assert stored("go-live").status == CampaignStatus.LIVE
    page = client.get("/c/go-live")
    assert page.status_code == 200 and "Sign the pledge" in page.get_data(as_text=True)
    assert sign(client, "go-live").status_code == 200


def test_closing_shows_the_final_count_and_takes_no_more_signatures(organiser, client):
    """A closed campaign shows how many signed and refuses new signatures."""
    campaign = make_campaign(slug="all-done")
    organisers.add_member(organiser, campaign)
    confirmed_signatures(campaign, [("a@example.com", "GB"), ("b@example.com", "FR")])
    assert post_action(client, "/organiser/c/all-done/status", "closed").status_code == 303
    page = client.get("/c/all-done")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "This campaign is closed" in html and "It closed with 2 signatures." in html
    assert "Sign the pledge</button>" not in html
    # A form kept open from before the close is refused too.
    token = csrf_token(client.get("/organiser/login").get_data(as_text=True))
    late = client.post("/c/all-done/sign", data={**valid_pledge(email="late@example.com"), "csrf_token": token})
    assert late.status_code == 404
    assert client.get("/c/all-done/count.json").get_json()["signatures"] == 2


def test_taking_a_campaign_back_to_draft_hides_it_again(organiser, client):
    """Back to draft: the public page is 404 again."""
    campaign = make_campaign(slug="oops")
    organisers.add_member(organiser, campaign)
    assert post_action(client, "/organiser/c/oops/status", "draft").status_code == 303
    assert client.get("/c/oops").status_code == 404


@pytest.mark.parametrize("action", ["deleted", "", "LIVE"], ids=["unknown", "empty", "upper-case"])
def test_an_unknown_status_is_refused(organiser, client, action):
    """Only draft, live and closed are statuses; anything else is a 400 and changes nothing."""
    campaign = make_campaign(slug="steady")
    organisers.add_member(organiser, campaign)
    assert post_action(client, "/organiser/c/steady/status", action).status_code == 400
    assert stored("steady").status == CampaignStatus.LIVE


def test_changing_status_needs_the_csrf_token(organiser, client):
    """Without the token a status change is refused."""
    campaign = make_campaign(slug="guarded")
    organisers.add_member(organiser, campaign)
    assert client.post("/organiser/c/guarded/status", data={"action": "closed"}).status_code == 400
    assert stored("guarded").status == CampaignStatus.LIVE


def test_the_preview_button_shows_the_story_sanitised_and_saves_nothing(organiser, client):
    """Preview renders the Markdown story without any script, and creates no campaign."""
    story = ("Hello **world**\n\n<script>alert('x')</script>\n\n[click](javascript:alert(1))\n\n"
             "<img src=x onerror=alert(1)>")
    response = submit(client, story=story, preview="1")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Story preview" in html
    preview = html.split('id="story-preview-title"')[1].split("</section>")[0]
    assert "<strong>world</strong>" in preview
    # Raw HTML is shown as text; no element or link can run script.
    assert "<script" not in preview and "<img" not in preview and 'href="javascript:' not in preview
    assert "<script>alert" not in html
    assert campaign_count() == 0


def test_the_preview_button_also_shows_the_form_errors(organiser, client):
    """Previewing an incomplete form shows what is missing (422), and saves nothing."""
    response = submit(client, title="", story="Just a story", preview="1")
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "title") == "Enter a title"
    assert campaign_count() == 0


# --- Bad input: every field, the exact message, nothing saved -----------------------

BAD_INPUT = [
    # (field shown in error, form fields, message)
    ("kind", {"kind": "petition"}, "Choose the kind of campaign"),
    ("kind", {"kind": ""}, "Choose the kind of campaign"),
    ("slug", {"slug": ""}, "Enter a web address for the campaign"),
    ("slug", {"slug": "a"}, "The web address must be 3 to 80 characters long"),
    ("slug", {"slug": "-x"}, "The web address must be 3 to 80 characters long"),
    ("slug", {"slug": "x" * 81}, "The web address must be 3 to 80 characters long"),
    ("slug", {"slug": "-xyz"}, "Use only lower-case letters, numbers and single hyphens"),
    ("slug", {"slug": "xyz-"}, "Use only lower-case letters, numbers and single hyphens"),
    ("slug", {"slug": "Has Spaces"}, "Use only lower-case letters, numbers and single hyphens"),
    ("slug", {"slug": "double--hyphen"}, "Use only lower-case letters, numbers and single hyphens"),
    ("slug", {"slug": "café-society"}, "Use only lower-case letters, numbers and single hyphens"),
    ("slug", {"slug": "../../etc"}, "Use only lower-case letters, numbers and single hyphens"),
    ("title", {"title": ""}, "Enter a title"),
    ("title", {"title": "   "}, "Enter a title"),
    ("title", {"title": "t" * 201}, "The title must be 200 characters or fewer"),
    ("title", {"title": "Bad\x00title"}, "Title contains characters we cannot accept"),
    ("title", {"title": "\u202eeltit"}, "Title contains characters we cannot accept"),
    ("summary", {"summary": ""}, "Enter a one-sentence summary"),
    ("summary", {"summary": "s" * 501}, "The summary must be 500 characters or fewer"),
    ("summary", {"summary": "bell\x07"}, "Summary contains characters we cannot accept"),
    ("story", {"story": "s" * 20001}, "The story must be 20,000 characters or fewer"),
    ("story", {"story": "nul\x00"}, "Story contains characters we cannot accept"),
    ("pledge_text", {"pledge_text": ""}, "Enter the text people sign"),
    ("pledge_text", {"pledge_text": "p" * 2001}, "The pledge text must be 2,000 characters or fewer"),
    ("demands", {"demands": "d" * 5001}, "The demands must be 5,000 characters or fewer"),
    ("demands", {"demands": "escape\x1b[31m"}, "Demands contains characters we cannot accept"),
    ("goal", {"goal": ""}, "Enter a goal as a whole number"),
    ("goal", {"goal": "0"}, "The goal must be between 1 and 1,000,000,000"),
    ("goal", {"goal": "-5"}, "The goal must be between 1 and 1,000,000,000"),
    ("goal", {"goal": str(10**12)}, "The goal must be between 1 and 1,000,000,000"),
    ("goal", {"goal": "abc"}, "Not a valid integer value."),
    ("goal", {"goal": "1.5"}, "Not a valid integer value."),
    ("time_zone", {"time_zone": "Mars/Olympus_Mons"}, "Choose a time zone from the list"),
    ("time_zone", {"time_zone": ""}, "Choose a time zone from the list"),
    ("time_zone", {"time_zone": "EST"}, "Choose a time zone from the list"),
    ("window_end", {"window_start": "2031-05-02T10:00", "window_end": "2031-05-01T10:00"},
     "The window must end after it starts"),
    ("window_end", {"window_start": "2031-05-01T10:00", "window_end": "2031-05-01T10:00"},
     "The window must end after it starts"),
    ("window_end", {"window_start": "2031-05-01T10:00"}, "Give both the start and the end of the window, or neither"),
    ("window_end", {"window_end": "2031-05-01T10:00"}, "Give both the start and the end of the window, or neither"),
    ("window_end", {"kind": "freeze"}, "A freeze needs a start and an end"),
    ("window_start", {"window_start": "next Tuesday", "window_end": "2031-05-01T10:00"}, "Not a valid datetime value."),
    ("window_start", {"window_start": "2031-02-30T10:00", "window_end": "2031-03-01T10:00"},
     "Not a valid datetime value."),
    ("share_text", {"share_text": "s" * 281}, "The share text must be 280 characters or fewer"),
    ("next_action", {"next_action": "n" * 2001}, "The next action must be 2,000 characters or fewer"),
    ("next_action", {"next_action": "zero\u200bwidth"}, "Next action after the window contains characters we cannot accept"),
]


@pytest.mark.parametrize("field, fields, message", BAD_INPUT,
                         ids=[f"{f}-{i}" for i, (f, _, _) in enumerate(BAD_INPUT)])
def test_bad_input_is_refused_with_a_message_and_nothing_is_saved(organiser, client, field, fields, message):
    """Each bad value: 422, the message beside its field, and no campaign created."""
    response = submit(client, **fields)
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), field) == message
    assert campaign_count() == 0


def test_an_upper_case_web_address_is_lower_cased(organiser, client):
    """UPPER is accepted and stored as upper."""
    assert submit(client, slug="  UPPER ").status_code == 303
    assert stored("upper") is not None


def test_a_web_address_already_taken_is_refused(organiser, client):
    """A second campaign cannot take an existing address, even a draft's; nothing is saved."""
    make_campaign(slug="taken-address", status=CampaignStatus.DRAFT)
    response = submit(client, slug="Taken-Address")
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "slug") == "That web address is already taken"
    assert campaign_count() == 1


def test_editing_to_a_web_address_already_taken_is_refused(organiser, client):
    """Renaming onto another campaign's address is refused and nothing changes."""
    make_campaign(slug="someone-else")
    submit(client, slug="mine-to-edit", title="Mine")
    response = submit(client, "/organiser/c/mine-to-edit/edit", slug="someone-else", title="Renamed")
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "slug") == "That web address is already taken"
    assert stored("mine-to-edit").title == "Mine"


@pytest.mark.parametrize("time_zone, start, end", [
    ("Asia/Tokyo", "0001-01-01T00:00", "0001-01-01T05:00"),
    ("America/New_York", "9999-12-31T20:00", "9999-12-31T23:00"),
], ids=["before-year-1-in-utc", "after-year-9999-in-utc"])
def test_a_window_at_the_edge_of_the_calendar_is_refused_not_an_error(organiser, client, time_zone, start, end):
    """Local times that fall outside the representable range in UTC are a 422, never a 500."""
    response = submit(client, time_zone=time_zone, window_start=start, window_end=end)
    assert response.status_code == 422
    assert campaign_count() == 0


NASTY = ["\x00", "x" * 100_000, "😀" * 50, "' OR 1=1 --", "{{ 7*7 }}", "%s%n%x", "\r\n\r\n"]
FIELDS = ["kind", "slug", "title", "summary", "story", "pledge_text", "demands", "goal", "goal_fixed",
          "time_zone", "window_start", "window_end", "postcode_required", "share_text", "next_action"]


@pytest.mark.parametrize("field", FIELDS)
def test_no_input_in_any_field_causes_a_server_error(organiser, client, field):
    """Hostile values in each field give 303 or 422, never a 500, and never run as a template."""
    for i, value in enumerate(NASTY):
        response = submit(client, **{"slug": f"nasty-{i}", field: value})
        assert response.status_code in (303, 422), (field, value[:20], response.status_code)
        if response.status_code == 422:
            assert ">49<" not in response.get_data(as_text=True)


# --- The campaign image --------------------------------------------------------------

@pytest.mark.parametrize("upload_name, data, extension, size", [
    ("photo.png", png_bytes(), "png", (1, 1)),
    ("photo.jpg", JPEG, "jpg", (3, 2)),
    ("photo.webp", WEBP, "webp", (3, 2)),
    ("photo.gif", GIF, "gif", (3, 2)),
    ("camera.jpg", MPO, "jpg", (3, 2)),
    ("actually-a-jpeg.png", JPEG, "jpg", (3, 2)),
    ("largest.png", pillow_bytes("PNG", (4000, 4000)), "png", (4000, 4000)),
], ids=["png", "jpeg", "webp", "gif", "mpo-a-jpeg-with-more-pictures", "jpeg-named-png", "4000x4000"])
def test_an_image_is_accepted_by_its_content_and_stored_under_a_generated_name(
        organiser, client, instance_folder, upload_name, data, extension, size):
    """The image is written afresh in its own format, kept in <instance>/uploads
    under a new name and served at /media/<name>, where it decodes whole."""
    response = submit(client, slug="with-image", image=(upload_name, data))
    assert response.status_code == 303
    name = stored("with-image").image_filename
    assert re.fullmatch(rf"[0-9a-f]{{32}}\.{extension}", name)
    assert Path(upload_name).stem not in name
    media = client.get(f"/media/{name}")
    assert media.status_code == 200
    assert media.get_data() == (instance_folder / "uploads" / name).read_bytes()
    image = decoded(media.get_data())
    assert image.format == {"png": "PNG", "jpg": "JPEG", "webp": "WEBP", "gif": "GIF"}[extension]
    assert image.size == size and getattr(image, "n_frames", 1) == 1
    post_action(client, "/organiser/c/with-image/status", "live")
    assert f'src="/media/{name}"' in client.get("/c/with-image").get_data(as_text=True)


NOT_AN_IMAGE = "This file is not an image we can use (PNG, JPEG, GIF or WebP)."
TOO_MANY_PIXELS = "The image is too large: at most 4000 x 4000 pixels."
NOISY_PNG = pillow_bytes("PNG", (64, 64))
NOISY_JPEG = pillow_bytes("JPEG", (64, 64))


@pytest.mark.parametrize("upload_name, data, message", [
    ("notes.png", b"just some text, not a picture\n", NOT_AN_IMAGE),
    ("page.png", b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", NOT_AN_IMAGE),
    ("anim.gif", b"GIF89a" + b"\x00" * 32, NOT_AN_IMAGE),
    ("empty.png", b"", NOT_AN_IMAGE),
    ("cut.png", NOISY_PNG[: len(NOISY_PNG) // 2], NOT_AN_IMAGE),
    ("cut.jpg", NOISY_JPEG[: len(NOISY_JPEG) // 2], NOT_AN_IMAGE),
    ("page.gif", b"GIF89a" + struct.pack("<HH", 10, 10) + b"\x00\x00\x00<html><script>alert(1)</script></html>", NOT_AN_IMAGE),
    ("page.png", b"\x89PNG\r\n\x1a\n" + b"PK\x03\x04" + b"\x00" * 26 + b"<html></html>", NOT_AN_IMAGE),
    ("picture.bmp", pillow_bytes("BMP"), NOT_AN_IMAGE),
    ("picture.tiff", pillow_bytes("TIFF"), NOT_AN_IMAGE),
    ("bomb.png", png_claiming(60000, 60000), TOO_MANY_PIXELS),
    ("wide.png", png_claiming(20000, 3000), TOO_MANY_PIXELS),
    ("wide.png", pillow_bytes("PNG", (4001, 10)), TOO_MANY_PIXELS),
    ("tall.jpg", pillow_bytes("JPEG", (10, 4001)), TOO_MANY_PIXELS),
    ("wide.gif", pillow_bytes("GIF", (4001, 10)), TOO_MANY_PIXELS),
    ("huge.png", png_bytes(padding=2 * 1024 * 1024), "The image must be at most 2 MB"),
], ids=["text-renamed-png", "svg", "gif-header-only", "empty-file", "truncated-png", "truncated-jpeg",
        "html-behind-a-gif-header", "zip-behind-a-png-signature", "bmp", "tiff", "decompression-bomb-60000x60000",
        "20000x3000-under-pillows-own-limit", "4001-wide", "4001-tall", "4001-wide-gif", "over-2mb"])
def test_a_bad_image_is_refused_and_nothing_is_saved(organiser, client, instance_folder, upload_name, data, message):
    """A file that is not a whole PNG, JPEG, GIF or WebP, is wider or taller than
    4000 pixels (however small the file) or is over 2 MB: 422 with the message,
    no campaign, no file."""
    response = submit(client, slug="bad-image", image=(upload_name, data))
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "image") == message
    assert campaign_count() == 0
    assert not any((instance_folder / "uploads").glob("*"))


def test_a_bad_image_on_edit_keeps_the_current_one(organiser, client, instance_folder):
    """Editing with a refused image: 422 with the message, the campaign and its file unchanged."""
    submit(client, slug="keep-on-refusal", image=("one.png", png_bytes()))
    first = stored("keep-on-refusal").image_filename
    response = submit(client, "/organiser/c/keep-on-refusal/edit", slug="keep-on-refusal", title="Renamed",
                      image=("bomb.png", png_claiming(60000, 60000)))
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "image") == TOO_MANY_PIXELS
    assert stored("keep-on-refusal").image_filename == first
    assert [p.name for p in (instance_folder / "uploads").iterdir()] == [first]


ZIP = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00" * 20 + b"payload.html" + b"PK\x05\x06" + b"\x00" * 18
HTML = b"<html><script>alert('polyglot')</script></html>"


@pytest.mark.parametrize("upload_name, image, payload", [
    ("photo.png", png_bytes(), HTML),
    ("photo.png", png_bytes(), ZIP),
    ("photo.gif", GIF, HTML),
    ("photo.jpg", JPEG, ZIP),
], ids=["png-then-html", "png-then-zip", "gif-then-html", "jpeg-then-zip"])
def test_whatever_follows_the_image_in_the_file_is_not_kept(organiser, client, upload_name, image, payload):
    """A polyglot, a good image with HTML or a ZIP after its end, is taken for its
    picture alone: what is served is written afresh and holds none of the payload."""
    response = submit(client, slug="polyglot", image=(upload_name, image + payload))
    assert response.status_code == 303
    served = client.get(f"/media/{stored('polyglot').image_filename}").get_data()
    assert b"<html>" not in served and b"PK\x03\x04" not in served and b"payload" not in served
    assert decoded(served).size == decoded(image).size


@pytest.mark.parametrize("format_name, options", [
    ("JPEG", {"comment": b"a private comment"}),
    ("PNG", {}),
    ("WEBP", {}),
], ids=["jpeg", "png", "webp"])
def test_exif_metadata_is_not_served(organiser, client, format_name, options):
    """Where a photo was taken (GPS) and with what camera (Make) never reach the public."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SecretCam"
    exif[ExifTags.Base.ImageDescription] = "Taken at home"
    exif[ExifTags.Base.GPSInfo] = {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (51.0, 30.0, 0.0)}
    photo = pillow_bytes(format_name, (8, 8), exif=exif, **options)
    assert b"SecretCam" in photo and ExifTags.IFD.GPSInfo in decoded(photo).getexif()
    assert submit(client, slug="exif", image=("photo", photo)).status_code == 303
    served = client.get(f"/media/{stored('exif').image_filename}").get_data()
    image = decoded(served)
    assert not image.getexif() and "exif" not in image.info and "comment" not in image.info
    assert b"SecretCam" not in served and b"Taken at home" not in served and b"Exif" not in served
    assert b"private comment" not in served
    assert image.format == format_name and image.size == (8, 8)


def test_the_exif_orientation_is_applied_before_it_is_dropped(organiser, client):
    """A photo stored on its side with Orientation 6 (turn 90 degrees clockwise) is served upright."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    photo = pillow_bytes("JPEG", (40, 10), exif=exif)
    assert submit(client, slug="upright", image=("photo.jpg", photo)).status_code == 303
    image = decoded(client.get(f"/media/{stored('upright').image_filename}").get_data())
    assert image.size == (10, 40)
    assert image.getexif().get(ExifTags.Base.Orientation) is None


def test_a_transparent_png_stays_transparent(organiser, client):
    """Dropping metadata keeps which pixels are see-through."""
    image = Image.new("RGBA", (2, 1), (255, 0, 0, 255))
    image.putpixel((1, 0), (0, 0, 0, 0))
    out = io.BytesIO()
    image.save(out, "PNG")
    assert submit(client, slug="transparent", image=("logo.png", out.getvalue())).status_code == 303
    served = decoded(client.get(f"/media/{stored('transparent').image_filename}").get_data()).convert("RGBA")
    assert served.getpixel((0, 0))[3] == 255 and served.getpixel((1, 0))[3] == 0


def test_a_refused_image_can_be_replaced_by_submitting_again(organiser, client):
    """After a refused image, sending the form again with a good one creates the campaign."""
    submit(client, slug="second-try", image=("notes.png", b"not an image"))
    response = submit(client, slug="second-try", image=("photo.png", png_bytes()))
    assert response.status_code == 303
    assert stored("second-try").image_filename


def test_an_image_just_under_2_mb_is_accepted(organiser, client):
    """The limit is 2 MB: a 1.9 MB image is fine."""
    data = png_bytes(padding=1_900_000)
    assert len(data) < 2 * 1024 * 1024
    response = submit(client, slug="big-picture", image=("big.png", data))
    assert response.status_code == 303
    assert stored("big-picture").image_filename


def test_a_request_far_over_the_upload_limit_is_refused(organiser, client):
    """A 5 MB upload is refused with 413 (not a 500), and nothing is saved."""
    response = submit(client, slug="enormous", image=("huge.png", png_bytes(padding=5 * 1024 * 1024)))
    assert response.status_code == 413
    assert campaign_count() == 0


def test_a_new_image_replaces_the_old_file(organiser, client, instance_folder):
    """Uploading a second image removes the first file."""
    submit(client, slug="two-pictures", image=("one.png", png_bytes()))
    first = stored("two-pictures").image_filename
    assert submit(client, "/organiser/c/two-pictures/edit", slug="two-pictures", image=("two.jpg", JPEG)).status_code == 303
    second = stored("two-pictures").image_filename
    assert second != first and second.endswith(".jpg")
    assert not (instance_folder / "uploads" / first).exists()
    assert client.get(f"/media/{first}").status_code == 404


def test_editing_without_a_new_image_keeps_the_current_one(organiser, client):
    """Saving the form with no file leaves the image as it was."""
    submit(client, slug="keep-picture", image=("one.png", png_bytes()))
    first = stored("keep-picture").image_filename
    assert submit(client, "/organiser/c/keep-picture/edit", slug="keep-picture", title="New title").status_code == 303
    assert stored("keep-picture").image_filename == first


@pytest.mark.parametrize("name", ["../../etc/passwd", "..%2F..%2Fapp.py", "missing.png"],
                         ids=["traversal", "encoded-traversal", "missing"])
def test_media_serves_nothing_outside_the_uploads(client, name):
    """Only stored uploads are served; anything else is 404."""
    assert client.get(f"/media/{name}").status_code == 404


# --- Businesses -------------------------------------------------------------------

@pytest.fixture
def boycott(organiser):
    campaign = make_campaign(slug="ad-pause", kind=Kind.BOYCOTT)
    organisers.add_member(organiser, campaign)
    for name in ("Acme Ltd", "Bad Actor Inc"):
        businesses.join_as_business(campaign, businesses.BusinessPledge(
            name, f"https://{name.split()[0].lower()}.example", "ads@example.com", "10-49"))
    for business in campaign.businesses:  # their contact addresses followed the emailed link
        businesses.confirm_pledge(business.id)
    return campaign


def business_id(name: str) -> int:
    return db.session.execute(select(Business.id).where(Business.organisation == name)).scalar_one()


def test_the_business_queue_lists_pending_businesses(boycott, client):
    """The queue shows each business with Approve and Reject buttons."""
    html = client.get("/organiser/c/ad-pause/businesses").get_data(as_text=True)
    assert "Acme Ltd" in html and "Bad Actor Inc" in html
    assert 'aria-label="Approve Acme Ltd (example.com)"' in html and 'aria-label="Reject Acme Ltd (example.com)"' in html


def test_approved_businesses_appear_on_the_public_page_at_once(boycott, client):
    """Approve one, reject another: only the approved one is listed publicly."""
    approve = post_action(client, f"/organiser/c/ad-pause/businesses/{business_id('Acme Ltd')}", "approved")
    assert approve.status_code == 303 and approve.headers["Location"] == "/organiser/c/ad-pause/businesses"
    reject = post_action(client, f"/organiser/c/ad-pause/businesses/{business_id('Bad Actor Inc')}", "rejected")
    assert reject.status_code == 303
    html = client.get("/c/ad-pause").get_data(as_text=True)
    public_list = html.split('class="business-list"')[1].split("</ul>")[0]
    assert "Acme Ltd" in public_list and "Bad Actor Inc" not in public_list
    db.session.expire_all()
    assert db.session.get(Business, business_id("Bad Actor Inc")).status == BusinessStatus.REJECTED


def test_an_approved_business_can_be_withdrawn_by_rejecting_it(boycott, client):
    """Rejecting after approval takes the business off the public list."""
    url = f"/organiser/c/ad-pause/businesses/{business_id('Acme Ltd')}"
    post_action(client, url, "approved")
    post_action(client, url, "rejected")
    assert "Acme Ltd" not in client.get("/c/ad-pause").get_data(as_text=True)


@pytest.mark.parametrize("action", ["pending", "deleted", ""], ids=["pending", "unknown", "empty"])
def test_a_business_decision_must_be_approve_or_reject(boycott, client, action):
    """Any other action is a 400 and changes nothing."""
    url = f"/organiser/c/ad-pause/businesses/{business_id('Acme Ltd')}"
    assert post_action(client, url, action).status_code == 400
    db.session.expire_all()
    assert db.session.get(Business, business_id("Acme Ltd")).status == BusinessStatus.PENDING


def test_a_business_of_another_campaign_cannot_be_decided_here(boycott, client):
    """A business id from a different campaign is 404, even for a member of this one."""
    other = make_campaign(slug="other-boycott", kind=Kind.BOYCOTT)
    businesses.join_as_business(other, businesses.BusinessPledge(
        "Elsewhere Co", "https://elsewhere.example", "ads@elsewhere.example", "1-9"))
    url = f"/organiser/c/ad-pause/businesses/{business_id('Elsewhere Co')}"
    assert post_action(client, url, "approved").status_code == 404
    db.session.expire_all()
    assert db.session.get(Business, business_id("Elsewhere Co")).status == BusinessStatus.PENDING


def test_a_campaign_that_is_not_a_boycott_has_no_business_queue(organiser, client):
    """Pledges and freezes have no businesses: their queue is 404."""
    campaign = make_campaign(slug="just-a-pledge", kind=Kind.PLEDGE)
    organisers.add_member(organiser, campaign)
    assert client.get("/organiser/c/just-a-pledge/businesses").status_code == 404


# --- Members -------------------------------------------------------------------------

@pytest.fixture
def admin(ctx, client):
    person = make_organiser("admin@example.com", is_admin=True)
    assert log_in(client, "admin@example.com").status_code == 303
    return person


def add_member(client, slug, email):
    token = csrf_token(client.get("/organiser/login").get_data(as_text=True))
    return client.post(f"/organiser/c/{slug}/members", data={"email": email, "csrf_token": token})


def log_in_as(client, email):
    """Log out, then log in as someone else, in the same browser."""
    post_action(client, "/organiser/logout")
    return log_in(client, email)


def test_an_admin_adds_an_organiser_to_a_campaign_by_email(admin, client):
    """The new member is listed and can now open the campaign."""
    campaign = make_campaign(slug="grow-team", title="Growing the team")
    make_organiser("helper@example.com")
    response = add_member(client, "grow-team", "Helper@Example.com")
    assert response.status_code == 303
    html = client.get("/organiser/c/grow-team/members").get_data(as_text=True)
    assert "helper@example.com is now a member." in html
    assert "<li>helper@example.com" in html
    assert log_in_as(client, "helper@example.com").status_code == 303
    assert "Growing the team" in client.get("/organiser/").get_data(as_text=True)
    assert client.get(f"/organiser/c/{campaign.slug}/").status_code == 200


@pytest.mark.parametrize("email, message", [
    ("stranger", "Enter an email address in the correct format, like name@example.com"),
    ("", "Enter the organiser's email address"),
    ("nul\x00@example.com", "Organiser's email contains characters we cannot accept"),
], ids=["not-an-address", "empty", "nul-byte"])
def test_adding_a_member_with_a_bad_address_is_refused(admin, client, email, message):
    """The message says what is wrong, and nobody is added or invited."""
    make_campaign(slug="closed-team")
    response = add_member(client, "closed-team", email)
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "email") == message
    assert db.session.execute(select(func.count()).select_from(Membership)).scalar_one() == 0
    assert db.session.execute(select(func.count()).select_from(OutboxMessage)).scalar_one() == 0


def test_adding_someone_who_is_already_a_member_changes_nothing(admin, client):
    """Adding the same person twice keeps one membership."""
    campaign = make_campaign(slug="same-team")
    make_organiser("twice@example.com", campaigns=[campaign])
    assert add_member(client, "same-team", "twice@example.com").status_code == 303
    assert db.session.execute(select(func.count()).select_from(Membership)).scalar_one() == 1


def test_a_member_who_is_not_an_admin_cannot_add_members(organiser, client):
    """A plain member sees who runs the campaign but cannot add anyone (404)."""
    campaign = make_campaign(slug="our-team")
    organisers.add_member(organiser, campaign)
    make_organiser("friend@example.com")
    page = client.get("/organiser/c/our-team/members")
    assert page.status_code == 200
    assert "org@example.com" in page.get_data(as_text=True)
    assert "Add member" not in page.get_data(as_text=True)
    assert add_member(client, "our-team", "friend@example.com").status_code == 404
    assert not organisers.is_member(organisers.find_organiser("friend@example.com"), campaign)


def test_an_admin_removes_a_member(admin, client):
    """Removing a member takes the campaign away from them."""
    campaign = make_campaign(slug="shrink-team")
    leaving = make_organiser("leaving@example.com", campaigns=[campaign])
    response = post_action(client, f"/organiser/c/shrink-team/members/{leaving.id}/remove")
    assert response.status_code == 303
    db.session.expire_all()
    assert not organisers.is_member(leaving, campaign)


def test_a_plain_member_cannot_remove_members(organiser, client):
    """Removing is for admins: a member gets 404 and the membership stays."""
    campaign = make_campaign(slug="stay-team")
    organisers.add_member(organiser, campaign)
    other = make_organiser("other@example.com", campaigns=[campaign])
    assert post_action(client, f"/organiser/c/stay-team/members/{other.id}/remove").status_code == 404
    assert organisers.is_member(other, campaign)


# --- Organiser accounts ---------------------------------------------------------------

def create_organiser(client, **fields):
    page = client.get("/organiser/organisers")
    return client.post("/organiser/organisers", data={**fields, "csrf_token": csrf_token(page.get_data(as_text=True))})


def test_an_admin_creates_an_organiser_who_can_then_log_in(admin, client):
    """The new account is listed, hashed with argon2, and works."""
    response = create_organiser(client, email="New.Person@Example.com", password=PASSWORD)
    assert response.status_code == 303
    html = client.get("/organiser/organisers").get_data(as_text=True)
    assert "<td>new.person@example.com</td><td>organiser</td>" in html
    person = organisers.find_organiser("new.person@example.com")
    assert person is not None and not person.is_admin
    assert person.password_hash.startswith("$argon2")
    assert log_in_as(client, "new.person@example.com").status_code == 303


def test_an_admin_can_create_another_admin(admin, client):
    """The administrator box makes the new account an admin."""
    assert create_organiser(client, email="boss@example.com", password=PASSWORD, is_admin="y").status_code == 303
    assert organisers.find_organiser("boss@example.com").is_admin


@pytest.mark.parametrize("fields, field, message", [
    ({"email": "short@example.com", "password": "x" * 11}, "password",
     "The password must be at least 12 characters long"),
    ({"email": "short@example.com", "password": ""}, "password", "Enter a password"),
    ({"email": "", "password": PASSWORD}, "email", "Enter an email address"),
    ({"email": "not-an-address", "password": PASSWORD}, "email",
     "Enter an email address in the correct format, like name@example.com"),
    ({"email": "nul\x00@example.com", "password": PASSWORD}, "email",
     "Enter an email address in the correct format, like name@example.com"),
    ({"email": "admin@example.com", "password": PASSWORD}, "email",
     "An organiser with the address admin@example.com already exists."),
], ids=["short-password", "no-password", "no-email", "bad-email", "nul-email", "taken-email"])
def test_a_bad_new_organiser_is_refused_with_a_message(admin, client, fields, field, message):
    """Short passwords, bad or taken addresses: 422 with the message, no account."""
    response = create_organiser(client, **fields)
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), field) == message
    assert db.session.execute(select(func.count()).select_from(Organiser)).scalar_one() == 1


def test_only_admins_manage_organiser_accounts(organiser, client):
    """A plain organiser gets 404 for the organisers page and cannot create accounts."""
    assert client.get("/organiser/organisers").status_code == 404
    token = csrf_token(client.get("/organiser/login").get_data(as_text=True))
    response = client.post("/organiser/organisers",
                           data={"email": "sneaky@example.com", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 404
    assert organisers.find_organiser("sneaky@example.com") is None
