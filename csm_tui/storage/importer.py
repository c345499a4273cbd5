"""Importing CSV, JSON and JSONL files into a book: all rows or none.

Row numbers in messages are what a user sees in a spreadsheet: in a CSV the header is row 1 and
the first record row 2 (a cell with line breaks still counts as one row); in a JSON list, ROW is
the record's position (the first object is row 1); in JSONL it is the line number.

The import reads the whole file, maps its headers (`mapping.py`), converts and validates every
record (`kinds.py`), resolves account references, and only when no row has a problem writes
everything in ONE transaction (`book.write(durable=False)`) with `executemany`. Any problem →
`ImportRejected` listing every bad row as `FILE:ROW: column: problem`; nothing is written.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from csm_tui.clock import now_iso, today
from csm_tui.errors import CsmError, ImportRejected, UsageError
from csm_tui.progress import ProgressFn
from csm_tui.storage import parse
from csm_tui.storage.kinds import (
    ACCOUNT_NAME,
    ACCOUNT_REF,
    DATE,
    JSON_VALUE,
    KINDS,
    NOW_DEFAULTS,
    TIMESTAMP,
    Kind,
    convert_record,
    derived_id,
)
from csm_tui.storage.mapping import (
    CHURNED,
    MAU_TODAY,
    RENEWAL_HISTORY,
    ColumnMap,
    map_headers,
)

FORMATS = ("csv", "json", "jsonl")
#: A cell longer than this is refused (a missing closing quote swallows the rest of a file).
MAX_CELL_CHARS = 1_000_000
#: The csv module's own limit, raised so that oversized cells reach our clearer message.
CSV_FIELD_LIMIT = 16 * 1024 * 1024
#: Characters a spreadsheet treats as a formula; csm's export prefixes such cells with "'".
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BATCH_ROWS = 2_000
#: Larger files are refused up front (the whole file is read and checked before writing).
MAX_FILE_BYTES = 2_000_000_000
#: Nested JSON objects are flattened this deep ("a.b.c"); deeper values stay whole.
_FLATTEN_DEPTH = 3
_SAVE_AS_CSV = " Save the sheet as CSV (UTF-8) in your spreadsheet and import that."
_MAGIC = (
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx workbook?)", _SAVE_AS_CSV),
    (b"\xd0\xcf\x11\xe0", "an Excel .xls workbook", _SAVE_AS_CSV),
    (b"SQLite format 3\x00", "an SQLite database", " To bring back a book use `csm restore`."),
    (b"%PDF", "a PDF document", ""),
    (b"\x89PNG", "a PNG image", ""),
    (b"\xff\xd8\xff", "a JPEG image", ""),
    (b"\x1f\x8b", "a gzip archive", " Unpack it first."),
)
#: Foreign keys checked before writing: (kind, field) → (table, what it is).
REFERENCES = {
    ("tasks", "playbook_id"): ("playbooks", "playbook"),
    ("tasks", "save_plan_id"): ("save_plans", "save plan"),
    ("save-plans", "alert_id"): ("alerts", "alert"),
    ("nps", "contact_id"): ("contacts", "contact"),
}
_RENEWAL_STATUS = {
    "renewed": "renewed",
    "churned": "churned",
    "lost": "churned",
    "cancelled": "churned",
    "canceled": "churned",
    "expanded": "expanded",
    "downgraded": "downgraded",
    "pending": None,
    "open": None,
    "upcoming": None,
}


@dataclass
class Record:
    """One record of the file as read: its row number and {header: raw value}."""

    row: int
    values: dict[str, object]


@dataclass
class Source:
    """A file read into records; `problems` holds structural row errors (ragged rows…)."""

    path: Path
    format: str
    headers: list[str]
    records: list[Record]
    problems: list[str] = field(default_factory=list)


@dataclass
class Planned:
    """Rows ready to write for one kind, and which of them already exist in the book."""

    kind: Kind
    rows: list[dict[str, object]] = field(default_factory=list)
    existing: set[tuple] = field(default_factory=set)
    file_columns: set[str] = field(default_factory=set)  # columns the file provides (updates)

    def keys(self) -> list[tuple]:
        """Natural keys of the rows, in file order."""
        return [tuple(row.get(k) for k in self.kind.key) for row in self.rows]

    @property
    def new(self) -> int:
        """How many rows are not in the book yet."""
        return sum(key not in self.existing for key in self.keys())


@dataclass
class ImportResult:
    """What an import did (or, for a dry run, would do)."""

    path: Path
    kind: Kind
    total: int
    new: int
    updated: int
    dry_run: bool
    side: dict[str, int] = field(default_factory=dict)  # noun → rows also written
    custom_columns: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    new_keys: list[str] = field(default_factory=list)
    updated_keys: list[str] = field(default_factory=list)
    account_ids: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """ "Imported 1,000 accounts (980 new, 20 updated) from FILE"."""
        verb = "Would import" if self.dry_run else "Imported"
        text = (
            f"{verb} {self.total:,} {self.kind.noun} ({self.new:,} new, "
            f"{self.updated:,} updated) from {self.path}"
        )
        extras = [f"{count:,} {noun}" for noun, count in self.side.items() if count]
        if extras:
            text += f", with {' and '.join(extras)}"
        return text + ("; nothing written (dry run)." if self.dry_run else ".")


# --------------------------------------------------------------------------------------------
# Reading files
# --------------------------------------------------------------------------------------------


def read_source(path: Path, fmt: str | None = None, kind: Kind | None = None) -> Source:
    """Read a CSV, JSON or JSONL file into records, refusing unreadable files clearly."""
    data = _read_bytes(path)
    _refuse_binary(path, data)
    text = _decode(path, data)
    if not text.strip():
        raise CsmError(f"{path}: the file is empty; there is nothing to import.")
    fmt = _pick_format(path, text, fmt)
    if fmt == "csv":
        return _read_csv(path, text)
    return _read_json(path, text, kind) if fmt == "json" else _read_jsonl(path, text, kind)


def _read_bytes(path: Path) -> bytes:
    path = Path(path)
    if path.is_dir():
        raise CsmError(f"{path}: is a directory; give the path of a CSV, JSON or JSONL file.")
    try:
        size = path.stat().st_size
        if not path.is_file():  # a FIFO or device would block or never end
            raise CsmError(f"{path}: is not a regular file; give the path of a data file.")
        if size > MAX_FILE_BYTES:
            raise CsmError(
                f"{path}: the file is {size / 1e9:.1f} GB; csm imports files up to "
                f"{MAX_FILE_BYTES / 1e9:.0f} GB (split it into several files)."
            )
        return path.read_bytes()
    except FileNotFoundError:
        raise CsmError(f"{path}: no such file.") from None
    except PermissionError:
        raise CsmError(f"{path}: permission denied; csm cannot read this file.") from None
    except OSError as exc:
        raise CsmError(f"{path}: cannot read the file ({exc.strerror}).") from None


def _line_of(data: bytes | str, offset: int) -> int:
    newline = b"\n" if isinstance(data, bytes) else "\n"
    return data.count(newline, 0, offset) + 1


def _refuse_binary(path: Path, data: bytes) -> None:
    for magic, what, advice in _MAGIC:
        if data.startswith(magic):
            raise CsmError(f"{path}: this is {what}, not a CSV, JSON or JSONL file.{advice}")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return  # UTF-16 text: its NUL bytes are part of the encoding
    nul = data.find(b"\x00")
    if nul >= 0:
        raise CsmError(
            f"{path}:{_line_of(data, nul)}: the file contains NUL bytes, so it is binary data "
            "rather than text; export it as CSV (UTF-8) and import that."
        )
    sample = data[:65536]
    controls = sum(b < 32 and b not in b"\t\n\r\f\v\x1a" for b in sample)
    if sample and controls / len(sample) > 0.01:
        raise CsmError(
            f"{path}: the file looks like binary data, not text; csm imports CSV, "
            "JSON and JSONL files."
        )


def _decode(path: Path, data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252 (Excel's "CSV"), decided per file."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise CsmError(
                f"{path}:{_line_of(data, exc.start)}: the UTF-16 text is damaged "
                f"(byte {exc.start})."
            ) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as utf8_error:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError as exc:
            offset = min(utf8_error.start, exc.start)
            raise CsmError(
                f"{path}:{_line_of(data, offset)}: byte 0x{data[exc.start]:02X} is neither UTF-8 "
                "nor Windows-1252 text; save the file as CSV UTF-8 and import it again."
            ) from None


def _pick_format(path: Path, text: str, fmt: str | None) -> str:
    if fmt:
        if fmt not in FORMATS:
            raise UsageError(f"unknown format {fmt!r}; use one of: {', '.join(FORMATS)}")
        return fmt
    suffix = path.suffix.lower()
    by_suffix = {
        ".csv": "csv",
        ".tsv": "csv",
        ".txt": "csv",
        ".json": "json",
        ".jsonl": "jsonl",
        ".ndjson": "jsonl",
    }
    if suffix in by_suffix:
        return by_suffix[suffix]
    head = text.lstrip()
    if head.startswith("["):
        return "json"
    if head.startswith("{"):
        first_line = head.split("\n", 1)[0].strip()
        return "jsonl" if first_line.endswith("}") and "\n{" in head else "json"
    return "csv"


def _sniff_delimiter(text: str) -> str:
    """Comma, semicolon or tab: csv.Sniffer on a sample, else the one splitting the header most."""
    sample = text[:65536]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
        header = next(csv.reader(io.StringIO(sample), delimiter=delimiter))
        if len(header) > 1:
            return delimiter
    except (csv.Error, StopIteration):
        pass
    first_line = sample.split("\n", 1)[0]
    return max((",", ";", "\t"), key=first_line.count)


def _read_csv(path: Path, text: str) -> Source:
    csv.field_size_limit(CSV_FIELD_LIMIT)
    lines = io.StringIO(text, newline="").readlines()  # the reader's own physical lines
    reader = csv.reader(lines, delimiter=_sniff_delimiter(text), strict=True)
    rows = _csv_rows(path, reader, lines)
    try:
        row_number, header = next(rows)
    except StopIteration:
        raise CsmError(f"{path}: the file is empty; there is nothing to import.") from None
    if isinstance(header, str):
        raise CsmError(header)
    headers = _checked_headers(path, header)
    source = Source(path, "csv", headers, [])
    for row_number, cells in _without_report_footer(list(rows), len(headers)):
        if isinstance(cells, str):
            source.problems.append(cells)
            break  # after a quoting error the rest of the file cannot be trusted
        record = _csv_record(path, row_number, headers, cells, source.problems)
        if record is not None:
            source.records.append(record)
    return source


_REPORT_FOOTER = re.compile(
    r"^\s*(grand totals?\b|copyright \(c\)|confidential information|generated by\b)", re.I
)


def _without_report_footer(rows: list[tuple[int, list[str] | str]], width: int) -> list:
    """Drop a CRM report's closing lines ("Grand Totals (3 records)", "Copyright (c) …"):
    single-cell rows from the first such line to the end of the file."""
    if width < 2:
        return rows
    for index, (_, cells) in enumerate(rows):
        if isinstance(cells, list) and len(cells) == 1 and _REPORT_FOOTER.match(cells[0]):
            rest = rows[index:]
            if all(isinstance(c, list) and len(c) == 1 for _, c in rest):
                return rows[:index]
    return rows


def _csv_rows(path: Path, reader, lines: list[str]) -> Iterator[tuple[int, list[str] | str]]:
    """(spreadsheet row number, cells) per record; a quoting error yields its message."""
    number = 0
    while True:
        number += 1
        first_line = reader.line_num
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield number, f"{path}:{number}: {_csv_error_text(exc)}"
            return
        if any('"' in cell for cell in cells):
            bare = _bare_quote(cells, "".join(lines[first_line : reader.line_num]))
            if bare is not None:
                yield (
                    number,
                    (
                        f'{path}:{number}: a stray quote (") in the unquoted cell '
                        f"{bare[:40]!r}; wrap a cell that contains quotes in quotes and "
                        'double each inner quote ("")'
                    ),
                )
                return
        if cells and any(cell.strip() for cell in cells):
            yield number, cells


def _bare_quote(cells: list[str], raw: str) -> str | None:
    """The first cell holding a quote that was not written as a quoted cell (RFC 4180)."""
    for cell in cells:
        if '"' in cell and '"' + cell.replace('"', '""') + '"' not in raw:
            return cell
    return None


def _csv_error_text(exc: csv.Error) -> str:
    text = str(exc)
    if "field larger than field limit" in text:
        return (
            f"a cell is longer than {MAX_CELL_CHARS // 1_000_000} MB (is a closing quote missing?)"
        )
    if "unexpected end of data" in text:
        return (
            'a quoted cell is never closed (its closing quote (") is missing), so the rest '
            "of the file ran into it"
        )
    if "expected" in text and "after" in text or "quote" in text:
        return (
            f'a stray quote (") in a cell ({text}); a cell containing quotes must be '
            'wrapped in quotes, with each inner quote doubled ("")'
        )
    return f"the CSV cannot be read here ({text})"


def _checked_headers(path: Path, header: list[str]) -> list[str]:
    headers = [cell.strip() for cell in header]
    seen: dict[str, int] = {}
    for position, name in enumerate(headers, 1):
        if name and name in seen:
            raise CsmError(
                f"{path}:1: the column {name!r} appears twice (columns {seen[name]} "
                f"and {position}); rename or remove one of them."
            )
        seen.setdefault(name, position)
        if len(name) > 200:
            raise CsmError(
                f"{path}:1: column {position}'s header is {len(name):,} characters "
                "long; is this really a CSV file with a header row?"
            )
    if not any(headers):
        raise CsmError(f"{path}:1: the header row is blank; the first row must name the columns.")
    return headers


def _csv_record(
    path: Path, number: int, headers: list[str], cells: list[str], problems: list[str]
) -> Record | None:
    if len(cells) != len(headers):
        problems.append(
            f"{path}:{number}: row: has {len(cells)} cells but the header has "
            f"{len(headers)} columns (a missing or extra separator?)"
        )
        return None
    values: dict[str, object] = {}
    for header, cell in zip(headers, cells, strict=True):
        if len(cell) > MAX_CELL_CHARS:
            problems.append(
                f"{path}:{number}: {header or '(unnamed column)'}: the cell is "
                f"{len(cell) / 1_000_000:.1f} MB long; cells are limited to "
                f"{MAX_CELL_CHARS // 1_000_000} MB"
            )
            return None
        if not header:
            if cell.strip():
                problems.append(
                    f"{path}:{number}: (unnamed column): a value in a column with "
                    "no header; name the column in row 1"
                )
            continue
        values[header] = unquote_cell(cell)
    return Record(number, values)


def unquote_cell(cell: str) -> str:
    """Undo csm's export neutralising: "'=SUM(A1)" → "=SUM(A1)"; other cells stay as they are."""
    if len(cell) > 1 and cell[0] == "'" and cell[1] in (*FORMULA_STARTS, "'"):
        return cell[1:]
    return cell


