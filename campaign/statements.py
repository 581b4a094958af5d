"""Hot writes described once, run as one statement on PostgreSQL and as a
short transaction elsewhere.

Signing, signing again and confirming each change one row, then do what
follows from that row's new values (add to a count, queue an email), and
perhaps read what the page shows. A ``Chain`` says so once: the first
statement (an INSERT or UPDATE ... RETURNING), the statements that follow
from its row (``row.x`` is a value it returned), and the read.

On PostgreSQL the chain is one statement with data-modifying CTEs, which is a
transaction by itself: run in autocommit it costs one round trip. Signing,
for example, sends:

    WITH first AS (INSERT INTO signature (campaign_id, given_name, ...) VALUES (%(campaign_id)s, ...)
                   ON CONFLICT (campaign_id, email_normalised) DO NOTHING
                   RETURNING signature.id, signature.campaign_id, signature.email_opt_in, ...),
    then_1 AS (INSERT INTO signature_tally (campaign_id, status, email_opt_in, shard, signatures)
               SELECT first.campaign_id, %(status)s, first.email_opt_in, %(shard)s, 1 FROM first WHERE true
               ON CONFLICT (campaign_id, status, email_opt_in, shard)
               DO UPDATE SET signatures = (signature_tally.signatures + excluded.signatures)),
    then_2 AS (INSERT INTO outbox_message (kind, recipient, ..., signature_id, ..., status, created_at, ...)
               SELECT %(kind)s, first.email, ..., first.id, ..., 'queued', first.created_at, ... FROM first)
    SELECT first.id, first.campaign_id, ... FROM first

Elsewhere (SQLite) the same statements run one after another in the
session's transaction, the first's row bound as the parameters ``row_<x>``
of the others, and the transaction is committed. Either way the statements
are built once per dialect and cached: building and compiling them is a
large share of a hot request's time."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Boolean, bindparam, exists, select

from .extensions import db, on_postgresql


class _Columns:
    """The first statement's returned columns as the following statements
    see them: a CTE's columns, or bound parameters named ``row_<column>``."""

    def __init__(self, returning: list[dict], cte=None):
        self._types = {column["name"]: column["type"] for column in returning}
        self._cte = cte

    def __getattr__(self, name: str):
        if self._cte is not None:
            return self._cte.c[name]
        return bindparam(f"row_{name}", type_=self._types[name])


@dataclass(eq=False)
class Chain:
    """One write and what follows from it (see the module docstring)."""

    name: str
    first: Callable[[], object]                       # INSERT/UPDATE ... RETURNING
    then: tuple[Callable[[_Columns], object], ...] = ()
    # What to read afterwards; the chain adds a boolean column ``changed``
    # (did the first statement change a row?). Without it, the result is
    # the first statement's row.
    read: Callable[[], object] | None = None

    def run(self, params: dict, connection=None):
        """Run the chain; returns the read's row (or the first statement's),
        or None. ``connection``: the autocommit connection to use on
        PostgreSQL (see ``connection()``)."""
        if on_postgresql():
            if connection is None:
                with _autocommit() as own:
                    return own.execute(self._statement("one"), params).one_or_none()
            return connection.execute(self._statement("one"), params).one_or_none()
        session = db.session.connection()
        row = session.execute(self._statement("first"), params).one_or_none()
        bound = dict(params)
        if row is not None:
            bound.update({f"row_{key}": value for key, value in row._mapping.items()})
            for statement in self._statement("then"):
                session.execute(statement, bound)
        if self.read is not None:
            row = session.execute(self._statement("read"), {**bound, "row_changed": row is not None}).one_or_none()
        if row is None and self.read is None:
            db.session.rollback()
        else:
            db.session.commit()
        return row

    def _statement(self, part: str):
        return cached(f"{self.name}: {part}", lambda: self._build(part))

    def _build(self, part: str):
        first = self.first()
        returning = first.returning_column_descriptions
        if part == "first":
            return first
        if part == "then":
            columns = _Columns(returning)
            return [step(columns) for step in self.then]
        if part == "read":
            return self.read().add_columns(bindparam("row_changed", type_=Boolean).label("changed"))
        cte = first.cte("first")
        columns = _Columns(returning, cte)
        steps = [step(columns).cte(f"then_{n}") for n, step in enumerate(self.then, 1)]
        if self.read is None:
            final = select(*cte.c)
        else:
            final = self.read().add_columns(exists(select(cte.c[returning[0]["name"]])).label("changed"))
        return final.add_cte(*steps)


def _autocommit():
    """A connection of its own in autocommit, for statements that are
    transactions by themselves; returned to the pool when the block ends."""
    return db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")


@contextmanager
def connection() -> Iterator[object | None]:
    """What several chains in a row run on: one autocommit connection on
    PostgreSQL (one pool checkout for all of them), the session elsewhere."""
    if not on_postgresql():
        yield None
        return
    with _autocommit() as own:
        yield own


_cached: dict[tuple[str, str], object] = {}


def cached(name: str, build: Callable[[], object]):
    """A statement built once per dialect and reused."""
    key = (name, db.session.get_bind().dialect.name)
    statement = _cached.get(key)
    if statement is None:
        statement = _cached[key] = build()
    return statement
