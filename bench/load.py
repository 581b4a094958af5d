"""Launch-day load: the site under gunicorn on PostgreSQL, driven by wrk,
every figure compared with two bare Flask apps under the same gunicorn
settings measured in the same run: "hello" (no database), and one whose POST
commits one new row (an autocommit INSERT ... ON CONFLICT DO NOTHING), the
floor for a POST that must write to PostgreSQL; the sign and confirm rows
are also given as a ratio to that one.

    python -m bench.load [--duration 10] [--database-url URL]   (or: make bench)

For each scenario: the peak rate (requests per second, wrk with 2 threads and
32 connections), then p50/p99 latency with the load paced at about half that
peak. Page and sign are measured again with 1,000 and 1,000,000 signatures
in the campaign. Ends with the peak memory of one gunicorn worker."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from itsdangerous import URLSafeSerializer  # noqa: E402

from bench import hello_insert  # noqa: E402
from bench.seed import copy_signatures, fresh_database, psycopg_dsn  # noqa: E402

SECRET = "bench-secret-key-0123456789abcdef0123456789"
LUA = ROOT / "bench" / "lua"
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
THREADS, CONNECTIONS = 2, 32
PENDING = 100_000  # pending signatures seeded for the confirm and signed-before runs
# A demo campaign, for its page in its own language and in a translation of it.
DEMO = "stop-hate-for-profit"
TARGETS = {  # scenario: (minimum ratio to bare app, minimum requests/s)
    "campaign page GET": (0.6, None),
    "campaign page GET (es)": (0.6, None),
    "campaign page GET, every request rendered": (0.25, None),
    "count.json GET, every request rendered": (0.5, None),
    "sign POST": (0.25, 300),
    "confirm POST": (None, 300),
    "count.json GET": (0.8, None),
    "embed page GET": (0.6, None),
}
HELLO, INSERT = "bare Flask hello (baseline)", "bare Flask INSERT (baseline)"
# Rows that commit to PostgreSQL, also compared with the bare INSERT app.
WRITES = ("sign POST", "confirm POST")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn with the repository's gunicorn.conf.py."""

    def __init__(self, target: str, env: dict):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        full_env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "GUNICORN_"))}
        full_env.update(env)
        full_env.update({"GUNICORN_BIND": f"127.0.0.1:{self.port}", "GUNICORN_ACCESS_LOG": "",
                         "GUNICORN_LOG_LEVEL": "warning"})
        self.process = subprocess.Popen([GUNICORN, "-c", "gunicorn.conf.py", target], cwd=ROOT, env=full_env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/healthz" if "campaign" in target or "app:" in target
                                       else self.url + "/", timeout=1)
                return
            except Exception:
                time.sleep(0.2)
        raise SystemExit(f"{target} did not start")

    def worker_peak_mb(self) -> float:
        children = subprocess.run(["ps", "--ppid", str(self.process.pid), "-o", "pid="],
                                  capture_output=True, text=True).stdout.split()
        peaks = []
        for pid in children:
            status = Path(f"/proc/{pid}/status").read_text()
            peaks.append(int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024)
        return max(peaks)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)


