"""Pledge follow-through: a pledge may ask the date a signer will act from
and their reason; a reason reaches the campaign page only with the signer's
consent, after the confirmer has seen it, and once an organiser approved it."""
from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from sqlalchemy import select

from campaign.extensions import db
from campaign.models import AuditEvent, Kind, Signature

from .builders import (
    confirm,
    confirm_link,
    csrf_token,
    log_in,
    make_campaign,
    make_organiser,
    sign,
)

SLUG = "log-off-for-good"
DATE_QUESTION = "I will log off from"
TODAY = dt.datetime.now(dt.UTC).date()
NEXT_WEEK = (TODAY + dt.timedelta(days=7)).isoformat()


@pytest.fixture
def pledge(app):
    with app.app_context():
        campaign = make_campaign(slug=SLUG, kind=Kind.PLEDGE, asks_date=True, date_question=DATE_QUESTION,
                                 asks_reason=True)
        make_organiser("org@example.com", campaigns=[campaign])
        make_organiser("other@example.com", campaigns=[make_campaign(slug="another")])
        return campaign.id


def signature(app, email="ada@example.com") -> Signature:
    with app.app_context():
        row = db.session.execute(select(Signature).where(Signature.email == email)).scalar_one()
        db.session.expunge(row)
        return row


def sign_with(client, **fields):
    return sign(client, SLUG, pledge_date=NEXT_WEEK, **fields)


def confirm_path(smtp, deliver, email="ada@example.com") -> str:
    deliver()
    [message] = [m for m in smtp.to(email) if m.subject.startswith("Confirm")]
    return confirm_link(message.text)


def test_the_form_asks_the_date_in_the_organisers_words_and_the_reason(app, client, pledge):
    html = client.get(f"/c/{SLUG}").get_data(as_text=True)
    assert f'<label for="pledge_date">{DATE_QUESTION}' in html and 'type="date"' in html
    assert '<label for="reason">Why are you pledging?' in html
    assert 'id="reason_public"' in html and 'id="reason_public" checked' not in html, "consent unticked by default"
    with app.app_context():
        make_campaign(slug="plain", kind=Kind.PLEDGE)
        make_campaign(slug="boycott", kind=Kind.BOYCOTT, asks_date=True, asks_reason=True)
    for slug in ("plain", "boycott"):
        other = client.get(f"/c/{slug}").get_data(as_text=True)
        assert 'name="pledge_date"' not in other and 'name="reason"' not in other, slug


def test_the_date_and_reason_are_kept_and_a_public_reason_waits_for_review(app, client, pledge):
    response = sign_with(client, reason="My children deserve my attention.", reason_public="y")
    assert response.status_code in (200, 303)
    kept = signature(app)
    assert kept.pledge_date.isoformat() == NEXT_WEEK
    assert kept.reason == "My children deserve my attention." and kept.reason_public
    assert kept.reason_status == "pending"

    sign_with(client, email="bo@example.com", reason="Private reason.")
    private = signature(app, "bo@example.com")
    assert private.reason == "Private reason." and not private.reason_public and private.reason_status is None


DATE_ERRORS = [
    ("", "Enter the date you will start"),
    ("tomorrow", "Enter the date as year, month and day, like 2027-03-01"),
    ("2027-02-30", "Enter the date as year, month and day, like 2027-03-01"),
    ("01/03/2027", "Enter the date as year, month and day, like 2027-03-01"),
    ("2027-13-01", "Enter the date as year, month and day, like 2027-03-01"),
    ((TODAY - dt.timedelta(days=3)).isoformat(), "Choose today or a later date"),
    ((TODAY + dt.timedelta(days=400)).isoformat(), "Choose a date within the next year"),
    ("9" * 300, "Enter the date as year, month and day, like 2027-03-01"),
]
REASON_ERRORS = [
    ("x" * 501, "Your reason must be 500 characters or fewer"),
    ("Read why at https://evil.example/x", "Your reason must not contain a web address"),
    ("Go to www.evil.example", "Your reason must not contain a web address"),
    ("Bell\x07 character", "Your reason contains characters we cannot accept"),
]


