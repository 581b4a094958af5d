"""A freeze's emails, with a clock: the day-before and start reminders reach
each signer who asked for them at the right instant (in their own zone, for
the same local hours everywhere), with the statement; "Did you take part?"
follows the end if the organiser switched it on. Each goes once per
signature, however many workers run, and never to a mailbox that stopped
all email."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from campaign import freeze_mail, outbox, signing, subscriptions
from campaign.extensions import db
from campaign.models import Campaign, Kind, OutboxMessage, OutboxStatus, Signature, WindowMode
from campaign.windows import local_span

from .builders import at_once, make_campaign

STATEMENT = "Going quiet for a day, for safer feeds."


@pytest.fixture
def clock(monkeypatch):
    """Sets the time the freeze emails are due by (naive UTC)."""
    def set_to(moment: dt.datetime) -> None:
        monkeypatch.setattr(freeze_mail, "clock", lambda: moment)
    return set_to


def signer(campaign, email, zone, reminders=True) -> int:
    signing.sign(campaign, signing.Pledge("Ada", "Lovelace", email, "GB", None, False, False,
                                          time_zone=zone, reminder_opt_in=reminders))
    signature_id = db.session.execute(select(Signature.id).where(Signature.email == email)).scalar_one()
    db.session.commit()
    signing.confirm(signature_id, signing.Choices("Ada", "Lovelace", "GB", False, False, reminder_opt_in=reminders))
    return signature_id


def global_freeze(**fields) -> Campaign:
    return make_campaign(kind=Kind.FREEZE, statement=STATEMENT, time_zone="Europe/London",
                         window_start=dt.datetime(2099, 6, 1, 12), window_end=dt.datetime(2099, 6, 2, 12), **fields)


def local_freeze(**fields) -> Campaign:
    start, end = dt.datetime(2099, 6, 1, 9), dt.datetime(2099, 6, 2, 9)
    first, last = local_span(start, end)
    return make_campaign(kind=Kind.FREEZE, statement=STATEMENT, time_zone="Europe/London",
                         window_mode=WindowMode.LOCAL, local_start=start, local_end=end,
                         window_start=first, window_end=last, **fields)


def reminders(smtp, kind_words: str) -> list[str]:
    return sorted(m.to for m in smtp.received if m.subject.startswith(kind_words))


def test_a_global_freeze_reminds_the_day_before_and_at_the_start_only_those_who_asked(app, smtp, deliver, clock):
    with app.app_context():
        campaign = global_freeze()
        signer(campaign, "asked@example.com", "Asia/Tokyo")
        signer(campaign, "did-not-ask@example.com", "Asia/Tokyo", reminders=False)
        signing.sign(campaign, signing.Pledge("Pat", "Pending", "pending@example.com", "GB", None, False, False,
                                              time_zone="Europe/London", reminder_opt_in=True))
    deliver()
    smtp.reset()

    clock(dt.datetime(2099, 5, 31, 11, 59))     # 24 h and a minute before: not yet
    deliver()
    assert smtp.received == []
    clock(dt.datetime(2099, 5, 31, 12, 0))      # 24 h before
    deliver()
    assert reminders(smtp, "Tomorrow:") == ["asked@example.com"]
    [email] = smtp.received
    assert STATEMENT in email.text and STATEMENT in email.html
    # The times in the signer's own zone, as their language writes them.
    assert "Monday, June 1, 2099, 9:00\u202fPM" in email.text
    unsubscribe = re.search(r"http://campaigns\.test(/unsubscribe/[\w.-]+)", email.text).group(1)
    assert email.message["List-Unsubscribe"] == f"<http://campaigns.test{unsubscribe}>"
    assert email.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    clock(dt.datetime(2099, 5, 31, 18, 0))      # the worker runs again: nothing twice
    deliver()
    assert len(smtp.received) == 1
    clock(dt.datetime(2099, 6, 1, 12, 0))       # the start
    deliver()
    assert reminders(smtp, "It starts now:") == ["asked@example.com"]
    assert len(smtp.received) == 2


def test_a_local_hours_freeze_reminds_each_signer_in_their_own_zone(app, smtp, deliver, clock):
    """09:00 local: 00:00 UTC in Tokyo, 13:00 UTC in New York (summer time)."""
    with app.app_context():
        campaign = local_freeze()
        signer(campaign, "tokyo@example.com", "Asia/Tokyo")
        signer(campaign, "new-york@example.com", "America/New_York")
    deliver()
    smtp.reset()
    steps = [
        (dt.datetime(2099, 5, 30, 23, 59), [], []),
        (dt.datetime(2099, 5, 31, 0, 0), ["tokyo@example.com"], []),
        (dt.datetime(2099, 5, 31, 12, 59), ["tokyo@example.com"], []),
        (dt.datetime(2099, 5, 31, 13, 0), ["new-york@example.com", "tokyo@example.com"], []),
        (dt.datetime(2099, 6, 1, 0, 0), ["new-york@example.com", "tokyo@example.com"], ["tokyo@example.com"]),
        (dt.datetime(2099, 6, 1, 13, 0), ["new-york@example.com", "tokyo@example.com"],
         ["new-york@example.com", "tokyo@example.com"]),
    ]
    for now, day_before, at_start in steps:
        clock(now)
        deliver()
        assert reminders(smtp, "Tomorrow:") == day_before, now
        assert reminders(smtp, "It starts now:") == at_start, now
    [new_york] = [m for m in smtp.to("new-york@example.com") if m.subject.startswith("It starts now")]
    assert "Monday, June 1, 2099, 9:00\u202fAM" in new_york.text and "America/New York" in new_york.text


def test_a_reminder_too_late_to_be_true_is_not_sent(app, smtp, deliver, clock):
    """A worker that was down does not send "it starts tomorrow" after the start."""
    with app.app_context():
        campaign = global_freeze()
        signer(campaign, "asked@example.com", "Europe/London")
    deliver()
    smtp.reset()
    clock(dt.datetime(2099, 6, 1, 12, 30))
    deliver()
    assert reminders(smtp, "Tomorrow:") == [] and reminders(smtp, "It starts now:") == ["asked@example.com"]


def test_a_mailbox_that_stopped_all_email_gets_no_reminder(app, smtp, deliver, clock):
    with app.app_context():
        campaign = global_freeze()
        stopped = signer(campaign, "stopped@example.com", "Europe/London")
        other = make_campaign(slug="other")
        signing.sign(other, signing.Pledge("S", "T", "stopped@example.com", "GB", None, False, False))
        subscriptions.stop_all_email(db.session.execute(
            select(Signature).where(Signature.campaign_id == other.id)).scalar_one())
        assert db.session.get(Signature, stopped).unsubscribed_at is not None
    deliver()
    smtp.reset()
    clock(dt.datetime(2099, 6, 1, 12, 0))
    deliver()
    assert smtp.received == []


def test_did_you_take_part_follows_the_end_once_if_the_organiser_switched_it_on(app, smtp, deliver, clock):
    with app.app_context():
        quiet = global_freeze(slug="no-question")
        signer(quiet, "quiet@example.com", "Europe/London")
        asking = global_freeze(slug="asks", check_in_email=True)
        signer(asking, "asked@example.com", "Europe/London")
    deliver()
    smtp.reset()
    clock(dt.datetime(2099, 6, 2, 11, 59))
    deliver()
    assert reminders(smtp, "Did you take part?") == []
    clock(dt.datetime(2099, 6, 2, 12, 0))
    deliver()
    clock(dt.datetime(2099, 6, 3, 12, 0))
    deliver()
    [question] = [m for m in smtp.received if m.subject.startswith("Did you take part?")]
    assert question.to == "asked@example.com"
    link = re.search(r"http://campaigns\.test(/check-in/[\w.-]+)", question.text).group(1)
    # Two buttons in the email that post straight to the signed link.
    assert f'<form method="post" action="http://campaigns.test{link}">' in question.html
    assert 'name="answer" value="yes"' in question.html and 'name="answer" value="no"' in question.html


def test_each_email_goes_once_per_signature_however_many_workers_run(app, smtp, clock):
    with app.app_context():
        campaign = local_freeze(check_in_email=True)
        for n in range(30):
            signer(campaign, f"signer{n}@example.com", ("Asia/Tokyo", "America/New_York", "Europe/Paris")[n % 3])
    clock(dt.datetime(2099, 6, 1, 20, 0))  # on in all three zones: both reminders are due
    at_once(app, freeze_mail.queue_freeze_mail)
    with app.app_context():
        per_signature = db.session.execute(
            select(OutboxMessage.kind, OutboxMessage.signature_id, func.count())
            .where(OutboxMessage.kind.like("freeze_%")).group_by(OutboxMessage.kind, OutboxMessage.signature_id)
        ).all()
        assert {count for _, _, count in per_signature} == {1}
        # The start reminder for all 30; "tomorrow" was already too late for all of them.
        assert sorted({kind for kind, _, _ in per_signature}) == [freeze_mail.START]
        assert len(per_signature) == 30
        outbox.drain()
        assert db.session.scalar(select(func.count()).where(
            OutboxMessage.kind == freeze_mail.START, OutboxMessage.status == OutboxStatus.SENT)) == 30
