"""Exports: signature counts by day, country or in total (web and command
line, CSV and JSON) checked against counts worked out here from the rows;
the signer list, safe to open in a spreadsheet and streamed in constant
memory; and a record of every export."""
from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import tracemalloc
from collections import Counter

import pytest
from babel.dates import format_date, format_time
from sqlalchemy import insert, select, update

from campaign import counts, exports, moderation, signing
from campaign.extensions import db
from campaign.models import ExportRecord, Signature, SignatureStatus

from .builders import confirmed_signatures, log_in, make_campaign, make_organiser

D1, D2, D3 = dt.date(2031, 3, 1), dt.date(2031, 3, 2), dt.date(2031, 3, 5)
COUNTRY_NAMES = {"GB": "United Kingdom", "FR": "France", "DE": "Germany", "US": "United States"}


def at(day: dt.date, hh=12, mm=0, ss=0, us=0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hh, mm, ss, us)


@pytest.fixture
def mixed(ctx):
    """A campaign with confirmed signatures over three days and four countries,
    two pending, one invalidated; and another campaign's signature beside it."""
    campaign = make_campaign(slug="mixed")
    confirmed_on = {
        ("gb1@example.com", "GB"): at(D1, 23, 59, 59, 999999),  # the last moment of D1
        ("gb2@example.com", "GB"): at(D2, 0, 0, 0),              # the first of D2
        ("gb3@example.com", "GB"): at(D3),
        ("fr1@example.com", "FR"): at(D1, 8),
        ("fr2@example.com", "FR"): at(D2, 9),
        ("de1@example.com", "DE"): at(D3, 17),
        ("us1@example.com", "US"): at(D2, 22),
        ("bad@example.com", "GB"): at(D1, 10),
    }
    made = confirmed_signatures(campaign, list(confirmed_on))
    for signature, when in zip(made, confirmed_on.values()):
        db.session.execute(update(Signature).where(Signature.id == signature.id).values(confirmed_at=when))
    db.session.commit()
    for email, country in (("pending1@example.com", "GB"), ("pending2@example.com", "JP")):
        signing.sign(campaign, signing.Pledge("Pat", "Pending", email, country, None, False, False))
    counts.recount(campaign)
    moderation.invalidate(campaign, moderation.Criteria(email="bad@example.com"), None, "duplicate")
    other = make_campaign(slug="elsewhere")
    confirmed_signatures(other, [("other@example.com", "GB")])
    make_organiser(campaigns=[campaign])
    return campaign


def counted_rows(campaign_id: int):
    """(confirmed_at, country) of the confirmed signatures, straight from the rows."""
    db.session.expire_all()
    return db.session.execute(
        select(Signature.confirmed_at, Signature.country)
        .where(Signature.campaign_id == campaign_id, Signature.status == SignatureStatus.CONFIRMED)
    ).all()


def expected(campaign_id: int, by: str) -> list[dict]:
    """The figures worked out independently of the stored tallies."""
    rows = counted_rows(campaign_id)
    if by == "total":
        return [{"signatures": len(rows)}]
    if by == "day":
        days = Counter(when.date().isoformat() for when, _ in rows)
        return [{"date": day, "signatures": n} for day, n in sorted(days.items())]
    countries = Counter(country for _, country in rows)
    return sorted(({"country": code, "country_name": COUNTRY_NAMES[code], "signatures": n}
                   for code, n in countries.items()), key=lambda r: (-r["signatures"], r["country"]))


def parse(body: str, fmt: str) -> list[dict]:
    if fmt == "json":
        return json.loads(body)
    rows = list(csv.DictReader(io.StringIO(body)))
    return [{k: int(v) if k == "signatures" else v for k, v in row.items()} for row in rows]


HEADERS = {"day": "date,signatures", "country": "country,country_name,signatures", "total": "signatures"}
BREAKDOWNS = [(by, fmt) for by in ("day", "country", "total") for fmt in ("csv", "json")]


