"""Broadcasts survive failures: the mail server away, refusals, a worker
killed mid-send, and several workers sharing one queue."""
import collections
import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, update

from campaign import broadcasts
from campaign.extensions import db
from campaign.models import OutboxMessage, OutboxStatus, Signature, SignatureStatus

from .builders import fan_out_all, make_campaign
from .conftest import SECRET

ROOT = Path(__file__).resolve().parent.parent


def add_supporters(campaign, n):
    """``n`` confirmed, opted-in supporters, inserted in bulk."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    db.session.execute(insert(Signature), [{
        "campaign_id": campaign.id, "given_name": f"S{i}", "family_name": "Supporter",
        "email": f"s{i}@example.com", "email_normalised": f"s{i}@example.com", "email_domain": "example.com",
        "country": "GB", "email_opt_in": True, "show_name": False, "status": SignatureStatus.CONFIRMED,
        "created_at": now, "confirmed_at": now, "emails_sent": 1} for i in range(n)])
    db.session.commit()


def broadcast(app, n, subject="Big news"):
    with app.app_context():
        campaign = make_campaign()
        add_supporters(campaign, n)
        row = broadcasts.create_update(campaign, None, subject, "Body")
        broadcasts.schedule(row)
        fan_out_all()


def make_due(app):
    with app.app_context():
        db.session.execute(update(OutboxMessage).where(OutboxMessage.status == OutboxStatus.QUEUED)
                           .values(due_at=dt.datetime(2000, 1, 1)))
        db.session.commit()


def statuses(app):
    with app.app_context():
        return dict(db.session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())


def test_a_broadcast_waits_out_a_mail_server_outage_and_loses_no_one(app, smtp, deliver):
    broadcast(app, 300)
    smtp.stop()
    deliver()
    assert statuses(app) == {OutboxStatus.QUEUED: 300}
    smtp.start()
    make_due(app)
    deliver()
    counts = collections.Counter(m.to for m in smtp.received)
    assert len(counts) == 300 and set(counts.values()) == {1}
    assert statuses(app) == {OutboxStatus.SENT: 300}


def test_greylisted_recipients_arrive_later_and_a_rejected_one_is_recorded(app, smtp, deliver):
    broadcast(app, 40)
    for i in (3, 17, 29):
        smtp.rcpt_replies[f"s{i}@example.com"] = "451 4.7.1 Greylisted, please try again"
    smtp.rcpt_replies["s8@example.com"] = "550 5.1.1 Mailbox unavailable"
    deliver()
    assert len(smtp.received) == 36
    smtp.rcpt_replies.clear()
    make_due(app)
    deliver()
    counts = collections.Counter(m.to for m in smtp.received)
    assert len(counts) == 39 and set(counts.values()) == {1}
    assert "s8@example.com" not in counts
    with app.app_context():
        failed = db.session.execute(select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.FAILED)).scalar_one()
        assert failed.recipient == "s8@example.com"
        assert failed.last_error.startswith("550") and "Mailbox unavailable" in failed.last_error
        assert failed.attempts == 1


def test_a_connection_dropped_mid_batch_is_reopened_and_the_batch_goes_on(app, smtp, deliver):
    broadcast(app, 30)
    smtp.handler.drop_at = 10
    result = deliver()
    counts = collections.Counter(m.to for m in smtp.received)
    assert len(counts) == 30 and set(counts.values()) == {1}, "everyone, once, without waiting for a retry"
    assert result.retried == 0 and statuses(app) == {OutboxStatus.SENT: 30}


def worker_process(database_url, smtp, *args, **config):
    """`flask outbox work` in its own process, configured like production."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_")}
    env.update({
        "FLASK_APP": "app", "FLASK_SECRET_KEY": SECRET, "FLASK_SQLALCHEMY_DATABASE_URI": database_url,
        "FLASK_MAIL_SERVER": smtp.host, "FLASK_MAIL_PORT": str(smtp.port), "FLASK_SITE_URL": "http://campaigns.test",
        "FLASK_OUTBOX_POLL_SECONDS": "0.2",
    })
    env.update({f"FLASK_{k}": str(v) for k, v in config.items()})
    flask = Path(sys.executable).with_name("flask")
    return subprocess.Popen([str(flask), "outbox", "work", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_worker_killed_mid_broadcast_is_taken_over_and_nobody_is_skipped(app, smtp, database_url):
    broadcast(app, 200)
    batch = 20
    first = worker_process(database_url, smtp, OUTBOX_BATCH_SIZE=batch, OUTBOX_RATE_PER_SECOND=200,
                           OUTBOX_LEASE_SECONDS=2)
    deadline = time.monotonic() + 30
    while len(smtp.received) < 50 and time.monotonic() < deadline:
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    sent_before = len(smtp.received)
    assert 50 <= sent_before < 200, "the worker was killed in the middle of the broadcast"

    time.sleep(2.2)  # the dead worker's lease runs out
    second = worker_process(database_url, smtp, "--once", OUTBOX_BATCH_SIZE=batch, OUTBOX_LEASE_SECONDS=2)
    assert second.wait(timeout=60) == 0, second.stderr.read()

    counts = collections.Counter(m.to for m in smtp.received)
    assert len(counts) == 200, "nobody is skipped"
    duplicates = sum(n - 1 for n in counts.values())
    assert duplicates <= batch, "any duplicate is limited to the batch in flight"
    assert statuses(app) == {OutboxStatus.SENT: 200}


def test_two_workers_draining_one_queue_send_each_message_once(app, smtp, database_url, backend):
    if backend != "postgresql":
        pytest.skip("concurrent workers claim with FOR UPDATE SKIP LOCKED on PostgreSQL")
    broadcast(app, 400)
    workers = [worker_process(database_url, smtp, "--once", OUTBOX_BATCH_SIZE=25) for _ in range(2)]
    for process in workers:
        assert process.wait(timeout=120) == 0, process.stderr.read()
    counts = collections.Counter(m.to for m in smtp.received)
    assert len(counts) == 400 and set(counts.values()) == {1}
    reported = [int(re.search(r"sent (\d+)", p.stdout.read()).group(1)) for p in workers]
    assert sum(reported) == 400, "between them the workers report every message sent once"
