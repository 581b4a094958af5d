"""Webhook fan-out: N signature.confirmed events delivered by one outbox
worker to a local receiver, against a bare http.client keep-alive loop
POSTing as many similar bodies to the same receiver in the same run; and
what the webhook step costs a confirm POST.

    python -m bench.webhook_fanout [--events 100000] [--batch 1000] [--fan-out-rounds 10]
                                   [--confirms 1000] [--database-url URL]

Prints two tables. The first: events per second for the bare loop (the
baseline) and for the worker (events queued in bulk, one INSERT ... SELECT;
each rendered in OSDI shape from its signature when sent, signed, POSTed
over one keep-alive connection, its attempt logged), with the ratio to the
baseline; the two take turns, a share of the events each round, so that a
busy machine slows both alike. The second: the confirm POST (through the
app, as a browser sends it) with a confirm chain without the webhook step
(the baseline), with it and no endpoint, and with it and an endpoint taking
the event, one request of each in turn; ms per request and the ratio to
the baseline."""
from __future__ import annotations

import argparse
import dataclasses
import http.client
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from bench.seed import fresh_database, psycopg_dsn  # noqa: E402

SECRET = "bench-secret-key-0123456789abcdef0123456789"


def app_config(url: str, batch: int) -> dict:
    # TESTING: the receiver is on 127.0.0.1, which only the tests' relaxation reaches.
    return {"SECRET_KEY": SECRET, "SQLALCHEMY_DATABASE_URI": url, "SITE_URL": "https://act.example.org",
            "TESTING": True, "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": True, "OUTBOX_BATCH_SIZE": batch,
            "RATELIMIT_ENABLED": False, "REQUEST_LOG_LEVEL": "WARNING", "RETENTION_SWEEP_MINUTES": 0,
            "PUBLIC_LIVE_SECONDS": 0}


def copy_signers(url: str, campaign_id: int, n: int) -> None:
    """COPY ``n`` confirmed signatures into the campaign."""
    columns = ("campaign_id, given_name, family_name, email, email_normalised, email_domain, country, "
               "email_opt_in, show_name, status, created_at, confirmed_at, modified_at, emails_sent")
    with psycopg.connect(psycopg_dsn(url)) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY signature ({columns}) FROM STDIN") as copy:
            for i in range(n):
                email = f"supporter{i}@example.org"
                copy.write_row((campaign_id, f"Supporter{i}", "Bench", email, email, "example.org", "GB",
                                True, False, "confirmed", "2026-01-01", "2026-01-01", "2026-01-01", 1))
        conn.commit()
        cur.execute("ANALYZE signature")


def start_receiver() -> tuple[subprocess.Popen, int]:
    receiver = subprocess.Popen([sys.executable, "-m", "tests.webhook_receiver"], cwd=ROOT, stdout=subprocess.PIPE,
                                text=True)
    return receiver, int(receiver.stdout.readline())


def setup(url: str, port: int, events: int, batch: int):
    from flask_migrate import upgrade

    from campaign import create_app, webhooks
    from campaign.extensions import db
    from campaign.models import Campaign, CampaignStatus, Kind

    app = create_app(app_config(url, batch))
    with app.app_context():
        upgrade()
        campaign = Campaign(slug="webhooks", kind=Kind.PLEDGE, status=CampaignStatus.LIVE, title="Webhook campaign",
                            summary="Bench", pledge_text="I pledge.", goal=1000)
        db.session.add(campaign)
        db.session.commit()
        endpoint, _ = webhooks.create_endpoint(campaign, f"http://127.0.0.1:{port}/hook", set(webhooks.EVENTS), None)
        db.session.commit()
        campaign_id, endpoint_id = campaign.id, endpoint.id
        db.engine.dispose()
    copy_signers(url, campaign_id, events)
    return app, campaign_id, endpoint_id


def queue_events(url: str, campaign_id: int, endpoint_id: int, first: int = 0, count: int | None = None) -> float:
    """One signature.confirmed event per signature (``count`` of them from
    the ``first``, in id order; all by default), queued in bulk."""
    began = time.perf_counter()
    with psycopg.connect(psycopg_dsn(url)) as conn:
        conn.execute(
            "INSERT INTO outbox_message (kind, recipient, subject, body_text, headers, signature_id, "
            "webhook_endpoint_id, status, created_at, due_at, attempts) "
            "SELECT 'webhook', '', '', '', json_build_object('event', 'signature.confirmed', "
            "'id', gen_random_uuid()::text, 'at', '2026-12-01T09:00:00.000000Z', 'data', '{}'::json), "
            "id, %s, 'queued', now(), now() - interval '1 minute', 0 FROM signature WHERE campaign_id = %s "
            "ORDER BY id OFFSET %s LIMIT %s", (endpoint_id, campaign_id, first, count))
        conn.commit()
        conn.execute("ANALYZE outbox_message")
    return time.perf_counter() - began


