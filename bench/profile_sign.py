"""Where a sign (or confirm) POST's time goes: the whole Flask stack (test
client) on PostgreSQL, profiled with cProfile, with the SQL statements it sends.

    python -m bench.profile_sign [--route sign|confirm] [--requests 2000] [--database-url URL]

Prints the statements of one POST, the time spent waiting on the database
against the time spent in Python, and the functions with the most
cumulative time."""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402

from bench.load import SECRET, setup_database  # noqa: E402
from bench.seed import fresh_database  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--route", choices=["sign", "confirm"], default="sign")
    parser.add_argument("--database-url", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()

    from campaign import create_app, signing
    from campaign.extensions import db
    from campaign.models import Signature

    url = fresh_database(args.database_url, "campaign_bench_profile")
    setup_database(url)
    app = create_app({"SECRET_KEY": SECRET, "SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False,
                      "REQUEST_LOG_LEVEL": "WARNING", "SITE_URL": "http://localhost"})
    client = app.test_client()
    page = client.get("/c/small").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
    headers = {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"}

    statements: list[str] = []
    waited = [0.0]
    by_statement: dict[str, float] = {}

    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info["started"] = time.perf_counter()
        statements.append(statement)

    @event.listens_for(engine, "after_cursor_execute")
    def after(conn, cursor, statement, parameters, context, executemany):
        took = time.perf_counter() - conn.info.pop("started")
        waited[0] += took
        by_statement[statement] = by_statement.get(statement, 0.0) + took

    def sign(i: int) -> None:
        response = client.post("/c/small/sign", headers=headers, data={
            "given_name": "Profile", "family_name": "Person", "country": "GB", "email_opt_in": "y",
            "email": f"profile-{i}@example.org", "csrf_token": token})
        assert response.status_code == 303, response.status_code

    if args.route == "confirm":
        for i in range(100, 100 + 2 * args.requests + 51):
            sign(i)
        with app.app_context():
            paths = [f"/confirm/{signing.confirmation_token(i)}" for i in db.session.execute(
                db.select(Signature.id).order_by(Signature.id.desc()).limit(2 * args.requests + 51)).scalars()]

        def post(i: int) -> None:
            response = client.post(paths.pop(), headers=headers, data={"csrf_token": token})
            assert response.status_code == 200, response.status_code
    else:
        post = sign

    for i in range(50):  # warm up: templates compiled, pool filled
        post(i)
    statements.clear()
    post(50)
    one = list(statements)

    waited[0] = 0.0
    # CPU time, not wall time: waiting for the database is not work done here.
    profiler = cProfile.Profile(time.process_time)
    began = time.perf_counter()
    profiler.enable()
    for i in range(100, 100 + args.requests):
        post(i)
    profiler.disable()
    total = time.perf_counter() - began

    # A second, unprofiled run for the honest per-request time.
    waited[0] = 0.0
    by_statement.clear()
    began = time.perf_counter()
    for i in range(100 + 2 * args.requests, 100 + 3 * args.requests):
        post(i)
    plain = time.perf_counter() - began
    db_share = waited[0]

    print(f"{args.route.capitalize()} POST profile: {args.requests} requests through the Flask test client, "
          "PostgreSQL\n")
    print(f"statements per {args.route} POST: {len(one)} (and BEGIN and COMMIT around any that share a "
          "transaction)")
    for statement in one:
        print(f"   {by_statement.get(statement, 0.0) / args.requests * 1000:6.3f} ms  "
              f"{' '.join(statement.split())[:100]}")
    per = plain / args.requests * 1000
    print(f"\nper request, unprofiled: {per:.2f} ms; waiting on SQL statements: "
          f"{db_share / args.requests * 1000:.2f} ms ({db_share / plain:.0%})")
    print(f"(profiled run: {total / args.requests * 1000:.2f} ms per request)\n")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats(os.environ.get("PROFILE_SORT", "cumulative")).print_stats(args.top)
    print(out.getvalue())


if __name__ == "__main__":
    main()
