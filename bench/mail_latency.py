"""Mail latency during a signing spike: the site under gunicorn signs at half
the sign peak while `flask outbox work` sends the confirmation emails to an
SMTP sink; how long from the sign POST to the email's arrival?

    python -m bench.mail_latency [--duration 120] [--grace 120] [--workers 1,2] [--rate N] [--database-url URL]
    (make bench runs it after bench.load)

The site runs as in bench.load (the repository's gunicorn.conf.py,
PostgreSQL, rate limits off, a campaign of 1,000 signatures). Unless --rate
is given, the sign peak is measured first (wrk, 2 threads, 32 connections,
the median of --peak-runs runs) and the emails those runs queued are
discarded. Then, for each worker count (one, then two; each run with
addresses of its own and an empty queue), the workers start, wrk signs for
--duration seconds with each connection paced by random (exponential) gaps
averaging half the peak rate, and the benchmark waits up to --grace seconds
for the queue (outbox messages queued or sending) to empty.

The sink (aiosmtpd, a process of its own) records the wall-clock time each
message arrives and its recipient; each signature's time is its created_at
(UTC, set when the sign POST is handled). A signature whose email has not
arrived by the end of the grace period counts as slower than every one that
has; a percentile that falls on one is shown as ">" a lower bound (the same
percentile of the waits with each missing one's wait so far). Target: p99
< 30 s with two workers."""
from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from bench.load import (  # noqa: E402
    CONNECTIONS,
    SECRET,
    THREADS,
    form_token,
    free_port,
    recount,
    settle,
    setup_database,
    site_server,
    wrk,
)
from bench.seed import copy_signatures, fresh_database, psycopg_dsn  # noqa: E402

FLASK = str(Path(sys.executable).with_name("flask"))
OUT = ROOT / "bench" / "out"
QUEUED = "status IN ('queued', 'sending')"
TARGET_P99_S = {2: 30.0}  # workers: p99 target in seconds


def queue_length(url: str) -> int:
    with psycopg.connect(psycopg_dsn(url)) as conn:
        return conn.execute(f"SELECT count(*) FROM outbox_message WHERE {QUEUED}").fetchone()[0]


def clear_queue(url: str) -> int:
    """Discard unsent emails (those of the peak runs, or a run's leftovers),
    so that each run starts with an empty queue; returns how many."""
    with psycopg.connect(psycopg_dsn(url)) as conn:
        return conn.execute(f"DELETE FROM outbox_message WHERE {QUEUED}").rowcount