def _read_json(path: Path, text: str, kind: Kind | None) -> Source:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        hint = "" if text.lstrip()[:1] in "[{" else " (if it is a CSV file, use --format csv)"
        raise CsmError(
            f"{path}:{exc.lineno}: not valid JSON: {exc.msg} (line {exc.lineno}, "
            f"column {exc.colno}){hint}."
        ) from None
    except RecursionError:
        raise CsmError(f"{path}: the JSON is nested too deeply to be a data file.") from None
    items = _json_items(path, data, kind)
    source = Source(path, "json", [], [])
    for number, item in enumerate(items, 1):
        _add_json_record(source, number, item, kind)
    return source


def _json_items(path: Path, data: object, kind: Kind | None) -> list:
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        wanted = {kind.name, kind.table, kind.name.replace("-", "_")} if kind else set()
        lists = {k: v for k, v in data.items() if isinstance(v, list)}
        for key in (*wanted, "accounts", "data", "records", "items", "results", "rows"):
            if key in lists:
                return lists[key]
        if len(lists) == 1 and all(isinstance(v, dict) for v in next(iter(lists.values()))):
            return next(iter(lists.values()))
        if not lists:
            return [data]  # a single record
    names = {
        dict: "an object",
        list: "a list",
        str: "a string",
        bool: "true/false",
        type(None): "null",
        int: "a number",
        float: "a number",
    }
    found = names.get(type(data), type(data).__name__)
    raise CsmError(
        f"{path}: the JSON has the wrong shape: expected a list of objects (one per "
        f'record) or an object such as {{"accounts": [...]}}; found {found}.'
    )


