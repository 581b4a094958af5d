"""A new kind of message is one registration and its templates: the engine
loads, checks and renders it like the kinds the site ships with."""
from sqlalchemy import select, update

from campaign import outbox
from campaign.extensions import db
from campaign.models import OutboxMessage, OutboxStatus, Signature, SignatureStatus

from .builders import confirmed_signatures, make_campaign
from .greeting_mail import GREETING, enqueue_greeting, templates


def greet(app, *addresses):
    app.register_blueprint(templates)
    with app.app_context():
        campaign = make_campaign(title="Quiet Sunday")
        for signature in confirmed_signatures(campaign, [(address, "GB") for address in addresses]):
            enqueue_greeting(signature)
        db.session.commit()


def test_a_kind_registered_outside_the_engine_is_delivered_by_it(app, smtp, deliver):
    greet(app, "ada@example.com")
    assert deliver().sent >= 1
    [greeting] = [m for m in smtp.to("ada@example.com") if m.subject.startswith("A hello")]
    assert greeting.subject == "A hello from Quiet Sunday"
    assert "Hello Sam," in greeting.text and "<strong>Quiet Sunday</strong>" in greeting.html
    with app.app_context():
        row = db.session.execute(select(OutboxMessage).where(OutboxMessage.kind == GREETING)).scalar_one()
        assert row.status == OutboxStatus.SENT and row.message_id


def test_the_kind_decides_at_send_time_whether_it_is_still_wanted(app, smtp, deliver):
    greet(app, "ada@example.com", "bob@example.com")
    with app.app_context():
        db.session.execute(update(Signature).where(Signature.email == "bob@example.com")
                           .values(status=SignatureStatus.INVALIDATED))
        db.session.commit()
    deliver()
    assert [m.to for m in smtp.received if m.subject.startswith("A hello")] == ["ada@example.com"]
    with app.app_context():
        skipped = db.session.execute(select(OutboxMessage).where(
            OutboxMessage.kind == GREETING, OutboxMessage.status == OutboxStatus.SKIPPED)).scalar_one()
        assert skipped.recipient == "bob@example.com" and skipped.last_error == "signature withdrawn"


def test_status_counts_it_by_kind_and_dead_letters_can_be_retried(app, smtp, runner, deliver):
    greet(app, "ada@example.com")
    smtp.rcpt_replies["ada@example.com"] = "550 5.1.1 No such user"
    deliver()
    output = runner.invoke(args=["outbox", "status"]).output
    assert "greeting" in output and "failed 1" in output
    assert "dead letters" in output and "No such user" in output
    smtp.rcpt_replies.clear()
    assert "1 message(s) queued again" in runner.invoke(args=["outbox", "retry-dead", "--kind", GREETING]).output
    deliver()
    assert len([m for m in smtp.to("ada@example.com") if m.subject.startswith("A hello")]) == 1


def test_a_message_of_a_kind_this_worker_does_not_know_waits_for_one_that_does(app, smtp, deliver):
    with app.app_context():
        outbox.enqueue("from-a-newer-release", "ada@example.com")
        db.session.commit()
    assert deliver().retried == 1
    with app.app_context():
        row = db.session.execute(select(OutboxMessage)).scalar_one()
        assert row.status == OutboxStatus.QUEUED and "from-a-newer-release" in row.last_error
    assert smtp.received == []


def test_a_message_that_cannot_be_rendered_is_retried_later_and_the_batch_goes_on(app, smtp, deliver, monkeypatch):
    greet(app, "ada@example.com", "bob@example.com")
    kind = outbox._kinds[GREETING]

    def render(signatures, delivery):
        if delivery.recipient == "bob@example.com":
            raise KeyError("a template that went wrong")
        return kind.render(signatures, delivery)

    monkeypatch.setitem(outbox._kinds, GREETING, outbox.MessageKind(
        GREETING, load=kind.load, still_wanted=kind.still_wanted, render=render))
    deliver()
    assert [m.to for m in smtp.received if m.subject.startswith("A hello")] == ["ada@example.com"]
    with app.app_context():
        row = db.session.execute(select(OutboxMessage).where(OutboxMessage.recipient == "bob@example.com",
                                                             OutboxMessage.kind == GREETING)).scalar_one()
        assert row.status == OutboxStatus.QUEUED and row.attempts == 1
        assert row.last_error.startswith("render: KeyError")
