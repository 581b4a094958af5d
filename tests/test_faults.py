"""Faults: the database restarted in the middle of signing, a thousand
confirmations at once, two hundred copies of one submission at once, and the
shared rate-limit store (Redis) dying and coming back.

The PostgreSQL and Redis servers that get stopped are our own throwaway ones
(tests/throwaway.py), never the one TEST_DATABASE_URL names."""
from __future__ import annotations

import collections
import datetime as dt
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, func, insert, select, text

from campaign import counts
from campaign.extensions import db
from campaign.models import Campaign, OutboxMessage, Signature, SignatureStatus

from .builders import confirm_signature, csrf_token, make_campaign, sign, valid_pledge
from .conftest import fresh_app, make_app
from .throwaway import ThrowawayPostgres, ThrowawayRedis, postgres_unavailable, redis_unavailable

FRIENDLY_503 = "Sorry, we are very busy"
FRIENDLY_503_TEXT = "nothing you sent has been lost or half-saved"
QUICK = 5.0  # seconds: an outage must be answered well within this


@pytest.fixture
def postgres_only(backend):
    if backend != "postgresql":
        pytest.skip("a real race needs PostgreSQL (set TEST_DATABASE_URL)")


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def post_sign(client, slug, token, **fields):
    return client.post(f"/c/{slug}/sign", data={**valid_pledge(**fields), "csrf_token": token})


def assert_friendly_503(response, elapsed, what):
    body = response.get_data(as_text=True)
    assert response.status_code == 503, f"{what}: {response.status_code} instead of 503\n{body[:500]}"
    assert FRIENDLY_503 in body and FRIENDLY_503_TEXT in body, f"{what}: not the friendly 503 page"
    assert "Traceback" not in body and "OperationalError" not in body and "psycopg" not in body
    assert elapsed < QUICK, f"{what} took {elapsed:.1f} s during the outage"


# --- 1. PostgreSQL restarted in the middle of signing ------------------------

needs_throwaway_postgres = pytest.mark.skipif(bool(postgres_unavailable()), reason=postgres_unavailable() or "")


@pytest.fixture(scope="module")
def throwaway_postgres(mail_server, tmp_path_factory):
    """Our own PostgreSQL server, with the schema built by the migrations."""
    server = ThrowawayPostgres()
    try:
        server.start()
        admin = create_engine(server.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text('CREATE DATABASE "campaign"'))
        admin.dispose()
        server.database_url = server.url.rsplit("/", 1)[0] + "/campaign"
        app = make_app(server.database_url, mail_server, tmp_path_factory.mktemp("pg"))
        with app.app_context():
            upgrade()
            db.engine.dispose()
        yield server
    finally:
        server.close()


@pytest.fixture
def outage_app(throwaway_postgres, mail_server, tmp_path):
    """An app on the throwaway server that answers errors as in production
    (a 500 page rather than an exception raised into the test)."""
    if not throwaway_postgres.running():
        throwaway_postgres.start()
    with fresh_app(throwaway_postgres.database_url, mail_server, tmp_path, PROPAGATE_EXCEPTIONS=False,
                   SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"connect_timeout": 2}}) as app:
        with app.app_context():
            make_campaign(slug="outage")
            db.session.remove()
        yield app


def assert_nothing_half_saved(app, accepted):
    """The signatures are exactly the accepted submissions, each with exactly
    its one confirmation email, and the stored tallies agree with the rows."""
    with app.app_context():
        signatures = db.session.execute(select(Signature)).scalars().all()
        messages = db.session.execute(select(OutboxMessage)).scalars().all()
        assert len(signatures) == len(accepted)
        assert sorted(s.email for s in signatures) == sorted(accepted)
        by_signature = collections.Counter((m.signature_id, m.kind) for m in messages)
        assert by_signature == {(s.id, "confirmation"): 1 for s in signatures}
        assert all(s.emails_sent == 1 and s.status == SignatureStatus.PENDING for s in signatures)
        campaign_id = db.session.scalar(select(Campaign.id).where(Campaign.slug == "outage"))
        assert counts.status_counts(campaign_id) == {(SignatureStatus.PENDING, False): len(accepted)}
        db.session.remove()


