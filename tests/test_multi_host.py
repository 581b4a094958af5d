"""The production setup of deploy/ on several hosts: nginx (built from
deploy/nginx/campaign.conf) in front of two gunicorn instances standing for
two hosts (gunicorn.conf.py, configured by FLASK_ and GUNICORN_ variables
only), one PostgreSQL database, one Redis for the rate limits, and two
`flask outbox work` processes sharing the queue.

Needs nginx, PostgreSQL and Redis (TEST_DATABASE_URL, TEST_REDIS_URL).
Without nginx the tests skip, unless REQUIRE_NGINX=1 or CI is set, where
they fail instead."""
from __future__ import annotations

import contextlib
import http.client
import itertools
import os
import secrets
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from campaign import create_app
from campaign.extensions import db
from campaign.identity import hash_ip

from .builders import csrf_token, make_campaign
from .conftest import _postgres_base_url
from .multi_host import (
    FLASK,
    ROOT,
    Gunicorn,
    Nginx,
    OutboxWorker,
    main_config,
    nginx_binary,
    nginx_test,
    self_signed_certificate,
    site_config,
    site_env,
)
from .throwaway import free_port

SECRET = "multi-host-secret-key-" + "abcdefghij" * 3
SIGN_LIMIT = 5  # FLASK_RATELIMIT_SIGN: signatures per minute per client address and campaign
SLUGS = ("through-nginx", "rate-limit", "forwarded-for", "kill-a-host")


def _nginx_unavailable(reason: str):
    """Skip, or fail when the run has been told nginx must be there."""
    if os.environ.get("REQUIRE_NGINX") == "1" or os.environ.get("CI", "").lower() in ("1", "true"):
        pytest.fail(f"REQUIRE_NGINX=1 or CI, but the multi-host tests cannot run: {reason}", pytrace=False)
    pytest.skip(f"multi-host tests skipped: {reason} (set REQUIRE_NGINX=1 to make this an error)")


def _require_nginx() -> None:
    if nginx_binary() is None:
        _nginx_unavailable("nginx is not installed (apt-get install nginx)")


# Every client of these tests has an address of its own (all of 127.0.0.0/8
# reaches this machine): per-address rate limits then hold for it alone,
# and the app's record of the address tells whose it saw.
_numbers = itertools.count()  # next() on it is safe from several threads


def new_address() -> str:
    n = next(_numbers)
    return f"127.0.{n // 250 + 10}.{n % 250 + 1}"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: str
    seconds: float


def fetch(base: str, method: str, path: str, *, source: str = "127.0.0.1", headers: dict | None = None,
          body: str | None = None, timeout: float = 10) -> Answer:
    """One request on a new connection from ``source``."""
    url = urllib.parse.urlsplit(base)
    started = time.monotonic()
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout, source_address=(source, 0))
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        content = response.read().decode(errors="replace")
        return Answer(response.status, dict(response.getheaders()), content, time.monotonic() - started)
    finally:
        conn.close()