def _add_json_record(source: Source, number: int, item: object, kind: Kind | None) -> None:
    if not isinstance(item, dict):
        found = "a list" if isinstance(item, list) else f"{json.dumps(item)[:30]}"
        source.problems.append(
            f"{source.path}:{number}: record: expected an object "
            f'{{"field": value, …}}, found {found}'
        )
        return
    values = _flatten(item, kind)
    for key in values:
        if key not in source.headers:
            source.headers.append(key)
    source.records.append(Record(number, values))


def _flatten(item: dict, kind: Kind | None, prefix: str = "") -> dict[str, object]:
    """Nested objects become dotted keys ("usage_metrics.monthly_active_users"), except JSON
    columns (explain, detail, reasons) and an account's "custom" object."""
    keep_whole = {"custom"} | {
        f.name for f in (kind.fields if kind else ()) if f.type == JSON_VALUE
    }
    flat: dict[str, object] = {}
    for key, value in item.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and not prefix and key in keep_whole:
            flat[name] = value
        elif isinstance(value, dict) and prefix.count(".") < _FLATTEN_DEPTH:
            flat.update(_flatten(value, kind, f"{name}."))
        else:
            flat[name] = value
    return flat


def _read_jsonl(path: Path, text: str, kind: Kind | None) -> Source:
    source = Source(path, "jsonl", [], [])
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as exc:
            detail = getattr(exc, "msg", "nested too deeply")
            source.problems.append(f"{path}:{number}: line: not valid JSON ({detail})")
            continue
        _add_json_record(source, number, item, kind)
    if not source.records and not source.problems:
        raise CsmError(f"{path}: the file is empty; there is nothing to import.")
    return source