@pytest.mark.parametrize(("value", "message"), DATE_ERRORS, ids=[v[:12] or "empty" for v, _ in DATE_ERRORS])
def test_a_bad_date_says_why_and_keeps_everything_typed(app, client, pledge, value, message):
    page = client.get(f"/c/{SLUG}")
    response = client.post(f"/c/{SLUG}/sign", data={
        "given_name": "Ada", "family_name": "Lovelace", "email": "ada@example.com", "country": "GB",
        "pledge_date": value, "reason": "Kept as typed", "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and 'id="pledge_date-error"' in html
    assert 'value="Lovelace"' in html and "Kept as typed</textarea>" in html
    with app.app_context():
        assert db.session.scalar(select(Signature.id)) is None


@pytest.mark.parametrize(("value", "message"), REASON_ERRORS, ids=["too-long", "url", "www", "control"])
def test_a_bad_reason_says_why_and_nothing_is_stored(app, client, pledge, value, message):
    response = sign_with(client, reason=value, reason_public="y")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and 'id="reason-error"' in html and f'value="{NEXT_WEEK}"' in html
    with app.app_context():
        assert db.session.scalar(select(Signature.id)) is None


def test_the_confirmer_sees_a_strangers_reason_and_can_remove_it(app, client, pledge, smtp, deliver):
    """Someone signs with Ada's address and an ugly public reason: Ada, who
    confirms, sees it on the confirmation page and takes it out. Her choice
    is what is recorded; nothing waits for review."""
    sign_with(client, reason="Something Ada never said.", reason_public="y")
    path = confirm_path(smtp, deliver)
    page = client.get(path).get_data(as_text=True)
    assert "Something Ada never said.</textarea>" in page
    assert f'value="{NEXT_WEEK}"' in page and DATE_QUESTION in page
    response = confirm(client, path, reason="", reason_public=False)
    assert response.status_code == 200
    kept = signature(app)
    assert kept.status == "confirmed" and kept.reason is None and not kept.reason_public
    assert kept.reason_status is None


def test_the_confirmer_may_change_the_date_and_a_bad_one_is_refused(app, client, pledge, smtp, deliver):
    sign_with(client)
    path = confirm_path(smtp, deliver)
    refused = confirm(client, path, pledge_date="someday")
    assert refused.status_code == 422
    assert "Enter the date as year, month and day" in refused.get_data(as_text=True)
    assert DATE_QUESTION in refused.get_data(as_text=True), "labelled as the campaign asks"
    later = (TODAY + dt.timedelta(days=30)).isoformat()
    assert confirm(client, path, pledge_date=later).status_code == 200
    assert signature(app).pledge_date.isoformat() == later


# --- Review and the public page ----------------------------------------------------------

def confirmed_with_reason(app, client, smtp, deliver, email, reason, show_name=True):
    sign_with(client, email=email, given_name="Ada" if show_name else "Hidden", reason=reason, reason_public="y",
              **({"show_name": "y"} if show_name else {}))
    confirm(client, confirm_path(smtp, deliver, email))
    return signature(app, email).id


def press(client, path, action):
    token = csrf_token(client.get("/organiser/login").get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, "action": action})


def test_a_reason_is_on_the_page_only_once_approved_and_until_taken_down(app, pledge, smtp, deliver):
    supporter = app.test_client()
    named = confirmed_with_reason(app, supporter, smtp, deliver, "ada@example.com", "Screens took my evenings.")
    anonymous = confirmed_with_reason(app, supporter, smtp, deliver, "bo@example.com", "I want my focus back.",
                                      show_name=False)
    rejected = confirmed_with_reason(app, supporter, smtp, deliver, "cy@example.com", "Rude words here.")
    public = app.test_client()
    assert "Screens took my evenings." not in public.get(f"/c/{SLUG}").get_data(as_text=True)

    organiser = app.test_client()
    log_in(organiser, "org@example.com")
    queue = organiser.get(f"/organiser/c/{SLUG}/reasons").get_data(as_text=True)
    assert all(text in queue for text in ("Screens took my evenings.", "I want my focus back.", "Rude words here."))
    for signature_id, action in ((named, "approve"), (anonymous, "approve"), (rejected, "reject")):
        assert press(organiser, f"/organiser/c/{SLUG}/reasons/{signature_id}", action).status_code == 303

    page = public.get(f"/c/{SLUG}").get_data(as_text=True)
    assert "Why people are pledging" in page
    assert "Screens took my evenings." in page and "<bdi>Ada</bdi>, United Kingdom" in page
    assert "I want my focus back." in page and "Hidden" not in page, "no name without consent to show it"
    assert "Rude words here." not in page
    assert press(organiser, f"/organiser/c/{SLUG}/reasons/{named}", "approve").status_code == 404, "decided once"

    assert press(organiser, f"/organiser/c/{SLUG}/reasons/{named}", "take_down").status_code == 303
    assert "Screens took my evenings." not in public.get(f"/c/{SLUG}").get_data(as_text=True)
    with app.app_context():
        logged = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("reason.%"))
                                    .order_by(AuditEvent.id)).all()
    assert logged == ["reason.approved", "reason.approved", "reason.rejected", "reason.taken_down"]


def test_another_campaigns_organiser_cannot_see_or_decide_reasons(app, pledge, smtp, deliver):
    signature_id = confirmed_with_reason(app, app.test_client(), smtp, deliver, "ada@example.com", "Mine.")
    outsider = app.test_client()
    log_in(outsider, "other@example.com")
    assert outsider.get(f"/organiser/c/{SLUG}/reasons").status_code == 404
    assert press(outsider, f"/organiser/c/{SLUG}/reasons/{signature_id}", "approve").status_code == 404
    assert press(outsider, f"/organiser/c/another/reasons/{signature_id}", "approve").status_code == 404
    assert signature(app).reason_status == "pending"


def test_the_signer_list_export_has_the_date_and_reason_neutralised(app, pledge, smtp, deliver):
    confirmed_with_reason(app, app.test_client(), smtp, deliver, "ada@example.com", "=1+1 is why")
    organiser = app.test_client()
    log_in(organiser, "org@example.com")
    body = organiser.get(f"/organiser/c/{SLUG}/export/signers.csv").get_data(as_text=True)
    [header, row] = list(csv.reader(io.StringIO(body)))
    assert header[-4:] == ["pledge_date", "reason", "reason_public", "reason_review"]
    assert row[-4:] == [NEXT_WEEK, "'=1+1 is why", "yes", "pending"]