@dataclass
class Cluster:
    nginx: Nginx
    web: list[Gunicorn]
    workers: list[OutboxWorker]
    app: object
    mail: object
    redis_url: str
    ratelimit_prefix: str
    uploads: Path
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def upstreams(self) -> set[str]:
        return {f"127.0.0.1:{server.port}" for server in self.web}

    def logs(self) -> str:
        parts = [self.nginx.logs()] + [p.logs() for p in (*self.web, *self.workers)]
        return "\n".join(parts)

    @contextlib.contextmanager
    def logs_on_failure(self):
        """Print every process's log when the test fails."""
        try:
            yield
        except BaseException:
            print(self.logs())
            raise

    def form_token(self, slug: str) -> str:
        if slug not in self.tokens:
            page = fetch(self.nginx.url, "GET", f"/c/{slug}")
            assert page.status == 200, page.body[:500]
            self.tokens[slug] = csrf_token(page.body)
        return self.tokens[slug]

    def sign(self, slug: str, email: str, *, source: str, headers: dict | None = None,
             timeout: float = 10) -> Answer:
        """Sign as a browser does, through nginx."""
        form = {"given_name": "Ada", "family_name": "Lovelace", "email": email, "country": "GB",
                "postal_code": "", "csrf_token": self.form_token(slug)}
        return fetch(self.nginx.url, "POST", f"/c/{slug}/sign", source=source, timeout=timeout,
                     body=urllib.parse.urlencode(form),
                     headers={"Content-Type": "application/x-www-form-urlencoded",
                              "Sec-Fetch-Site": "same-origin", "Origin": self.nginx.url, **(headers or {})})

    def query(self, sql: str, **params) -> list:
        with self.app.app_context():
            rows = db.session.execute(text(sql), params).all()
            db.session.remove()
            return rows

    def signatures(self, slug: str) -> list:
        return self.query("SELECT s.id, s.email, s.ip_hash FROM signature s JOIN campaign c ON c.id = s.campaign_id "
                          "WHERE c.slug = :slug", slug=slug)

    def ip_hash(self, address: str) -> str:
        with self.app.app_context():
            return hash_ip(address)

    def wait_for_mail(self, slug: str, addresses: set[str], timeout: float = 30) -> dict[str, int]:
        """Once every confirmation of ``slug`` has been sent and each of
        ``addresses`` has mail (and a moment more, for any duplicate): how
        many emails each address received."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            waiting = self.query(
                "SELECT count(*) FROM outbox_message o JOIN signature s ON s.id = o.signature_id "
                "JOIN campaign c ON c.id = s.campaign_id WHERE c.slug = :slug AND o.status <> 'sent'",
                slug=slug)[0][0]
            arrived = {a for a in addresses if self.mail.to(a)}
            if not waiting and arrived == addresses:
                break
            time.sleep(0.2)
        time.sleep(1.5)  # two workers polling: time enough to send one twice, if they did
        return {a: len(self.mail.to(a)) for a in addresses}


@pytest.fixture(scope="module")
def cluster(mail_server, tmp_path_factory):
    _require_nginx()
    database, redis_url = os.environ.get("TEST_DATABASE_URL"), os.environ.get("TEST_REDIS_URL")
    if not database or not redis_url:
        pytest.skip("the multi-host tests need PostgreSQL and Redis: set TEST_DATABASE_URL and TEST_REDIS_URL")
    base = tmp_path_factory.mktemp("multi-host")
    logs, uploads = base / "logs", base / "uploads"
    logs.mkdir()
    uploads.mkdir()
    mail_server.reset()

    admin = create_engine(_postgres_base_url(), isolation_level="AUTOCOMMIT")
    name = f"campaign_multihost_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = _postgres_base_url().set(database=name).render_as_string(hide_password=False)
    nginx_port = free_port()
    prefix = f"multihost-{uuid.uuid4().hex[:8]}"
    settings = {
        "FLASK_SECRET_KEY": SECRET,
        "FLASK_SQLALCHEMY_DATABASE_URI": url,
        "FLASK_SITE_URL": f"http://127.0.0.1:{nginx_port}",
        "FLASK_TRUSTED_PROXIES": "1",
        "FLASK_RATELIMIT_ENABLED": "true",
        "FLASK_RATELIMIT_STORAGE_URI": redis_url,
        "FLASK_RATELIMIT_KEY_PREFIX": prefix,  # this run's own keys in a shared Redis
        "FLASK_RATELIMIT_SIGN": f"{SIGN_LIMIT} per minute",
        "FLASK_RATELIMIT_SIGN_ANY_CAMPAIGN": "1000 per minute",
        "FLASK_MAIL_SERVER": mail_server.host,
        "FLASK_MAIL_PORT": str(mail_server.port),
        "FLASK_MAIL_TIMEOUT": "5",
        "FLASK_OUTBOX_POLL_SECONDS": "0.2",
        "FLASK_OUTBOX_BATCH_SIZE": "2",
        "GUNICORN_WORKERS": "2",  # two "hosts" of two workers on two cores
        "GUNICORN_THREADS": "4",
    }
    processes, app, nginx = [], None, None
    try:
        migrated = subprocess.run([FLASK, "db", "upgrade"], cwd=ROOT, env=site_env(settings),
                                  capture_output=True, text=True, timeout=120)
        assert migrated.returncode == 0, migrated.stdout + migrated.stderr
        app = create_app({"TESTING": True, "SECRET_KEY": SECRET, "SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            for slug in SLUGS:
                make_campaign(slug=slug)
            db.session.remove()

        web = [Gunicorn(f"gunicorn-{host}", free_port(), settings, logs) for host in ("a", "b")]
        processes += web
        workers = [OutboxWorker(f"outbox-{n}", settings, logs) for n in (1, 2)]
        processes += workers
        for server in web:
            server.wait_ready()
        site = site_config(upstreams=[f"127.0.0.1:{server.port}" for server in web],
                           listen=f"127.0.0.1:{nginx_port}", prefix=base / "nginx", uploads=uploads,
                           # Which instance answered (this test's own header).
                           server_lines=("add_header X-Upstream $upstream_addr always;",))
        # One nginx worker: its round robin strictly alternates between the hosts.
        nginx = Nginx(main_config(site, base / "nginx", worker_processes=1), base / "nginx", nginx_port)
        for worker in workers:
            assert worker.process.poll() is None, worker.logs()
        yield Cluster(nginx, web, workers, app, mail_server, redis_url, prefix, uploads)
    finally:
        if nginx:
            nginx.stop()
        for process in processes:
            process.stop()
        if app is not None:
            with app.app_context():
                db.engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        _forget_rate_limits(redis_url, prefix)


def _forget_rate_limits(redis_url: str, prefix: str) -> None:
    import redis
    with contextlib.suppress(Exception):
        client = redis.Redis.from_url(redis_url)
        for key in client.scan_iter(f"*{prefix}*"):
            client.delete(key)
        client.close()


def test_the_deploy_configuration_passes_nginx_t(tmp_path):
    """deploy/nginx/campaign.conf as written (every server, TLS included),
    with and without the optional cache, is a valid nginx configuration
    (only the certificate paths and the log folders are moved)."""
    _require_nginx()
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed for a throwaway certificate (apt-get install openssl)")
    certificate = self_signed_certificate(tmp_path)
    for cache in (False, True):
        site = site_config(upstreams=["127.0.0.1:8000"], prefix=tmp_path, certificate=certificate, cache=cache)
        result = nginx_test(main_config(site, tmp_path), tmp_path)
        assert result.returncode == 0, result.stderr
        assert "[warn]" not in result.stderr, result.stderr


def test_signing_through_nginx_reaches_both_hosts_and_each_email_goes_out_once(cluster):
    with cluster.logs_on_failure():
        slug, run = "through-nginx", uuid.uuid4().hex[:6]
        signers = {f"a{run}-{n}@example.com": new_address() for n in range(12)}
        answers = [cluster.sign(slug, email, source=source) for email, source in signers.items()]

        assert [a.status for a in answers] == [200] * len(signers), [a.body[:300] for a in answers]
        assert all("Check your email" in a.body for a in answers)
        assert {a.headers["X-Upstream"] for a in answers} == cluster.upstreams, "nginx used both hosts"
        rows = cluster.signatures(slug)
        assert sorted(email for _, email, _ in rows) == sorted(signers)
        # The app saw each visitor's own address, passed on by nginx, not nginx's.
        assert {email: ip_hash for _, email, ip_hash in rows} == {
            email: cluster.ip_hash(source) for email, source in signers.items()}

        received = cluster.wait_for_mail(slug, set(signers))
        assert received == dict.fromkeys(signers, 1), "each confirmation sent exactly once by the two workers"
        [message] = cluster.mail.to(next(iter(signers)))
        assert "/confirm/" in message.text
        confirmations = cluster.query(
            "SELECT o.signature_id, o.status FROM outbox_message o JOIN signature s ON s.id = o.signature_id "
            "JOIN campaign c ON c.id = s.campaign_id WHERE c.slug = :slug AND o.kind = 'confirmation'", slug=slug)
        assert sorted(confirmations) == sorted((row_id, "sent") for row_id, _, _ in rows)


def test_static_files_and_images_are_served_by_nginx(cluster):
    with cluster.logs_on_failure():
        css = fetch(cluster.nginx.url, "GET", "/static/css/site.css")
        assert css.status == 200 and css.body == (ROOT / "static/css/site.css").read_text()
        assert css.headers["Cache-Control"] == "public, max-age=3600"
        assert "X-Request-ID" not in css.headers, "nginx answered, not the app"

        name = f"{secrets.token_hex(16)}.png"
        (cluster.uploads / name).write_bytes(b"\x89PNG\r\n\x1a\n")
        image = fetch(cluster.nginx.url, "GET", f"/media/{name}")
        assert image.status == 200 and image.headers["Content-Type"] == "image/png"
        assert image.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert image.headers["X-Content-Type-Options"] == "nosniff" and "X-Request-ID" not in image.headers
        # A name nginx does not have goes to the app, which has none either.
        missing = fetch(cluster.nginx.url, "GET", f"/media/{secrets.token_hex(16)}.png")
        assert missing.status == 404 and "X-Request-ID" in missing.headers


def test_the_signing_rate_limit_holds_across_both_hosts(cluster):
    with cluster.logs_on_failure():
        slug, run, source = "rate-limit", uuid.uuid4().hex[:6], new_address()
        cluster.form_token(slug)
        answers = [cluster.sign(slug, f"b{run}-{n}@example.com", source=source) for n in range(SIGN_LIMIT + 3)]

        assert [a.status for a in answers] == [200] * SIGN_LIMIT + [429] * 3
        # nginx alternates: both hosts counted into one allowance (Redis),
        # and both refuse once it is spent.
        assert {a.headers["X-Upstream"] for a in answers[:SIGN_LIMIT]} == cluster.upstreams
        assert {a.headers["X-Upstream"] for a in answers[SIGN_LIMIT:]} == cluster.upstreams
        # Another visitor is not held back by that one.
        assert cluster.sign(slug, f"b{run}-other@example.com", source=new_address()).status == 200
        assert len(cluster.signatures(slug)) == SIGN_LIMIT + 1


def test_a_client_supplied_forwarded_for_does_not_change_the_rate_limit_key(cluster):
    with cluster.logs_on_failure():
        slug, run, source = "forwarded-for", uuid.uuid4().hex[:6], new_address()
        cluster.form_token(slug)
        forged = [f"1.2.3.{n}" if n % 2 else f"1.2.3.{n}, 10.0.0.{n}" for n in range(SIGN_LIMIT + 3)]
        answers = [cluster.sign(slug, f"c{run}-{n}@example.com", source=source, headers={"X-Forwarded-For": value})
                   for n, value in enumerate(forged)]

        assert [a.status for a in answers] == [200] * SIGN_LIMIT + [429] * 3
        # What the app kept of the address is the client's real one.
        assert {ip_hash for _, _, ip_hash in cluster.signatures(slug)} == {cluster.ip_hash(source)}


class SlowClients:
    """``count`` connections that send part of a request and then a little
    more every half second, never finishing it: half inside the request
    line (another letter of the path), half inside the headers (another
    header)."""

    def __init__(self, port: int, count: int = 40):
        self.sockets, self.stop = [], threading.Event()
        for n in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            in_line = n % 2 == 0
            sock.sendall(b"GET /a" if in_line else b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            self.sockets.append((sock, b"a" if in_line else b"X-Slow: 1\r\n"))
        self.thread = threading.Thread(target=self._trickle, daemon=True)
        self.thread.start()
        time.sleep(0.5)  # the server has taken them all in

    def _trickle(self) -> None:
        while not self.stop.wait(0.5):
            for sock, more in self.sockets:
                with contextlib.suppress(OSError):
                    sock.sendall(more)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        for sock, _ in self.sockets:
            sock.close()


def _healthz_within(base: str, seconds: float) -> Answer | None:
    """/healthz's answer if it comes within ``seconds``, else None."""
    try:
        answer = fetch(base, "GET", "/healthz", timeout=seconds)
    except (TimeoutError, OSError):
        return None
    return answer if answer.seconds < seconds else None