def wrk(url: str, script: str, duration: int, env: dict | None = None, delay_ms: float = 0) -> dict:
    run_env = dict(os.environ, WRK_LUA_DIR=str(LUA), WRK_DELAY_MS=f"{delay_ms:.3f}", WRK_THREADS=str(THREADS))
    run_env.update(env or {})
    out = subprocess.run(["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{duration}s", "--timeout", "5s",
                          "-s", str(LUA / script), url], capture_output=True, text=True, env=run_env, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["rps"] = result["requests"] / result["seconds"]
    return result


def measure(url: str, script: str, duration: int, env: dict | None = None, stored=None,
            database_url: str | None = None, repeats: int = 3) -> dict:
    """The peak rate, the median of ``repeats`` runs, then latency with each
    connection paced to about half of it. Each run is a part of its own
    (WRK_PART, of WRK_PARTS): its own new addresses, its own share of the
    pending signatures. ``stored``, if given, counts the rows the requests
    should each add: a run whose requests did not all store one (say,
    addresses that had signed before) measured something else, and stops
    the benchmark. With ``database_url``, the database is settled first."""
    if database_url:
        settle(database_url)

    def run(part: int, delay_ms: float = 0) -> dict:
        before = stored() if stored else 0
        result = wrk(url, script, duration, {**(env or {}), "WRK_PART": str(part), "WRK_PARTS": str(repeats + 1)},
                     delay_ms=delay_ms)
        if stored and stored() - before < result["requests"]:
            raise SystemExit(f"{url}: {result['requests']} requests answered but only {stored() - before} "
                             "new rows stored")
        return result

    peaks = sorted((run(part) for part in range(repeats)), key=lambda result: result["rps"])
    peak = peaks[len(peaks) // 2]
    # Each connection waits ``delay`` on average between a response and its
    # next request: at most half the peak rate whatever the latency (the
    # rate actually reached is reported).
    paced = run(repeats, delay_ms=CONNECTIONS * 1000 / (peak["rps"] * 0.5))
    return {"peak": peak, "runs": [*peaks, paced], "spread": (peaks[0]["rps"], peaks[-1]["rps"]), "paced": paced}


def rows_counter(url: str, query: str, *params):
    """Counts rows with ``query`` (a SELECT count(*)) each time it is called."""
    def count() -> int:
        with psycopg.connect(psycopg_dsn(url)) as conn:
            return conn.execute(query, params).fetchone()[0]
    return count


SIGNATURES = "SELECT count(*) FROM signature WHERE campaign_id = %s AND status = %s"
CONFIRMATIONS_QUEUED = ("SELECT count(*) FROM outbox_message JOIN signature ON signature.id = signature_id "
                        "WHERE campaign_id = %s AND kind = 'confirmation'")


def pending_tokens(url: str, campaign_id: int, n: int, path: Path) -> None:
    """``n`` pending signatures and their confirmation links, one per line."""
    # Signed just now: a confirmation link expires CONFIRM_LINK_DAYS after it was sent.
    signed_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with psycopg.connect(psycopg_dsn(url)) as conn, conn.cursor() as cur:
        with cur.copy("COPY signature (campaign_id, given_name, family_name, email, email_normalised, email_domain, "
                      "country, email_opt_in, show_name, status, created_at, emails_sent) FROM STDIN") as copy:
            for i in range(n):
                email = f"pending{i}@example.net"
                copy.write_row((campaign_id, "Pending", "Person", email, email, "example.net", "FR", False, False,
                                "pending", signed_at, 1))
        conn.commit()
        ids = [row[0] for row in cur.execute(
            "SELECT id FROM signature WHERE campaign_id = %s AND status = 'pending' ORDER BY id", (campaign_id,))]
        cur.execute("INSERT INTO signature_tally (campaign_id, status, email_opt_in, shard, signatures) "
                    "VALUES (%s, 'pending', false, 99, %s) ON CONFLICT DO NOTHING", (campaign_id, n))
        conn.commit()
    serializer = URLSafeSerializer(SECRET, salt="confirm-signature")
    path.write_text("".join(f"/confirm/{serializer.dumps(i)}\n" for i in ids))


def setup_database(url: str) -> dict:
    from flask_migrate import upgrade

    from campaign import create_app, demo
    from campaign.extensions import db
    from campaign.models import Campaign, CampaignStatus, Kind

    app = create_app({"SECRET_KEY": SECRET, "SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    with app.app_context():
        upgrade()
        demo.seed_demo_campaigns()  # with their Spanish, French and Arabic translations
        ids = {}
        for slug, kind in (("small", Kind.PLEDGE), ("large", Kind.PLEDGE)):
            campaign = Campaign(slug=slug, kind=kind, status=CampaignStatus.LIVE, title=f"The {slug} campaign",
                                summary="Load test", pledge_text="I pledge to log off.", goal=1000,
                                story="## Why\n\nBecause **enough** is enough.", demands="One\nTwo\nThree",
                                embed_origins="https://partner.example\nhttps://news.example")
            db.session.add(campaign)
            db.session.commit()
            ids[slug] = campaign.id
        db.engine.dispose()
    return ids


def recount(url: str, campaign_id: int) -> None:
    from campaign import counts, create_app
    from campaign.extensions import db
    from campaign.models import Campaign

    app = create_app({"SECRET_KEY": SECRET, "SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    with app.app_context():
        counts.recount(db.session.get(Campaign, campaign_id))
        db.engine.dispose()


def settle(url: str) -> None:
    """Vacuum, analyse and checkpoint after seeding, so that autovacuum
    working through a million new rows does not land inside a measurement."""
    with psycopg.connect(psycopg_dsn(url), autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
        conn.execute("CHECKPOINT")


def site_server(url: str, **settings: str) -> Server:
    """The site under gunicorn as every scenario runs it: rate limits and
    request logs off."""
    return Server("app:create_app()", {
        "FLASK_SECRET_KEY": SECRET, "FLASK_SQLALCHEMY_DATABASE_URI": url, "FLASK_RATELIMIT_ENABLED": "false",
        "FLASK_REQUEST_LOG_LEVEL": "WARNING", "FLASK_SITE_URL": "http://127.0.0.1", **settings})


def form_token(site: str, slug: str) -> str:
    """The form token of campaign ``slug``'s page (tokens are per campaign)."""
    return token_on(f"{site}/c/{slug}")


def token_on(url: str) -> str:
    html = urllib.request.urlopen(url).read().decode()
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--repeats", type=int, default=3, help="peak runs per scenario (the median is kept)")
    parser.add_argument("--large", type=int, default=1_000_000, help="signatures in the large campaign")
    parser.add_argument("--only", action="append", help="run only scenarios whose name contains this "
                        "(repeatable; the baseline always runs)")
    parser.add_argument("--database-url", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk (make bench does it)")

    url = fresh_database(args.database_url, "campaign_bench_load")
    ids = setup_database(url)
    copy_signatures(url, ids["small"], 1_000)
    print(f"seeding {args.large:,} signatures...", flush=True)
    copy_signatures(url, ids["large"], args.large, seed=2)
    for campaign_id in ids.values():
        recount(url, campaign_id)
    tokens_file = ROOT / "bench" / "out" / "confirm-paths.txt"
    tokens_file.parent.mkdir(exist_ok=True)
    pending_tokens(url, ids["small"], PENDING, tokens_file)
    with psycopg.connect(psycopg_dsn(url), autocommit=True) as conn:
        hello_insert.create_table(conn)
    settle(url)

    hello = Server("bench.hello:create_app()", {})
    bare_insert = Server("bench.hello_insert:create_app()", {"BENCH_INSERT_DATABASE_URL": psycopg_dsn(url)})
    site = site_server(url)
    # Without the one-second shared copy: every request reaches Flask, as
    # for a visitor with a cookie before, or a campaign few people visit.
    rendered = site_server(url, FLASK_PUBLIC_MICROCACHE_SECONDS="0")
    # Nor what each process read of the campaign a moment ago: one read of
    # the database per request (the first visitor of a campaign in a second).
    uncached = site_server(url, FLASK_PUBLIC_MICROCACHE_SECONDS="0", FLASK_PUBLIC_LIVE_SECONDS="0")
    results = {}
    try:
        post_env = {"WRK_FORM_TOKEN": form_token(site.url, "small"), "WRK_ORIGIN": site.url, "WRK_EXPECT": "200"}
        scenarios = {
            HELLO: (hello.url + "/", "get.lua", None, None),
        }
        for size, slug in (("1k", "small"), ("1M", "large")):
            scenarios[f"campaign page GET [{size}]"] = (f"{site.url}/c/{slug}", "get.lua", None, None)
            scenarios[f"sign POST [{size}]"] = (f"{site.url}/c/{slug}/sign", "sign.lua",
                                                {**post_env, "WRK_FORM_TOKEN": form_token(site.url, slug),
                                                 "WRK_RUN": f"{size}-{time.time_ns()}"},
                                                rows_counter(url, SIGNATURES, ids[slug], "pending"))
        scenarios["sign POST, signed before [1k]"] = (
            f"{site.url}/c/small/sign", "sign.lua", {**post_env, "WRK_AGAIN": str(PENDING // (args.repeats + 1))},
            rows_counter(url, CONFIRMATIONS_QUEUED, ids["small"]))
        scenarios["count.json GET [1k]"] = (f"{site.url}/c/small/count.json", "get.lua", None, None)
        # The same demo campaign in its own language and in Spanish: a translation costs nothing per request.
        for server, how in ((site, ""), (rendered, ", every request rendered")):
            scenarios[f"campaign page GET{how} [demo]"] = (f"{server.url}/c/{DEMO}", "get.lua", None, None)
            scenarios[f"campaign page GET (es){how} [demo]"] = (f"{server.url}/es/c/{DEMO}", "get.lua", None, None)
        # A partner's frame: the address embed.js makes (the page does not vary with it).
        scenarios["embed page GET [1k]"] = (f"{site.url}/c/small/embed?partner=https://partner.example",
                                            "get.lua", None, None)
        scenarios["embed page GET, every request rendered [1k]"] = (f"{rendered.url}/c/small/embed", "get.lua",
                                                                    None, None)
        for server, how in ((rendered, "every request rendered"), (uncached, "every request reads the database")):
            scenarios[f"campaign page GET, {how} [1k]"] = (f"{server.url}/c/small", "get.lua", None, None)
            scenarios[f"count.json GET, {how} [1k]"] = (f"{server.url}/c/small/count.json", "get.lua", None, None)
        scenarios["confirm POST [1k]"] = (site.url, "confirm.lua",
                                          {**post_env, "WRK_EXPECT": "200", "WRK_TOKENS_FILE": str(tokens_file),
                                           "WRK_FORM_TOKEN": token_on(site.url + tokens_file.read_text().split()[0])},
                                          rows_counter(url, SIGNATURES, ids["small"], "confirmed"))
        # Last: a hundred thousand INSERTs leave PostgreSQL busy (WAL,
        # autovacuum) for a while after they end, which slowed the next scenario.
        scenarios[INSERT] = (bare_insert.url + "/insert", "insert.lua",
                             {"WRK_RUN": str(time.time_ns()), "WRK_EXPECT": "201"},
                             rows_counter(url, f"SELECT count(*) FROM {hello_insert.TABLE}"))
        for name, (target, script, env, stored) in scenarios.items():
            if name.startswith("bare") or not args.only or any(word in name for word in args.only):
                results[name] = measure(target, script, args.duration, env, stored,
                                        None if name == HELLO else url, args.repeats)
        worker_mb = site.worker_peak_mb()
    finally:
        site.stop()
        rendered.stop()
        uncached.stop()
        bare_insert.stop()
        hello.stop()

    base, insert_base = results[HELLO]["peak"]["rps"], results[INSERT]["peak"]["rps"]
    print(f"\nLoad benchmark: gunicorn ({THREADS} wrk threads, {CONNECTIONS} connections, {args.duration} s runs, "
          f"peak the median of {args.repeats}), PostgreSQL, rate limits off\n")
    print(f"| {'scenario':56} | {'peak req/s':>10} | {'peak runs':>11} | {'ratio to bare':>13} | "
          f"{'ratio to INSERT':>15} | {'paced req/s':>11} | "
          f"{'p50 ms @50%':>11} | {'p99 ms @50%':>11} | {'errors':>6} | {'target':>22} |")
    print(f"|{'-' * 58}|{'-' * 12}|{'-' * 13}|{'-' * 15}|{'-' * 17}|{'-' * 13}|{'-' * 13}|{'-' * 13}|{'-' * 8}|"
          f"{'-' * 24}|")
    for name, r in sorted(results.items(), key=lambda item: (item[0] != HELLO, item[0] != INSERT)):
        peak, paced = r["peak"], r["paced"]
        ratio, floor = TARGETS.get(name.split(" [")[0], (None, None))
        target = " ".join(filter(None, [f">= {ratio}x" if ratio else "", f">= {floor}/s" if floor else "",
                                        "p99 < 100 ms" if name.startswith("sign POST [") else ""]))
        errors = sum(run["socket_errors"] + run["bad_status"] for run in r["runs"])
        spread = f"{r['spread'][0]:.0f}-{r['spread'][1]:.0f}"
        to_insert = f"{peak['rps'] / insert_base:.2f}" if name == INSERT or name.startswith(WRITES) else ""
        print(f"| {name:56} | {peak['rps']:10.0f} | {spread:>11} | {peak['rps'] / base:13.2f} | {to_insert:>15} | "
              f"{paced['rps']:11.0f} | {paced['p50_ms']:11.1f} | "
              f"{paced['p99_ms']:11.1f} | {errors:6d} | {target:>22} |")
    for kind in ("campaign page GET", "sign POST"):
        if f"{kind} [1k]" not in results or f"{kind} [1M]" not in results:
            continue
        small, large = results[f"{kind} [1k]"]["peak"]["rps"], results[f"{kind} [1M]"]["peak"]["rps"]
        print(f"{kind}: 1M signatures / 1k signatures = {large / small:.2f} (target >= 0.9)")
    for how in ("", ", every request rendered"):
        own, spanish = (results.get(f"campaign page GET{language}{how} [demo]") for language in ("", " (es)"))
        if own and spanish:
            print(f"campaign page GET{how}: in Spanish / in its own language = "
                  f"{spanish['peak']['rps'] / own['peak']['rps']:.2f} (target >= 0.9)")
    print(f"peak memory of one gunicorn worker: {worker_mb:.0f} MB")


if __name__ == "__main__":
    main()
