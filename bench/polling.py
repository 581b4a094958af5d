"""The live count's polling: what 10,000 open campaign pages, each asking
count.json at the interval static/js/site.js uses, cost the site without
and with a CDN in front, and what count.json costs the app against the bare
Flask app measured in the same run.

    python -m bench.polling [--pages 10000] [--duration 10] [--repeats 3] [--database-url URL]

The site runs under gunicorn as in bench.load (PostgreSQL, rate limits and
request logs off). The CDN's edge is nginx with deploy/nginx/campaign.conf's
optional cache switched on, which follows the app's Cache-Control as a CDN
does (``s-maxage``, ``stale-while-revalidate``); its log says which requests
it passed on to gunicorn.

First the peak rates (wrk, 2 threads, 32 connections, the median of
``--repeats`` runs): the bare app, count.json from gunicorn, count.json
with each process's one-second copy switched off (every request runs
Flask), and count.json from the edge. Then the pages themselves: wrk offers
pages / interval requests a second, from 256 connections each pausing a
random (exponential) time between requests, first to gunicorn directly,
then to the edge, and reports what reached gunicorn."""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load import LUA, THREADS, Server, measure, recount, settle, setup_database, site_server  # noqa: E402
from bench.nginx import need_wrk_and_nginx, start_nginx  # noqa: E402
from bench.seed import copy_signatures, fresh_database  # noqa: E402
from tests.throwaway import free_port  # noqa: E402

SITE_JS = ROOT / "static" / "js" / "site.js"
OFFERED_CONNECTIONS = 256
HELLO = "bare Flask hello (baseline)"
# Each request the edge passed on to gunicorn has an upstream address; one
# it answered from its cache has none ("-"). Background refreshes are
# subrequests, logged too.
EDGE_LOG = "log_format polling '$upstream_cache_status $upstream_addr';"


def poll_interval() -> float:
    """The live count's interval in seconds, as the page's script has it."""
    match = re.search(r"var POLL_MS = (\d+);", SITE_JS.read_text())
    if not match:
        raise SystemExit(f"no POLL_MS in {SITE_JS}")
    return int(match.group(1)) / 1000


def cache_seconds() -> tuple[int, int]:
    """What count.json lets a shared cache keep it (s-maxage) and serve stale
    while it refreshes (stale-while-revalidate): the defaults."""
    from campaign.config import Defaults
    return Defaults.PUBLIC_CACHE_SECONDS, Defaults.PUBLIC_STALE_SECONDS


