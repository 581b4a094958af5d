"""A broadcast to N supporters through the outbox worker, against a bare
smtplib loop sending the same pre-rendered messages to the same sink.

    python -m bench.broadcast [--supporters 100000] [--confirmations 20000] [--database-url URL]

Prints one table: fan-out time (creating the delivery rows), then messages
per second for the bare loop (the baseline), one worker and two workers,
each also as a ratio to the baseline; then one worker sending confirmation
emails, which it renders as it sends them (a signing spike's backlog)."""
from __future__ import annotations

import argparse
import os
import smtplib
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from bench.seed import fresh_database, psycopg_dsn  # noqa: E402

SECRET = "bench-secret-key-0123456789abcdef0123456789"
FLASK = str(Path(sys.executable).with_name("flask"))


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_config(url: str, port: int) -> dict:
    return {"SECRET_KEY": SECRET, "SQLALCHEMY_DATABASE_URI": url, "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port,
            "SITE_URL": "https://act.example.org", "TESTING": True}


def seed_supporters(url: str, n: int) -> int:
    from flask_migrate import upgrade

    from campaign import create_app
    from campaign.extensions import db
    from campaign.models import Campaign, CampaignStatus, Kind

    app = create_app(app_config(url, 25))
    with app.app_context():
        upgrade()
        campaign = Campaign(slug="broadcast", kind=Kind.PLEDGE, status=CampaignStatus.LIVE, title="Broadcast campaign",
                            summary="Bench", pledge_text="I pledge.", goal=1000)
        db.session.add(campaign)
        db.session.commit()
        campaign_id = campaign.id
        db.engine.dispose()
    copy_signers(url, campaign_id, n, "supporter", "confirmed", opt_in=True)
    return campaign_id


def copy_signers(url: str, campaign_id: int, n: int, prefix: str, status: str, opt_in: bool) -> None:
    """COPY ``n`` signatures (``<prefix><i>@example.org``) into the campaign."""
    columns = ("campaign_id, given_name, family_name, email, email_normalised, email_domain, country, "
               "email_opt_in, show_name, status, created_at, confirmed_at, emails_sent")
    confirmed_at = "2026-01-01" if status == "confirmed" else None
    with psycopg.connect(psycopg_dsn(url)) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY signature ({columns}) FROM STDIN") as copy:
            for i in range(n):
                email = f"{prefix}{i}@example.org"
                copy.write_row((campaign_id, f"{prefix.title()}{i}", "Bench", email, email, "example.org", "GB",
                                opt_in, False, status, "2026-01-01", confirmed_at, 1))
        conn.commit()
        cur.execute("ANALYZE signature")


def fan_out(url: str, port: int, campaign_id: int) -> tuple[int, float]:
    from campaign import broadcasts, create_app
    from campaign.extensions import db
    from campaign.models import Campaign

    app = create_app(app_config(url, port))
    with app.app_context():
        row = broadcasts.create_update(db.session.get(Campaign, campaign_id), None, "News from the campaign",
                                       "We reached a milestone. **Thank you** for being part of it.\n\n"
                                       "Here is what happens next, and how you can help.")
        broadcasts.schedule(row)
        began = time.perf_counter()
        while broadcasts.fan_out_batch():
            pass
        seconds = time.perf_counter() - began
        update_id = row.id
        db.engine.dispose()
    return update_id, seconds


def prerender(url: str, port: int, update_id: int) -> list[tuple[str, bytes]]:
    """The messages the worker sends, built the same way, ahead of time."""
    from flask_mail import Message

    from campaign import create_app, tokens
    from campaign.extensions import db
    from campaign.models import CampaignUpdate, OutboxMessage, Signature
    from campaign.update_mail import list_unsubscribe_headers, render_update

    app = create_app(app_config(url, port))
    out = []
    with app.app_context(), app.test_request_context():
        row = db.session.get(CampaignUpdate, update_id)
        unsubscribe_link = tokens.links_for(tokens.UNSUBSCRIBE)
        pairs = db.session.execute(
            db.select(OutboxMessage.recipient, Signature.id, Signature.given_name)
            .join(Signature, Signature.id == OutboxMessage.signature_id)
            .where(OutboxMessage.update_id == update_id).order_by(OutboxMessage.id)).all()
        for recipient, signature_id, given_name in pairs:
            link = unsubscribe_link(signature_id)
            rendered = render_update(row, given_name, link)
            message = Message(subject=rendered.subject, recipients=[recipient], body=rendered.text,
                              html=rendered.html, extra_headers=list_unsubscribe_headers(link),
                              sender=app.config["MAIL_DEFAULT_SENDER"])
            out.append((recipient, message.as_bytes()))
        db.engine.dispose()
    return out


def bare_loop(port: int, messages: list[tuple[str, bytes]]) -> float:
    began = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        for recipient, raw in messages:
            smtp.sendmail("noreply@act.example.org", [recipient], raw)
    return time.perf_counter() - began


