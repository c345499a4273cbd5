"""Exporting a book's records as CSV or JSON, in the shape `csm import` reads back.

CSV cells that a spreadsheet would run as a formula (starting with =, +, -, @, tab or carriage
return) get a leading "'" unless they are plain numbers (OWASP CSV-injection guidance); the
importer removes exactly that quote, so exporting and importing gives back the original values.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TextIO

from csm_tui.clock import today
from csm_tui.errors import UsageError
from csm_tui.storage.importer import FORMULA_STARTS
from csm_tui.storage.kinds import ACCOUNT_NAME, ACCOUNT_REF, JSON_VALUE, Kind, kind_named
from csm_tui.storage.mapping import custom_column_name
from csm_tui.storage.parse import is_plain_number

FORMATS = ("csv", "json")
FORECAST_COLUMNS = (
    "id",
    "account_id",
    "account_name",
    "due_date",
    "days_left",
    "arr",
    "health_score",
    "health_band",
    "churn_prob",
    "forecast_arr",
    "csm_call",
)


@dataclass
class Export:
    """Rows ready to write: column names and one dict per record."""

    kind: Kind
    columns: list[str]
    rows: list[dict[str, object]]


def neutralise(cell: str) -> str:
    """Prefix "'" to a cell a spreadsheet would treat as a formula (plain numbers stay)."""
    if cell.startswith(FORMULA_STARTS) and not is_plain_number(cell):
        return "'" + cell
    if cell.startswith("'") and cell[1:2] and cell[1:].startswith((*FORMULA_STARTS, "'")):
        return "'" + cell  # so the importer's quote-stripping gives this cell back unchanged
    return cell


def collect(book, kind_name: str, *, within: int | None = None) -> Export:
    """Read every record of `kind_name` (or the renewal forecast when `within` is given)."""
    kind = kind_named(kind_name)
    if within is not None:
        if kind.name != "renewals":
            raise UsageError("--within DAYS applies to `csm export renewals` (the forecast)")
        if within < 0:
            raise UsageError("--within DAYS must be zero or more")
        return renewal_forecast(book, within)
    if kind.name == "accounts":
        return _accounts(book, kind)
    columns = kind.columns
    columns.insert(columns.index(ACCOUNT_REF) + 1, ACCOUNT_NAME)
    if kind.name == "health":
        return _health(book, kind, columns)
    select = ", ".join(f"t.{c}" if c != ACCOUNT_NAME else "a.name AS account_name" for c in columns)
    rows = book.query(
        f"SELECT {select} FROM {kind.table} t JOIN accounts a ON a.id = t.account_id "  # noqa: S608
        f"ORDER BY {', '.join('t.' + c.strip() for c in kind.order_by.split(','))}"
    )
    return Export(kind, columns, [_decoded(kind, dict(r)) for r in rows])


def _decoded(kind: Kind, row: dict) -> dict:
    """JSON columns as values (objects/lists), so a JSON export nests them."""
    for spec in kind.fields:
        if spec.type == JSON_VALUE and isinstance(row.get(spec.name), str):
            try:
                row[spec.name] = json.loads(row[spec.name])
            except json.JSONDecodeError:
                pass
    return row


def _health(book, kind: Kind, columns: list[str]) -> Export:
    """Every health snapshot (block days and single rows alike), by account then date."""
    from csm_tui.storage.history import all_snapshots

    with book.read() as conn:
        names = dict(conn.execute("SELECT id, name FROM accounts").fetchall())
        snaps = all_snapshots(conn)
    rows = [
        {c: names[s["account_id"]] if c == ACCOUNT_NAME else s[c] for c in columns} for s in snaps
    ]
    return Export(kind, columns, [_decoded(kind, row) for row in rows])


def _accounts(book, kind: Kind) -> Export:
    columns = kind.columns + ["custom"]
    rows = []
    for record in book.query(f"SELECT {', '.join(columns)} FROM scored_accounts ORDER BY id"):  # noqa: S608
        row = dict(record)
        row["custom"] = json.loads(row["custom"] or "{}")
        rows.append(row)
    return Export(kind, columns, rows)


def renewal_forecast(book, within: int) -> Export:
    """Open renewals due in the next `within` days, with health, churn and forecast ARR."""
    start = today()
    end = start + timedelta(days=within)
    records = book.query(
        "SELECT r.id, r.account_id, a.name AS account_name, r.due_date, r.arr_before AS arr, "
        "a.health_score, a.health_band, a.churn_prob, r.csm_call FROM renewals r "
        "JOIN scored_accounts a ON a.id = r.account_id WHERE r.outcome IS NULL "
        "AND r.due_date BETWEEN ? AND ? ORDER BY r.due_date, a.name",
        (start.isoformat(), end.isoformat()),
    )
    rows = []
    for record in records:
        row = dict(record)
        row["days_left"] = (date.fromisoformat(row["due_date"]) - start).days
        prob = row["churn_prob"]
        row["forecast_arr"] = None if prob is None else round(row["arr"] * (1 - prob), 2)
        rows.append(row)
    return Export(kind_named("renewals"), list(FORECAST_COLUMNS), rows)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return neutralise(str(value))


def csv_lines(export: Export) -> Iterator[list[str]]:
    """The CSV rows (header first); an account's custom attributes become extra columns."""
    columns = [c for c in export.columns if c != "custom"]
    custom_keys: list[str] = []
    if "custom" in export.columns:
        seen: dict[str, None] = {}
        for row in export.rows:
            seen.update(dict.fromkeys(row.get("custom") or {}))
        custom_keys = list(seen)
    yield columns + [custom_column_name(k) for k in custom_keys]
    for row in export.rows:
        custom = row.get("custom") or {}
        yield [_cell(row.get(c)) for c in columns] + [_cell(custom.get(k)) for k in custom_keys]


def write_csv(export: Export, out: TextIO) -> int:
    """Write `export` as CSV (UTF-8, CRLF as RFC 4180); return the number of records."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(csv_lines(export))
    return len(export.rows)


def write_json(export: Export, out: TextIO) -> int:
    """Write `export` as a JSON list of objects; return the number of records."""
    out.write("[")
    for number, row in enumerate(export.rows):
        out.write(",\n " if number else "\n ")
        out.write(json.dumps({c: row.get(c) for c in export.columns}, ensure_ascii=False))
    out.write("\n]\n" if export.rows else "]\n")
    return len(export.rows)


def write_export(export: Export, fmt: str, out: TextIO) -> int:
    """Write `export` in `fmt` ("csv" or "json") to `out`; return the number of records."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}; use one of: {', '.join(FORMATS)}")
    return write_csv(export, out) if fmt == "csv" else write_json(export, out)


def export_text(export: Export, fmt: str) -> str:
    """The export as one string (for tests and small books)."""
    buffer = io.StringIO()
    write_export(export, fmt, buffer)
    return buffer.getvalue()


def write_private(path: Path, chunks: Iterable[str]) -> None:
    """Write a file readable by its owner only (exports hold customer data), atomically: a
    temporary file beside it is renamed over it, so a failed export leaves no half a file."""
    import os
    import tempfile

    path = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:  # mkstemp: 0600
            for chunk in chunks:
                out.write(chunk)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
