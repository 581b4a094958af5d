"""Retention at scale: the sweep anonymising a closed campaign of N
signatures on PostgreSQL, while people sign another campaign.

    python -m bench.retention [--signatures 1000000] [--rate 200] [--duration 20] [--database-url URL] [--keep]

Creates a throwaway database `campaign_bench_retention` on the server of
BENCH_DATABASE_URL (default: the local `postgresql://postgres@127.0.0.1/test`
server) and drops it at the end (unless --keep). Seeds, by COPY, a campaign
closed 200 days ago with N confirmed signatures over 30 days and 30
countries, N sent confirmation emails (already emptied by earlier sweeps,
as they are 30 days after sending) and N/50 unconfirmed signatures from
then; and a live campaign of 1,000 signatures beside it.

Prints a table. The sweep's time is compared with one bare UPDATE of the
same columns of the same rows, rolled back (the fastest PostgreSQL rewrites
them); the sign POST's latency during the sweep with the same load just
before it, without the sweep. The site runs under gunicorn as in
bench.load; wrk signs the live campaign with new addresses at about
--rate requests a second (paced, 2 threads, 32 connections) for --duration
seconds, the sweep starting with the second run. Also checks that every
export of the closed campaign's counts is byte for byte the same after."""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from sqlalchemy import make_url, text  # noqa: E402

from bench.load import CONNECTIONS, THREADS, form_token, settle, site_server, wrk  # noqa: E402
from bench.seed import copy_signatures, fresh_database, psycopg_dsn  # noqa: E402

SECRET = "bench-secret-key-0123456789abcdef0123456789"
NAME = "campaign_bench_retention"


def make_app(url: str):
    from campaign import create_app
    return create_app({"SECRET_KEY": SECRET, "SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False,
                       "TESTING": True})