# --------------------------------------------------------------------------------------------
# Validating and planning
# --------------------------------------------------------------------------------------------


@dataclass
class AccountIndex:
    """The book's accounts by id and by exact name (names may repeat)."""

    names: dict[str, str]  # id → name
    by_name: dict[str, list[str]]

    @property
    def ids(self):
        """The ids of every account in the book."""
        return self.names.keys()

    @classmethod
    def load(cls, book) -> AccountIndex:
        """Read every account's id and name once."""
        names: dict[str, str] = {}
        by_name: dict[str, list[str]] = {}
        for row in book.query("SELECT id, name FROM accounts"):
            names[row[0]] = row[1]
            by_name.setdefault(row[1], []).append(row[0])
        return cls(names, by_name)

    def resolve(self, ref: str) -> str:
        """The id of the account `ref` names (id first, then exact name); ValueProblem if not."""
        if ref in self.ids:
            return ref
        matches = self.by_name.get(ref, [])
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise parse.ValueProblem(
                f"{ref!r} matches {len(matches)} accounts "
                f"({', '.join(sorted(matches)[:5])}); use the account id"
            )
        raise parse.ValueProblem(f"no account with id or name {ref!r} (import accounts first)")


@dataclass
class Plan:
    """Everything an import would write, by kind (the main kind first)."""

    main: Planned
    side: list[Planned] = field(default_factory=list)
    columns: ColumnMap = field(default_factory=ColumnMap)


