"""The campaign site: a Flask application factory."""
from __future__ import annotations

import contextlib
import logging
import os
import secrets
from pathlib import Path

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from sqlalchemy import text
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from . import http, locales
from .config import Defaults
from .extensions import babel, csrf, db, limiter, login_manager, mail, migrate, ping_after_idle

# Repository root: templates/, static/ and migrations/ live beside the package.
ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: config, extensions, blueprints, errors, commands."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    configure(app, test_config)
    configure_logging(app)
    http.init_app(app)
    # Outermost: the language segment of the path is moved aside before anything reads the path.
    locales.init_app(app)
    register_extensions(app)
    register_blueprints(app)
    register_deliveries()
    register_health(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_commands(app)
    return app


def configure(app: Flask, test_config: dict | None) -> None:
    app.config.from_object(Defaults)
    app.config.from_prefixed_env()
    if test_config:
        app.config.from_mapping(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(
            app.instance_path, "campaign.sqlite"
        )
    check_secret_key(app)
    check_limit_store(app)
    check_webhook_relaxation(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # Fail fast when the server is away, rather than hang a worker.
        options = app.config["SQLALCHEMY_ENGINE_OPTIONS"] = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
        options.setdefault("connect_args", {"connect_timeout": 3})
        options.setdefault("pool_timeout", 5)
    # Cookies only over HTTPS when the site is served over HTTPS.
    if app.config["SITE_URL"].startswith("https://"):
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True


def configure_logging(app: Flask) -> None:
    """One line per request on standard error (gunicorn collects it)."""
    request_log = logging.getLogger("campaign.request")
    if not request_log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        request_log.addHandler(handler)
        request_log.propagate = False
    request_log.setLevel(app.config["REQUEST_LOG_LEVEL"])


class ConfigurationError(RuntimeError):
    pass


def check_secret_key(app: Flask) -> None:
    """Refuse to run in production without a real secret key; in debug or
    testing, use a random one kept in the instance folder."""
    key = app.config.get("SECRET_KEY")
    if key:
        if not (app.debug or app.testing) and len(str(key)) < 32:
            raise ConfigurationError(
                "FLASK_SECRET_KEY is too short: use at least 32 random characters, "
                "e.g. python -c 'import secrets; print(secrets.token_hex(32))'"
            )
        return
    if not (app.debug or app.testing):
        raise ConfigurationError(
            "FLASK_SECRET_KEY is not set. Set it to a long random value, e.g. "
            "export FLASK_SECRET_KEY=$(python -c 'import secrets; print(secrets.token_hex(32))'); "
            "for local development run with FLASK_DEBUG=1 (make run)."
        )
    key_file = Path(app.instance_path) / "dev-secret-key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    app.config["SECRET_KEY"] = key_file.read_text().strip()


def check_webhook_relaxation(app: Flask) -> None:
    """Webhooks may reach private addresses only in tests (their receiver
    is on 127.0.0.1): anywhere else that would let an endpoint's URL reach
    the site's own network."""
    if app.config.get("WEBHOOK_ALLOW_PRIVATE_ADDRESSES") and not app.testing:
        raise ConfigurationError(
            "WEBHOOK_ALLOW_PRIVATE_ADDRESSES is for the test suite only: it lets webhooks reach loopback and "
            "private network addresses. Unset it.")


def check_limit_store(app: Flask) -> None:
    """Rate limits kept in each process's memory multiply with the processes
    (three workers let three times the limit through): outside debug and
    tests, refuse to start that way."""
    config = app.config
    if (app.debug or app.testing or not config["RATELIMIT_ENABLED"]
            or not str(config["RATELIMIT_STORAGE_URI"]).startswith("memory://")
            or int(config["WEB_WORKERS"]) <= 1):
        return
    raise ConfigurationError(
        f"Rate limits are kept in memory (FLASK_RATELIMIT_STORAGE_URI=memory://) but {config['WEB_WORKERS']} "
        "workers serve requests, so every limit would be multiplied. Share them: "
        "FLASK_RATELIMIT_STORAGE_URI=redis://host:6379/0 (or run one worker, or, for a load test only, "
        "FLASK_RATELIMIT_ENABLED=false).")


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        with app.app_context():
            ping_after_idle(db.engine, app.config["DATABASE_PING_AFTER_IDLE_SECONDS"])
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    mail.init_app(app)
    # No app-wide current_user in templates: reading it opens the session,
    # and public pages must not touch the session (see campaign/shared_pages).
    login_manager.init_app(app, add_context_processor=False)
    login_manager.login_view = "organiser.login"
    login_manager.login_message = None
    babel.init_app(app, locale_selector=locales.selected_language)
    limiter.init_app(app)


def register_deliveries() -> None:
    """The outbox's transports, kinds of message and producers: each module
    registers its own when it is imported."""
    from . import (  # noqa: F401
        account_mail,
        broadcasts,
        business_mail,
        confirm_reminders,
        freeze_mail,
        privacy_mail,
        retention,
        signature_mail,
        smtp,
        update_mail,
        webhooks,
    )


def register_health(app: Flask) -> None:
    @app.get("/healthz")
    def healthz():
        """200 when the database answers, 503 otherwise; no session, no cookie."""
        try:
            with db.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:
            return {"status": "unavailable"}, 503
        return {"status": "ok"}, 200


def register_blueprints(app: Flask) -> None:
    from .api import bp as api_bp
    from .dev.views import bp as dev_bp
    from .organiser import (  # noqa: F401  (their pages join the organiser blueprint)
        activity,
        business_pages,
        consent_record,
        embed_tab,
        integrations,
        languages,
        pledge_reasons,
        question_editor,
        scorecard_editor,
        security,
        site_admin,
        sources,
    )
    from .organiser.views import bp as organiser_bp
    from .public import (  # noqa: F401  (their pages join the public blueprint)
        check_in,
        embed,
        my_data,
        pause_pages,
        posters,
        previews,
        site_pages,
    )
    from .public.views import bp as public_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(organiser_bp)
    app.register_blueprint(dev_bp)
    app.register_blueprint(api_bp)


def register_errorhandlers(app: Flask) -> None:
    def page(status: int, template: str):
        def handler(error):
            return render_template(f"errors/{template}.html", error=error), status
        return handler

    for status in (400, 404, 405, 413, 429, 500, 503):
        app.register_error_handler(status, page(status, str(status)))
    app.register_error_handler(CSRFError, page(400, "csrf"))

    def database_unavailable(error):
        """The database is down or unreachable: a friendly 503, quickly."""
        app.logger.warning("database unavailable: %s", type(error).__name__)
        with contextlib.suppress(Exception):  # the connection is gone; the pool will replace it
            db.session.rollback()
        return render_template("errors/503.html"), 503, {"Retry-After": "30"}

    for error in (OperationalError, InterfaceError, PoolTimeout):
        app.register_error_handler(error, database_unavailable)


def register_template_helpers(app: Flask) -> None:
    from . import countries, formats, mail_merge, site_settings
    from .form_base import error_title, shows_form_errors
    from .markup import render_markdown

    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["error_title"] = error_title
    app.jinja_env.globals["shows_form_errors"] = shows_form_errors
    # What people read in the page's language: a country's name, numbers, days and times (see formats).
    app.jinja_env.filters["country_name"] = countries.local_name
    app.jinja_env.filters["number"] = formats.number
    app.jinja_env.globals["ngettext"] = formats.template_ngettext
    app.jinja_env.filters["percent"] = formats.percent
    app.jinja_env.filters["day"] = formats.day
    app.jinja_env.filters["day_and_time"] = formats.day_and_time
    app.jinja_env.globals["thousands_separator"] = formats.thousands_separator
    app.jinja_env.filters["bdi"] = formats.isolated
    app.jinja_env.globals["site"] = site_settings.site
    app.jinja_env.globals["site_name"] = lambda: site_settings.site().name
    app.jinja_env.globals["privacy_notice_url"] = mail_merge.privacy_notice_url
    app.jinja_env.globals["my_data_url"] = mail_merge.my_data_url


def register_commands(app: Flask) -> None:
    from .cli import campaign_cli, demo_cli, dev_cli, organiser_cli, outbox_cli, privacy_cli

    for group in (demo_cli, outbox_cli, campaign_cli, organiser_cli, dev_cli, privacy_cli):
        app.cli.add_command(group)
