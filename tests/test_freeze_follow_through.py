"""A freeze followed through: the organiser writes the statement and chooses
one window for everyone or the same local hours everywhere; the page shows
the statement to copy while it is to come and while it is on; signers'
time zones come from their browser or their country and can be changed when
confirming; once it has ended the sign form gives way to the result, and
"Did you take part?" answers, and only they, say how many took part."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from campaign import check_ins, signing, time_zones, tokens
from campaign.extensions import db
from campaign.models import AuditEvent, Campaign, CheckInTally, Kind, Signature, WindowMode, WindowState

from .builders import (
    confirm_link,
    csrf_token,
    form_values,
    hours_from_now,
    log_in,
    make_campaign,
    make_organiser,
    sign,
)

STATEMENT = "I am logging off for 24 hours to ask for safer feeds. #QuietDay"


def freeze(**fields) -> Campaign:
    values = {"kind": Kind.FREEZE, "statement": STATEMENT, "next_action": "Write to your representative.",
              "window_start": hours_from_now(24), "window_end": hours_from_now(48)}
    values.update(fields)
    return make_campaign(**values)


def html_of(client, campaign) -> str:
    response = client.get(f"/c/{campaign.slug}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def signer(campaign, email="ada@example.com", zone="Europe/London", reminders=True, created_at=None) -> Signature:
    """A confirmed signer of ``campaign`` in ``zone``, who asked for reminders (or not)."""
    signing.sign(campaign, signing.Pledge("Ada", "Lovelace", email, "GB", None, False, False,
                                          time_zone=zone, reminder_opt_in=reminders))
    signature = db.session.execute(select(Signature).where(Signature.email == email)).scalar_one()
    db.session.commit()
    signing.confirm(signature.id, signing.Choices("Ada", "Lovelace", "GB", False, False, reminder_opt_in=reminders))
    if created_at is not None:
        signature.created_at = created_at
        db.session.commit()
    db.session.refresh(signature)
    return signature


def campaign_form(client) -> dict:
    """The campaign form of /organiser/c/quiet-day/edit as the browser would send it."""
    html = client.get("/organiser/c/quiet-day/edit").get_data(as_text=True)
    return form_values(html[html.index('<form method="post" enctype="multipart/form-data"'):])


# --- The statement -------------------------------------------------------------

@pytest.mark.parametrize("starts, ends, state", [(24, 48, "starts soon"), (-2, 22, "is happening now")])
def test_the_statement_is_on_the_page_to_read_and_copy_before_and_during_the_freeze(ctx, client, starts, ends, state):
    campaign = freeze(window_start=hours_from_now(starts), window_end=hours_from_now(ends))
    html = html_of(client, campaign)
    assert f"The freeze {state}" in html
    # Plain text anyone can select, and a copy button the script shows only where it can copy.
    assert f'<blockquote class="statement-text" id="statement-text">{STATEMENT}</blockquote>' in html
    button = re.search(r'<button[^>]*data-copy="#statement-text"[^>]*>', html).group(0)
    assert " hidden" in button
    assert "post the statement below" in html.lower()


@pytest.mark.parametrize("starts, ends", [(24, 48), (-2, 22)], ids=["upcoming", "happening"])
def test_without_a_statement_the_page_never_asks_to_post_one(ctx, client, starts, ends):
    campaign = freeze(statement="", window_start=hours_from_now(starts), window_end=hours_from_now(ends))
    html = html_of(client, campaign)
    assert "statement" not in html.lower()
    if starts < 0:
        assert "Go quiet: no posts, likes or replies until the freeze ends." in html


def test_the_organiser_writes_the_statement_and_chooses_local_hours_and_it_is_audited(ctx, client):
    campaign = freeze(slug="quiet-day", time_zone="Europe/London")
    make_organiser(campaigns=[campaign])
    log_in(client)
    form = campaign_form(client)
    form.update({"statement": "Going quiet today.", "window_mode": "local", "check_in_email": "y",
                 "window_start": "2099-03-01T09:00", "window_end": "2099-03-02T09:00"})
    form.pop("image", None)
    response = client.post("/organiser/c/quiet-day/edit", data=form)
    assert response.status_code == 303, re.findall(r"error-message[^>]*>(.*?)</p>", response.get_data(as_text=True))
    db.session.expire_all()
    saved = db.session.get(Campaign, campaign.id)
    assert (saved.statement, saved.window_mode, saved.check_in_email) == ("Going quiet today.", "local", True)
    assert (saved.local_start, saved.local_end) == (dt.datetime(2099, 3, 1, 9), dt.datetime(2099, 3, 2, 9))
    # It starts first at 09:00 in UTC+14 and ends last at 09:00 in UTC-11.
    assert (saved.window_start, saved.window_end) == (dt.datetime(2099, 2, 28, 19), dt.datetime(2099, 3, 2, 20))
    [event] = db.session.execute(select(AuditEvent).where(AuditEvent.action == "campaign.edited")).scalars()
    assert {"statement", "window_mode", "check_in_email", "local_start", "local_end"} <= set(event.detail["fields"])
    # Editing again shows the wall-clock hours, not the UTC span.
    again = campaign_form(client)
    assert (again["window_start"], again["window_end"], again["window_mode"]) == (
        "2099-03-01T09:00", "2099-03-02T09:00", "local")


# --- The same local hours everywhere ---------------------------------------------

def local_freeze(**fields) -> Campaign:
    from campaign.windows import local_span
    start, end = dt.datetime(2099, 3, 1, 9), dt.datetime(2099, 3, 2, 9)
    first, last = local_span(start, end)
    return freeze(window_mode=WindowMode.LOCAL, local_start=start, local_end=end, window_start=first,
                  window_end=last, **fields)


@pytest.mark.parametrize("now, state", [
    (dt.datetime(2099, 2, 28, 18, 59), WindowState.UPCOMING),   # not yet 09:00 anywhere
    (dt.datetime(2099, 2, 28, 19, 0), WindowState.HAPPENING),   # 09:00 on Kiritimati (UTC+14)
    (dt.datetime(2099, 3, 2, 12, 0), WindowState.HAPPENING),    # over in London, on in Los Angeles
    (dt.datetime(2099, 3, 2, 19, 59), WindowState.HAPPENING),   # the last hour, in UTC-11
    (dt.datetime(2099, 3, 2, 20, 0), WindowState.ENDED),        # 09:00 in Pago Pago: over everywhere
])
def test_a_local_hours_freeze_is_upcoming_until_it_starts_somewhere_and_ends_when_it_has_ended_everywhere(
        ctx, now, state):
    assert local_freeze().window_state(now) == state


def test_a_local_hours_freeze_page_gives_the_hours_as_everyones_own(ctx, client):
    campaign = local_freeze()
    html = html_of(client, campaign)
    assert "Sunday, March 1, 2099, 9:00\u202fAM, your local time" in html
    assert "Monday, March 2, 2099, 9:00\u202fAM, your local time" in html
    assert "Feb 28, 2099, 7:00\u202fPM UTC" in html and "Mar 2, 2099, 8:00\u202fPM UTC" in html
    # The countdown counts to the reader's own 09:00: a time without a zone, which browsers read as local.
    assert 'data-countdown="2099-03-01T09:00"' in html


def test_a_signers_own_window_is_the_same_hours_in_their_zone(ctx):
    from campaign.windows import signer_window
    campaign = local_freeze()
    assert signer_window(campaign, "Asia/Tokyo") == (dt.datetime(2099, 3, 1, 0), dt.datetime(2099, 3, 2, 0))
    assert signer_window(campaign, "America/New_York") == (dt.datetime(2099, 3, 1, 14), dt.datetime(2099, 3, 2, 14))
    everyone = freeze(window_start=dt.datetime(2099, 3, 1, 9), window_end=dt.datetime(2099, 3, 2, 9))
    assert signer_window(everyone, "Asia/Tokyo") == (dt.datetime(2099, 3, 1, 9), dt.datetime(2099, 3, 2, 9))


# --- Time zones --------------------------------------------------------------------

@pytest.mark.parametrize("country, zone", [
    ("GB", "Europe/London"), ("US", "America/New_York"), ("AU", "Australia/Sydney"), ("BR", "America/Sao_Paulo"),
    ("JP", "Asia/Tokyo"), ("IN", "Asia/Kolkata"), ("fr", "Europe/Paris"), ("XX", "UTC"), ("", "UTC"),
])
def test_each_country_has_the_zone_most_of_its_people_live_in(country, zone):
    assert time_zones.zone_for_country(country) == zone


@pytest.mark.parametrize("sent, kept", [
    ("Asia/Tokyo", "Asia/Tokyo"),          # what the browser said
    ("", "Europe/London"),                 # no JavaScript: the country's
    ("Mars/Olympus_Mons", "Europe/London"),
    ("../../etc/passwd", "Europe/London"),
    ("Etc/GMT+5", "Europe/London"),        # not a place: not offered
])
def test_signing_a_freeze_keeps_the_browsers_zone_or_else_the_countrys(ctx, client, sent, kept):
    campaign = freeze()
    assert sign(client, campaign.slug, time_zone=sent, reminder_opt_in="y").status_code == 200
    stored = db.session.execute(select(Signature)).scalar_one()
    assert (stored.time_zone, stored.reminder_opt_in) == (kept, True)


def test_the_sign_form_asks_for_reminders_unticked_and_carries_the_zone_field_for_the_script(ctx, client):
    html = html_of(client, freeze())
    box = re.search(r'<input[^>]*name="reminder_opt_in"[^>]*>', html).group(0)
    assert 'type="checkbox"' in box and "checked" not in box
    assert re.search(r'<input[^>]*data-time-zone[^>]*name="time_zone"[^>]*type="hidden"|'
                     r'<input[^>]*name="time_zone"[^>]*type="hidden"[^>]*data-time-zone', html)
    assert sign(client, freeze(slug="no-box").slug).status_code == 200
    assert db.session.execute(select(Signature.reminder_opt_in)).scalar_one() is False
    assert "reminder_opt_in" not in html_of(client, make_campaign())


def test_the_zone_can_be_changed_when_confirming(ctx, client, smtp, deliver):
    campaign = freeze()
    sign(client, campaign.slug, time_zone="Asia/Tokyo")
    deliver()
    path = confirm_link(smtp.to("ada@example.com")[0].text)
    page = client.get(path).get_data(as_text=True)
    assert '<option selected value="Asia/Tokyo">Asia/Tokyo</option>' in page
    assert 'name="reminder_opt_in"' in page
    data = form_values(page)
    data.update({"time_zone": "America/New_York", "reminder_opt_in": "y"})
    assert client.post(path, data=data).status_code == 200
    stored = db.session.execute(select(Signature)).scalar_one()
    assert (stored.status, stored.time_zone, stored.reminder_opt_in) == ("confirmed", "America/New_York", True)


@pytest.mark.parametrize("zone, message", [
    ("Mars/Olympus_Mons", "Choose a time zone from the list"),
    ("../../etc/passwd", "Choose a time zone from the list"),
    ("Etc/GMT+5", "Choose a time zone from the list"),
    ("europe/london", "Choose a time zone from the list"),
    ("Europe/London\x00", "The time zone contains characters we cannot accept"),
    ("Europe/" + "x" * 80, "Choose a time zone from the list: that name is too long"),
])
def test_a_zone_that_is_not_one_of_ours_is_refused_when_confirming(ctx, client, smtp, deliver, zone, message):
    campaign = freeze()
    sign(client, campaign.slug, time_zone="Asia/Tokyo")
    deliver()
    path = confirm_link(smtp.to("ada@example.com")[0].text)
    data = form_values(client.get(path).get_data(as_text=True))
    data["time_zone"] = zone
    response = client.post(path, data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    stored = db.session.execute(select(Signature)).scalar_one()
    assert (stored.status, stored.time_zone) == ("pending", "Asia/Tokyo")


# --- After the end -------------------------------------------------------------------

def test_an_ended_freeze_shows_the_result_and_next_action_instead_of_the_form(ctx, client):
    campaign = freeze(window_start=hours_from_now(-48), window_end=hours_from_now(-24), check_in_email=True)
    html = html_of(client, campaign)
    assert "The freeze has ended" in html and "The result" in html
    assert "Write to your representative." in html
    assert f'action="/c/{campaign.slug}/sign"' not in html and "Sign the pledge</button>" not in html
    assert STATEMENT not in html
    assert "No one has told us yet whether they took part." in html


def test_signing_after_the_end_is_refused_plainly_and_records_nothing(ctx, client):
    campaign = freeze(window_start=hours_from_now(-2), window_end=hours_from_now(22))
    token = csrf_token(html_of(client, campaign))  # the form, as a visitor loaded it while it was on
    campaign.window_end = hours_from_now(-0.01)
    db.session.commit()
    response = client.post(f"/c/{campaign.slug}/sign", data={
        "given_name": "Late", "family_name": "Comer", "email": "late@example.com", "country": "GB",
        "csrf_token": token})
    assert response.status_code == 410
    text = response.get_data(as_text=True)
    assert "is over, so it no longer takes signatures" in text and "was not recorded" in text
    assert db.session.execute(select(Signature)).first() is None


# --- Did you take part? ----------------------------------------------------------------

def ended_freeze_with(*emails, **fields):
    campaign = freeze(window_start=hours_from_now(-48), window_end=hours_from_now(-24), check_in_email=True,
                      **fields)
    signed = [signer(campaign, email, created_at=hours_from_now(-72)) for email in emails]
    return campaign, signed


def check_in_path(signature) -> str:
    return f"/check-in/{tokens.token_for(tokens.CHECK_IN, signature.id)}"


def test_opening_the_check_in_link_records_nothing(ctx, client):
    campaign, [ada] = ended_freeze_with("ada@example.com")
    page = client.get(check_in_path(ada))
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert ">I took part</button>" in html and ">I couldn't this time</button>" in html
    db.session.expire_all()
    assert db.session.get(Signature, ada.id).took_part is None
    assert db.session.execute(select(CheckInTally)).first() is None


def test_answers_show_on_the_page_at_once_and_a_change_of_mind_moves_the_count(ctx, client, app):
    campaign, [ada, bob, cy] = ended_freeze_with("ada@example.com", "bob@example.com", "cy@example.com")
    mail = app.test_client(use_cookies=False)
    assert "No one has told us yet" in html_of(client, campaign)
    for person, answer in ((ada, "yes"), (bob, "yes"), (cy, "no")):
        response = mail.post(check_in_path(person), data={"answer": answer})
        assert response.status_code == 200 and "Location" not in response.headers
        assert "Set-Cookie" not in response.headers and "your answer is recorded" in response.get_data(as_text=True)
    html = html_of(client, campaign)
    assert "2 of them told us they took part." in html and "3 people signed up to take part." in html
    # The same answer twice counts once; the other answer replaces it.
    mail.post(check_in_path(ada), data={"answer": "yes"})
    mail.post(check_in_path(bob), data={"answer": "no"})
    assert "1 of them told us they took part." in html_of(client, campaign)
    assert check_ins.take_part(campaign.id) == check_ins.TakePart(took_part=1, could_not=2)
    assert check_ins.recount(campaign) == check_ins.TakePart(took_part=1, could_not=2)


@pytest.mark.parametrize("case, status, says", [
    ("not ended for them", 409, "It has not ended for you yet"),
    ("signed after the end", 410, "You signed after it had ended"),
    ("never confirmed", 410, "This signature is not confirmed"),
])
def test_who_cannot_answer_is_told_why_and_counts_nothing(ctx, client, case, status, says):
    if case == "not ended for them":
        campaign = freeze(window_start=hours_from_now(-2), window_end=hours_from_now(22))
        person = signer(campaign)
    elif case == "signed after the end":
        campaign = freeze(window_start=hours_from_now(-48), window_end=hours_from_now(-24))
        person = signer(campaign)
    else:
        campaign = freeze(window_start=hours_from_now(-48), window_end=hours_from_now(-24))
        signing.sign(campaign, signing.Pledge("Pat", "Pending", "pat@example.com", "GB", None, False, False))
        person = db.session.execute(select(Signature)).scalar_one()
    response = client.post(check_in_path(person), data={"answer": "yes"})
    assert response.status_code == status and says in response.get_data(as_text=True)
    assert db.session.execute(select(CheckInTally)).first() is None


@pytest.mark.parametrize("token, answer, status", [
    ("not-a-token", "yes", 404),
    (None, "maybe", 400),
    (None, "", 400),
])
def test_a_forged_link_or_an_answer_we_do_not_offer_is_refused(ctx, client, token, answer, status):
    campaign, [ada] = ended_freeze_with("ada@example.com")
    path = f"/check-in/{token}" if token else check_in_path(ada)
    assert client.post(path, data={"answer": answer}).status_code == status
    assert db.session.execute(select(CheckInTally)).first() is None
    # A link made for another purpose cannot answer either.
    unsubscribe = tokens.token_for(tokens.UNSUBSCRIBE, ada.id)
    assert client.post(f"/check-in/{unsubscribe}", data={"answer": "yes"}).status_code == 404


def test_the_dashboard_shows_the_take_part_rate_from_answers_only(ctx, client, app):
    campaign, people = ended_freeze_with("a@example.com", "b@example.com", "c@example.com", "d@example.com")
    make_organiser(campaigns=[campaign])
    for person, answer in zip(people, ("yes", "yes", "yes", "no")):
        app.test_client().post(check_in_path(person), data={"answer": answer})
    log_in(client)
    html = client.get(f"/organiser/c/{campaign.slug}/").get_data(as_text=True)
    figure = re.search(r'data-figure="take-part">(.*?)</dd>', html, re.S).group(1)
    assert "75%" in figure and "3 took part, 1 could not" in figure
