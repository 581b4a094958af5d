"""Through nginx: the campaign page GET and the sign POST, measured against
gunicorn directly and through nginx with deploy/nginx/campaign.conf in
front of that same gunicorn, in turns in the same run, as bench.load
measures them (wrk, 2 threads, 32 connections: the peak, then latency paced
at half of it; the median of three rounds). nginx runs as Debian's
nginx.conf would run it (a worker per core), with its access log; gunicorn
as in bench.load, plus FLASK_TRUSTED_PROXIES=1 as behind nginx. Rate limits
off.

    python -m bench.nginx [--duration 10] [--repeats 3] [--database-url URL]   (or: make bench)"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from bench.load import (  # noqa: E402
    CONNECTIONS,
    SIGNATURES,
    THREADS,
    Server,
    form_token,
    measure,
    recount,
    rows_counter,
    settle,
    setup_database,
    site_server,
)
from bench.seed import copy_signatures, fresh_database, psycopg_dsn  # noqa: E402
from tests.multi_host import Nginx, main_config, nginx_binary, site_config  # noqa: E402
from tests.throwaway import free_port  # noqa: E402

PAGE, SIGN = "campaign page GET", "sign POST"


def need_wrk_and_nginx() -> None:
    """Stop with what to install if wrk or nginx is missing."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk (make bench does it)")
    if nginx_binary() is None:
        raise SystemExit("nginx is needed: apt-get install nginx (make bench does it)")


def start_nginx(site: Server, port: int, prefix: Path, head: str = "", **options) -> Nginx:
    """nginx on ``port`` with deploy/nginx/campaign.conf in front of
    ``site``, run as Debian's nginx.conf would run it (a worker per core),
    everything it writes under ``prefix``. ``options`` go to
    tests.multi_host.site_config (its cache, lines for the server block);
    ``head`` goes before the server block (a log_format those lines name)."""
    config = site_config(upstreams=[f"127.0.0.1:{site.port}"], listen=f"127.0.0.1:{port}", prefix=prefix, **options)
    return Nginx(main_config(f"{head}\n{config}" if head else config, prefix, worker_processes="auto"), prefix, port)


def interleaved(targets: dict[str, tuple], duration: int, repeats: int, database_url: str) -> dict[str, dict]:
    """bench.load's measure for each of ``targets`` (name: url, script,
    env, stored) in turn, ``repeats`` rounds: a slow spell of the machine
    falls on both sides of the ratio. Each keeps its median round."""
    rounds: dict[str, list[dict]] = {name: [] for name in targets}
    for round_ in range(repeats):
        for name, (target, script, env, stored) in targets.items():
            env = {**env, "WRK_RUN": f"{name}-{round_}-{time.time_ns()}"}
            rounds[name].append(measure(target, script, duration, env, stored, database_url, repeats=1))
    combined = {}
    for name, runs in rounds.items():
        runs.sort(key=lambda result: result["peak"]["rps"])
        middle = runs[len(runs) // 2]
        combined[name] = {"peak": middle["peak"], "paced": middle["paced"],
                          "spread": (runs[0]["peak"]["rps"], runs[-1]["peak"]["rps"]),
                          "runs": [run for result in runs for run in result["runs"]]}
    return combined


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--repeats", type=int, default=3, help="rounds per scenario, direct and through nginx "
                        "in turn (the median round is kept)")
    parser.add_argument("--database-url", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    need_wrk_and_nginx()

    url = fresh_database(args.database_url, "campaign_bench_nginx")
    ids = setup_database(url)
    copy_signatures(url, ids["small"], 1_000)
    recount(url, ids["small"])
    settle(url)

    nginx_port = free_port()
    nginx_url = f"http://127.0.0.1:{nginx_port}"
    # The same gunicorn for both: links and the Origin check name the site
    # by nginx's address; a direct request's Origin is its own host.
    site = site_server(url, FLASK_TRUSTED_PROXIES="1", FLASK_SITE_URL=nginx_url)
    prefix = Path(tempfile.mkdtemp(prefix="bench-nginx-"))
    nginx = None
    results: dict[tuple[str, str], dict] = {}
    try:
        nginx = start_nginx(site, nginx_port, prefix)
        signed = rows_counter(url, SIGNATURES, ids["small"], "pending")
        for scenario in (PAGE, SIGN):
            targets = {}
            for via, base in (("direct", site.url), ("nginx", nginx_url)):
                if scenario == PAGE:
                    targets[via] = (f"{base}/c/small", "get.lua", {}, None)
                else:
                    targets[via] = (f"{base}/c/small/sign", "sign.lua", {
                        "WRK_FORM_TOKEN": form_token(base, "small"), "WRK_ORIGIN": base, "WRK_EXPECT": "200"}, signed)
            print(f"{scenario}...", flush=True)
            for via, result in interleaved(targets, args.duration, args.repeats, url).items():
                results[scenario, via] = result
        with psycopg.connect(psycopg_dsn(url)) as conn:
            connections = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                       "AND pid <> pg_backend_pid()").fetchone()[0]
    finally:
        if nginx:
            nginx.stop()
        site.stop()
        shutil.rmtree(prefix, ignore_errors=True)

    print(f"\nThrough nginx: gunicorn directly and through nginx (deploy/nginx/campaign.conf) in front of the same "
          f"gunicorn, in turns ({THREADS} wrk threads, {CONNECTIONS} connections, {args.duration} s runs, the median of "
          f"{args.repeats} rounds), PostgreSQL, rate limits off\n")
    print(f"| {'scenario':17} | {'direct req/s (runs)':>21} | {'nginx req/s (runs)':>21} | {'nginx / direct':>14} | "
          f"{'direct p50 / p99 ms @50%':>24} | {'nginx p50 / p99 ms @50%':>23} | {'errors':>6} |")
    print(f"|{'-' * 19}|{'-' * 23}|{'-' * 23}|{'-' * 16}|{'-' * 26}|{'-' * 25}|{'-' * 8}|")
    for scenario in (PAGE, SIGN):
        direct, proxied = results[scenario, "direct"], results[scenario, "nginx"]
        errors = sum(run["socket_errors"] + run["bad_status"] for r in (direct, proxied) for run in r["runs"])
        latency = {via: f"{r['paced']['p50_ms']:.1f} / {r['paced']['p99_ms']:.1f}"
                   for via, r in (("direct", direct), ("nginx", proxied))}
        peaks = {via: f"{r['peak']['rps']:.0f} ({r['spread'][0]:.0f}-{r['spread'][1]:.0f})"
                 for via, r in (("direct", direct), ("nginx", proxied))}
        print(f"| {scenario:17} | {peaks['direct']:>21} | {peaks['nginx']:>21} | "
              f"{proxied['peak']['rps'] / direct['peak']['rps']:14.2f} | {latency['direct']:>24} | "
              f"{latency['nginx']:>23} | {errors:6d} |")
    # gunicorn.conf.py's defaults (bench.load's servers set no GUNICORN_ variable).
    workers = multiprocessing.cpu_count() * 2 + 1
    print(f"PostgreSQL connections held by gunicorn at the end: {connections} ({workers} workers x 4 threads)")


if __name__ == "__main__":
    main()