class _Checker:
    """Validates a source's records for one kind, collecting every problem."""

    def __init__(self, book, source: Source, kind: Kind, columns: ColumnMap) -> None:
        self.book, self.source, self.kind, self.columns = book, source, kind, columns
        self.problems: list[str] = list(source.problems)
        self.accounts = AccountIndex.load(book)
        self.seen: dict[tuple, int] = {}
        self.date_orders = _date_orders(kind, source, columns)
        self.references = _reference_sets(book, kind)
        self.alert_ids = _alert_natural_keys(book) if kind.name == "alerts" else {}

    def problem(self, row: int, name: str, message: str) -> None:
        """Record `FILE:ROW: column: problem`, naming the user's own column header."""
        header = self.columns.header_for(name) or name
        self.problems.append(f"{self.source.path}:{row}: {header}: {message}")

    def check(self, record: Record) -> dict[str, object] | None:
        """The row to write for `record`, or None after recording its problems."""
        fields = {f: record.values[h] for h, f in self.columns.fields.items() if h in record.values}
        row, problems = convert_record(self.kind, fields, self.date_orders)
        for name, message in problems:
            self.problem(record.row, name, message)
        ok = not problems and self._attach_account(record.row, fields, row)
        if ok and self.kind.name == "accounts":
            row["custom"] = _custom_values(record, self.columns)
            ok = self._account_extras(record.row, fields, row)
        ok = ok and self._references_ok(record.row, row)
        if not ok or not self._keyed(record.row, row):
            return None
        return row

    def _account_extras(self, number: int, fields: dict, row: dict) -> bool:
        """Seed-003 and churn-data columns that become other records or the status."""
        checks = (
            (MAU_TODAY, lambda v: parse.parse_in_range(v, 0, 1e9, what="users")),
            (CHURNED, parse.parse_bool),
            (RENEWAL_HISTORY, check_renewal_history),
        )
        ok = True
        for name, convert in checks:
            if parse.blank(fields.get(name)) and not isinstance(fields.get(name), list):
                continue
            try:
                row[name] = convert(fields[name])
            except parse.ValueProblem as exc:
                self.problem(number, name, str(exc))
                ok = False
        return ok

    def _attach_account(self, number: int, fields: dict, row: dict) -> bool:
        if not self.kind.has_account:
            return True
        name = ACCOUNT_REF if not parse.blank(fields.get(ACCOUNT_REF)) else ACCOUNT_NAME
        ref = fields.get(name)
        if parse.blank(ref):
            self.problem(number, name, "missing (which account is this row about?)")
            return False
        try:
            row[ACCOUNT_REF] = self.accounts.resolve(str(ref).strip())
        except parse.ValueProblem as exc:
            self.problem(number, name, str(exc))
            return False
        return True

    def _references_ok(self, number: int, row: dict) -> bool:
        ok = True
        for name, (ids, what) in self.references.items():
            value = row.get(name)
            if value is not None and str(value) not in ids:
                self.problem(
                    number,
                    name,
                    f"no {what} with id {value!r} in this book (import the {what}s first)",
                )
                ok = False
        return ok

    def _keyed(self, number: int, row: dict) -> bool:
        """Give the row its natural key (deriving an id if needed); refuse duplicates."""
        kind = self.kind
        if kind.name == "accounts":
            if not _account_id(row, self.accounts, self.problem, number):
                return False
        elif kind.name == "alerts" and row.get("id") is None:
            row["id"] = self.alert_ids.get((row[ACCOUNT_REF], row["rule"], row["fired_at"]))
        elif "id" in kind.key and not row.get("id"):
            row["id"] = derived_id(kind, row)
        key = tuple(row.get(k) for k in kind.key)
        if key[0] is not None and key in self.seen:
            what = "id" if kind.key == ("id",) else " and ".join(kind.key)
            self.problem(
                number,
                kind.key[-1],
                f"duplicate {what} {_key_text(key)} (also on row "
                f"{self.seen[key]}); each must appear once",
            )
            return False
        self.seen[key] = number
        return True


def _key_text(key: tuple) -> str:
    return " / ".join(repr(part) for part in key)


def _account_id(row: dict, accounts: AccountIndex, problem, number: int) -> bool:
    """An account row without an id: the existing account of that exact name, else a slug."""
    if row.get("id"):
        if not row.get("name"):  # keep an existing account's name; a new one is named by its id
            row["name"] = accounts.names.get(row["id"], row["id"])
        return True
    name = str(row["name"])
    matches = accounts.by_name.get(name, [])
    if len(matches) > 1:
        problem(number, "name", f"{name!r} matches {len(matches)} accounts; give the id")
        return False
    row["id"] = matches[0] if matches else slug(name)
    if not row["id"]:
        problem(number, "name", f"{name!r} cannot make an id; add an id column")
        return False
    return True


def slug(name: str) -> str:
    """A stable id from a name: "Acme Corp." → "acme-corp"."""
    return re.sub(r"[^0-9a-z]+", "-", name.lower()).strip("-")[:60]


def _custom_values(record: Record, columns: ColumnMap) -> dict[str, object]:
    custom: dict[str, object] = {}
    for header, key in columns.custom.items():
        value = record.values.get(header)
        if key == "custom" and isinstance(value, dict):
            custom.update({k: v for k, v in value.items() if v is not None and v != ""})
        elif key == "custom" and isinstance(value, str) and value.strip().startswith("{"):
            custom.update(_json_object_or_text(value))
        elif value is not None and value != "":
            custom[key] = value
    return custom