def prepare(url: str, n: int) -> dict:
    """The two campaigns, their signatures, emails and counts; seconds taken."""
    from flask_migrate import upgrade

    from campaign import counts
    from campaign.extensions import db
    from campaign.models import Campaign, CampaignStatus, Kind

    began = time.perf_counter()
    app = make_app(url)
    with app.app_context():
        upgrade()
        closed = Campaign(slug="closed", kind=Kind.PLEDGE, status=CampaignStatus.CLOSED, title="Closed long ago",
                          summary="At scale", pledge_text="I pledge.", goal=1000,
                          closed_at=dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(days=200))
        other = Campaign(slug="other", kind=Kind.PLEDGE, status=CampaignStatus.LIVE, title="Signing now",
                         summary="Load", pledge_text="I pledge to log off.", goal=1000)
        db.session.add_all([closed, other])
        db.session.commit()
        ids = {"closed": closed.id, "other": other.id}
        db.engine.dispose()
    copy_signatures(url, ids["closed"], n)
    copy_signatures(url, ids["other"], 1_000, seed=2)
    with psycopg.connect(psycopg_dsn(url)) as conn:
        conn.execute(
            "INSERT INTO outbox_message (kind, recipient, subject, body_text, signature_id, status, created_at, "
            "due_at, attempts, sent_at) SELECT 'confirmation', '', '', '', id, 'sent', created_at, created_at, 1, "
            "created_at FROM signature WHERE campaign_id = %s", (ids["closed"],))
        with conn.cursor().copy(
                "COPY signature (campaign_id, given_name, family_name, email, email_normalised, email_domain, "
                "country, email_opt_in, show_name, status, created_at, last_emailed_at, emails_sent) "
                "FROM STDIN") as copy:
            signed = dt.datetime(2026, 1, 15)
            for i in range(n // 50):
                email = f"unconfirmed{i}@example.net"
                copy.write_row((ids["closed"], "Never", "Confirmed", email, email, "example.net", "FR", False,
                                False, "pending", signed, signed, 1))
        conn.commit()
    with app.app_context():
        for campaign_id in ids.values():
            counts.recount(db.session.get(Campaign, campaign_id))
        db.engine.dispose()
    settle(url)
    return {"ids": ids, "seconds": time.perf_counter() - began}


def bare_update(url: str, campaign_id: int) -> float:
    """One UPDATE of every column the sweep changes, on every row, rolled
    back: then VACUUM, so the sweep finds the table as before."""
    with psycopg.connect(psycopg_dsn(url)) as conn:
        began = time.perf_counter()
        conn.execute(
            "UPDATE signature SET given_name = '', family_name = '', email = '', email_domain = '', "
            "email_normalised = 'anonymised-' || id, postal_code = NULL, answers = NULL, pledge_date = NULL, "
            "reason = NULL, reason_public = false, reason_status = NULL, reason_reviewed_at = NULL, ip_hash = NULL, "
            "time_zone = NULL, referral_code = NULL, show_name = false, reminder_opt_in = false, "
            "unsubscribed_at = coalesce(unsubscribed_at, now()), created_at = date_trunc('day', created_at), "
            "confirmed_at = date_trunc('day', confirmed_at), checked_in_at = date_trunc('day', checked_in_at), "
            "anonymised_at = now() WHERE campaign_id = %s AND status <> 'pending'", (campaign_id,))
        seconds = time.perf_counter() - began
        conn.rollback()
    settle(url)
    return seconds


def exports_of(url: str, campaign_id: int) -> dict:
    from campaign import exports
    from campaign.extensions import db
    app = make_app(url)
    with app.app_context():
        answers = {(by, fmt): exports.render_counts(campaign_id, by, fmt)
                   for by in exports.BY_CHOICES for fmt in exports.FORMAT_CHOICES}
        db.engine.dispose()
    return answers


def signing(site_url: str, duration: int, rate: float, run: str) -> dict:
    env = {"WRK_FORM_TOKEN": form_token(site_url, "other"), "WRK_ORIGIN": site_url, "WRK_EXPECT": "200",
           "WRK_RUN": run, "WRK_PART": "0", "WRK_PARTS": "1"}
    return wrk(f"{site_url}/c/other/sign", "sign.lua", duration, env, delay_ms=CONNECTIONS * 1000 / rate)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signatures", type=int, default=1_000_000)
    parser.add_argument("--rate", type=float, default=200, help="sign POSTs a second on the other campaign")
    parser.add_argument("--duration", type=int, default=20, help="seconds of each wrk run")
    parser.add_argument("--database-url", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    url = fresh_database(args.database_url, NAME)
    try:
        print(f"seeding {args.signatures:,} signatures...", flush=True)
        setup = prepare(url, args.signatures)
        closed_id = setup["ids"]["closed"]
        bare = bare_update(url, closed_id)
        before = exports_of(url, closed_id)

        from campaign import retention
        from campaign.extensions import db
        site = site_server(url)
        try:
            quiet = signing(site.url, args.duration, args.rate, f"quiet-{time.time_ns()}")
            app = make_app(url)
            outcome = {}

            def sweep():
                with app.app_context():
                    began = time.perf_counter()
                    outcome["report"] = retention.sweep()
                    outcome["seconds"] = time.perf_counter() - began
                    outcome["ended"] = time.perf_counter()
                    db.engine.dispose()

            sweeper = threading.Thread(target=sweep)
            sweeper.start()
            busy = signing(site.url, args.duration, args.rate, f"busy-{time.time_ns()}")
            load_ended = time.perf_counter()
            sweeper.join()
        finally:
            site.stop()
        after = exports_of(url, closed_id)
        with psycopg.connect(psycopg_dsn(url)) as conn:
            left = conn.execute("SELECT count(*) FILTER (WHERE anonymised_at IS NULL), count(*) FROM signature "
                                "WHERE campaign_id = %s", (closed_id,)).fetchone()
    finally:
        if not args.keep:
            from sqlalchemy import create_engine
            base = make_url(args.database_url).set(drivername="postgresql+psycopg")
            admin = create_engine(base, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)'))
            admin.dispose()

    report, seconds = outcome["report"], outcome["seconds"]
    entry = report.campaigns[closed_id]
    print(f"\nRetention benchmark: a campaign closed 200 days ago with {args.signatures:,} confirmed signatures, "
          f"{args.signatures // 50:,} unconfirmed ones and {args.signatures:,} sent emails, PostgreSQL "
          f"(seeded in {setup['seconds']:.0f} s); batches of {app.config['RETENTION_BATCH_SIZE']:,}; "
          f"meanwhile wrk signs another campaign at about {args.rate:.0f}/s under gunicorn "
          f"({THREADS} threads, {CONNECTIONS} connections, {args.duration} s runs)\n")
    rows = [
        ("one UPDATE of the same rows, rolled back (baseline)", f"{bare:.1f} s", "1.00", ""),
        (f"sweep: {entry.anonymised:,} anonymised, {entry.pending_deleted:,} unconfirmed deleted",
         f"{seconds:.1f} s", f"{seconds / bare:.2f}", "< 60 s"),
        (f"longest of its {report.batches} batches (no count locked)", f"{report.longest_batch_seconds:.2f} s",
         "", "< 1 s"),
        ("longest batch changing a count (unconfirmed deleted)", f"{report.longest_count_batch_seconds:.2f} s",
         "", "< 1 s"),
        ("sign POST p99, no sweep (baseline)", f"{quiet['p99_ms']:.1f} ms", "1.00", ""),
        ("sign POST p99 during the sweep", f"{busy['p99_ms']:.1f} ms", f"{busy['p99_ms'] / quiet['p99_ms']:.2f}", ""),
        ("sign POST p50, no sweep (baseline)", f"{quiet['p50_ms']:.1f} ms", "1.00", ""),
        ("sign POST p50 during the sweep", f"{busy['p50_ms']:.1f} ms", f"{busy['p50_ms'] / quiet['p50_ms']:.2f}", ""),
    ]
    print(f"| {'measure':62} | {'value':>10} | {'ratio to baseline':>17} | {'target':>7} |")
    print(f"|{'-' * 64}|{'-' * 12}|{'-' * 19}|{'-' * 9}|")
    for label, value, ratio, target in rows:
        print(f"| {label:62} | {value:>10} | {ratio:>17} | {target:>7} |")
    overlap = "the whole" if outcome["ended"] >= load_ended else f"{outcome['ended'] - (load_ended - args.duration):.0f} s of the"
    print(f"\nsigning: {quiet['requests'] / quiet['seconds']:.0f}/s without, {busy['requests'] / busy['seconds']:.0f}/s "
          f"during ({quiet['socket_errors'] + quiet['bad_status'] + busy['socket_errors'] + busy['bad_status']} "
          f"errors); the sweep ran during {overlap} {args.duration} s run")
    print(f"left to anonymise: {left[0]:,} of {left[1]:,}; exports of counts (by "
          f"{', '.join(sorted({by for by, _ in before}))}; csv and json) byte-identical after: "
          f"{'yes' if before == after else 'NO'}")


if __name__ == "__main__":
    main()
