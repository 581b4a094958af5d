"""Unbound extensions; bound to the app in ``create_app``."""
import time

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    # Stable constraint names, so migrations can find and change them.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
mail = Mail()
class _LoginManager(LoginManager):
    """Flask-Login without its remember-me cookie, which this site never
    sets (organisers log in for the session only). Its after-request hook
    looks at the session on every response, and any response that has
    looked at the session varies by Cookie: public pages must not (see
    shared_pages)."""

    def _update_remember_cookie(self, response):
        return response


login_manager = _LoginManager()
babel = Babel()
limiter = Limiter(key_func=get_remote_address)


def on_postgresql() -> bool:
    """Whether the database in use is PostgreSQL (else SQLite)."""
    return db.session.get_bind().dialect.name == "postgresql"


def ping_after_idle(engine, seconds: float) -> None:
    """Check a pooled connection before use only if it has sat idle for
    ``seconds``: a server restarted meanwhile has closed it, and the pool
    then opens a new one. SQLAlchemy's own pre-ping checks every time, one
    more round trip on every request, while a busy process's connections are
    never idle for long. A connection that breaks between two busy moments
    fails that one request (a 503) and the pool replaces every connection
    made before it."""
    @event.listens_for(engine, "checkin")
    def returned(dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def taken(dbapi_connection, record, proxy) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise DisconnectionError("connection lost while idle") from error


def dialect_insert(model):
    """INSERT with ON CONFLICT support for whichever database is in use."""
    from sqlalchemy.dialects import postgresql, sqlite

    return (postgresql.insert if on_postgresql() else sqlite.insert)(model)