def test_the_fixture_has_what_the_exports_must_tell_apart(mixed):
    """Sanity: 7 confirmed over 3 days and 4 countries; pending and invalidated rows exist."""
    assert expected(mixed.id, "total") == [{"signatures": 7}]
    assert expected(mixed.id, "day") == [
        {"date": "2031-03-01", "signatures": 2}, {"date": "2031-03-02", "signatures": 3},
        {"date": "2031-03-05", "signatures": 2}]
    statuses = Counter(db.session.execute(select(Signature.status).where(Signature.campaign_id == mixed.id)).scalars())
    assert statuses == {"confirmed": 7, "pending": 2, "invalidated": 1}


# --- Counts on the web ----------------------------------------------------------

@pytest.mark.parametrize("by, fmt", BREAKDOWNS, ids=[f"{b}-{f}" for b, f in BREAKDOWNS])
def test_a_member_downloads_counts_that_match_the_signatures(mixed, client, by, fmt):
    """Counts by day/country/total as CSV/JSON: exact headers, confirmed signatures only."""
    log_in(client)
    response = client.get(f"/organiser/c/mixed/export/counts?by={by}&format={fmt}")
    assert response.status_code == 200
    assert response.mimetype == ("text/csv" if fmt == "csv" else "application/json")
    assert response.headers["Content-Disposition"] == f'attachment; filename="mixed-signatures-by-{by}.{fmt}"'
    body = response.get_data(as_text=True)
    if fmt == "csv":
        assert body.splitlines()[0] == HEADERS[by]
    else:
        assert all(list(row) == HEADERS[by].split(",") for row in json.loads(body))
    assert parse(body, fmt) == expected(mixed.id, by)


def test_counts_of_a_campaign_with_no_signatures_are_empty_but_well_formed(ctx, client):
    """No signatures: a header only, an empty list, and a total of 0."""
    campaign = make_campaign(slug="quiet")
    make_organiser(campaigns=[campaign])
    log_in(client)
    get = lambda by, fmt: client.get(f"/organiser/c/quiet/export/counts?by={by}&format={fmt}").get_data(as_text=True)
    assert get("day", "csv") == "date,signatures\n"
    assert json.loads(get("country", "json")) == []
    assert parse(get("total", "csv"), "csv") == [{"signatures": 0}]


@pytest.mark.parametrize("query", ["by=week", "format=xml", "by=day&format=", "by=%00"],
                         ids=["unknown-breakdown", "unknown-format", "empty-format", "nul-byte"])
def test_an_unknown_breakdown_or_format_is_not_found_and_not_recorded(mixed, client, query):
    """Anything but day/country/total and csv/json is a 404, and is not logged as an export."""
    log_in(client)
    assert client.get(f"/organiser/c/mixed/export/counts?{query}").status_code == 404
    assert db.session.execute(select(ExportRecord)).first() is None


def test_the_counts_default_to_the_total_as_csv(mixed, client):
    """With no options, the export is the total as CSV."""
    log_in(client)
    assert client.get("/organiser/c/mixed/export/counts").get_data(as_text=True) == "signatures\n7\n"


def test_the_stored_counts_follow_the_rows_after_a_recount(mixed, client):
    """Rows moved to another day and recounted: the export follows them."""
    db.session.execute(update(Signature).where(Signature.campaign_id == mixed.id,
                                               Signature.status == SignatureStatus.CONFIRMED)
                       .values(confirmed_at=at(D3, 1)))
    db.session.commit()
    counts.recount(mixed)
    log_in(client)
    body = client.get("/organiser/c/mixed/export/counts?by=day&format=json").get_data(as_text=True)
    assert json.loads(body) == [{"date": "2031-03-05", "signatures": 7}] == expected(mixed.id, "day")


# --- Counts on the command line ------------------------------------------------------