def _json_object_or_text(value: str) -> dict[str, object]:
    try:
        loaded = json.loads(value)
    except json.JSONDecodeError:
        return {"custom": value}
    return loaded if isinstance(loaded, dict) else {"custom": value}


def _date_orders(kind: Kind, source: Source, columns: ColumnMap) -> dict[str, str]:
    """Per date column: month-first or day-first, decided from all of the column's values."""
    orders = {}
    for header, name in columns.fields.items():
        spec = kind.field(name)
        if spec is not None and spec.type in (DATE, TIMESTAMP):
            values = [r.values.get(header) for r in source.records]
            orders[name] = parse.infer_date_order([v for v in values if isinstance(v, str)])
    return orders


def _reference_sets(book, kind: Kind) -> dict[str, tuple[set[str], str]]:
    sets = {}
    for (kind_name, name), (table, what) in REFERENCES.items():
        if kind_name == kind.name:
            ids = {str(r[0]) for r in book.query(f"SELECT id FROM {table}")}  # noqa: S608
            sets[name] = (ids, what)
    return sets


def _alert_natural_keys(book) -> dict[tuple, int]:
    rows = book.query("SELECT account_id, rule, fired_at, id FROM alerts")
    return {(r[0], r[1], r[2]): r[3] for r in rows}


def _required_columns(path: Path, kind: Kind, columns: ColumnMap, headers: list[str]) -> None:
    mapped = set(columns.fields.values())
    missing = [
        f.name for f in kind.fields if f.required and f.name != ACCOUNT_REF and f.name not in mapped
    ]
    if kind.has_account and not mapped & {ACCOUNT_REF, ACCOUNT_NAME}:
        missing.insert(0, "account_id (or account_name)")
    if kind.name == "accounts" and not mapped & {"id", "name"}:
        missing.insert(0, "id (or name)")
    if missing:
        found = ", ".join(repr(h) for h in headers[:30]) or "none"
        problems = [f"{path}:1: {name}: no column for it" for name in missing]
        raise ImportRejected(
            f"{path}: missing required column(s) for {kind.noun}: {', '.join(missing)}. "
            f"Columns found: {found}. Rename a column or map it with --map 'Column=field'.",
            problems,
        )