def start_workers(url: str, smtp_port: int, count: int, batch: int | None, log: Path) -> list[subprocess.Popen]:
    """``count`` long-running `flask outbox work` processes sending to the sink."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_")}
    env.update({"FLASK_APP": "app", "FLASK_SECRET_KEY": SECRET, "FLASK_SQLALCHEMY_DATABASE_URI": url,
                "FLASK_MAIL_SERVER": "127.0.0.1", "FLASK_MAIL_PORT": str(smtp_port),
                "FLASK_SITE_URL": "https://act.example.org", "PYTHONUNBUFFERED": "1"})
    if batch:
        env["FLASK_OUTBOX_BATCH_SIZE"] = str(batch)
    with log.open("w") as out:
        workers = [subprocess.Popen([FLASK, "outbox", "work"], cwd=ROOT, env=env, stdout=out,
                                    stderr=subprocess.STDOUT) for _ in range(count)]
    # Each says so once it has loaded the app (the first signs should not
    # wait for that); if that line ever changes, carry on after 15 s.
    deadline = time.monotonic() + 15
    while log.read_text().count("Outbox worker running") < count and time.monotonic() < deadline:
        if any(w.poll() is not None for w in workers):
            stop_workers(workers, log)
        time.sleep(0.1)
    return workers


def stop_workers(workers: list[subprocess.Popen], log: Path) -> None:
    died = [w.returncode for w in workers if w.poll() is not None]
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGINT)  # the worker's own way out (Ctrl-C)
    for worker in workers:
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
    if died:
        raise SystemExit(f"an outbox worker exited during the run ({died}); its log:\n{log.read_text()[-3000:]}")


def arrivals(record: Path, prefix: str) -> dict[str, float]:
    """First arrival time at the sink of each recipient starting ``prefix``."""
    first: dict[str, float] = {}
    with record.open() as lines:
        for line in lines:
            arrived, _, recipient = line.rstrip("\n").partition("\t")
            if recipient.startswith(prefix) and recipient not in first:
                first[recipient] = float(arrived)
    return first


def signed(url: str, campaign_id: int, prefix: str) -> dict[str, float]:
    """Each signature of the run: its address and when it was made (wall-clock seconds)."""
    with psycopg.connect(psycopg_dsn(url)) as conn:
        rows = conn.execute("SELECT email, created_at FROM signature WHERE campaign_id = %s AND email LIKE %s",
                            (campaign_id, prefix + "%")).fetchall()
    return {email: created.replace(tzinfo=dt.UTC).timestamp() for email, created in rows}


def percentile(waits: list[float], missing: list[float], q: float) -> str:
    """Nearest-rank percentile of the ``waits`` of arrived emails and of
    those ``missing``, given by their wait so far and ranked after every
    arrived one; if it falls on a missing one, ">" a lower bound."""
    n = len(waits) + len(missing)
    if not n:
        return "-"
    rank = max(0, math.ceil(q / 100 * n) - 1)
    if rank < len(waits):
        return f"{sorted(waits)[rank]:.1f}"
    return f">{sorted(waits + missing)[rank]:.0f}"


def run(url: str, site: str, campaign_id: int, token: str, smtp_port: int, record: Path, workers: int,
        rate: float, duration: int, grace: int, batch: int | None) -> dict:
    time.sleep(1)  # requests that wrk left in flight are answered (and their emails queued) before the clearing
    discarded = clear_queue(url)
    settle(url)
    log = OUT / f"mail-latency-workers-{workers}.log"
    tag = f"lat{workers}-{time.time_ns()}"
    prefix = f"load-{tag}-"  # sign.lua's addresses: load-<WRK_RUN>-<part>-<thread>-<n>@example.org
    processes = start_workers(url, smtp_port, workers, batch, log)
    try:
        result = wrk(f"{site}/c/small/sign", "sign.lua", duration,
                     {"WRK_FORM_TOKEN": token, "WRK_ORIGIN": site, "WRK_EXPECT": "200", "WRK_RUN": tag,
                      "WRK_PART": "0", "WRK_PARTS": "1"}, delay_ms=CONNECTIONS * 1000 / rate)
        queue_at_end = queue_length(url)
        signing_ended = time.time()
        left = queue_at_end
        while left and time.time() - signing_ended < grace:
            time.sleep(0.5)
            left = queue_length(url)
        drained = time.time() - signing_ended if not left else None
        waited_until = time.time()
    finally:
        stop_workers(processes, log)
    signatures = signed(url, campaign_id, prefix)
    if len(signatures) < result["requests"]:
        raise SystemExit(f"{result['requests']} sign requests answered but only {len(signatures)} signatures stored")
    arrived = arrivals(record, prefix)
    waits = [arrived[email] - made for email, made in signatures.items() if email in arrived]
    missing = [waited_until - made for email, made in signatures.items() if email not in arrived]
    return {"workers": workers, "signs": len(signatures), "rate": result["rps"], "arrived": len(arrived),
            **{name: percentile(waits, missing, q) for name, q in (("p50", 50), ("p99", 99), ("max", 100))},
            "queue_at_end": queue_at_end, "queue_after_grace": left, "drained": drained, "discarded": discarded,
            "errors": result["socket_errors"] + result["bad_status"], "sign_p99_ms": result["p99_ms"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=120, help="seconds of signing per run")
    parser.add_argument("--grace", type=int, default=120, help="seconds to wait after signing for the queue to empty")
    parser.add_argument("--workers", default="1,2", help="worker counts, one run each (comma-separated)")
    parser.add_argument("--rate", type=float, help="the sign peak (req/s) to sign at half of; measured if not given")
    parser.add_argument("--peak-runs", type=int, default=3, help="wrk runs measuring the peak (the median is kept)")
    parser.add_argument("--peak-duration", type=int, default=10, help="seconds per peak run")
    parser.add_argument("--batch", type=int, help="OUTBOX_BATCH_SIZE for the workers (default: the site's)")
    parser.add_argument("--database-url", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk (make bench does it)")
    counts = [int(n) for n in args.workers.split(",")]

    url = fresh_database(args.database_url, "campaign_bench_mail")
    ids = setup_database(url)
    copy_signatures(url, ids["small"], 1_000)
    recount(url, ids["small"])
    settle(url)

    OUT.mkdir(exist_ok=True)
    record = OUT / "mail-latency-arrivals.tsv"
    record.write_text("")
    smtp_port = free_port()
    sink = subprocess.Popen([sys.executable, "-m", "bench.smtp_sink", "--port", str(smtp_port),
                             "--record", str(record)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert sink.stdout.readline().strip() == "ready"
    site = site_server(url)
    rows = []
    try:
        token = form_token(site.url, "small")
        peak, measured = args.rate, args.rate is None
        if measured:
            env = {"WRK_FORM_TOKEN": token, "WRK_ORIGIN": site.url, "WRK_EXPECT": "200",
                   "WRK_RUN": f"peak-{time.time_ns()}", "WRK_PARTS": str(args.peak_runs)}
            runs = sorted(wrk(f"{site.url}/c/small/sign", "sign.lua", args.peak_duration,
                              {**env, "WRK_PART": str(part)})["rps"] for part in range(args.peak_runs))
            peak = runs[len(runs) // 2]
        for count in counts:
            rows.append(run(url, site.url, ids["small"], token, smtp_port, record, count, peak / 2, args.duration,
                            args.grace, args.batch))
    finally:
        site.stop()
        sink.terminate()
        sink.wait()

    print(f"\nMail latency benchmark: signing at about {peak / 2:.0f}/s, half the sign peak of {peak:.0f}/s "
          f"({'measured, median of ' + str(args.peak_runs) if measured else 'given'}) for {args.duration} s, "
          f"then up to {args.grace} s grace; gunicorn, PostgreSQL, `flask outbox work` "
          f"(batch {args.batch or 'default'}), aiosmtpd sink in its own process; wrk {THREADS} threads, "
          f"{CONNECTIONS} connections, paced\n")
    print(f"| {'workers':>7} | {'signs sent':>10} | {'signs/s':>7} | {'emails arrived':>14} | {'p50 s':>6} | "
          f"{'p99 s':>6} | {'max s':>6} | {'queue at end of signing':>23} | {'queue at end of grace':>21} | "
          f"{'drained after s':>15} | {'target':>12} |")
    print(f"|{'-' * 9}|{'-' * 12}|{'-' * 9}|{'-' * 16}|{'-' * 8}|{'-' * 8}|{'-' * 8}|{'-' * 25}|{'-' * 23}|"
          f"{'-' * 17}|{'-' * 14}|")
    for r in rows:
        target = f"p99 < {TARGET_P99_S[r['workers']]:.0f} s" if r["workers"] in TARGET_P99_S else ""
        drained = f"{r['drained']:.1f}" if r["drained"] is not None else "-"
        print(f"| {r['workers']:7d} | {r['signs']:10,} | {r['rate']:7.0f} | {r['arrived']:14,} | {r['p50']:>6} | "
              f"{r['p99']:>6} | {r['max']:>6} | {r['queue_at_end']:23,} | {r['queue_after_grace']:21,} | "
              f"{drained:>15} | {target:>12} |")
    for r in rows:
        notes = [f"sign p99 {r['sign_p99_ms']:.0f} ms", f"{r['errors']} wrk errors"]
        if r["discarded"]:
            notes.append(f"{r['discarded']:,} unsent emails of earlier runs discarded before it")
        print(f"workers {r['workers']}: " + ", ".join(notes))


if __name__ == "__main__":
    main()