def offer(url: str, rate: float, duration: int) -> dict:
    """wrk offering about ``rate`` requests a second: each connection waits
    a random time averaging connections / rate between its requests."""
    delay_ms = OFFERED_CONNECTIONS * 1000 / rate
    env = dict(os.environ, WRK_LUA_DIR=str(LUA), WRK_DELAY_MS=f"{delay_ms:.3f}", WRK_THREADS=str(THREADS))
    out = subprocess.run(["wrk", f"-t{THREADS}", f"-c{OFFERED_CONNECTIONS}", f"-d{duration}s", "--timeout", "5s",
                          "-s", str(LUA / "get.lua"), url], capture_output=True, text=True, env=env, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["rps"] = result["requests"] / result["seconds"]
    return result


def passed_on(log: Path, since: int) -> tuple[int, int, int]:
    """(lines, of them passed on to gunicorn, end offset) of the edge's log after ``since``."""
    with log.open("rb") as f:
        f.seek(since)
        lines = f.read().decode().splitlines()
        end = f.tell()
    upstream = sum(1 for line in lines if line.split()[-1] != "-")
    return len(lines), upstream, end


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=10_000, help="open pages polling the count")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--repeats", type=int, default=3, help="peak runs per scenario (the median is kept)")
    parser.add_argument("--database-url", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    need_wrk_and_nginx()

    interval = poll_interval()
    s_maxage, stale = cache_seconds()
    offered_rate = args.pages / interval

    url = fresh_database(args.database_url, "campaign_bench_polling")
    ids = setup_database(url)
    copy_signatures(url, ids["small"], 1_000)
    recount(url, ids["small"])
    settle(url)

    edge_port = free_port()
    edge_url = f"http://127.0.0.1:{edge_port}"
    prefix = Path(tempfile.mkdtemp(prefix="bench-polling-"))
    hello = Server("bench.hello:create_app()", {})
    site = site_server(url, FLASK_TRUSTED_PROXIES="1", FLASK_SITE_URL=edge_url)
    rendered = site_server(url, FLASK_PUBLIC_MICROCACHE_SECONDS="0")
    edge = None
    peaks, pages = {}, {}
    try:
        log = prefix / "logs" / "polling.log"
        edge = start_nginx(site, edge_port, prefix, head=EDGE_LOG, cache=True,
                           server_lines=(f"access_log {log} polling;", "log_subrequest on;"))
        count = "/c/small/count.json"
        for name, target in ((HELLO, hello.url + "/"), ("count.json GET", site.url + count),
                             ("count.json GET, every request rendered", rendered.url + count),
                             ("count.json GET from the CDN edge", edge_url + count)):
            print(f"{name}...", flush=True)
            peaks[name] = measure(target, "get.lua", args.duration, None, None, url, args.repeats)

        for name, target in (("without a CDN (gunicorn directly)", site.url + count),
                             ("through one CDN edge", edge_url + count)):
            print(f"{args.pages:,} pages {name}...", flush=True)
            settle(url)
            start = log.stat().st_size if log.exists() else 0
            result = offer(target, offered_rate, args.duration)
            if target.startswith(edge_url):
                lines, upstream, _ = passed_on(log, start)
                result["reached"] = upstream / result["seconds"]
                result["edge_lines"] = lines
            else:
                result["reached"] = result["rps"]
            pages[name] = result
    finally:
        if edge:
            edge.stop()
        site.stop()
        rendered.stop()
        hello.stop()
        shutil.rmtree(prefix, ignore_errors=True)

    base = peaks[HELLO]["peak"]["rps"]
    print(f"\nPolling benchmark: {args.pages:,} open pages asking count.json every {interval:g} s (static/js/site.js), "
          f"gunicorn (gunicorn.conf.py), PostgreSQL, rate limits off; CDN edge: nginx's cache "
          f"(deploy/nginx/campaign.conf), count.json kept s-maxage={s_maxage}, stale-while-revalidate={stale}\n")
    print(f"| {'scenario':40} | {'peak req/s':>10} | {'peak runs':>11} | {'ratio to bare':>13} | {'errors':>6} |")
    print(f"|{'-' * 42}|{'-' * 12}|{'-' * 13}|{'-' * 15}|{'-' * 8}|")
    for name, r in peaks.items():
        errors = sum(run["socket_errors"] + run["bad_status"] for run in r["runs"])
        spread = f"{r['spread'][0]:.0f}-{r['spread'][1]:.0f}"
        print(f"| {name:40} | {r['peak']['rps']:10.0f} | {spread:>11} | {r['peak']['rps'] / base:13.2f} | "
              f"{errors:6d} |")
    print()
    print(f"| {args.pages:,} pages, {offered_rate:,.0f} req/s offered{'':<6} | {'answered req/s':>14} | "
          f"{'p50 ms':>6} | {'p99 ms':>6} | {'errors':>6} | {'reaching gunicorn req/s':>23} |")
    print(f"|{'-' * 42}|{'-' * 16}|{'-' * 8}|{'-' * 8}|{'-' * 8}|{'-' * 25}|")
    for name, r in pages.items():
        errors = r["socket_errors"] + r["bad_status"]
        print(f"| {name:40} | {r['rps']:14.0f} | {r['p50_ms']:6.1f} | {r['p99_ms']:6.1f} | {errors:6d} | "
              f"{r['reached']:23.2f} |")
    edge_rate = pages["through one CDN edge"]["reached"]
    print(f"\nWithout a CDN every poll reaches gunicorn: {args.pages:,} / {interval:g} s = {offered_rate:,.0f} req/s, "
          f"of which each process's copy answers all but about one a second per process (Flask runs the view "
          f"then), and the database is read at most once a second per process.")
    print(f"Through a CDN, each edge passes on about one request per s-maxage ({1 / s_maxage:.2f}/s computed, "
          f"{edge_rate:.2f}/s measured), whatever the number of pages: 10 edges {10 * edge_rate:.1f} req/s, "
          f"100 edges {100 * edge_rate:.0f} req/s at the site.")


if __name__ == "__main__":
    main()
