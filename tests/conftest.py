"""Fixtures: every test runs on SQLite, and again on PostgreSQL when
TEST_DATABASE_URL is set. Mail goes to a real SMTP server (aiosmtpd)."""
from __future__ import annotations

import contextlib
import os
import threading
import uuid
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from jinja2 import BytecodeCache
from sqlalchemy import create_engine, make_url, text
from werkzeug.routing import Rule
from werkzeug.serving import make_server

from campaign import create_app, outbox
from campaign.extensions import db

from .smtp import MailServer, free_port

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])
SECRET = "test-secret-key-that-is-long-enough-0123456789"


def _postgres_base_url():
    url = make_url(os.environ["TEST_DATABASE_URL"])
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogs():
    """Each language's catalog compiled, when missing or older than its
    messages.po, as `make test` does: `pytest` alone works on a fresh
    clone, whose pages are then in every language."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    for po in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalog = read_po(source, locale=po.parent.parent.name)
        written = mo.with_name(f"messages.{os.getpid()}.mo-new")
        with written.open("wb") as target:
            write_mo(target, catalog)
        written.replace(mo)  # in one step: a test running meanwhile never reads half a catalog


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory):
    """A fresh database per backend, built by running the migrations."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
        drop = None
    else:
        base = _postgres_base_url()
        name = f"campaign_test_{uuid.uuid4().hex[:12]}"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = base.set(database=name).render_as_string(hide_password=False)

        def drop():
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()

    app = create_app({"TESTING": True, "SECRET_KEY": SECRET, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        db.engine.dispose()
    yield url
    if drop:
        drop()


@pytest.fixture(scope="session")
def mail_server():
    server = MailServer().start()
    yield server
    server.stop()


@pytest.fixture
def smtp(mail_server):
    """The test mail server, emptied and answering normally."""
    mail_server.reset()
    if mail_server._controller is None:
        mail_server.start()
    yield mail_server
    mail_server.reset()


def _empty_tables():
    """Every table empty and every id counting from 1 again, as in a new
    database. On PostgreSQL only the tables with rows are emptied and only
    the sequences that were used are restarted: a TRUNCATE of every table
    took 150 ms, longer than most tests."""
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        probe = " UNION ALL ".join(f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM {name})" for name in tables)
        filled = {name for (name,) in db.session.execute(text(probe))}
        for name in tables:
            if name in filled:
                db.session.execute(text(f"DELETE FROM {name}"))
        used = db.session.execute(text(
            "SELECT schemaname, sequencename FROM pg_sequences WHERE last_value IS NOT NULL")).all()
        for schema, sequence in used:
            db.session.execute(text(f'ALTER SEQUENCE "{schema}"."{sequence}" RESTART'))
    else:
        for name in tables:
            db.session.execute(text(f"DELETE FROM {name}"))
    db.session.commit()


class _TemplatesCompiledOnce(BytecodeCache):
    """Every test builds its own app, and each app its own Jinja
    environment: without a shared cache each one compiles the templates it
    renders again, which was most of the suite's time. Jinja keys the code
    by the template's source, so an edited template is compiled afresh."""

    def __init__(self):
        self._code = {}

    def load_bytecode(self, bucket):
        code = self._code.get((bucket.key, bucket.checksum))
        if code is not None:
            bucket.code = code

    def dump_bytecode(self, bucket):
        self._code[(bucket.key, bucket.checksum)] = bucket.code


_COMPILED_TEMPLATES = _TemplatesCompiledOnce()

# Likewise each app compiles a URL builder for every route (Python code made
# from the rule): the same few hundred functions for every test. A builder
# depends only on the rule's parts and defaults (it reads the converters
# from the rule it is bound to when called), so one compiled per rule serves
# every app of the run.
_compile_builder = Rule._compile_builder
_BUILDERS: dict = {}


def _builder_compiled_once(rule, append_unknown=True):
    defaults = tuple(sorted((name, repr(value)) for name, value in (rule.defaults or {}).items()))
    key = (rule.rule, tuple(rule._trace), defaults, append_unknown)
    builder = _BUILDERS.get(key)
    if builder is None:
        builder = _BUILDERS[key] = _compile_builder(rule, append_unknown)
    return builder


Rule._compile_builder = _builder_compiled_once


def make_app(database_url, mail_server, tmp_path, **overrides):
    config = {
        "TESTING": True,
        "SECRET_KEY": SECRET,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SITE_URL": "http://campaigns.test",
        "MAIL_SERVER": mail_server.host,
        "MAIL_PORT": mail_server.port,
        "MAIL_TIMEOUT": 5,
        "RATELIMIT_ENABLED": False,
        "SIGNATURE_RESEND_QUIET_SECONDS": 0,
        "DEV_MAIL_FOLDER": str(tmp_path / "dev-mail"),
        "REQUEST_LOG_LEVEL": "WARNING",
        # Most tests look at a page right after changing it.
        "PUBLIC_MICROCACHE_SECONDS": 0,
        "PUBLIC_LIVE_SECONDS": 0,
        "SITE_SETTINGS_SECONDS": 0,
    }
    config.update(overrides)
    app = create_app(config)
    app.jinja_env.bytecode_cache = _COMPILED_TEMPLATES
    app.test_client_class = BrowserLikeClient
    return app


class BrowserLikeClient(FlaskClient):
    """A test client that says what every current browser says with a
    request from our own pages: `Sec-Fetch-Site: same-origin` (public forms
    refuse a POST that says nothing about where it comes from). A test
    passes its own value to say otherwise, or an empty one to say nothing."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.environ_base["HTTP_SEC_FETCH_SITE"] = "same-origin"


@contextlib.contextmanager
def fresh_app(database_url, mail_server, tmp_path, **overrides):
    """An app (``make_app``) on the tests' database with every table
    emptied; its connections are closed when the block ends."""
    app = make_app(database_url, mail_server, tmp_path, **overrides)
    with app.app_context():
        _empty_tables()
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@contextlib.contextmanager
def served(app, port: int | None = None):
    """``app`` answering on 127.0.0.1 (on ``port``, else a free one) from a
    thread while the block runs; yields the port."""
    server = make_server("127.0.0.1", port or free_port(), app, threaded=True)
    # A short poll interval makes shutdown() return promptly.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.port
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture
def app(database_url, mail_server, tmp_path):
    with fresh_app(database_url, mail_server, tmp_path) as app:
        yield app


@pytest.fixture
def app_with(database_url, mail_server, tmp_path):
    """Builds apps with a test's own settings, ``app_with(DEBUG=True)``,
    each on the emptied database and closed after the test."""
    with contextlib.ExitStack() as made:
        yield lambda **overrides: made.enter_context(fresh_app(database_url, mail_server, tmp_path, **overrides))


@pytest.fixture
def limited_app(database_url, mail_server, tmp_path):
    """An app whose sign form takes three POSTs a minute from one client
    (limits kept in this process's memory)."""
    with fresh_app(database_url, mail_server, tmp_path, RATELIMIT_ENABLED=True,
                   RATELIMIT_SIGN="3 per minute", RATELIMIT_STORAGE_URI="memory://") as app:
        yield app


@pytest.fixture
def ctx(app):
    """An application context for tests that call services directly."""
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def deliver(app, smtp):
    """Run the outbox worker once, as `flask outbox work --once` would."""
    def run():
        with app.app_context():
            result = outbox.drain()
            db.session.remove()
            return result
    return run


@pytest.fixture
def backend(database_url):
    return "postgresql" if database_url.startswith("postgresql") else "sqlite"
