"""One reminder to confirm, with a clock: a signature still pending a day
after signing gets one email with a confirm link that works, never a
second, however many workers run; none if the signer confirmed, was
withdrawn, their mailbox stopped all email or reached its allowance, the
signature spent its own, the link expired or the campaign is not live.
The dashboard's confirmation figures are the signatures' own."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select, update

from campaign import confirm_reminders, moderation, signing, subscriptions
from campaign.extensions import db
from campaign.models import Campaign, CampaignStatus, OutboxMessage, OutboxStatus, Signature, SignatureStatus
from campaign.signature_mail import CONFIRM_REMINDER

from .builders import at_once, confirm, confirm_link, hours_from_now, log_in, make_campaign, make_organiser, sign


@pytest.fixture(autouse=True)
def every_turn(monkeypatch):
    """The worker looks for due reminders at every turn, not once a minute."""
    monkeypatch.setattr(confirm_reminders, "SCAN_EVERY_SECONDS", 0)


@pytest.fixture
def clock(monkeypatch):
    """Sets the time the reminders are due by: hours from now (signatures
    made by the test are signed now)."""
    def set_to(hours: float) -> None:
        moment = hours_from_now(hours)
        monkeypatch.setattr(confirm_reminders, "clock", lambda: moment)
    return set_to


def reminders(smtp) -> list:
    return [m for m in smtp.received if m.subject.startswith("Reminder:")]


def pledge(email: str, name: str = "Ada") -> signing.Pledge:
    return signing.Pledge(name, "Lovelace", email, "GB", None, False, False)


def signature_of(email: str) -> Signature:
    return db.session.execute(select(Signature).where(Signature.email == email)).scalar_one()


def outbox_rows(kind: str = CONFIRM_REMINDER) -> list[OutboxMessage]:
    return list(db.session.execute(
        select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)).scalars())


def test_a_day_later_one_reminder_with_a_link_that_confirms(app, client, smtp, deliver, clock):
    with app.app_context():
        make_campaign(slug="fish", title="Fish & <Chips>")
    sign(client, "fish", email="ada@example.com")
    deliver()
    assert [m.subject for m in smtp.received] == ["Confirm your signature: Fish & <Chips>"]
    smtp.reset()

    clock(23)
    deliver()
    assert smtp.received == []

    clock(25)
    deliver()
    [email] = smtp.received
    assert email.to == "ada@example.com"
    assert email.subject == "Reminder: confirm your signature for Fish & <Chips>"
    assert email.text.startswith("Hello Ada,")
    assert "Fish &amp; &lt;Chips&gt;" in email.html and "<Chips>" not in email.html
    assert "This is the only reminder we send." in email.text
    # Like the confirmation it repeats: no unsubscribe headers (nothing was subscribed to).
    assert email.message["List-Unsubscribe"] is None
    path = confirm_link(email.text)
    assert path in email.html

    for hours in (25, 30, 47):      # the worker runs again and again: nothing more
        clock(hours)
        deliver()
    assert len(smtp.received) == 1
    with app.app_context():
        ada = signature_of("ada@example.com")
        assert ada.confirm_reminded_at is not None
        # The reminder was one of the signature's emails, and the latest to carry the link.
        assert ada.emails_sent == 2 and ada.last_emailed_at == ada.confirm_reminded_at

    done = confirm(client, path)
    assert done.status_code == 200 and "Your signature is confirmed" in done.get_data(as_text=True)
    with app.app_context():
        assert signature_of("ada@example.com").status == SignatureStatus.CONFIRMED


def test_two_workers_at_once_remind_each_signature_once(app, smtp, deliver, clock):
    with app.app_context():
        campaign = make_campaign()
        for n in range(30):
            signing.sign(campaign, pledge(f"signer{n}@example.com"))
    deliver()
    smtp.reset()
    clock(25)
    at_once(app, confirm_reminders.queue_confirm_reminders)
    with app.app_context():
        per_signature = db.session.execute(
            select(OutboxMessage.signature_id, func.count()).where(OutboxMessage.kind == CONFIRM_REMINDER)
            .group_by(OutboxMessage.signature_id)).all()
        assert len(per_signature) == 30 and {n for _, n in per_signature} == {1}
        assert set(db.session.execute(select(Signature.emails_sent)).scalars()) == {2}
    deliver()
    assert sorted(m.to for m in reminders(smtp)) == sorted(f"signer{n}@example.com" for n in range(30))


def _confirmed(app, campaign, email):
    signature_id = signature_of(email).id
    db.session.commit()   # as in a request: the service confirms on a connection of its own
    signing.confirm(signature_id, signing.Choices("Ada", "Lovelace", "GB", False, False))


def _invalidated(app, campaign, email):
    moderation.invalidate(campaign, moderation.Criteria(email=email), None, "a bot")


def _closed(app, campaign, email):
    campaign.status = CampaignStatus.CLOSED
    db.session.commit()


def _back_in_draft(app, campaign, email):
    campaign.status = CampaignStatus.DRAFT
    db.session.commit()


def _stopped_all_email(app, campaign, email):
    subscriptions.stop_all_email(signature_of(email))


def _own_allowance_spent(app, campaign, email):
    app.config["SIGNATURE_EMAIL_CAP"] = 1     # the confirmation was its one email


def _link_expired(app, campaign, email):
    app.config["CONFIRM_LINK_DAYS"] = 1       # a day after the confirmation, before the reminder


def _freeze_over(app, campaign, email):
    campaign.window_end = hours_from_now(24)
    db.session.commit()


@pytest.mark.parametrize("meanwhile", [
    _confirmed, _invalidated, _closed, _back_in_draft, _stopped_all_email, _own_allowance_spent, _link_expired,
    _freeze_over,
], ids=lambda f: f.__name__.strip("_"))
def test_no_reminder_is_queued_for_a_signature_that_should_not_get_one(app, smtp, deliver, clock, meanwhile):
    with app.app_context():
        campaign = make_campaign()
        signing.sign(campaign, pledge("ada@example.com"))
        campaign_id = campaign.id
    deliver()
    smtp.reset()
    with app.app_context():
        meanwhile(app, db.session.get(Campaign, campaign_id), "ada@example.com")
    for hours in (25, 36):
        clock(hours)
        deliver()
    assert smtp.received == []
    with app.app_context():
        assert outbox_rows() == []
        assert signature_of("ada@example.com").confirm_reminded_at is None


@pytest.mark.parametrize("meanwhile, reason", [
    (_confirmed, "signature confirmed"),
    (_invalidated, "signature invalidated"),
    (_closed, "campaign closed"),
    (_back_in_draft, "campaign draft"),
    (_stopped_all_email, "mailbox stopped all email"),
], ids=lambda v: v.__name__.strip("_") if callable(v) else None)
def test_a_queued_reminder_is_not_sent_if_things_changed_before_it_went(app, smtp, deliver, clock, meanwhile,
                                                                          reason):
    with app.app_context():
        campaign = make_campaign()
        signing.sign(campaign, pledge("ada@example.com"))
        campaign_id = campaign.id
    deliver()
    smtp.reset()
    clock(25)
    with app.app_context():
        assert confirm_reminders.queue_confirm_reminders() is True
        meanwhile(app, db.session.get(Campaign, campaign_id), "ada@example.com")
    deliver()
    assert smtp.received == []
    with app.app_context():
        [row] = outbox_rows()
        assert (row.status, row.last_error) == (OutboxStatus.SKIPPED, reason)


def test_a_mailbox_at_its_allowance_gets_no_reminder(app, smtp, deliver, clock):
    """Signed with variants of one address on three campaigns within the
    hour: three confirmations, and the mailbox's hourly allowance is spent."""
    with app.app_context():
        for n in range(3):
            signing.sign(make_campaign(), pledge(f"ada+{n}@example.com"))
    deliver()
    assert len(smtp.received) == 3
    smtp.reset()
    clock(25)
    deliver()
    assert smtp.received == []
    with app.app_context():
        rows = outbox_rows()
        assert len(rows) == 3
        assert {(row.status, row.last_error) for row in rows} == {(OutboxStatus.SKIPPED, "mailbox allowance reached")}
    clock(40)   # and it is not tried again
    deliver()
    assert smtp.received == []


