"""Counts and signer lists as CSV / JSON. Counts come from the stored
tallies (by source: counted from the signatures, see referrals); the signer
list streams row by row in constant memory."""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

from sqlalchemy import func, select

from . import questions, referrals
from .counts import counts_by_country, counts_by_day, signature_count
from .extensions import db, on_postgresql
from .models import Campaign, ConsentVersion, ExportRecord, Kind, Organiser, Signature, SignatureStatus
from .spreadsheet import neutralise, neutralised_sql

BY_CHOICES = ("day", "country", "source", "language", "total")
FORMAT_CHOICES = ("csv", "json")


def counts_total(campaign_id: int) -> list[dict]:
    return [{"signatures": signature_count(campaign_id)}]


def counts_by_source(campaign_id: int) -> list[dict]:
    """Every source, most signatures first; signatures that came with no
    source are counted under an empty one (never a real source's name)."""
    return [{"source": tally.name, "signatures": tally.signatures}
            for tally in referrals.counts_by_source(campaign_id)]


def _default_language(campaign_id: int) -> str:
    return db.session.execute(select(Campaign.default_language).where(Campaign.id == campaign_id)).scalar_one()


def counts_by_language(campaign_id: int) -> list[dict]:
    """Confirmed signatures by the language they were signed in, most
    first; those from before languages were recorded count as the
    campaign's default language, in which their emails are written."""
    default = _default_language(campaign_id)
    tally: dict[str, int] = {}
    for language, signatures in db.session.execute(
            select(Signature.language, func.count())
            .where(Signature.campaign_id == campaign_id, Signature.status == SignatureStatus.CONFIRMED.value)
            .group_by(Signature.language)).all():
        tally[language or default] = tally.get(language or default, 0) + signatures
    return [{"language": language, "signatures": signatures}
            for language, signatures in sorted(tally.items(), key=lambda item: (-item[1], item[0]))]


_COUNTS = {"day": counts_by_day, "country": counts_by_country, "source": counts_by_source,
           "language": counts_by_language, "total": counts_total}
_HEADERS = {
    "day": ["date", "signatures"],
    "country": ["country", "country_name", "signatures"],
    "source": ["source", "signatures"],
    "language": ["language", "signatures"],
    "total": ["signatures"],
}


def counts(campaign_id: int, by: str) -> list[dict]:
    return _COUNTS[by](campaign_id)


def render_counts(campaign_id: int, by: str, fmt: str) -> str:
    """Signature counts by day, by country, by source, by language or in
    total, as CSV or JSON."""
    rows = counts(campaign_id, by)
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=1) + "\n"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=_HEADERS[by], lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: neutralise(v) for k, v in row.items()})
    return buffer.getvalue()


# consent_version: the number of the wording the signer agreed to (see
# consents), empty for signatures from before wordings were recorded.
# language: the one it was signed in (its emails' language); the
# campaign's default for signatures from before languages were recorded.
SIGNER_COLUMNS = [
    "given_name", "family_name", "email", "country", "postal_code", "email_opt_in",
    "show_name", "signed_at", "confirmed_at", "status", "consent_version", "language",
]


def stream_signers(campaign_id: int, batch: int = 2000) -> Iterator[str | bytes]:
    """The full signer list as CSV chunks, in constant memory; then a column
    for each of the campaign's exported questions, headed by its label."""
    exported = questions.exported_questions(campaign_id)
    follow_through = _follow_through_columns(campaign_id)
    header = SIGNER_COLUMNS + [neutralise(question.label) for question in exported] + follow_through
    asked = [question.id for question in exported]
    if on_postgresql():
        return _copy_signers(int(campaign_id), header, asked, follow_through)
    return _signers_in_batches(campaign_id, batch, header, asked, follow_through)


def _follow_through_columns(campaign_id: int) -> list[str]:
    """The pledge follow-through a campaign asks for, as columns after its
    questions: the date, and the reason with whether it may be shown and
    the organisers' review."""
    campaign = db.session.execute(select(Campaign.kind, Campaign.asks_date, Campaign.asks_reason)
                                  .where(Campaign.id == campaign_id)).one()
    if campaign.kind != Kind.PLEDGE:
        return []
    return (["pledge_date"] if campaign.asks_date else []) + \
        (["reason", "reason_public", "reason_review"] if campaign.asks_reason else [])


def _pg_time(column: str) -> str:
    return f"""to_char({column}, 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"""


_FOLLOW_THROUGH_SQL = {
    "pledge_date": "COALESCE(to_char(pledge_date, 'YYYY-MM-DD'), '')",
    "reason": neutralised_sql("reason"),
    "reason_public": "CASE WHEN reason_public THEN 'yes' ELSE 'no' END",
    "reason_review": "COALESCE(reason_status, '')",
}