@pytest.mark.parametrize("by, fmt", BREAKDOWNS, ids=[f"{b}-{f}" for b, f in BREAKDOWNS])
def test_the_command_line_export_prints_the_same_counts(mixed, runner, by, fmt):
    """`flask campaign export SLUG --by --format` writes the figures to standard output."""
    result = runner.invoke(args=["campaign", "export", "mixed", "--by", by, "--format", fmt])
    assert result.exit_code == 0, result.output
    assert parse(result.output, fmt) == expected(mixed.id, by)
    if fmt == "csv":
        assert result.output.splitlines()[0] == HEADERS[by]


def test_the_command_line_export_writes_to_a_file(mixed, runner, tmp_path):
    """--output FILE writes the export there instead."""
    target = tmp_path / "by-country.json"
    result = runner.invoke(args=["campaign", "export", "mixed", "--by", "country", "--format", "json",
                                 "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert result.output == ""
    assert json.loads(target.read_text(encoding="utf-8")) == expected(mixed.id, "country")


def test_the_command_line_export_defaults_to_the_total_as_csv(mixed, runner):
    """No options: the total, as CSV, on standard output."""
    assert runner.invoke(args=["campaign", "export", "mixed"]).output == "signatures\n7\n"


@pytest.mark.parametrize("args, message", [
    (["campaign", "export", "no-such-campaign"], "No campaign with slug 'no-such-campaign'"),
    (["campaign", "export", "mixed", "--by", "week"], "Invalid value for '--by'"),
    (["campaign", "export", "mixed", "--format", "xlsx"], "Invalid value for '--format'"),
], ids=["unknown-campaign", "unknown-breakdown", "unknown-format"])
def test_the_command_line_export_refuses_what_it_cannot_do(mixed, runner, args, message):
    """Unknown campaign or option: a non-zero exit with a message, and nothing recorded."""
    result = runner.invoke(args=args)
    assert result.exit_code != 0
    assert message in result.output
    assert db.session.execute(select(ExportRecord)).first() is None


# --- Counts by source ---------------------------------------------------------------------

SOURCES = {"gb1@example.com": "newsletter", "gb2@example.com": "newsletter", "de1@example.com": "newsletter",
           "fr1@example.com": "poster", "us1@example.com": "=cmd|' /C calc'!A0",
           # Not counted: pending, invalidated, another campaign's.
           "pending1@example.com": "poster", "bad@example.com": "poster", "other@example.com": "newsletter"}


@pytest.fixture
def sourced(mixed):
    """The mixed campaign with sources on some signatures (one stored as a
    formula, as no link could leave it, to show the export still guards)."""
    for email, source in SOURCES.items():
        db.session.execute(update(Signature).where(Signature.email == email).values(source=source))
    db.session.commit()
    return mixed


def expected_by_source(campaign_id: int, fmt: str) -> list[dict]:
    """Confirmed signatures by source worked out from the rows; no source counts under ""."""
    db.session.expire_all()
    sources = Counter(source or "" for source in db.session.execute(
        select(Signature.source).where(Signature.campaign_id == campaign_id,
                                       Signature.status == SignatureStatus.CONFIRMED)).scalars())
    shown = (lambda name: "'" + name if name[:1] in "=+-@" and name else name) if fmt == "csv" else (lambda name: name)
    return [{"source": shown(name), "signatures": n}
            for name, n in sorted(sources.items(), key=lambda item: (-item[1], item[0]))]


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_counts_by_source_match_the_signatures(sourced, client, runner, fmt):
    """The web and the command line agree with the rows: confirmed only, no source under an empty one."""
    log_in(client)
    response = client.get(f"/organiser/c/mixed/export/counts?by=source&format={fmt}")
    assert response.headers["Content-Disposition"] == f'attachment; filename="mixed-signatures-by-source.{fmt}"'
    body = response.get_data(as_text=True)
    result = runner.invoke(args=["campaign", "export", "mixed", "--by", "source", "--format", fmt])
    assert result.exit_code == 0, result.output
    assert result.output == body
    assert parse(body, fmt) == expected_by_source(sourced.id, fmt)
    assert [row["signatures"] for row in parse(body, fmt)] == [3, 2, 1, 1]
    if fmt == "csv":
        assert body.splitlines()[0] == "source,signatures"
        assert ",2" in body.splitlines() and "'=cmd|' /C calc'!A0,1" in body, "a formula-like source is neutralised"
    else:
        assert all(list(row) == ["source", "signatures"] for row in json.loads(body))


def test_counts_by_source_are_recorded_like_every_export(sourced, client):
    log_in(client)
    client.get("/organiser/c/mixed/export/counts?by=source&format=csv")
    assert db.session.execute(select(ExportRecord.what)).scalars().all() == ["counts by source (csv)"]


# --- The signer list ---------------------------------------------------------------------

SIGNER_HEADER = ["given_name", "family_name", "email", "country", "postal_code", "email_opt_in",
                 "show_name", "signed_at", "confirmed_at", "status", "consent_version", "language"]


def signer_rows(client, slug):
    response = client.get(f"/organiser/c/{slug}/export/signers.csv")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    response.close()
    return list(csv.reader(io.StringIO(body, newline="")))


_rows = itertools.count(1)


def add_signature(campaign, **fields):
    """A signature row as stored, for values the signing form would refuse."""
    values = {"campaign_id": campaign.id, "given_name": "Sam", "family_name": "Signer",
              "email": f"row{next(_rows)}@example.com", "country": "GB", "status": SignatureStatus.CONFIRMED, "created_at": at(D1),
              "confirmed_at": at(D1, 13)}
    values.update(fields)
    values.setdefault("email_normalised", values["email"].lower())
    db.session.add(Signature(**values))
    db.session.commit()


def test_the_signer_list_has_one_row_per_signature_with_every_column(ctx, client):
    """Names, email, country, postcode, consents, times and status for every signature, the
    version of the consents' wording it agreed to (none for these rows, made without a form), and
    the language it was signed in (the campaign's default for a row that recorded none)."""
    campaign = make_campaign(slug="signers")
    make_organiser(campaigns=[campaign])
    add_signature(campaign, given_name="Ada", family_name="Lovelace", email="Ada@Example.com",
                  postal_code="SW1A 1AA", email_opt_in=True, show_name=False,
                  created_at=at(D1, 9, 15, 30, 999999), confirmed_at=at(D1, 9, 20, 1))
    add_signature(campaign, given_name="Grace", family_name="Hopper", email="grace@example.com",
                  country="US", postal_code=None, email_opt_in=False, show_name=True,
                  status=SignatureStatus.PENDING, created_at=at(D2, 18), confirmed_at=None, language="es")
    add_signature(campaign, given_name="Mallory", family_name="Fake", email="mallory@example.com",
                  status=SignatureStatus.INVALIDATED)
    other = make_campaign(slug="not-these")
    add_signature(other, given_name="Elsewhere", email="elsewhere@example.com")
    log_in(client)
    rows = signer_rows(client, "signers")
    assert rows[0] == SIGNER_HEADER
    assert rows[1:] == [
        ["Ada", "Lovelace", "Ada@Example.com", "GB", "SW1A 1AA", "yes", "no",
         "2031-03-01T09:15:30Z", "2031-03-01T09:20:01Z", "confirmed", "", "en"],
        ["Grace", "Hopper", "grace@example.com", "US", "", "no", "yes", "2031-03-02T18:00:00Z", "", "pending", "",
         "es"],
        ["Mallory", "Fake", "mallory@example.com", "GB", "", "no", "no",
         "2031-03-01T12:00:00Z", "2031-03-01T13:00:00Z", "invalidated", "", "en"],
    ]


def test_the_signer_list_is_not_cached(mixed, client):
    """Personal data: the download is marked no-store and is an attachment."""
    log_in(client)
    response = client.get("/organiser/c/mixed/export/signers.csv")
    assert "no-store" in {d.strip() for d in response.headers["Cache-Control"].split(",")}
    assert response.headers["Content-Disposition"] == 'attachment; filename="mixed-signers.csv"'
    assert response.mimetype == "text/csv"
    response.close()


FORMULAS = ["=HYPERLINK(\"https://evil.example\",\"x\")", "+1", "-2", "@SUM(A1:A9)", "\tx", "=1+1"]


@pytest.mark.parametrize("column", ["given_name", "family_name", "postal_code"])
def test_formula_like_cells_come_out_with_a_leading_quote(ctx, client, column):
    """A cell a spreadsheet would run as a formula starts with ' in the signer list."""
    campaign = make_campaign(slug="formulas")
    make_organiser(campaigns=[campaign])
    values = [v[:16] for v in FORMULAS] if column == "postal_code" else FORMULAS  # postcodes are short
    for i, value in enumerate(values):
        add_signature(campaign, email=f"f{i}@example.com", **{column: value})
    add_signature(campaign, email="plain@example.com", **{column: "Plain"})
    add_signature(campaign, email="inner@example.com", **{column: "a=b+c"})
    log_in(client)
    index = SIGNER_HEADER.index(column)
    cells = [row[index] for row in signer_rows(client, "formulas")[1:]]
    assert cells == ["'" + value for value in values] + ["Plain", "a=b+c"]


@pytest.mark.parametrize("name", ["\rx", "Ann\r=1+1", "\r=HYPERLINK(\"https://evil.example\")", "Bo\r\n-2"],
                         ids=["leading-cr", "cr-then-formula", "cr-then-hyperlink", "crlf-then-minus"])
def test_a_carriage_return_cannot_split_a_row_or_smuggle_a_formula(ctx, client, name):
    """A name with a carriage return stays one cell of one row, and no cell starts a formula."""
    campaign = make_campaign(slug="carriage")
    make_organiser(campaigns=[campaign])
    add_signature(campaign, given_name=name, email="cr@example.com")
    add_signature(campaign, given_name="Next", email="next@example.com")
    log_in(client)
    rows = signer_rows(client, "carriage")
    assert [len(row) for row in rows] == [len(SIGNER_HEADER)] * 3
    expected_cell = "'" + name if name.startswith(("\r", "=", "+", "-", "@", "\t")) else name
    assert rows[1][0] == expected_cell and rows[2][0] == "Next"
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_an_email_that_looks_like_a_formula_is_neutralised_too(ctx, client):
    """Even the address column cannot start a formula."""
    campaign = make_campaign(slug="formula-email")
    make_organiser(campaigns=[campaign])
    add_signature(campaign, email="=cmd@example.com")
    add_signature(campaign, email="-minus@example.com")
    log_in(client)
    emails = [row[2] for row in signer_rows(client, "formula-email")[1:]]
    assert emails == ["'=cmd@example.com", "'-minus@example.com"]


# --- A large signer list --------------------------------------------------------------------

LARGE = 20_000


@pytest.fixture
def large(app):
    """The id of a campaign with 20,000 confirmed signatures, inserted in bulk."""
    with app.app_context():
        campaign = make_campaign(slug="large")
        make_organiser(campaigns=[campaign])
        when = at(D1)
        db.session.execute(insert(Signature), [{
            "campaign_id": campaign.id, "given_name": f"Given{i}", "family_name": "Family-Name",
            "email": f"person{i}@example.com", "email_normalised": f"person{i}@example.com",
            "email_domain": "example.com", "country": "GB", "postal_code": "SW1A 1AA",
            "status": SignatureStatus.CONFIRMED, "created_at": when, "confirmed_at": when,
        } for i in range(LARGE)])
        db.session.commit()
        return campaign.id


def test_a_large_signer_list_is_streamed_in_many_chunks(large, client):
    """20,000 signatures arrive as a stream of chunks, every row present."""
    log_in(client)
    response = client.get("/organiser/c/large/export/signers.csv")
    assert response.status_code == 200 and response.is_streamed
    chunks = []
    for chunk in response.iter_encoded():
        chunks.append(chunk)
    response.close()
    assert len(chunks) >= 5
    assert max(len(c) for c in chunks) < len(b"".join(chunks)) / 4
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode("utf-8"), newline="")))
    assert rows[0] == SIGNER_HEADER
    assert len(rows) == LARGE + 1
    assert rows[1][:3] == ["Given0", "Family-Name", "person0@example.com"]
    assert rows[-1][:3] == [f"Given{LARGE - 1}", "Family-Name", f"person{LARGE - 1}@example.com"]