@pytest.mark.parametrize("hours, reminded", [
    (23.9, False),
    (24.1, True),
    (47.9, True),
    (48.1, False),   # a worker that was down for a day does not remind late
])
def test_the_reminder_is_due_from_a_day_after_signing_until_two(app, smtp, deliver, clock, hours, reminded):
    with app.app_context():
        signing.sign(make_campaign(), pledge("ada@example.com"))
    deliver()
    smtp.reset()
    clock(hours)
    deliver()
    assert len(reminders(smtp)) == int(reminded)


def test_a_link_sent_again_later_moves_the_reminder_a_day_after_it(app, smtp, deliver, clock):
    with app.app_context():
        signing.sign(make_campaign(), pledge("ada@example.com"))
        # The signer pressed "send it again" ten hours after signing.
        db.session.execute(update(Signature).values(last_emailed_at=hours_from_now(10)))
        db.session.commit()
    deliver()
    smtp.reset()
    clock(25)
    deliver()
    assert smtp.received == []
    clock(34.1)
    deliver()
    assert [m.to for m in reminders(smtp)] == ["ada@example.com"]


def test_the_setting_at_zero_sends_no_reminders(app, smtp, deliver, clock):
    app.config["CONFIRM_REMINDER_HOURS"] = 0
    with app.app_context():
        signing.sign(make_campaign(), pledge("ada@example.com"))
    deliver()
    smtp.reset()
    clock(25)
    deliver()
    assert smtp.received == []