@needs_throwaway_postgres
def test_signing_through_a_database_restart(outage_app, throwaway_postgres):
    """Stop the database between two signings: the visitor gets the friendly
    503 at once, nothing is half-saved, and signing resumes by itself when
    the database is back."""
    server, client = throwaway_postgres, outage_app.test_client()
    token = csrf_token(client.get("/c/outage").get_data(as_text=True))
    accepted = []

    def attempt(email):
        response, elapsed = timed(lambda: post_sign(client, "outage", token, email=email))
        if response.status_code == 200:
            accepted.append(email)
        return response, elapsed

    # Before: signing works (through the builder: page, then form).
    for i in range(5):
        assert sign(client, "outage", email=f"before{i}@example.com").status_code == 200
        accepted.append(f"before{i}@example.com")

    server.stop("fast")
    # During: every request answers the friendly 503, quickly.
    for i in range(5):
        response, elapsed = attempt(f"during{i}@example.com")
        assert_friendly_503(response, elapsed, f"signing #{i} during the outage")
    for path in ("/c/outage", "/"):
        response, elapsed = timed(lambda: client.get(path))
        assert_friendly_503(response, elapsed, f"GET {path} during the outage")
    health, elapsed = timed(lambda: client.get("/healthz"))
    assert health.status_code == 503 and elapsed < QUICK

    server.start()
    # After: the pool replaces its dead connections; signing works again,
    # including for everyone who was turned away (as new signatures: nothing
    # of theirs was stored).
    for i in range(5):
        assert sign(client, "outage", email=f"after{i}@example.com").status_code == 200
        accepted.append(f"after{i}@example.com")
    for i in range(5):
        assert attempt(f"during{i}@example.com")[0].status_code == 200
    assert client.get("/healthz").status_code == 200
    assert len(accepted) == 15
    assert_nothing_half_saved(outage_app, accepted)


@needs_throwaway_postgres
def test_signing_under_load_while_the_database_stops_and_starts(outage_app, throwaway_postgres):
    """Four visitors sign continuously while the server is stopped under them
    (some requests are mid-transaction) and started again: only thank-you pages and
    quick friendly 503s, and no half-written signature or orphan email."""
    server = throwaway_postgres
    token = csrf_token(outage_app.test_client().get("/c/outage").get_data(as_text=True))
    done = threading.Event()
    lock = threading.Lock()
    log = []  # (phase it started in, email, status, seconds, body if not 200)
    phase = ["before"]

    def visitor(k):
        client = outage_app.test_client()
        for i in range(100_000):
            if done.is_set():
                return
            email = f"load{k}-{i}@example.com"
            # A request belongs to the phase it started in: one sent while
            # the server was still starting may end after it is up.
            started_in = phase[0]
            try:
                response, elapsed = timed(lambda: post_sign(client, "outage", token, email=email))
                status, body = response.status_code, response.get_data(as_text=True)
            except Exception as error:  # noqa: BLE001 - recorded, asserted below
                status, elapsed, body = "exception", 0.0, repr(error)
            with lock:
                log.append((started_in, email, status, elapsed, "" if status == 200 else body))
            time.sleep(0.005)

    def wait_for(predicate, seconds, what):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with lock:
                if predicate(log):
                    return
            time.sleep(0.02)
        raise AssertionError(f"timed out waiting for {what}; statuses so far: "
                             f"{collections.Counter((p, s) for p, _, s, _, _ in log)}")

    def count(which, status):
        return lambda entries: sum(1 for p, _, s, _, _ in entries if p == which and s == status)

    threads = [threading.Thread(target=visitor, args=(k,), daemon=True) for k in range(4)]
    for thread in threads:
        thread.start()
    try:
        wait_for(lambda e: count("before", 200)(e) >= 20, 20, "signing before the outage")
        phase[0] = "stopping"
        server.stop("fast")
        phase[0] = "down"
        wait_for(lambda e: count("down", 503)(e) >= 12, 15, "503s during the outage")
        phase[0] = "starting"
        server.start()
        phase[0] = "after"
        wait_for(lambda e: count("after", 200)(e) >= 20, 20, "signing after the restart")
    finally:
        done.set()
        for thread in threads:
            thread.join(timeout=15)
        if not server.running():
            server.start()
    assert not any(thread.is_alive() for thread in threads)

    statuses = collections.Counter((p, s) for p, _, s, _, _ in log)
    assert {s for _, s in statuses} <= {200, 503}, f"unexpected answers: {statuses}"
    assert statuses[("down", 200)] == 0 and statuses[("after", 503)] == 0, statuses
    for phase_name, email, status, elapsed, body in log:
        if status == 503:
            assert FRIENDLY_503 in body and "Traceback" not in body, f"{email}: not the friendly page"
            assert elapsed < QUICK, f"{email} waited {elapsed:.1f} s for its 503 ({phase_name})"
    accepted = [email for _, email, status, _, _ in log if status == 200]
    assert_nothing_half_saved(outage_app, accepted)


# --- 2. A thousand confirmations from many threads ---------------------------