def _visitors(base: str, seconds: float, count: int = 8) -> list[Answer | None]:
    """``count`` visitors asking for /healthz at once; what each got within ``seconds``."""
    answers: list[Answer | None] = [None] * count

    def visit(n: int) -> None:
        answers[n] = _healthz_within(base, seconds)

    visitors = [threading.Thread(target=visit, args=(n,)) for n in range(count)]
    for visitor in visitors:
        visitor.start()
    for visitor in visitors:
        visitor.join(timeout=seconds + 10)
    return answers


def test_slow_clients_do_not_hold_up_other_visitors_behind_nginx(cluster):
    with cluster.logs_on_failure():
        slow = SlowClients(cluster.nginx.port)
        try:
            answers = _visitors(cluster.nginx.url, 1.0)
        finally:
            slow.close()
        assert all(a is not None and a.status == 200 for a in answers), "every visitor answered within a second"

        # The control: the same clients against one gunicorn directly. Each
        # takes a thread as soon as it has sent a byte; a worker whose 4
        # threads are taken leaves every visitor it accepts waiting. (How
        # the clients spread over its 2 workers varies, so not every visitor
        # waits: some do.)
        direct = cluster.web[0]
        slow = SlowClients(direct.port)
        try:
            answers = _visitors(direct.url, 1.5)
        finally:
            slow.close()
        held = sum(a is None for a in answers)
        print(f"straight to gunicorn, {held} of {len(answers)} visitors waited more than 1.5 s")
        assert held >= 1, "without nginx, slow clients hold visitors up"
        # They gone, it answers again.
        deadline = time.monotonic() + 10
        while _healthz_within(direct.url, 2) is None:
            assert time.monotonic() < deadline, "gunicorn did not recover from the slow clients"


