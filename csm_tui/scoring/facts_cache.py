"""Cached history aggregates for the full rescore (`score_facts`, schema v3).

Reading every usage snapshot, ticket, touch, survey answer and contact of a million accounts
costs tens of seconds, yet on a given day only a few accounts' history has changed. So the
full rescore keeps, per account, the query columns `measures` computes from the history tables
(the latest usage snapshot, ticket counts, the last touch, the latest NPS, stakeholders…),
with the date they were computed for (`as_of`) and the first date they may differ
(`valid_until`), and reuses them while both hold:

- *data changes*: triggers on every history table (and on the account's own input columns)
  delete the account's row, whoever writes; the next rescore recomputes it;
- *time passing*: `valid_until` is the first day a ticket leaves the 14/90/98-day windows, an
  open ticket's resolution date arrives, a departure leaves the 365-day window, a future-dated
  row comes into view or the latest usage snapshot turns stale. Days-since measures are not
  cached: they are derived from the cached dates for each day.

Reused columns equal freshly computed ones for every as_of in [as_of, valid_until) (tested
day by day in tests/scoring/test_facts_cache.py). The accounts' own columns are read fresh.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from datetime import date

import numpy as np

from csm_tui.scoring import measures as m

#: The cached query columns, numbers (float64, NaN = none) and text ("" = none).
CACHED_NUMBERS = (
    "usage_seats", "active_users", "dau", "mau", "features_used", "features_total",
    "mau_base", "mau_prev",
    "tickets_90d", "tickets_recent", "tickets_trailing_n", "open_sev1", "open_sev12",
    "nps", "csat", "contacts", "champion", "sponsor_contact", "objectives",
)  # fmt: skip
CACHED_TEXTS = (
    "usage_date", "mau_prev_date", "last_touch_at", "last_touch_day", "last_qbr_day",
    "nps_date", "left_on", "left_role", "left_name",
)  # fmt: skip
#: Expiry columns the child queries also return (text dates, "" = none).
EXPIRY_COLUMNS = ("exp_window", "exp_resolve", "exp_left", "exp_future")
FOREVER = "9999-12-31"
SEP = "\x1f"  # unit separator between the text fields of one row
ESC = "\x1e"  # escapes itself and SEP inside a field (a name may contain anything)
#: Rows dated after as_of per history table: they come into view on their date (indexed; for
#: the recomputed accounts only, {where} as in `measures`).
_FUTURE_SQL = (
    "SELECT account_id, min(substr(date, 1, 10)) FROM usage WHERE {where} AND date >= :next "
    "GROUP BY account_id",
    "SELECT account_id, min(substr(opened_at, 1, 10)) FROM tickets WHERE {where} AND opened_at >= :next "
    "GROUP BY account_id",
    "SELECT account_id, min(substr(at, 1, 10)) FROM events WHERE {where} AND at >= :next GROUP BY account_id",
    "SELECT account_id, min(substr(date, 1, 10)) FROM responses WHERE {where} AND date >= :next "
    "GROUP BY account_id",
)
_ACCOUNTS_CACHED_SQL = (
    m._queries()["accounts"]
    .replace(
        "WHERE {where}",
        "LEFT JOIN score_facts f ON f.account_id = a.id WHERE {where}",
    )
    .replace(
        "SELECT id AS account_id,",
        "SELECT id AS account_id, f.as_of AS cache_as_of, f.valid_until AS cache_until, "
        "f.numbers AS cache_numbers, f.texts AS cache_texts, f.group_until AS cache_groups, "
        # the one account column that depends on the day: activation dated after it
        "CASE WHEN activated_on >= :next THEN activated_on END AS activates_on,",
    )
)
#: The history queries, in `measures` order. Each keeps its own expiry date (`group_until`): a
#: day's expiry re-runs only the queries it concerns (at a million accounts ~49k accounts a
#: day see a ticket leave a window; re-running all seven queries for them took ~4.5 s).
GROUPS = tuple(name for name in m._queries() if name != "accounts")
#: Which expiry columns end which query's cached columns.
_GROUP_EXPIRY = {"tickets": ("exp_window", "exp_resolve"), "contacts": ("exp_left", "exp_future")}
#: _FUTURE_SQL[i] brings rows into view for these queries; a stale latest usage snapshot too.
_FUTURE_GROUPS = (("usage", "history"), ("tickets",), ("events",), ("responses",))
_STALE_GROUPS = ("usage", "history")
_CACHE_META = "score_facts_version"
#: Above this share of stale accounts, one pass over the whole book beats an id list.
WHOLE_BOOK_SHARE = 0.25


def cache_version() -> str:
    """Changes whenever what is cached, or how it is computed, changes: old rows are dropped.
    The accounts query is not part of it: its columns are read afresh, never cached here."""
    history = sorted((name, sql) for name, sql in m._queries().items() if name != "accounts")
    text = repr((
        CACHED_NUMBERS, CACHED_TEXTS, history, _FUTURE_SQL, GROUPS, _GROUP_EXPIRY,
        _FUTURE_GROUPS, _STALE_GROUPS,
    ))  # fmt: skip
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def cached_columns(
    conn: sqlite3.Connection,
    as_of: date,
    ids: list[str] | None = None,
    book_size: int | None = None,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Every account's (or `ids`') query columns as of `as_of` (as `measures_frame` computes
    them) and a mask of the accounts whose history aggregates were reused. Recomputes and
    stores the rest: call inside the write transaction. Besides the query columns: the
    cache's `cache_as_of` / `cache_until` dates and `activates_on` (see `book_frame`). `book_size`: how many accounts
    the book holds when `ids` are given (counted if not), to choose between an id list and one
    pass over the whole book for the recomputation."""
    check_version(conn)
    params = m.Window(as_of).params()
    where = "1" if ids is None else m.ids_filter(conn, ids).format(col="a.id")
    columns = m._read(
        conn,
        _ACCOUNTS_CACHED_SQL.format(where=where),
        params,
        raw={"cache_numbers", "cache_texts", "cache_groups"},
    )
    day = as_of.isoformat()
    until, computed_for = columns["cache_until"], columns["cache_as_of"]
    numbers, texts = columns.pop("cache_numbers"), columns.pop("cache_texts")
    groups = columns.pop("cache_groups")
    columns["cache_groups"] = np.where(groups == None, "", groups).astype(object)  # noqa: E711
    cached = (computed_for != "") & (computed_for <= day)
    fresh = cached & (until > day)
    # expired with time only: the row still holds the queries whose own date has not come
    timed_out = cached & ~fresh & (groups != None)  # noqa: E711 (element-wise comparison)
    n = len(fresh)
    for name in CACHED_NUMBERS:
        columns[name] = np.full(n, np.nan)
    for name in CACHED_TEXTS:
        columns[name] = np.full(n, "", dtype=object)
    _decode(columns, np.flatnonzero(cached & (fresh | timed_out)), numbers, texts)
    stale = np.flatnonzero(~fresh)
    if stale.size:
        if ids is None:
            book_size = n
        elif book_size is None:
            book_size = conn.execute("SELECT count(*) FROM accounts").fetchone()[0]
        group_until = _group_until(groups[stale], timed_out[stale], stale.size)
        _recompute(conn, columns, stale, group_until, params, as_of, book_size)
    return columns, fresh