def test_a_thousand_confirmations_from_many_threads_keep_every_tally_true(app_with, postgres_only):
    countries = ["GB", "FR", "DE", "US", "NL", "IE", "ES"]
    app = app_with(SQLALCHEMY_ENGINE_OPTIONS={
        "pool_pre_ping": True, "pool_size": 16, "max_overflow": 8, "pool_timeout": 60})
    with app.app_context():
        campaign = make_campaign(slug="thousand")
        other = make_campaign(slug="bystander")
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)

        def row(i, campaign_id, status=SignatureStatus.PENDING, confirmed_at=None):
            email = f"c{campaign_id}-{i}@example.com"
            return {"campaign_id": campaign_id, "given_name": f"P{i}", "family_name": "Person",
                    "email": email, "email_normalised": email, "email_domain": "example.com",
                    "country": countries[i % len(countries)], "email_opt_in": i % 3 == 0,
                    "show_name": False, "status": status, "created_at": now - dt.timedelta(days=9),
                    "confirmed_at": confirmed_at, "emails_sent": 1}

        # 1,000 pending, plus 60 confirmed on earlier days and 10 invalidated,
        # and a bystander campaign whose counts must not move.
        rows = [row(i, campaign.id) for i in range(1000)]
        rows += [row(1000 + i, campaign.id, SignatureStatus.CONFIRMED,
                     now - dt.timedelta(days=1 + i % 4)) for i in range(60)]
        rows += [row(2000 + i, campaign.id, SignatureStatus.INVALIDATED) for i in range(10)]
        rows += [row(i, other.id, SignatureStatus.CONFIRMED, now - dt.timedelta(days=2)) for i in range(25)]
        db.session.execute(insert(Signature), rows)
        db.session.commit()
        counts.recount(campaign)  # stored tallies from the rows, as the command does
        counts.recount(other)
        campaign_id, other_id = campaign.id, other.id
        pending = list(db.session.execute(
            select(Signature.id).where(Signature.campaign_id == campaign_id,
                                       Signature.status == SignatureStatus.PENDING)
            .order_by(Signature.id)).scalars())
        other_before = (counts.signature_count(other_id), counts.counts_by_day(other_id),
                        counts.counts_by_country(other_id), counts.status_counts(other_id))
        db.session.remove()
    assert len(pending) == 1000

    # Every signature once, and 300 of them a second time, shuffled so that
    # repeats often race their first confirmation.
    work = pending + pending[::7] + pending[1::7] + pending[2::10]
    work = [work[(i * 389) % len(work)] for i in range(len(work))]
    assert len(set(work)) == 1000
    threads = 32
    barrier = threading.Barrier(threads, timeout=60)
    results = collections.Counter()
    errors = []
    lock = threading.Lock()

    def confirmer(k):
        barrier.wait()
        for signature_id in work[k::threads]:
            try:
                with app.app_context():  # one context per confirmation, like a request
                    changed = confirm_signature(db.session.get(Signature, signature_id))
                    db.session.remove()
            except Exception as error:  # noqa: BLE001 - reported below
                with lock:
                    errors.append(repr(error))
                continue
            with lock:
                results[changed] += 1

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(confirmer, range(threads)))
    took = time.monotonic() - started
    assert not errors, f"{len(errors)} confirmations failed, e.g. {errors[:3]}"
    assert results[True] == 1000, "each pending signature is confirmed by exactly one call"
    assert results[False] == len(work) - 1000
    assert took < 60

    with app.app_context():
        signatures = db.session.execute(
            select(Signature).where(Signature.campaign_id == campaign_id)).scalars().all()
        confirmed = [s for s in signatures if s.status == SignatureStatus.CONFIRMED]
        assert len(confirmed) == 1060
        assert counts.signature_count(campaign_id) == len(confirmed)
        by_day = collections.Counter(s.confirmed_at.date().isoformat() for s in confirmed)
        assert counts.counts_by_day(campaign_id) == [
            {"date": day, "signatures": n} for day, n in sorted(by_day.items())]
        by_country = collections.Counter(s.country for s in confirmed)
        assert {r["country"]: r["signatures"] for r in counts.counts_by_country(campaign_id)} == by_country
        # Only confirmed signatures are counted by consent to updates.
        by_status = collections.Counter((s.status, s.email_opt_in and s.status == SignatureStatus.CONFIRMED)
                                        for s in signatures)
        assert {k: v for k, v in counts.status_counts(campaign_id).items() if v} == by_status
        # The bystander campaign did not move.
        assert (counts.signature_count(other_id), counts.counts_by_day(other_id),
                counts.counts_by_country(other_id), counts.status_counts(other_id)) == other_before
        # And a recount finds nothing to repair.
        assert counts.recount(db.session.get(Campaign, campaign_id)) == (1060, 1060)
        db.session.remove()


