"""Email is durable: written with the signature, delivered by the worker,
retried when the mail server is away, never lost."""
import datetime as dt

from sqlalchemy import func, select, update

from campaign import outbox, update_mail
from campaign.extensions import db
from campaign.mail_merge import render_email
from campaign.models import OutboxMessage, OutboxStatus, Signature

from .builders import make_campaign, sign


def queue_rendered(recipient, template, context):
    """A message rendered when queued (the organiser's test copy is one)."""
    subject, text, html = render_email(template, context)
    outbox.enqueue(update_mail.TEST, recipient, subject=subject, body_text=text, body_html=html)


def rows(app):
    with app.app_context():
        return list(db.session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars())


def make_all_due(app):
    with app.app_context():
        db.session.execute(update(OutboxMessage).where(OutboxMessage.status == OutboxStatus.QUEUED)
                           .values(due_at=dt.datetime(2000, 1, 1)))
        db.session.commit()


def test_signing_succeeds_while_the_mail_server_is_down_and_the_email_goes_later(app, client, smtp, deliver):
    with app.app_context():
        make_campaign(slug="down")
    smtp.stop()
    response = sign(client, "down", email="patient@example.com")
    assert response.status_code == 200
    result = deliver()
    assert result.sent == 0 and result.retried == 1
    [row] = rows(app)
    assert row.status == OutboxStatus.QUEUED and row.attempts == 1
    assert row.last_error.startswith("connection:")
    assert row.due_at > dt.datetime.now(dt.UTC).replace(tzinfo=None), "retried later, with backoff"

    smtp.start()
    assert deliver().sent == 0, "not before it is due"
    make_all_due(app)
    assert deliver().sent == 1
    assert len(smtp.to("patient@example.com")) == 1
    [row] = rows(app)
    assert row.status == OutboxStatus.SENT and row.sent_at and row.message_id


def test_a_temporary_refusal_is_retried_and_a_permanent_one_recorded(app, client, smtp, deliver):
    with app.app_context():
        make_campaign(slug="mixed")
    for name in ("later", "never", "fine"):
        sign(client, "mixed", email=f"{name}@example.com")
    smtp.rcpt_replies["later@example.com"] = "451 4.7.1 Greylisted, try again"
    smtp.rcpt_replies["never@example.com"] = "550 5.1.1 No such user"
    result = deliver()
    assert (result.sent, result.retried, result.failed) == (1, 1, 1)
    by_recipient = {r.recipient: r for r in rows(app)}
    assert by_recipient["never@example.com"].status == OutboxStatus.FAILED
    assert "550" in by_recipient["never@example.com"].last_error
    assert "No such user" in by_recipient["never@example.com"].last_error
    assert by_recipient["later@example.com"].status == OutboxStatus.QUEUED
    assert "451" in by_recipient["later@example.com"].last_error

    smtp.rcpt_replies.clear()
    make_all_due(app)
    assert deliver().sent == 1
    assert len(smtp.to("later@example.com")) == 1
    assert smtp.to("never@example.com") == []
    assert len(smtp.to("fine@example.com")) == 1


def test_backoff_grows_and_gives_up_after_the_last_attempt(app, smtp):
    with app.app_context():
        app.config.update(OUTBOX_MAX_ATTEMPTS=3, OUTBOX_BACKOFF_BASE_SECONDS=60)
        queue_rendered("x@example.com", "already_signed", {"given_name": "X", "campaign": make_campaign(),
                                                           "campaign_url": "http://campaigns.test/"})
        db.session.commit()
        smtp.stop()
        delays = []
        for _ in range(3):
            db.session.execute(update(OutboxMessage).values(due_at=dt.datetime(2000, 1, 1)))
            db.session.commit()
            before = dt.datetime.now(dt.UTC).replace(tzinfo=None)
            outbox.drain()
            row = db.session.execute(select(OutboxMessage)).scalar_one()
            delays.append((row.due_at - before).total_seconds())
        assert row.status == OutboxStatus.FAILED and row.attempts == 3
        assert 30 <= delays[0] <= 61 and 60 <= delays[1] <= 121


def test_a_message_claimed_by_a_dead_worker_is_taken_over_when_its_lease_runs_out(app, client, smtp):
    with app.app_context():
        make_campaign(slug="lease")
    sign(client, "lease", email="lease@example.com")
    with app.app_context():
        [claimed] = outbox.claim_due_messages(10, "worker-that-dies")
        assert claimed.status == OutboxStatus.SENDING
        # Another worker finds nothing while the lease holds...
        assert outbox.claim_due_messages(10, "second-worker") == []
        # ...and takes the row once it runs out.
        db.session.execute(update(OutboxMessage).values(lease_until=dt.datetime(2000, 1, 1)))
        db.session.commit()
        assert outbox.drain("second-worker").sent == 1
    assert len(smtp.to("lease@example.com")) == 1


def test_outbox_commands(app, client, smtp, runner):
    with app.app_context():
        make_campaign(slug="cli")
    sign(client, "cli", email="cli@example.com")
    assert "queued   1" in runner.invoke(args=["outbox", "status"]).output
    assert "sent 1" in runner.invoke(args=["outbox", "work", "--once"]).output
    assert "sent     1" in runner.invoke(args=["outbox", "status"]).output
    assert len(smtp.to("cli@example.com")) == 1


def test_newlines_in_a_subject_never_reach_a_header(app, smtp, deliver):
    with app.app_context():
        campaign = make_campaign(title="Title\r\nBcc: victim@example.com")
        queue_rendered("x@example.com", "already_signed", {"given_name": "X", "campaign": campaign,
                                                           "campaign_url": "http://campaigns.test/"})
        db.session.commit()
    deliver()
    [message] = smtp.received
    assert message.envelope_to == ["x@example.com"]
    assert message.message["Bcc"] is None
    assert "\n" not in message.subject


def test_every_email_is_stored_with_its_signature(app, client):
    with app.app_context():
        make_campaign(slug="linked")
    sign(client, "linked", email="linked@example.com")
    with app.app_context():
        signature = db.session.execute(select(Signature)).scalar_one()
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)
                                 .where(OutboxMessage.signature_id == signature.id)) == 1