def sample_request(app, url: str):
    """One delivery rendered as the worker renders it: the baseline POSTs its body and headers."""
    from campaign import webhook_http, webhooks
    from campaign.extensions import db
    from campaign.models import OutboxMessage

    with app.app_context():
        row = db.session.execute(db.select(OutboxMessage).order_by(OutboxMessage.id).limit(1)).scalar_one()
        from campaign.outbox import Delivery
        delivery = Delivery(*(getattr(row, name) for name in Delivery.__dataclass_fields__ if name not in (
            "message_id", "sent_at", "last_error")))
        rendered = webhooks._render(webhooks._load([delivery]), delivery)
        headers = {"Content-Type": "application/json", "User-Agent": webhook_http.USER_AGENT,
                   webhook_http.SIGNATURE_HEADER: webhook_http.signature_header(rendered.secret, rendered.body),
                   webhook_http.EVENT_HEADER: rendered.event, webhook_http.EVENT_ID_HEADER: rendered.event_id,
                   webhook_http.IDEMPOTENCY_HEADER: rendered.idempotency_key, webhook_http.ATTEMPT_HEADER: "1"}
        db.engine.dispose()
    return rendered.body, headers


def bare_loop(port: int, n: int, body: bytes, headers: dict) -> float:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    began = time.perf_counter()
    for _ in range(n):
        connection.request("POST", "/hook", body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        assert response.status == 200
    seconds = time.perf_counter() - began
    connection.close()
    return seconds


def worker(app) -> tuple[float, int]:
    from campaign import outbox
    from campaign.extensions import db

    with app.app_context():
        began = time.perf_counter()
        result = outbox.drain("bench-worker")
        seconds = time.perf_counter() - began
        db.session.remove()
        db.engine.dispose()
    return seconds, result.sent


def fan_out(app, url: str, port: int, ids: tuple[int, int], n: int, rounds: int, body: bytes,
            headers: dict) -> tuple[float, float, int, float]:
    """The bare loop and the worker in alternating rounds, each round 1/rounds
    of the events (queued just before the worker's turn, untimed), so that
    both see the same machine: total seconds of each, events sent, and
    seconds spent queuing."""
    bare_seconds = worker_seconds = queue_seconds = 0.0
    sent = 0
    share = -(-n // rounds)
    for first in range(0, n, share):
        count = min(share, n - first)
        bare_seconds += bare_loop(port, count, body, headers)
        queue_seconds += queue_events(url, *ids, first, count)
        seconds, delivered = worker(app)
        worker_seconds += seconds
        sent += delivered
    return bare_seconds, worker_seconds, sent, queue_seconds


def confirm_posts(url: str, batch: int, count: int, port: int) -> dict[str, list[float]]:
    """ms of each confirm POST of each variant (``count`` of each, interleaved)."""
    from campaign import create_app, signing, tokens, webhooks
    from campaign.extensions import db
    from campaign.models import Campaign, CampaignStatus, Kind, Signature

    app = create_app(app_config(url, batch))
    with app.app_context():
        made = {}
        for name in ("bare", "none", "endpoint"):
            campaign = Campaign(slug=f"confirm-{name}", kind=Kind.PLEDGE, status=CampaignStatus.LIVE,
                                title=f"Confirm {name}", summary="Bench", pledge_text="I pledge.", goal=1000)
            db.session.add(campaign)
            db.session.commit()
            made[name] = campaign.id
            if name == "endpoint":
                webhooks.create_endpoint(campaign, f"http://127.0.0.1:{port}/hook", {"signature.confirmed"}, None)
                db.session.commit()
        db.engine.dispose()
    client = app.test_client()
    headers = {"Origin": "https://act.example.org", "Sec-Fetch-Site": "same-origin"}
    paths: dict[str, list[str]] = {}
    for name in made:
        page = client.get(f"/c/confirm-{name}").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
        for i in range(count + 20):
            response = client.post(f"/c/confirm-{name}/sign", headers=headers, data={
                "given_name": "Bench", "family_name": "Person", "country": "GB", "email_opt_in": "y",
                "email": f"{name}-{i}@example.org", "csrf_token": token})
            assert response.status_code == 200, response.status_code
        with app.app_context():
            paths[name] = [f"/confirm/{tokens.token_for(tokens.CONFIRM, i)}" for i in db.session.execute(
                db.select(Signature.id).where(Signature.campaign_id == made[name]).order_by(Signature.id)).scalars()]
    confirm_page = client.get(paths["bare"][0]).get_data(as_text=True)
    token = confirm_page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
    with_step = signing._CONFIRM
    bare = dataclasses.replace(with_step, name="confirm without webhooks", then=with_step.then[:-1])

    def post(name: str) -> None:
        response = client.post(paths[name].pop(), headers=headers, data={
            "csrf_token": token, "given_name": "Bench", "family_name": "Person", "country": "GB",
            "email_opt_in": "y"})
        assert response.status_code == 200, response.status_code

    timings: dict[str, list[float]] = {name: [] for name in made}
    for name in made:  # warm up each variant
        signing._CONFIRM = bare if name == "bare" else with_step
        for _ in range(20):
            post(name)
    shuffled = random.Random(1)
    order = list(made)
    for _ in range(count):
        # One request of each variant in turn, in a shuffled order: a busy
        # moment of the machine slows them alike.
        shuffled.shuffle(order)
        for name in order:
            signing._CONFIRM = bare if name == "bare" else with_step
            began = time.perf_counter()
            post(name)
            timings[name].append((time.perf_counter() - began) * 1000)
    signing._CONFIRM = with_step
    with app.app_context():
        db.engine.dispose()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000, help="OUTBOX_BATCH_SIZE for the worker")
    parser.add_argument("--confirms", type=int, default=1000, help="confirm POSTs per variant")
    parser.add_argument("--fan-out-rounds", type=int, default=10, help="rounds of the bare loop and the worker")
    parser.add_argument("--database-url", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    n = args.events

    receiver, port = start_receiver()
    try:
        url = fresh_database(args.database_url, "campaign_bench_webhooks")
        app, campaign_id, endpoint_id = setup(url, port, n, args.batch)
        queue_events(url, campaign_id, endpoint_id, 0, 1)
        body, headers = sample_request(app, url)
        with psycopg.connect(psycopg_dsn(url)) as conn:
            conn.execute("DELETE FROM outbox_message")
        bare_seconds, worker_seconds, sent, queue_seconds = fan_out(
            app, url, port, (campaign_id, endpoint_id), n, args.fan_out_rounds, body, headers)
        assert sent == n, (sent, n)
        timings = confirm_posts(url, args.batch, args.confirms, port)
    finally:
        receiver.terminate()
        receiver.wait()

    print(f"Webhook fan-out benchmark: {n:,} signature.confirmed events, PostgreSQL, "
          "local HTTP/1.1 receiver in its own process")
    print(f"queuing {n:,} events ({args.fan_out_rounds} INSERT ... SELECT, one a round): {queue_seconds:.2f} s; "
          f"body {len(body)} bytes; bare loop and worker in {args.fan_out_rounds} alternating rounds")
    print()
    print("| sender                                         |   events |  seconds |  events/s | ratio to bare loop |")
    print("|------------------------------------------------|----------|----------|-----------|--------------------|")
    base_rate = n / bare_seconds
    for label, seconds in (("bare http.client keep-alive loop (baseline)", bare_seconds),
                           (f"outbox worker x1 (batch {args.batch})", worker_seconds)):
        rate = n / seconds
        print(f"| {label:<46} | {n:>8,} | {seconds:>8.1f} | {rate:>9.0f} | {rate / base_rate:>18.2f} |")
    print()
    print(f"Confirm POST, {args.confirms} of each variant, one of each in turn in a shuffled order "
          "(median and mean ms per request)")
    print()
    print("| confirm chain                                  | median ms | mean ms | ratio to baseline (median) |")
    print("|------------------------------------------------|-----------|---------|----------------------------|")
    base = statistics.median(timings["bare"])
    for name, label in (("bare", "without the webhook step (baseline)"),
                        ("none", "with the webhook step, no endpoint"),
                        ("endpoint", "with the webhook step, one endpoint")):
        ms = statistics.median(timings[name])
        print(f"| {label:<46} | {ms:>9.2f} | {statistics.mean(timings[name]):>7.2f} | {ms / base:>26.2f} |")


if __name__ == "__main__":
    main()