# --- 3. Two hundred copies of one submission at once -------------------------

def test_two_hundred_identical_submissions_at_once_leave_one_signature(app_with, postgres_only):
    app = app_with(PROPAGATE_EXCEPTIONS=False, SQLALCHEMY_ENGINE_OPTIONS={
        "pool_pre_ping": True, "pool_size": 20, "max_overflow": 10, "pool_timeout": 60})
    n = 200
    with app.app_context():
        make_campaign(slug="stampede")
        db.session.remove()
    clients = [app.test_client() for _ in range(n)]
    barrier = threading.Barrier(n, timeout=60)

    def submit(i):
        # Each visitor opens the page, then all press the button together.
        token = csrf_token(clients[i].get("/c/stampede").get_data(as_text=True))
        barrier.wait()
        return post_sign(clients[i], "stampede", token, email="Stampede@Example.com")

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=n) as pool:
        responses = list(pool.map(submit, range(n)))
    took = time.monotonic() - started
    assert collections.Counter(r.status_code for r in responses) == {200: n}
    assert took < 60
    with app.app_context():
        signatures = db.session.execute(select(Signature)).scalars().all()
        assert len(signatures) == 1
        messages = db.session.execute(select(OutboxMessage)).scalars().all()
        cap = app.config["SIGNATURE_EMAIL_CAP"]
        assert 1 <= len(messages) <= cap
        assert signatures[0].emails_sent == len(messages)
        assert {(m.signature_id, m.kind) for m in messages} == {(signatures[0].id, "confirmation")}
        assert counts.status_counts(signatures[0].campaign_id) == {(SignatureStatus.PENDING, False): 1}
        db.session.remove()


# --- 4. Redis, the shared rate-limit store, dies and comes back --------------

@pytest.mark.skipif(bool(redis_unavailable()), reason=redis_unavailable() or "")
def test_signing_goes_on_when_the_rate_limit_store_dies(app_with):
    """Documented: with Redis down each process limits in memory on its own
    (RATELIMIT_IN_MEMORY_FALLBACK_ENABLED); signing is neither refused nor
    failed, and the shared limits resume once Redis is back."""
    redis_server = ThrowawayRedis()
    try:
        redis_server.start()
        app = app_with(RATELIMIT_ENABLED=True, PROPAGATE_EXCEPTIONS=False,
                       RATELIMIT_STORAGE_URI=redis_server.url, RATELIMIT_SIGN="3 per minute")
        assert app.config["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] and app.config["RATELIMIT_SWALLOW_ERRORS"]
        with app.app_context():
            make_campaign(slug="limited")
            db.session.remove()
        client = app.test_client()
        token = csrf_token(client.get("/c/limited").get_data(as_text=True))
        numbers = iter(range(1000))
        slowest = 0.0

        def attempt():
            nonlocal slowest
            response, elapsed = timed(lambda: post_sign(client, "limited", token,
                                                        email=f"r{next(numbers)}@example.com"))
            slowest = max(slowest, elapsed)
            assert response.status_code in (200, 429), f"{response.status_code} from signing"
            return response.status_code

        def shared_keys():
            return [k for k in redis_server.client().keys("*") if b"campaign" in k]

        # Redis up: the limit is shared, kept in Redis.
        assert [attempt() for _ in range(4)] == [200, 200, 200, 429]
        assert shared_keys(), "the limit should be counted in Redis"

        # Redis gone: signing goes on, limited per process in memory.
        redis_server.kill()
        assert [attempt() for _ in range(4)] == [200, 200, 200, 429]
        assert slowest < QUICK, f"a request took {slowest:.1f} s while Redis was down"

        # Redis back (empty): the limiter notices within a few seconds and the
        # shared limit applies again; nothing fails meanwhile.
        redis_server.start()
        deadline = time.monotonic() + 20
        statuses = []
        while time.monotonic() < deadline:
            statuses.append(attempt())
            if statuses[-1] == 200:
                break
            time.sleep(0.5)
        assert statuses[-1] == 200, f"still refused after Redis came back: {statuses}"
        assert shared_keys(), "once Redis is back the limit should be counted there again"
        assert [attempt() for _ in range(3)] == [200, 200, 429]
        assert slowest < QUICK

        with app.app_context():
            accepted = db.session.scalar(select(func.count()).select_from(Signature))
            assert accepted == 3 + 3 + 1 + 2
            db.session.remove()
    finally:
        redis_server.close()