def plan_import(
    book,
    source: Source,
    kind: Kind,
    overrides: dict[str, str] | None = None,
    progress: ProgressFn | None = None,
) -> Plan:
    """Validate every record and return what to write; ImportRejected lists all bad rows."""
    if source.problems and not source.records:  # nothing readable: the row errors say why
        raise ImportRejected(
            f"{source.path}: no record could be read; nothing was imported.", source.problems
        )
    columns = map_headers(kind, source.headers, overrides)
    if source.records or source.format == "csv":  # an empty JSON list has no columns to check
        _required_columns(source.path, kind, columns, source.headers)
    checker = _Checker(book, source, kind, columns)
    main = Planned(kind, file_columns=set(columns.fields.values()) - {ACCOUNT_NAME})
    total = len(source.records)
    for done, record in enumerate(source.records, 1):
        row = checker.check(record)
        if row is not None:
            main.rows.append(row)
        if progress and done % 500 == 0:  # checking is the first half of the work
            progress(done // 2, total)
    plan = Plan(main, columns=columns)
    if kind.name == "accounts":
        plan.side = _account_side_rows(main, checker)
    if checker.problems:
        raise ImportRejected(
            f"{source.path}: {_count_rows(checker.problems)} bad row(s); nothing was imported. "
            "Fix these and import again:",
            checker.problems,
        )
    for planned in (main, *plan.side):
        planned.existing = _existing_keys(book, planned)
    return plan


def _count_rows(problems: list[str]) -> int:
    return len({line.split(": ", 1)[0] for line in problems})


def _existing_keys(book, planned: Planned, chunk: int = 2_000) -> set[tuple]:
    """Which of the file's keys are already in the book (looked up by primary key, a chunk at
    a time, so memory follows the file's size rather than the table's)."""
    kind = planned.kind
    width = len(kind.key)
    names = ", ".join(f"k{i}" for i in range(width))
    match = " AND ".join(f"t.{col} = k.k{i}" for i, col in enumerate(kind.key))
    keys = [key for key in dict.fromkeys(planned.keys()) if key[0] is not None]
    found: set[tuple] = set()
    for start in range(0, len(keys), chunk):
        part = keys[start : start + chunk]
        values = ", ".join(["(" + ", ".join("?" * width) + ")"] * len(part))
        sql = (
            f"WITH k({names}) AS (VALUES {values}) "  # noqa: S608 - names come from KINDS
            f"SELECT k.* FROM k JOIN {kind.table} t ON {match}"
        )
        found.update(tuple(r) for r in book.query(sql, tuple(v for key in part for v in key)))
    return found


def _account_side_rows(main: Planned, checker: _Checker) -> list[Planned]:
    """Seed-003 style accounts: MAU → today's usage snapshot; renewal_history → renewals;
    a "Churn"/"churned" yes/no → status."""
    usage = Planned(KINDS["usage"], file_columns={"mau", "active_users"})
    renewals = Planned(
        KINDS["renewals"], file_columns={"due_date", "arr_before", "outcome", "closed_on"}
    )
    for row in main.rows:
        churned = row.pop(CHURNED, None)
        if churned is not None and "status" not in main.file_columns:
            row["status"] = "churned" if churned else "active"
        mau = row.pop(MAU_TODAY, None)
        if mau is not None:
            usage.rows.append(
                {
                    ACCOUNT_REF: row["id"],
                    "date": today().isoformat(),
                    "mau": mau,
                    "active_users": int(mau),
                }
            )
        history = row.pop(RENEWAL_HISTORY, None)
        if history:
            renewals.rows.extend(_history_renewals(row, history))
            latest = max(history, key=lambda entry: entry["year"])
            if latest["outcome"] == "churned" and "status" not in main.file_columns:
                row["status"] = "churned"
    derived_status = any("status" in row for row in main.rows)
    main.file_columns -= {CHURNED, MAU_TODAY, RENEWAL_HISTORY}
    if derived_status:  # rows carrying a derived status update it; others keep theirs
        main.file_columns.add("status")
    return [planned for planned in (usage, renewals) if planned.rows]


def _history_renewals(account: dict, history: list[dict]) -> list[dict]:
    """[{year, status}] → renewals: Renewed/Churned are closed outcomes, Pending is open."""
    expiry = account.get("renewal_date")
    rows = []
    for entry in history:
        year, outcome = int(entry["year"]), entry["outcome"]
        due = _in_year(expiry, year) if outcome or not expiry else expiry
        rows.append(
            {
                "id": f"RN-{slug(account['id'])}-{year}",
                ACCOUNT_REF: account["id"],
                "due_date": due,
                "arr_before": account.get("arr") or 0.0,
                "outcome": outcome,
                "closed_on": due if outcome else None,
            }
        )
    return rows


def _in_year(expiry: str | None, year: int) -> str:
    if not expiry:
        return f"{year}-12-31"
    month_day = expiry[5:]
    return f"{year}-02-28" if month_day == "02-29" else f"{year}-{month_day}"


def check_renewal_history(value: object) -> list[dict]:
    """Validate a seed-003 `renewal_history` list ([{year, status}]) → [{year, outcome}]."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise parse.ValueProblem("expected a JSON list of {year, status}") from None
    if not isinstance(value, list):
        raise parse.ValueProblem('expected a list of {"year": 2025, "status": "Renewed"}')
    entries = []
    for entry in value:
        if not isinstance(entry, dict):
            raise parse.ValueProblem('each entry must be {"year": …, "status": …}')
        year = parse.parse_in_range(entry.get("year"), 1900, 2200, what="year")
        status = str(entry.get("status") or "").strip().lower()
        if year is None or status not in _RENEWAL_STATUS:
            raise parse.ValueProblem(
                f"{json.dumps(entry)[:60]}: needs a year and a status "
                "of Renewed, Churned or Pending"
            )
        entries.append({"year": int(year), "outcome": _RENEWAL_STATUS[status]})
    return entries


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def write_plan(book, plan: Plan, progress: ProgressFn | None = None) -> None:
    """Write every planned row in ONE non-durable transaction (all or nothing).

    Progress counts the file's records: checking was the first half, writing is the second."""
    records = len(plan.main.rows)
    total = sum(len(p.rows) for p in (plan.main, *plan.side)) or 1
    written = 0
    with book.write(durable=False) as conn:
        if plan.main.kind.name == "alerts":
            _clear_alert_clashes(conn, plan.main)
        for planned in (plan.main, *plan.side):
            for sql, batch in _statements(planned):
                conn.executemany(sql, batch)
                written += len(batch)
                if progress:
                    progress(records // 2 + written * (records - records // 2) // total, records)
        if plan.main.kind.name == "health":
            _sync_current_scores(conn, plan.main)
            # imported snapshots may replace today's: the next full rescore rewrites them all
            # (it skips unchanged accounts only after a full rescore of the same day)
            conn.execute("DELETE FROM meta WHERE key = 'full_rescore_stamp'")


def _sync_current_scores(conn, planned: Planned) -> None:
    """An account's current score is its latest health snapshot: when the file holds an
    account's latest snapshot, copy it onto the account (the columns the portfolio shows)."""
    from csm_tui.storage.history import latest_snapshot

    latest: dict[str, str] = {}
    for row in planned.rows:
        account, day = row[ACCOUNT_REF], str(row["date"])
        latest[account] = max(latest.get(account, day), day)
    updates = []
    for account, day in latest.items():
        snap = latest_snapshot(conn, account)
        if snap is not None and snap["date"] == day:  # a row wins over its day's block
            updates.append((snap["score"], snap["band"], snap["churn_prob"], account))
    conn.executemany(
        "UPDATE accounts SET health_band = ?, churn_prob = coalesce(?, churn_prob) WHERE id = ?",
        [(band, churn, account) for _, band, churn, account in updates],
    )
    conn.executemany(_HEALTH_SCORE_SQL, [(score, account) for score, *_, account in updates])


def _statements(planned: Planned) -> Iterator[tuple[str, list[tuple]]]:
    """(upsert SQL, parameter batch) for rows grouped by the columns they carry."""
    groups: dict[tuple[str, ...], list[dict]] = {}
    scores: list[tuple] = []
    for row in planned.rows:
        _fill_defaults(planned.kind, row)
        if planned.kind.name == "accounts" and "health_score" in row:
            scores.append((row.pop("health_score"), row["id"]))
        groups.setdefault(tuple(row), []).append(row)
    for columns, rows in groups.items():
        sql = _upsert_sql(planned.kind, columns, planned.file_columns)
        for start in range(0, len(rows), BATCH_ROWS):
            batch = rows[start : start + BATCH_ROWS]
            yield sql, [tuple(_db_value(row[c]) for c in columns) for row in batch]
    if "health_score" in planned.file_columns:
        # the health score lives in `account_health` (schema v8), beside the account's row
        for start in range(0, len(scores), BATCH_ROWS):
            yield _HEALTH_SCORE_SQL, scores[start : start + BATCH_ROWS]


_HEALTH_SCORE_SQL = (
    "UPDATE account_health SET health_score = ? "
    "WHERE account_rowid = (SELECT rowid FROM accounts WHERE id = ?)"
)


def _fill_defaults(kind: Kind, row: dict) -> None:
    for spec in kind.fields:
        if (kind.name, spec.name) in NOW_DEFAULTS and not row.get(spec.name):
            row[spec.name] = now_iso()


def _db_value(value: object) -> object:
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return int(value)
    return value


def _upsert_sql(kind: Kind, columns: tuple[str, ...], file_columns: set[str]) -> str:
    names = ", ".join(columns)
    marks = ", ".join("?" for _ in columns)
    updates = [
        f"{c} = excluded.{c}"
        for c in columns
        if c not in kind.key and (c in file_columns or c == ACCOUNT_REF)
    ]
    if kind.name == "accounts":
        updates = [u for u in updates if not u.startswith("custom ")]
        updates += [
            "custom = json_patch(accounts.custom, excluded.custom)",
            "updated_at = strftime('%Y-%m-%dT%H:%M:%S','now')",
        ]
    conflict = ", ".join(kind.key)
    action = f"DO UPDATE SET {', '.join(updates)}" if updates else "DO NOTHING"
    return (
        f"INSERT INTO {kind.table} ({names}) VALUES ({marks}) "  # noqa: S608
        f"ON CONFLICT({conflict}) {action}"
    )


# --------------------------------------------------------------------------------------------
# The whole import
# --------------------------------------------------------------------------------------------


def import_file(
    book,
    path: Path,
    kind_name: str = "accounts",
    *,
    fmt: str | None = None,
    overrides: dict[str, str] | None = None,
    dry_run: bool = False,
    progress: ProgressFn | None = None,
    source: Source | None = None,
) -> ImportResult:
    """Import `path` as `kind_name` records; validate everything, then write all or nothing.

    `source` is the file already read by `read_source` (so a caller can check it first)."""
    from csm_tui.storage.kinds import kind_named

    kind = kind_named(kind_name)
    path = Path(path)
    source = source or read_source(path, fmt, kind)
    plan = plan_import(book, source, kind, overrides, progress)
    if not dry_run:
        write_plan(book, plan, progress)
    return _result(path, plan, dry_run)


def _clear_alert_clashes(conn, planned: Planned) -> None:
    """Only one live alert per account and rule: an imported live alert replaces another."""
    live = [
        (r[ACCOUNT_REF], r["rule"], r.get("id") or -1)
        for r in planned.rows
        if (r.get("status") or "open") != "done"
    ]
    if live:
        conn.executemany(
            "DELETE FROM alerts WHERE account_id = ? AND rule = ? AND status != 'done' AND id != ?",
            live,
        )


def _result(path: Path, plan: Plan, dry_run: bool) -> ImportResult:
    main = plan.main
    keys = main.keys()
    new_keys = [_key_label(k) for k in keys if k not in main.existing]
    updated_keys = [_key_label(k) for k in keys if k in main.existing]
    account_ids = sorted(
        {str(r.get("id") if main.kind.name == "accounts" else r[ACCOUNT_REF]) for r in main.rows}
    )
    return ImportResult(
        path=path,
        kind=main.kind,
        total=len(main.rows),
        new=len(new_keys),
        updated=len(updated_keys),
        dry_run=dry_run,
        side={p.kind.noun: len(p.rows) for p in plan.side},
        custom_columns=list(plan.columns.custom),
        ignored_columns=plan.columns.ignored,
        new_keys=new_keys,
        updated_keys=updated_keys,
        account_ids=account_ids,
    )


def _key_label(key: tuple) -> str:
    return " / ".join(str(part) for part in key)
