"""The API's signature list at scale: every page of a 1,000,000-signature
campaign on PostgreSQL, 100 a page, through the app with an API key.

    python -m bench.api_listing [--signatures 1000000] [--per-page 100] [--database-url URL]

Pages are followed by their _links.next (keyset cursors), first to last,
and each is timed whole (request, query, JSON, body read). Baselines in the
same run: the API's entry point (the same stack with an API key and no
query) and the bare keyset query on psycopg (the database's share). The
process is warmed up and its loaded objects frozen out of the garbage
collector's full passes first, as gunicorn.conf.py does for every worker.
The target: every page under 50 ms, the deepest as fast as the first."""
from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from bench.seed import copy_signatures, fresh_database, psycopg_dsn  # noqa: E402

SECRET = "bench-secret-key-0123456789abcdef0123456789"
TARGET_MS = 50.0


def make_app(url: str):
    from campaign import create_app
    return create_app({"SECRET_KEY": SECRET, "SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False,
                       "TESTING": True, "SITE_URL": "http://bench.test", "REQUEST_LOG_LEVEL": "WARNING"})


def prepare(url: str, n: int) -> tuple[int, str, float]:
    from flask_migrate import upgrade

    from campaign import api_keys, counts, organisers
    from campaign.extensions import db
    from campaign.models import Campaign, CampaignStatus, Kind

    app = make_app(url)
    with app.app_context():
        upgrade()
        campaign = Campaign(slug="big", kind=Kind.PLEDGE, status=CampaignStatus.LIVE, title="Big campaign",
                            summary="At scale", pledge_text="I pledge.", goal=1000)
        db.session.add(campaign)
        db.session.commit()
        organiser = organisers.create_organiser("admin@example.org", "benchmark password", is_admin=True)
        _key, token = api_keys.create_key(organiser, "Bench CRM", [campaign], {"read_signers"})
        db.session.commit()
        seconds = copy_signatures(url, campaign.id, n)
        counts.recount(campaign)
        campaign_id = campaign.id
        db.engine.dispose()
    return campaign_id, token, seconds


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def walk(client, campaign_id: int, token: str, per_page: int) -> tuple[list[float], list[float], int]:
    """Every page, following _links.next; (ms per page, CPU ms of this
    process per page, signatures seen). A page slow in time but not in CPU
    waited for something else: the database, or another process on the machine."""
    url = f"/api/v1/petitions/{campaign_id}/signatures?per_page={per_page}"
    headers = {"OSDI-API-Token": token}
    samples, cpu, seen = [], [], 0
    while url:
        began, began_cpu = time.perf_counter(), time.process_time()
        response = client.get(url, headers=headers)
        response.get_data()
        samples.append((time.perf_counter() - began) * 1000)
        cpu.append((time.process_time() - began_cpu) * 1000)
        body = response.get_json()  # the client's work, not the server's: not timed
        assert response.status_code == 200, (url, response.status_code, body)
        seen += len(body["_embedded"]["osdi:signatures"])
        url = body["_links"].get("next", {}).get("href", "").replace("http://bench.test", "")
    return samples, cpu, seen


def entry_point(client, token: str, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        response = client.get("/api/v1/", headers={"OSDI-API-Token": token})
        response.get_data()
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def bare_keyset(url: str, campaign_id: int, per_page: int) -> tuple[list[float], str]:
    """The keyset query alone on psycopg, every page; (ms per page, the deepest page's plan)."""
    sql = ("SELECT * FROM signature WHERE campaign_id = %s AND confirmed_at IS NOT NULL "
           "AND (modified_at, id) > (%s, %s) ORDER BY modified_at, id LIMIT %s")
    samples, after, deepest, plan = [], (dt.datetime(1970, 1, 1), 0), None, ""
    with psycopg.connect(psycopg_dsn(url)) as conn, conn.cursor() as cur:
        while True:
            began = time.perf_counter()
            cur.execute(sql, (campaign_id, *after, per_page))
            rows = cur.fetchall()
            samples.append((time.perf_counter() - began) * 1000)
            if len(rows) < per_page:
                break
            last = rows[-1]
            deepest, after = after, (last[[d.name for d in cur.description].index("modified_at")], last[0])
        # The last full page's: a hundred rows at the far end of the index.
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, (campaign_id, *(deepest or after), per_page))
        plan = "\n".join(row[0] for row in cur.fetchall())
    return samples, plan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signatures", type=int, default=1_000_000)
    parser.add_argument("--per-page", type=int, default=100)
    parser.add_argument("--database-url", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()

    url = fresh_database(args.database_url, "campaign_bench_api")
    campaign_id, token, seed_seconds = prepare(url, args.signatures)
    app = make_app(url)
    client = app.test_client()
    # Warm up: the statements are compiled (and cached) on a process's first request.
    entry_point(client, token, 20)
    client.get(f"/api/v1/petitions/{campaign_id}/signatures?per_page={args.per_page}",
               headers={"OSDI-API-Token": token}).get_data()
    # As a production worker runs (gunicorn.conf.py's when_ready): what the
    # app loaded is kept out of the collector's full passes.
    gc.freeze()

    base = entry_point(client, token, 200)
    pages, cpu, seen = walk(client, campaign_id, token, args.per_page)
    bare, plan = bare_keyset(url, campaign_id, args.per_page)
    assert seen == args.signatures, (seen, args.signatures)

    baseline = statistics.median(base)
    tenth = max(1, len(pages) // 10)
    rows = [
        ("API entry point (baseline)", statistics.median(base), percentile(base, 99), max(base)),
        (f"signature pages, all {len(pages):,}", statistics.median(pages), percentile(pages, 99), max(pages)),
        ("  first 10% of pages", statistics.median(pages[:tenth]), percentile(pages[:tenth], 99),
         max(pages[:tenth])),
        ("  deepest 10% of pages", statistics.median(pages[-tenth:]), percentile(pages[-tenth:], 99),
         max(pages[-tenth:])),
        ("  first page", pages[0], pages[0], pages[0]),
        ("  deepest (last full) page", pages[-2], pages[-2], pages[-2]),
        ("bare keyset SQL (psycopg), all pages", statistics.median(bare), percentile(bare, 99), max(bare)),
    ]
    over = [n for n, ms in enumerate(pages) if ms >= TARGET_MS]
    busy = [n for n in over if cpu[n] >= TARGET_MS]
    print(f"\nAPI listing benchmark: {args.signatures:,} signatures in one campaign on PostgreSQL (seeded by COPY "
          f"in {seed_seconds:.1f} s), {args.per_page} a page, {len(pages):,} pages followed by _links.next\n")
    print(f"| {'measure':40} | {'median ms':>9} | {'p99 ms':>7} | {'max ms':>7} | {'median / baseline':>17} |")
    print(f"|{'-' * 42}|{'-' * 11}|{'-' * 9}|{'-' * 9}|{'-' * 19}|")
    for label, median, p99, top in rows:
        print(f"| {label:40} | {median:9.2f} | {p99:7.2f} | {top:7.2f} | {median / baseline:17.2f} |")
    print(f"\nPages at or over {TARGET_MS:.0f} ms: {len(over)} of {len(pages):,} (target: none); of them, "
          f"{len(busy)} took {TARGET_MS:.0f} ms of this process's CPU (median CPU per page "
          f"{statistics.median(cpu):.2f} ms, max {max(cpu):.2f} ms).")
    print("\nThe deepest full page's plan:\n" + plan)


if __name__ == "__main__":
    main()
