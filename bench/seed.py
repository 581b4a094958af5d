"""Fill a PostgreSQL database with one campaign of N confirmed signatures,
fast (COPY), and rebuild its stored counts. Used by the benchmarks."""
from __future__ import annotations

import datetime as dt
import random
import time

import psycopg
from sqlalchemy import create_engine, make_url, text

COUNTRIES = ["GB", "US", "FR", "DE", "ES", "IT", "NL", "IE", "CA", "AU", "BR", "IN", "MX", "SE", "NO",
             "DK", "FI", "PL", "PT", "BE", "AT", "CH", "NZ", "ZA", "JP", "KR", "AR", "CL", "CO", "NG"]


def psycopg_dsn(url: str) -> str:
    u = make_url(url)
    return u.set(drivername="postgresql").render_as_string(hide_password=False)


def fresh_database(server_url: str, name: str) -> str:
    """Create (or re-create) database ``name`` on the server; returns its URL."""
    base = make_url(server_url)
    if base.drivername == "postgresql":
        base = base.set(drivername="postgresql+psycopg")
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def copy_signatures(url: str, campaign_id: int, n: int, days: int = 30, seed: int = 1) -> float:
    """COPY ``n`` confirmed signatures into the campaign, each last modified
    when it was confirmed (over ``days``); returns seconds taken."""
    rng = random.Random(seed)
    start_day = dt.datetime(2026, 1, 1)
    columns = ("campaign_id, given_name, family_name, email, email_normalised, email_domain, country, "
               "postal_code, email_opt_in, show_name, status, created_at, confirmed_at, modified_at, ip_hash, "
               "emails_sent")
    began = time.perf_counter()
    with psycopg.connect(psycopg_dsn(url)) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY signature ({columns}) FROM STDIN") as copy:
            for i in range(n):
                created = start_day + dt.timedelta(seconds=rng.randrange(days * 86400))
                confirmed = created + dt.timedelta(minutes=5)
                email = f"person{i}@example{i % 97}.org"
                copy.write_row((
                    campaign_id, f"Given{i}", f"Family{i}", email, email, f"example{i % 97}.org",
                    COUNTRIES[i % len(COUNTRIES)], "AB1 2CD", i % 3 == 0, i % 2 == 0, "confirmed",
                    created, confirmed, confirmed, f"{i % 5000:032x}", 1,
                ))
        conn.commit()
        cur.execute("ANALYZE signature")
    return time.perf_counter() - began
