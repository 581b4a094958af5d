"""Text a spreadsheet would run as a formula, and how cells are kept from
being one (CSV formula injection)."""
from __future__ import annotations

# A cell starting with one of these is a formula to Excel, LibreOffice or
# Google Sheets (a tab or CR can hide one at the start of a cell).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(text: str) -> bool:
    return text.startswith(FORMULA_STARTS)


def neutralise(value) -> str:
    """A cell a spreadsheet will not run: formula-like text gets a leading quote."""
    text = "" if value is None else str(value)
    return "'" + text if looks_like_formula(text) else text


def _sql_literal(text: str) -> str:
    escapes = {"\t": "E'\\t'", "\r": "E'\\r'"}
    return escapes.get(text, "'" + text.replace("'", "''") + "'")


def neutralised_sql(column: str) -> str:
    """PostgreSQL for ``neutralise`` of a text column, for exports made by
    the server (tested byte for byte against ``neutralise``)."""
    starts = ", ".join(_sql_literal(start) for start in FORMULA_STARTS)
    return f"CASE WHEN left({column}, 1) IN ({starts}) THEN '''' || {column} ELSE {column} END"