def test_streaming_a_large_signer_list_needs_little_memory(large, ctx):
    """Memory stays flat: far below what holding all 20,000 rows would take."""
    tracemalloc.start()
    try:
        lines = 0
        for chunk in exports.stream_signers(large):
            lines += chunk.count(b"\n" if isinstance(chunk, bytes) else "\n")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    db.session.rollback()
    assert lines == LARGE + 1
    assert peak < 20 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


def test_an_abandoned_download_releases_the_database(large, client, app):
    """Closing a download half way through leaves no transaction holding the tables."""
    # No app context is held open here, so each request has its own, as in production.
    log_in(client)
    response = client.get("/organiser/c/large/export/signers.csv")
    first = next(response.iter_encoded())
    assert first.startswith(b"given_name,")
    response.close()
    # Another writer can change signatures straight away.
    with app.app_context():
        engine = db.engine
    with engine.connect() as other:
        if other.dialect.name == "postgresql":
            other.exec_driver_sql("SET lock_timeout = '5s'")
            other.exec_driver_sql("LOCK TABLE signature IN ACCESS EXCLUSIVE MODE")
        other.execute(update(Signature).where(Signature.campaign_id == large).values(show_name=True))
        other.commit()


# --- Who exported what ---------------------------------------------------------------------

def test_every_export_is_recorded_and_listed_on_the_dashboard(mixed, client, runner):
    """Each download and each command-line export: who, what and when, on the dashboard."""
    log_in(client)
    before = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=5)
    client.get("/organiser/c/mixed/export/counts?by=day&format=csv")
    client.get("/organiser/c/mixed/export/counts?by=country&format=json")
    client.get("/organiser/c/mixed/export/signers.csv").close()
    assert runner.invoke(args=["campaign", "export", "mixed", "--by", "total"]).exit_code == 0
    db.session.expire_all()
    records = db.session.execute(select(ExportRecord).order_by(ExportRecord.id)).scalars().all()
    assert [(r.organiser.email if r.organiser else None, r.what) for r in records] == [
        ("org@example.com", "counts by day (csv)"),
        ("org@example.com", "counts by country (json)"),
        ("org@example.com", "signer list (csv)"),
        (None, "counts by total (csv, command line)"),
    ]
    assert all(r.campaign_id == mixed.id and r.created_at >= before for r in records)
    html = client.get("/organiser/c/mixed/").get_data(as_text=True)
    log = html.split("Export log")[1].split("</table>")[0]
    for who, what in [("org@example.com", "counts by day (csv)"), ("org@example.com", "signer list (csv)"),
                      ("command line", "counts by total (csv, command line)")]:
        assert f"<td>{who}</td><td>{what}</td>" in log
    when = records[0].created_at  # as the English dashboard writes it: Mar 7, 2026, 6:05\u202fPM
    assert f"{format_date(when, 'medium', locale='en')}, {format_time(when, 'short', locale='en')}</time>" in log


def test_an_export_refused_to_a_non_member_is_not_recorded(mixed, client):
    """Someone who may not export gets 404, and no export is logged in their name."""
    make_organiser("outsider@example.com")
    log_in(client, "outsider@example.com")
    assert client.get("/organiser/c/mixed/export/counts?by=day").status_code == 404
    assert client.get("/organiser/c/mixed/export/signers.csv").status_code == 404
    assert db.session.execute(select(ExportRecord)).first() is None
