"""Where a request's time goes (a sign or confirm POST, a campaign page or
count.json GET with the shared copy off): the whole Flask stack (test client)
on PostgreSQL, profiled with cProfile, with the SQL statements it sends.

    python -m bench.profile_sign [--route sign|confirm|page|count] [--requests 2000] [--database-url URL]

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
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402

from bench.load import SECRET, recount, setup_database  # noqa: E402
from bench.seed import copy_signatures, fresh_database  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--route", choices=["sign", "confirm", "page", "count"], default="sign")
    parser.add_argument("--live-seconds", type=float, default=None,
                        help="PUBLIC_LIVE_SECONDS for the GET routes (default: the site's; 0 reads the database "
                             "on every request)")
    parser.add_argument("--database-url", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()

    from campaign import create_app, tokens
    from campaign.extensions import db
    from campaign.models import Signature

    url = fresh_database(args.database_url, "campaign_bench_profile")
    ids = setup_database(url)
    copy_signatures(url, ids["small"], 1_000)
    recount(url, ids["small"])
    # The GETs with the shared copy off: every one is rendered.
    gets = {"PUBLIC_MICROCACHE_SECONDS": 0} if args.route in ("page", "count") else {}
    if args.live_seconds is not None:
        gets["PUBLIC_LIVE_SECONDS"] = args.live_seconds
    app = create_app({"SECRET_KEY": SECRET, "SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False,
                      "REQUEST_LOG_LEVEL": "WARNING", "SITE_URL": "http://localhost", **gets})
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
        assert response.status_code == 200, response.status_code

    if args.route == "confirm":
        for i in range(100, 100 + 2 * args.requests + 51):
            sign(i)
        with app.app_context():
            paths = [f"/confirm/{tokens.token_for(tokens.CONFIRM, i)}" for i in db.session.execute(
                db.select(Signature.id).order_by(Signature.id.desc()).limit(2 * args.requests + 51)).scalars()]

        # The confirm page's form has its own token (page tokens are per campaign page).
        confirm_page = client.get(paths[-1]).get_data(as_text=True)
        confirm_token = confirm_page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]

        def post(i: int) -> None:
            response = client.post(paths.pop(), headers=headers, data={
                "csrf_token": confirm_token, "given_name": "Profile", "family_name": "Person", "country": "GB",
                "email_opt_in": "y"})
            assert response.status_code == 200, response.status_code
    elif args.route in ("page", "count"):
        path = "/c/small" if args.route == "page" else "/c/small/count.json"

        def post(i: int) -> None:
            response = client.get(path)
            assert response.status_code == 200, response.status_code
    else:
        post = sign

    for i in range(50):  # warm up: templates compiled, pool filled
        post(i)
    statements.clear()
    post(50)
    one = list(statements)

    waited[0] = 0.0
    # CPU time, not wall time: waiting for the database is not work done
    # here. Only inside the app: the test client's own work (building each
    # request) is not the site's, and gunicorn does it differently.
    profiler = cProfile.Profile(time.process_time)
    began = time.perf_counter()
    with around_each_request(app, profiler.enable, profiler.disable):
        for i in range(100, 100 + args.requests):
            post(i)
    total = time.perf_counter() - began

    # A second, unprofiled run for the honest per-request time, in the app
    # and with the test client around it.
    waited[0] = 0.0
    by_statement.clear()
    in_app = Stopwatch()
    began = time.perf_counter()
    with around_each_request(app, in_app.start, in_app.stop):
        for i in range(100 + 2 * args.requests, 100 + 3 * args.requests):
            post(i)
    plain = time.perf_counter() - began
    db_share = waited[0]

    name = {"page": "Campaign page GET", "count": "count.json GET"}.get(args.route, f"{args.route.capitalize()} POST")
    print(f"{name} profile: {args.requests} requests through the Flask test client, "
          "PostgreSQL\n")
    print(f"statements per {name}: {len(one)} (and BEGIN and COMMIT around any that share a "
          "transaction)")
    for statement in one:
        print(f"   {by_statement.get(statement, 0.0) / args.requests * 1000:6.3f} ms  "
              f"{' '.join(statement.split())[:100]}")
    per, app_ms, db_ms = (seconds / args.requests * 1000 for seconds in (plain, in_app.seconds, db_share))
    hello_ms = bare_app_ms(args.requests)
    print(f"\nper request, unprofiled: {app_ms:.2f} ms in the app ({per:.2f} ms with the test client), of which "
          f"waiting on SQL statements: {db_ms:.2f} ms ({db_ms / app_ms:.0%})")
    print(f"bare Flask hello (baseline), same way: {hello_ms:.3f} ms in the app; {name} / bare = "
          f"{app_ms / hello_ms:.1f}")
    print(f"(profiled run: {total / args.requests * 1000:.2f} ms per request)\n")
    stats = pstats.Stats(profiler)
    print_layers(stats, app_ms - db_ms)
    if args.top:
        out = io.StringIO()
        stats.stream = out
        stats.sort_stats(os.environ.get("PROFILE_SORT", "cumulative")).print_stats(args.top)
        print(out.getvalue())


@contextmanager
def around_each_request(app, before, after):
    """Calls ``before`` and ``after`` around every request inside ``app``
    (not around the test client's own work)."""
    site = app.wsgi_app

    def wrapped(environ, start_response):
        before()
        try:
            return site(environ, start_response)
        finally:
            after()

    app.wsgi_app = wrapped
    try:
        yield
    finally:
        app.wsgi_app = site


class Stopwatch:
    """Wall time added up over start/stop pairs."""

    def __init__(self):
        self.seconds = 0.0
        self._started = 0.0

    def start(self) -> None:
        self._started = time.perf_counter()

    def stop(self) -> None:
        self.seconds += time.perf_counter() - self._started


def bare_app_ms(requests: int) -> float:
    """The bare Flask app of the load benchmark, timed inside the app like
    the POSTs: milliseconds per request."""
    from bench.hello import create_app as create_hello

    hello, spent = create_hello(), Stopwatch()
    client = hello.test_client()
    with around_each_request(hello, spent.start, spent.stop):
        for _ in range(requests):
            client.get("/")
    return spent.seconds / requests * 1000


# Each layer, and the packages whose code is counted in it.
LAYERS = {
    "Flask and Werkzeug (routing, request, response, hooks)":
        ("flask", "werkzeug", "flask_limiter", "flask_login", "flask_babel"),
    "WTForms and email-validator (form and validation)": ("wtforms", "flask_wtf", "email_validator", "idna"),
    "SQLAlchemy and psycopg (statement, pool, driver)": ("sqlalchemy", "psycopg"),
    "itsdangerous (page token)": ("itsdangerous",),
    "this project's code": ("campaign",),
}


def layer_of(filename: str) -> str:
    parts = set(Path(filename).parts)
    for layer, packages in LAYERS.items():
        if parts.intersection(packages):
            return layer
    return "Python's standard library (called by the above)"


def print_layers(stats: pstats.Stats, cpu_ms: float) -> None:
    """CPU time by layer: each function's own time (so nothing counts twice)
    as a share of the profile, applied to the unprofiled milliseconds per
    request not spent waiting on SQL."""
    own: dict[str, float] = {}
    for (filename, _line, _name), (_cc, _nc, tottime, _ct, callers) in stats.stats.items():
        if filename == "~" and callers:  # a built-in: counted with whoever called it
            for (caller_file, _l, _n), caller_stats in callers.items():
                layer = layer_of(caller_file)
                own[layer] = own.get(layer, 0.0) + caller_stats[2]
            continue
        layer = layer_of(filename)
        own[layer] = own.get(layer, 0.0) + tottime
    total = sum(own.values())
    print(f"CPU time per request by layer ({cpu_ms:.2f} ms in all):")
    print(f"| {'layer':56} | {'ms':>5} | {'share':>5} |")
    print(f"|{'-' * 58}|{'-' * 7}|{'-' * 7}|")
    for layer, seconds in sorted(own.items(), key=lambda item: -item[1]):
        print(f"| {layer:56} | {cpu_ms * seconds / total:5.2f} | {seconds / total:5.0%} |")
    print()

if __name__ == "__main__":
    main()