def test_a_host_killed_mid_run_loses_no_signature(cluster):
    """Last in this file: it leaves one host down."""
    with cluster.logs_on_failure():
        slug, run = "kill-a-host", uuid.uuid4().hex[:6]
        cluster.form_token(slug)
        results, stop, killed = [], threading.Event(), threading.Event()

        def supporter(k: int) -> None:
            for n in itertools.count():
                if stop.is_set():
                    return
                email, after_kill = f"e{run}-{k}-{n}@example.com", killed.is_set()
                try:
                    status = cluster.sign(slug, email, source=new_address()).status
                except (OSError, http.client.HTTPException) as error:
                    # The host died while nginx was passing its answer on:
                    # nginx can only cut the connection.
                    status = f"cut off ({type(error).__name__})"
                results.append((email, status, after_kill))

        clients = [threading.Thread(target=supporter, args=(k,)) for k in range(4)]
        for client in clients:
            client.start()
        time.sleep(1.5)
        victim = cluster.web[1]
        victim.kill()  # the master and its workers, SIGKILL, at once
        killed.set()
        time.sleep(2.5)
        stop.set()
        for client in clients:
            client.join(timeout=30)

        statuses = Counter(status for _, status, _ in results)
        print(f"answers while one host was killed: {dict(statuses)}")
        answered = {status for status in statuses if isinstance(status, int)}
        assert answered <= {200, 502, 503}, "only a thank-you or nginx's gateway error, never a 500"
        after = [status for _, status, after_kill in results if after_kill]
        assert after.count(200) >= 10, "the other host took over"

        attempted = {email for email, _, _ in results}
        thanked = {email for email, status, _ in results if status == 200}
        rows = cluster.signatures(slug)
        stored = [email for _, email, _ in rows]
        assert len(stored) == len(set(stored)), "no signature stored twice"
        assert thanked <= set(stored), "every thank-you has its signature"
        assert set(stored) <= attempted
        # Each signature is whole: its count and its one confirmation email
        # were written with it, or none of them was.
        [[pending]] = cluster.query("SELECT coalesce(sum(t.signatures), 0) FROM signature_tally t "
                                    "JOIN campaign c ON c.id = t.campaign_id WHERE c.slug = :slug", slug=slug)
        assert pending == len(stored)
        confirmations = Counter(row[0] for row in cluster.query(
            "SELECT o.signature_id FROM outbox_message o JOIN signature s ON s.id = o.signature_id "
            "JOIN campaign c ON c.id = s.campaign_id WHERE c.slug = :slug AND o.kind = 'confirmation'", slug=slug))
        assert confirmations == Counter({row_id: 1 for row_id, _, _ in rows})
        received = cluster.wait_for_mail(slug, set(stored))
        assert received == dict.fromkeys(stored, 1)
