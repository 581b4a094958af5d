"""The second bare Flask app the load figures are compared with: same
gunicorn settings, no ORM, no templates, and a POST that commits one new row
to PostgreSQL (one autocommit ``INSERT ... ON CONFLICT DO NOTHING``).

psycopg_pool is not among the project's requirements, so each gunicorn
thread keeps one psycopg connection of its own, opened on its first
request (after the fork: gunicorn.conf.py preloads the app), which is what
a pool of one connection per thread would give. The table is created by
the benchmark (``create_table``) before the app starts; the database comes
from BENCH_INSERT_DATABASE_URL (a libpq URL)."""
from __future__ import annotations

import os
import threading

import psycopg
from flask import Flask, request

TABLE = "bench_insert"
INSERT = f"INSERT INTO {TABLE} (key) VALUES (%s) ON CONFLICT DO NOTHING"


def create_table(conn: psycopg.Connection) -> None:
    conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
    conn.execute(f"CREATE TABLE {TABLE} (id bigserial PRIMARY KEY, key text NOT NULL UNIQUE, "
                 "created_at timestamptz NOT NULL DEFAULT now())")


def create_app() -> Flask:
    app = Flask(__name__)
    dsn = os.environ["BENCH_INSERT_DATABASE_URL"]
    local = threading.local()

    def connection() -> psycopg.Connection:
        conn = getattr(local, "conn", None)
        if conn is None or conn.closed:
            conn = local.conn = psycopg.connect(dsn, autocommit=True)
        return conn

    @app.get("/")
    def ready():
        return "ready"

    @app.post("/insert")
    def insert():
        connection().execute(INSERT, (request.form["key"],))
        return "inserted", 201

    return app