def dashboard_figure(html: str, name: str) -> str:
    figure = re.search(rf'data-figure="{name}">(.*?)</dd>', html, re.S).group(1)
    return " ".join(re.sub(r"<[^>]+>", "", figure).split())


def test_the_dashboard_shows_the_confirmation_rate_and_the_reminders_counted_from_the_rows(app, client, smtp,
                                                                                         deliver):
    """Signed 25 hours ago (the rows moved back): reminded now, and some
    confirm from the reminder."""
    emails = [f"signer{n}@example.com" for n in range(9)]
    with app.app_context():
        campaign = make_campaign()
        other = make_campaign()
        for email in emails:
            signing.sign(campaign, pledge(email))
        signing.sign(other, pledge("elsewhere@example.com"))
        _confirmed(app, campaign, emails[0])                 # before any reminder
        _invalidated(app, campaign, emails[1])               # withdrawn, never reminded
        for row in db.session.execute(select(Signature)).scalars():
            row.created_at -= dt.timedelta(hours=25)
            row.last_emailed_at -= dt.timedelta(hours=25)
        db.session.commit()
        make_organiser(campaigns=[campaign])
        slug = campaign.slug
    deliver()
    links = {m.to: confirm_link(m.text) for m in reminders(smtp)}
    assert sorted(links) == sorted(emails[2:] + ["elsewhere@example.com"])
    for email in emails[2:5]:                                # three confirm from the reminder
        assert confirm(client, links[email]).status_code == 200
    with app.app_context():
        _invalidated(app, db.session.get(Campaign, campaign.id), emails[5])   # reminded, then withdrawn

        rows = db.session.execute(select(Signature).where(Signature.campaign_id == campaign.id)).scalars().all()
        confirmed = sum(s.status == SignatureStatus.CONFIRMED for s in rows)
        pending = sum(s.status == SignatureStatus.PENDING for s in rows)
        reminded = [s for s in rows if s.confirm_reminded_at is not None]
        after = sum(s.confirmed_at is not None and s.confirmed_at > s.confirm_reminded_at for s in reminded)
    assert (confirmed, pending, len(reminded), after) == (4, 3, 7, 3)

    log_in(client)
    html = client.get(f"/organiser/c/{slug}/").get_data(as_text=True)
    assert dashboard_figure(html, "confirmation-rate").startswith(f"{round(100 * confirmed / (confirmed + pending))}%")
    assert dashboard_figure(html, "reminded") == f"{len(reminded)} ({after} confirmed afterwards, " \
                                                 f"{round(100 * after / len(reminded))}%)"


def test_a_campaign_without_signatures_shows_no_rate(app, client):
    with app.app_context():
        campaign = make_campaign()
        make_organiser(campaigns=[campaign])
        slug = campaign.slug
    log_in(client)
    html = client.get(f"/organiser/c/{slug}/").get_data(as_text=True)
    assert dashboard_figure(html, "confirmation-rate").startswith("no signatures yet")
    assert dashboard_figure(html, "reminded") == "0 (0 confirmed afterwards)"
