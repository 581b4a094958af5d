"""Organiser back office at scale: dashboard, counts export and the full
signer list for a campaign of N signatures on PostgreSQL.

    python -m bench.organiser [--signatures 1000000] [--database-url URL]

Prints a table. Each figure is also given as a ratio to a baseline measured
in the same run: page timings against the login page (the same stack doing
almost nothing), the signer export against a bare COPY ... TO STDOUT of the
same rows (the fastest the database can hand them over)."""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from bench.seed import copy_signatures, fresh_database, psycopg_dsn  # noqa: E402

SECRET = "bench-secret-key-0123456789abcdef0123456789"


def make_app(url: str):
    from campaign import create_app
    return create_app({"SECRET_KEY": SECRET, "SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False,
                       "WTF_CSRF_ENABLED": False, "TESTING": True})


def prepare(url: str, n: int) -> dict:
    from flask_migrate import upgrade

    from campaign import counts, organisers
    from campaign.extensions import db
    from campaign.models import Campaign, CampaignStatus, Kind

    app = make_app(url)
    with app.app_context():
        upgrade()
        campaign = Campaign(slug="big", kind=Kind.BOYCOTT, status=CampaignStatus.LIVE, title="Big campaign",
                            summary="At scale", pledge_text="I pledge.", goal=1000)
        db.session.add(campaign)
        db.session.commit()
        organisers.create_organiser("admin@example.org", "benchmark password", is_admin=True)
        seconds = copy_signatures(url, campaign.id, n)
        began = time.perf_counter()
        counts.recount(campaign)
        recount = time.perf_counter() - began
        db.engine.dispose()
    return {"seed_seconds": seconds, "recount_seconds": recount}


def timed(client, path: str, runs: int) -> float:
    """Median seconds for a GET, the body read in full."""
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        response.get_data()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


def export_in_child(url: str) -> tuple[float, float, int]:
    """Stream the signer list in a fresh process; (seconds, peak MB, rows)."""
    code = f"""
import resource, sys, time
sys.path.insert(0, {str(ROOT)!r})
from bench.organiser import make_app
app = make_app({url!r})
client = app.test_client()
with app.app_context():
    pass
client.post('/organiser/login', data={{'email': 'admin@example.org', 'password': 'benchmark password'}})
began = time.perf_counter()
response = client.get('/organiser/c/big/export/signers.csv', buffered=False)
rows = 0
for chunk in response.response:
    rows += chunk.count(b'\\n') if isinstance(chunk, bytes) else chunk.count('\\n')
seconds = time.perf_counter() - began
print(seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, rows)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    seconds, peak, rows = out.stdout.split()
    return float(seconds), float(peak), int(rows)


def bare_copy(url: str) -> float:
    began = time.perf_counter()
    with psycopg.connect(psycopg_dsn(url)) as conn, conn.cursor() as cur:
        with cur.copy("COPY (SELECT given_name, family_name, email, country, postal_code, email_opt_in, "
                      "show_name, created_at, confirmed_at, status FROM signature ORDER BY id) TO STDOUT "
                      "WITH CSV") as copy:
            for _ in copy:
                pass
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signatures", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    url = fresh_database(args.database_url, "campaign_bench_organiser")
    setup = prepare(url, args.signatures)
    app = make_app(url)
    client = app.test_client()
    client.post("/organiser/login", data={"email": "admin@example.org", "password": "benchmark password"})
    timed(client, "/organiser/c/big/", 3)  # warm up

    baseline = timed(client, "/organiser/login", args.runs)
    rows = [("login page (baseline)", baseline, 1.0, "")]
    for label, path, target in [
        ("dashboard", "/organiser/c/big/", 0.200),
        ("counts by day (csv)", "/organiser/c/big/export/counts?by=day&format=csv", 1.0),
        ("counts by country (csv)", "/organiser/c/big/export/counts?by=country&format=csv", 1.0),
        ("counts total (json)", "/organiser/c/big/export/counts?by=total&format=json", 1.0),
    ]:
        seconds = timed(client, path, args.runs)
        rows.append((label, seconds, seconds / baseline, f"< {target * 1000:.0f} ms"))

    copy_seconds = bare_copy(url)
    export_seconds, peak_mb, lines = export_in_child(url)
    rows.append(("bare COPY TO STDOUT (baseline)", copy_seconds, 1.0, ""))
    rows.append((f"signer list csv ({lines - 1:,} rows)", export_seconds, export_seconds / copy_seconds, "< 20000 ms"))

    print(f"\nOrganiser benchmark: {args.signatures:,} confirmed signatures on PostgreSQL "
          f"(seeded by COPY in {setup['seed_seconds']:.1f} s, counts rebuilt in {setup['recount_seconds']:.1f} s)\n")
    print(f"| {'measure':42} | {'median ms':>10} | {'ratio to baseline':>17} | {'target':>10} |")
    print(f"|{'-' * 44}|{'-' * 12}|{'-' * 19}|{'-' * 12}|")
    for label, seconds, ratio, target in rows:
        print(f"| {label:42} | {seconds * 1000:10.1f} | {ratio:17.2f} | {target:>10} |")
    print(f"| {'signer list csv: peak memory of exporter':42} | {peak_mb:8.1f} MB | {'':17} | {'< 150 MB':>10} |")
    print(f"\n(max RSS of the bench process itself: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)")


if __name__ == "__main__":
    main()