def _copy_signers(campaign_id: int, header: list[str], asked: list[int], follow_through: list[str],
                  chunk_bytes: int = 256 * 1024) -> Iterator[bytes]:
    """PostgreSQL: COPY ... TO STDOUT does the CSV work in the server, an
    order of magnitude faster than formatting rows in Python; the same
    columns and the same formula neutralisation as the portable path."""
    columns = ", ".join([
        f"{neutralised_sql('given_name')} AS given_name", f"{neutralised_sql('family_name')} AS family_name",
        f"{neutralised_sql('email')} AS email", "country", f"{neutralised_sql('postal_code')} AS postal_code",
        "CASE WHEN email_opt_in THEN 'yes' ELSE 'no' END AS email_opt_in",
        "CASE WHEN show_name THEN 'yes' ELSE 'no' END AS show_name",
        f"{_pg_time('created_at')} AS signed_at", f"{_pg_time('confirmed_at')} AS confirmed_at", "status",
        # NULL, not '': COPY writes an empty string as "", a NULL as nothing.
        "(SELECT number::text FROM consent_version WHERE consent_version.id = signature.consent_version_id)"
        " AS consent_version",
        # The campaign's default once, not per row (an uncorrelated subquery).
        f"COALESCE(language, (SELECT default_language FROM campaign WHERE id = {campaign_id})) AS language",
        *(neutralised_sql(f"(answers ->> '{int(question_id)}')") for question_id in asked),
        *(_FOLLOW_THROUGH_SQL[name] for name in follow_through),
    ])
    sql = (f"COPY (SELECT {columns} FROM signature WHERE campaign_id = {campaign_id} ORDER BY id) "
           "TO STDOUT WITH (FORMAT csv)")
    # The header is written here: a column name in the server is cut at 63
    # bytes, and a question's label may be longer.
    heading = io.StringIO()
    csv.writer(heading, lineterminator="\n").writerow(header)
    raw = db.session.connection().connection.dbapi_connection
    with raw.cursor() as cursor, cursor.copy(sql) as copy:
        pending, size = [heading.getvalue().encode()], 0
        for data in copy:
            pending.append(bytes(data))
            size += len(data)
            if size >= chunk_bytes:
                yield b"".join(pending)
                pending, size = [], 0
        yield b"".join(pending)


def _follow_through_values(row, follow_through: list[str]) -> list[str]:
    values = {
        "pledge_date": lambda: row.pledge_date.isoformat() if row.pledge_date else "",
        "reason": lambda: neutralise(row.reason),
        "reason_public": lambda: "yes" if row.reason_public else "no",
        "reason_review": lambda: row.reason_status or "",
    }
    return [values[name]() for name in follow_through]


def _signers_in_batches(campaign_id: int, batch: int, header: list[str], asked: list[int],
                        follow_through: list[str]) -> Iterator[str]:
    """Portable path: rows in batches from a cursor, formatted here."""
    default_language = _default_language(campaign_id)
    buffer = io.StringIO()
    # CRLF, as RFC 4180 says: the writer then also quotes a lone CR in a cell,
    # so a name cannot start a new row with an unguarded formula.
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    keys = [str(question_id) for question_id in asked]
    query = (
        select(
            Signature.given_name, Signature.family_name, Signature.email, Signature.country,
            Signature.postal_code, Signature.email_opt_in, Signature.show_name,
            Signature.created_at, Signature.confirmed_at, Signature.status, Signature.answers,
            Signature.pledge_date, Signature.reason, Signature.reason_public, Signature.reason_status,
            ConsentVersion.number.label("consent_version"), Signature.language,
        )
        .outerjoin(ConsentVersion, ConsentVersion.id == Signature.consent_version_id)
        .where(Signature.campaign_id == campaign_id)
        .order_by(Signature.id)
        .execution_options(yield_per=batch)
    )
    for partition in db.session.execute(query).partitions():
        for row in partition:
            writer.writerow([
                neutralise(row.given_name), neutralise(row.family_name), neutralise(row.email),
                row.country, neutralise(row.postal_code),
                "yes" if row.email_opt_in else "no", "yes" if row.show_name else "no",
                row.created_at.isoformat(timespec="seconds") + "Z",
                row.confirmed_at.isoformat(timespec="seconds") + "Z" if row.confirmed_at else "",
                row.status, "" if row.consent_version is None else str(row.consent_version),
                row.language or default_language,
                *(neutralise((row.answers or {}).get(key)) for key in keys),
                *_follow_through_values(row, follow_through),
            ])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def record_export(campaign: Campaign, organiser: Organiser | None, what: str) -> None:
    db.session.add(ExportRecord(
        campaign_id=campaign.id, organiser_id=organiser.id if organiser else None, what=what
    ))
    db.session.commit()


def recent_exports(campaign_id: int, limit: int = 20) -> list[ExportRecord]:
    return list(db.session.execute(
        select(ExportRecord).where(ExportRecord.campaign_id == campaign_id)
        .order_by(ExportRecord.created_at.desc(), ExportRecord.id.desc()).limit(limit)
    ).scalars())