def _group_until(stored: np.ndarray, known: np.ndarray, size: int) -> np.ndarray:
    """(size × GROUPS) expiry dates of the stale rows: the stored ones where `known`, else ""
    (due: recomputed)."""
    out = np.full((size, len(GROUPS)), "", dtype=object)
    rows = np.flatnonzero(known)
    if rows.size:
        fields = SEP.join(stored[rows].tolist()).split(SEP)
        if len(fields) == rows.size * len(GROUPS):  # else (another layout): recompute all
            out[rows] = np.array(fields, dtype=object).reshape(rows.size, len(GROUPS))
    return out


def check_version(conn: sqlite3.Connection) -> bool:
    """Drop every cached row if they were computed by other code; True if they were dropped."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (_CACHE_META,)).fetchone()
    version = cache_version()
    if row is not None and row[0] == version:
        return False
    conn.execute("DELETE FROM score_facts")
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (_CACHE_META, version))
    return True


def _decode(
    columns: dict[str, np.ndarray], rows: np.ndarray, numbers: np.ndarray, texts: np.ndarray
) -> None:
    """Unpack the stored rows into `columns` at `rows` (one join and split per kind, in C)."""
    if rows.size == 0:
        return
    matrix = np.frombuffer(b"".join(numbers[rows].tolist()), dtype="<f8")
    matrix = matrix.reshape(rows.size, len(CACHED_NUMBERS))
    for j, name in enumerate(CACHED_NUMBERS):
        columns[name][rows] = matrix[:, j]
    joined = SEP.join(texts[rows].tolist())
    fields = np.array(joined.split(SEP), dtype=object)
    if ESC in joined:
        fields = np.array([unescape_text(f) if ESC in f else f for f in fields], dtype=object)
    fields = fields.reshape(rows.size, len(CACHED_TEXTS))
    for j, name in enumerate(CACHED_TEXTS):
        columns[name][rows] = fields[:, j]


def _recompute(
    conn: sqlite3.Connection,
    columns: dict[str, np.ndarray],
    stale: np.ndarray,
    group_until: np.ndarray,
    params: dict,
    as_of: date,
    book_size: int,
    store: bool = True,
) -> None:
    """Run again, for the `stale` rows, each history query whose expiry date (`group_until`,
    "" = unknown) has come; keep the other queries' decoded columns; store the rows (unless
    `store` is False: the caller keeps them)."""
    day = as_of.isoformat()
    due = (group_until == "") | (group_until <= day)
    ids = columns["account_id"][stale]
    expiry = {name: np.full(stale.size, "", dtype=object) for name in EXPIRY_COLUMNS}
    filters = _Filters(conn, ids, book_size)
    for g, name in enumerate(GROUPS):
        rows = np.flatnonzero(due[:, g])
        if rows.size == 0:
            continue
        col = "u.account_id" if name == "history" else "account_id"
        sql = m._queries()[name].format(where=filters.where(rows).format(col=col))
        part = m._read(conn, sql, params)
        at, found = filters.keys(rows).rows_of(part["account_id"])
        for column, values in part.items():
            if column in expiry:
                expiry[column][rows[at]] = values[found]
            elif column != "account_id":
                target = columns[column]
                target[stale[rows]] = "" if target.dtype == object else np.nan  # no row: none
                target[stale[rows[at]]] = values[found]
    until = _valid_until(conn, columns, stale, due, group_until, expiry, params, filters)
    if store:
        _store(conn, columns, stale, as_of, until, group_until)
    columns["cache_as_of"][stale] = day
    columns["cache_until"][stale] = until
    columns["cache_groups"][stale] = [SEP.join(row) for row in group_until.tolist()]


def refresh_expired(
    conn: sqlite3.Connection,
    columns: dict[str, np.ndarray],
    rows: np.ndarray,
    as_of: date,
    book_size: int,
) -> None:
    """For `rows` of columns this module returned earlier whose cached facts expired with
    time alone (no edit since: the columns still hold their values), run again only the
    queries whose date has come, in place, with their new dates and expiry.

    Their `score_facts` rows are left as they were: the caller's frame keeps the new values
    (`book_frame`), and an expired row is only ever read as expired, its due queries run
    again. Writing them cost a full rescore of 1M accounts ~1 s a day and ~300 MB of I/O
    (~49k rows scattered over the table), for rows most often dropped by the account's next
    edit before any reader needs them."""
    stored = columns["cache_groups"][rows]
    group_until = _group_until(stored, stored != "", rows.size)
    params = m.Window(as_of).params()
    _recompute(conn, columns, rows, group_until, params, as_of, book_size, store=False)


class _Filters:
    """WHERE templates and id lookups for subsets of the stale rows (one per distinct subset:
    most days every recomputed query concerns the same accounts)."""

    def __init__(self, conn: sqlite3.Connection, ids: np.ndarray, book_size: int) -> None:
        self.conn, self.ids, self.book_size = conn, ids, book_size
        self._loaded: np.ndarray | None = None
        self._keys: dict[bytes, m._AccountKeys] = {}

    def where(self, rows: np.ndarray) -> str:
        if rows.size >= WHOLE_BOOK_SHARE * self.book_size:
            return "1"
        if self._loaded is None or not np.array_equal(self._loaded, rows):
            m.ids_filter(self.conn, self.ids[rows])
            self._loaded = rows
        return "{col} IN (SELECT id FROM _score_ids)"

    def keys(self, rows: np.ndarray) -> m._AccountKeys:
        key = rows.tobytes()
        if key not in self._keys:
            self._keys[key] = m._AccountKeys(self.ids[rows])
        return self._keys[key]


def _valid_until(
    conn: sqlite3.Connection,
    columns: dict[str, np.ndarray],
    stale: np.ndarray,
    due: np.ndarray,
    group_until: np.ndarray,
    expiry: dict[str, np.ndarray],
    params: dict,
    filters: _Filters,
) -> np.ndarray:
    """The first day each stale account's columns may change with no edit (see the module
    doc); fills `group_until` for the queries run again."""
    first = {
        name: np.full(stale.size, np.datetime64(FOREVER), dtype="datetime64[D]") for name in GROUPS
    }
    stale_usage = _days(columns["usage_date"][stale]) + np.timedelta64(m.STALE_USAGE_DAYS + 1, "D")
    for name in _STALE_GROUPS:
        first[name] = np.fmin(first[name], stale_usage)  # NaT (no such date) never wins
    for name, expiries in _GROUP_EXPIRY.items():
        for column in expiries:
            first[name] = np.fmin(first[name], _days(expiry[column]))
    for sql, names in zip(_FUTURE_SQL, _FUTURE_GROUPS, strict=True):
        rows = np.flatnonzero(due[:, [GROUPS.index(g) for g in names]].any(axis=1))
        if rows.size == 0:
            continue
        where = filters.where(rows).format(col="account_id")
        found_rows = m.tuple_cursor(conn).execute(sql.format(where=where), params).fetchall()
        if not found_rows:
            continue
        found_ids, days = zip(*found_rows, strict=True)
        at, found = filters.keys(rows).rows_of(np.array(found_ids, dtype=object))
        future = np.full(stale.size, np.datetime64("NaT"), dtype="datetime64[D]")
        future[rows[at]] = _days(np.array(days, dtype=object)[found])
        for name in names:
            first[name] = np.fmin(first[name], future)
    for g, name in enumerate(GROUPS):
        rows = due[:, g]
        group_until[rows, g] = np.datetime_as_string(first[name][rows], unit="D").astype(object)
    return group_until.min(axis=1)


def _days(values: np.ndarray) -> np.ndarray:
    """ISO dates (or timestamps) as datetime64[D]; "" → NaT. Text that is not a date (written
    behind the importer) becomes day one: such an account is recomputed on every rescore."""
    text = np.asarray(values, dtype=object)
    out = np.full(text.shape, np.datetime64("NaT"), dtype="datetime64[D]")
    present = text != ""
    if present.any():
        heads = [v[:10] for v in text[present]]
        try:
            if not all(_FULL_DATE.fullmatch(v) for v in heads):
                raise ValueError("not a full date")
            out[present] = np.array(heads, dtype="datetime64[D]")
        except ValueError:
            out[present] = np.array([_day_or_first(v) for v in heads], dtype="datetime64[D]")
    return out


#: SQLite compares dates as text: only a full YYYY-MM-DD has a day numpy reads the same way
#: ("2026-12" sorts before "2026-12-01" but numpy reads it as that day).
_FULL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _day_or_first(text: str) -> np.datetime64:
    if _FULL_DATE.fullmatch(text):
        try:
            return np.datetime64(text, "D")
        except ValueError:
            pass
    return np.datetime64("0001-01-01", "D")


def _store(
    conn: sqlite3.Connection,
    columns: dict[str, np.ndarray],
    stale: np.ndarray,
    as_of: date,
    until: np.ndarray,
    group_until: np.ndarray,
) -> None:
    order = m.key_order(columns["account_id"][stale])
    if order is not None:
        stale, until, group_until = stale[order], until[order], group_until[order]
    groups = [SEP.join(row) for row in group_until.tolist()]
    matrix = np.column_stack([columns[name][stale] for name in CACHED_NUMBERS]).astype("<f8")
    blobs = np.ascontiguousarray(matrix).view(f"V{8 * len(CACHED_NUMBERS)}").ravel().tolist()
    fields = [
        [escape_text(v) if SEP in v or ESC in v else v for v in columns[name][stale].tolist()]
        for name in CACHED_TEXTS
    ]
    texts = [SEP.join(row) for row in zip(*fields, strict=True)]
    day = as_of.isoformat()
    conn.executemany(
        "INSERT OR REPLACE INTO score_facts (account_id, as_of, valid_until, numbers, texts, "
        "group_until) VALUES (?, ?, ?, ?, ?, ?)",
        zip(columns["account_id"][stale].tolist(), [day] * stale.size, until.tolist(), blobs, texts,
            groups, strict=True),
    )  # fmt: skip


def escape_text(text: str) -> str:
    """`text` without a bare separator: ESC → ESC "0", SEP → ESC "1"."""
    return text.replace(ESC, ESC + "0").replace(SEP, ESC + "1")


def unescape_text(text: str) -> str:
    """The inverse of `escape_text` (every ESC in stored text starts a two-character escape)."""
    return text.replace(ESC + "1", SEP).replace(ESC + "0", ESC)