def reset_deliveries(url: str, update_id: int) -> None:
    with psycopg.connect(psycopg_dsn(url)) as conn:
        conn.execute("UPDATE outbox_message SET status = 'queued', attempts = 0, sent_at = NULL, "
                     "message_id = NULL, lease_until = NULL, claimed_by = NULL, due_at = now() - interval '1 hour' "
                     "WHERE update_id = %s", (update_id,))
        conn.commit()


def run_workers(url: str, port: int, count: int, batch: int) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_")}
    env.update({"FLASK_APP": "app", "FLASK_SECRET_KEY": SECRET, "FLASK_SQLALCHEMY_DATABASE_URI": url,
                "FLASK_MAIL_SERVER": "127.0.0.1", "FLASK_MAIL_PORT": str(port),
                "FLASK_SITE_URL": "https://act.example.org", "FLASK_OUTBOX_BATCH_SIZE": str(batch)})
    began = time.perf_counter()
    workers = [subprocess.Popen([FLASK, "outbox", "work", "--once"], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(count)]
    for worker in workers:
        _, err = worker.communicate()
        if worker.returncode:
            raise SystemExit(err.decode())
    return time.perf_counter() - began


def queue_confirmations(url: str, campaign_id: int, n: int) -> None:
    """``n`` pending signatures, each with its confirmation email queued as
    signing queues it: a row naming the signature, nothing rendered."""
    copy_signers(url, campaign_id, n, "signer", "pending", opt_in=False)
    with psycopg.connect(psycopg_dsn(url)) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO outbox_message (kind, recipient, subject, body_text, signature_id, status, "
                    "created_at, due_at, attempts) SELECT 'confirmation', email, '', '', id, 'queued', now(), "
                    "now() - interval '1 hour', 0 FROM signature WHERE campaign_id = %s AND status = 'pending'",
                    (campaign_id,))
        conn.commit()


def sent_confirmations(url: str) -> int:
    with psycopg.connect(psycopg_dsn(url)) as conn:
        return conn.execute("SELECT count(*) FROM outbox_message WHERE kind = 'confirmation' AND status = 'sent'"
                            ).fetchone()[0]


def sent_count(url: str, update_id: int) -> int:
    with psycopg.connect(psycopg_dsn(url)) as conn:
        return conn.execute("SELECT count(*) FROM outbox_message WHERE update_id = %s AND status = 'sent'",
                            (update_id,)).fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--supporters", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=200, help="OUTBOX_BATCH_SIZE for the workers")
    parser.add_argument("--confirmations", type=int, default=20_000)
    parser.add_argument("--database-url", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    n = args.supporters

    port = free_port()
    sink = subprocess.Popen([sys.executable, "-m", "bench.smtp_sink", "--port", str(port)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    assert sink.stdout.readline().strip() == "ready"
    try:
        url = fresh_database(args.database_url, "campaign_bench_broadcast")
        campaign_id = seed_supporters(url, n)
        update_id, fanout_seconds = fan_out(url, port, campaign_id)
        messages = prerender(url, port, update_id)
        assert len(messages) == n

        bare = bare_loop(port, messages)
        rows = [("bare smtplib loop, pre-rendered (baseline)", n, bare)]
        for count in (1, 2):
            reset_deliveries(url, update_id)
            seconds = run_workers(url, port, count, args.batch)
            assert sent_count(url, update_id) == n, "every message sent"
            rows.append((f"outbox worker x{count} (batch {args.batch})", n, seconds))
        if args.confirmations:
            queue_confirmations(url, campaign_id, args.confirmations)
            seconds = run_workers(url, port, 1, args.batch)
            assert sent_confirmations(url) == args.confirmations, "every confirmation sent"
            rows.append(("worker x1, confirmations rendered when sent", args.confirmations, seconds))
    finally:
        sink.terminate()
        sink.wait()

    base_rate = n / bare
    print(f"\nBroadcast benchmark: {n:,} opted-in supporters, PostgreSQL, local aiosmtpd sink in its own process\n")
    print(f"creating {n:,} delivery rows (fan-out, batches of 2,000): {fanout_seconds:.2f} s (target < 10 s)\n")
    print(f"| {'sender':44} | {'messages':>9} | {'seconds':>8} | {'msg/s':>8} | {'ratio to bare loop':>18} |")
    print(f"|{'-' * 46}|{'-' * 11}|{'-' * 10}|{'-' * 10}|{'-' * 20}|")
    for label, count, seconds in rows:
        rate = count / seconds
        print(f"| {label:44} | {count:9,} | {seconds:8.1f} | {rate:8.0f} | {rate / base_rate:18.2f} |")
    one, two = rows[1][2], rows[2][2]
    print(f"\nsecond worker speed-up: {one / two:.2f}x")


if __name__ == "__main__":
    main()
