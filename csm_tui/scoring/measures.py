"""Each account's raw facts from the book as of a date (point in time: only data dated ≤ as_of).

Two forms with the same definitions, tested to agree:
- `measures_for_account(conn, account_id, as_of)`: a few indexed per-account queries (the
  rescore after an edit);
- `measures_frame(conn, as_of, account_ids=None)`: SQL GROUP BY aggregates into one pandas
  frame, one row per account (the full rescore; no per-row Python).

Definitions (raw values; the 0–100 transforms are in config.py):
- usage: the latest snapshot dated within `STALE_USAGE_DAYS` of as_of. seat_utilisation =
  active users / seats (the snapshot's, else the account's) %; stickiness = DAU / MAU %;
  feature_adoption = features used / total %; usage_trend = MAU vs the mean MAU of the
  snapshots in the 60 days before it, % change. mau_prev = the snapshot 20–45 days before the
  latest (month on month, for the MAU-drop alert).
- support_load = tickets opened in the last 90 days per 100 seats (the account's seats, else
  the snapshot's) + `SEV12_PENALTY` per ticket of severity 1–2 open at as_of.
- last_touch / qbr = days since the last call, meeting, email or QBR / the last QBR.
- objectives = share of success-plan objectives on track or done, %.
- sponsor = the account's "sponsor engaged" flag; champion = 1 if a champion contact is in
  place at as_of (0 if the account has contacts but none is a champion).
- nps / csat = the latest answer; escalations = open escalations.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from csm_tui.storage.schema import SCORE_COLUMNS

STALE_USAGE_DAYS = 95
TREND_DAYS = 60
MOM_MIN_DAYS, MOM_MAX_DAYS = 20, 45
SUPPORT_DAYS = 90
SEV12_PENALTY = 5.0
SPIKE_WINDOW_DAYS, SPIKE_TRAILING_DAYS = 14, 84
#: How far back departures are looked for; the alert rule's own `days` narrows it.
STAKEHOLDER_DAYS = 365
TOUCH_KINDS = ("call", "meeting", "email", "qbr")

MEASURE_KEYS = (
    "seat_utilisation", "stickiness", "feature_adoption", "usage_trend",
    "support_load", "onboarding", "last_touch", "qbr",
    "objectives", "sponsor", "champion",
    "nps", "csat", "escalations",
)  # fmt: skip
#: Facts beyond the measures that alert rules and the engine need.
SIGNAL_KEYS = (
    "status", "segment", "renewal_date", "start_date", "activated_on", "last_touch_at",
    "usage_date", "mau", "mau_prev", "mau_prev_date", "tickets_recent", "tickets_trailing",
    "open_sev1", "nps_date", "left_role", "left_name", "left_on", "sponsor_present",
)  # fmt: skip
FACT_KEYS = MEASURE_KEYS + SIGNAL_KEYS

Facts = dict[str, Any]


class Window:
    """The date bounds used by every query, as ISO text, for one as_of date."""

    def __init__(self, as_of: date) -> None:
        def back(days: int) -> str:
            return (as_of - timedelta(days=days)).isoformat()

        self.as_of = as_of.isoformat()
        self.next = (as_of + timedelta(days=1)).isoformat()  # "< next" = on or before as_of
        self.stale = back(STALE_USAGE_DAYS)
        self.support = back(SUPPORT_DAYS - 1)
        self.recent = back(SPIKE_WINDOW_DAYS - 1)
        self.trailing = back(SPIKE_WINDOW_DAYS - 1 + SPIKE_TRAILING_DAYS)
        self.left = back(STAKEHOLDER_DAYS)

    def params(self) -> dict[str, Any]:
        """Named parameters for the SQL below."""
        return {
            "as_of": self.as_of, "next": self.next, "stale": self.stale,
            "support": self.support, "recent": self.recent, "trailing": self.trailing,
            "left": self.left, "sev12": SEV12_PENALTY, "trend": f"-{TREND_DAYS} days",
            "mom_lo": f"-{MOM_MAX_DAYS} days", "mom_hi": f"-{MOM_MIN_DAYS} days",
            # the day a row dated d leaves each window (see `facts_cache`)
            "exp_recent": f"+{SPIKE_WINDOW_DAYS} days", "exp_support": f"+{SUPPORT_DAYS} days",
            "exp_trailing": f"+{SPIKE_WINDOW_DAYS + SPIKE_TRAILING_DAYS} days",
            "exp_left": f"+{STAKEHOLDER_DAYS + 1} days",
        }  # fmt: skip


# SQL shared by both forms; {where} narrows to one account (or a temp list) or the whole book.
# `+date` keeps SQLite off the usage_date index: reading the table in key order (account,
# date) groups without a sort and without a lookup per row.
_ACCOUNTS_SQL = """
SELECT id AS account_id, a.rowid AS account_rowid, status, segment, renewal_date, start_date,
       CASE WHEN activated_on < :next THEN activated_on END AS activated_on,
       seats AS account_seats, onboarding_pct AS onboarding, sponsor_engaged AS sponsor,
       open_escalations AS escalations, {current}
FROM accounts a LEFT JOIN account_health h ON h.account_rowid = a.rowid WHERE {where}
"""
_USAGE_LATEST_SQL = """
SELECT account_id, max(date) AS usage_date, seats AS usage_seats, active_users, dau,
       mau, features_used, features_total
FROM usage u WHERE {where} AND +date < :next AND +date >= :stale GROUP BY account_id
"""
_USAGE_HISTORY_SQL = """
SELECT account_id, mau_base, substr(pick, 1, 10) AS mau_prev_date,
       CAST(nullif(substr(pick, 12), '') AS REAL) AS mau_prev
FROM (
    WITH latest AS (
        SELECT account_id, max(date) AS d FROM usage u
        WHERE {where} AND +date < :next AND +date >= :stale GROUP BY account_id
    )
    SELECT l.account_id, avg(u.mau) AS mau_base,
           max(CASE WHEN u.date BETWEEN date(l.d, :mom_lo) AND date(l.d, :mom_hi)
                    THEN u.date || '|' || ifnull(u.mau, '') END) AS pick
    FROM latest l JOIN usage u
      ON u.account_id = l.account_id AND u.date >= date(l.d, :trend) AND u.date < l.d
    GROUP BY l.account_id
)
"""
_TICKETS_SQL = """
SELECT account_id,
       sum(opened_at >= :support) AS tickets_90d,
       sum(opened_at >= :recent) AS tickets_recent,
       sum(opened_at < :recent) AS tickets_trailing_n,
       sum(severity = 1 AND {open}) AS open_sev1,
       sum(severity <= 2 AND {open}) AS open_sev12,
       min(CASE WHEN opened_at >= :recent THEN date(substr(opened_at, 1, 10), :exp_recent)
                WHEN opened_at >= :support THEN date(substr(opened_at, 1, 10), :exp_support)
                WHEN opened_at >= :trailing THEN date(substr(opened_at, 1, 10), :exp_trailing)
           END) AS exp_window,
       min(CASE WHEN resolved_at >= :next THEN substr(resolved_at, 1, 10) END) AS exp_resolve
FROM tickets t WHERE {where} AND opened_at < :next AND (opened_at >= :trailing OR {open})
GROUP BY account_id
"""
_OPEN_TICKET = "(resolved_at >= :next OR (resolved_at IS NULL AND status IN ('open', 'pending')))"
_EVENTS_SQL = """
SELECT account_id, max(at) AS last_touch_at, substr(max(at), 1, 10) AS last_touch_day,
       substr(max(CASE WHEN kind = 'qbr' THEN at END), 1, 10) AS last_qbr_day
FROM events e WHERE {where} AND at < :next AND kind IN ('call', 'meeting', 'email', 'qbr')
GROUP BY account_id
"""
_RESPONSES_SQL = """
SELECT account_id, substr(nps_pick, 1, 10) AS nps_date,
       CAST(substr(nps_pick, instr(nps_pick, char(31)) + 1) AS REAL) AS nps,
       CAST(substr(csat_pick, instr(csat_pick, char(31)) + 1) AS REAL) AS csat
FROM (
    SELECT account_id,
           max(CASE WHEN kind = 'nps' THEN date || id || char(31) || score END) AS nps_pick,
           max(CASE WHEN kind = 'csat' THEN date || id || char(31) || score END) AS csat_pick
    FROM responses r WHERE {where} AND date < :next GROUP BY account_id
)
"""
_CONTACTS_SQL = """
SELECT account_id, contacts, champion, sponsor_contact, substr(pick, 1, 10) AS left_on,
       CASE WHEN substr(pick, 12, 8) = 'champion' THEN 'champion'
            WHEN pick IS NOT NULL THEN 'sponsor' END AS left_role,
       CASE WHEN substr(pick, 12, 8) = 'champion' THEN substr(pick, 21)
            ELSE substr(pick, 20) END AS left_name,
       exp_left, exp_future
FROM (
    SELECT account_id, count(*) AS contacts,
           min(CASE WHEN role IN ('champion', 'sponsor') AND left_on >= :left
               AND left_on < :next THEN date(substr(left_on, 1, 10), :exp_left) END) AS exp_left,
           min(CASE WHEN left_on >= :next THEN substr(left_on, 1, 10) END) AS exp_future,
           max(role = 'champion' AND {present}) AS champion,
           max(role = 'sponsor' AND {present}) AS sponsor_contact,
           max(CASE WHEN role IN ('champion', 'sponsor') AND left_on >= :left
               AND left_on < :next THEN substr(left_on, 1, 10) || '|' || role || '|' || name
               END) AS pick
    FROM contacts c WHERE {where} GROUP BY account_id
)
"""
_PRESENT = "(left_on >= :next OR (left_on IS NULL AND active = 1))"
_OBJECTIVES_SQL = """
SELECT account_id, 100.0 * avg(status IN ('on_track', 'done')) AS objectives
FROM objectives o WHERE {where} GROUP BY account_id
"""


#: The score columns the engine last wrote, read with the facts (as `current_<column>`) so the
#: full rescore writes only the accounts whose scores changed.
CURRENT_COLUMNS = SCORE_COLUMNS
_CURRENT_SQL = ", ".join(f"{col} AS current_{col}" for col in CURRENT_COLUMNS)
#: Stored text scores keep NULL as None (not ""), so a stored "" still counts as a change.
CURRENT_TEXT = frozenset({"current_health_band", "current_risk_segment", "current_last_touch_at"})


def _queries() -> dict[str, str]:
    return {
        "accounts": _ACCOUNTS_SQL.replace("{current}", _CURRENT_SQL),
        "usage": _USAGE_LATEST_SQL,
        "history": _USAGE_HISTORY_SQL,
        "tickets": _TICKETS_SQL.replace("{open}", _OPEN_TICKET),
        "events": _EVENTS_SQL,
        "responses": _RESPONSES_SQL,
        "contacts": _CONTACTS_SQL.replace("{present}", _PRESENT),
        "objectives": _OBJECTIVES_SQL,
    }


#: Columns read as text (dates, ids, labels); every other column is a float (NaN = no data).
TEXT_COLUMNS = frozenset({
    "account_id", "status", "segment", "renewal_date", "start_date", "activated_on",
    "last_touch_at", "last_touch_day", "last_qbr_day", "usage_date", "mau_prev_date", "nps_date", "left_on",
    "left_role", "left_name", "band", "prev_band",
    "exp_window", "exp_resolve", "exp_left", "exp_future", "cache_as_of", "cache_until",
    "activates_on",
    *CURRENT_TEXT,
})  # fmt: skip


# -- one account --------------------------------------------------------------------------------
def measures_for_account(conn: sqlite3.Connection, account_id: str, as_of: date) -> Facts | None:
    """The facts of one account as of `as_of` (None if there is no such account)."""
    params = Window(as_of).params() | {"id": account_id}
    raw: dict[str, Any] = {}
    for name, sql in _queries().items():
        where = {"accounts": "a.id = :id", "history": "u.account_id = :id"}.get(
            name, "account_id = :id"
        )
        cursor = conn.execute(sql.format(where=where), params)
        row = cursor.fetchone()
        if row is None and name == "accounts":
            return None
        for i, d in enumerate(cursor.description):
            raw.setdefault(d[0], None if row is None else row[i])
    facts = derive(as_columns(raw), as_of)
    return {key: _plain(facts[key][0]) for key in FACT_KEYS}


def as_columns(values: dict[str, Any]) -> dict[str, np.ndarray]:
    """One account's values as 1-element columns, typed like `measures_frame`'s."""
    out = {}
    for key, value in values.items():
        if key in TEXT_COLUMNS:
            out[key] = np.array(["" if value is None else str(value)], dtype=object)
        else:
            out[key] = np.array([np.nan if value is None else value], dtype=float)
    return out


def _plain(value: Any) -> Any:
    """numpy scalars → Python; NaN and "" → None (facts read the same as JSON)."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value == "" or (isinstance(value, float) and np.isnan(value)):
        return None
    return value


# -- the whole book -----------------------------------------------------------------------------
def measures_frame(
    conn: sqlite3.Connection,
    as_of: date,
    account_ids: list[str] | None = None,
    *,
    cache: bool = False,
) -> pd.DataFrame:
    """Facts of every account (or of `account_ids`) as of `as_of`: one row per account.

    Text columns hold "" where there is no value; numeric ones NaN. `cache=True` (the whole
    book, inside a write transaction) reads the stored frame of `book_frame` and the history
    aggregates of `facts_cache`, and refreshes both; the column `reused` says whose history
    aggregates were reused."""
    if cache and account_ids is None:
        from csm_tui.scoring.book_frame import book_columns

        columns, reused = book_columns(conn, as_of)
        return facts_frame(columns, as_of, reused)
    params = Window(as_of).params()
    where = "1"
    if account_ids is not None:
        where = ids_filter(conn, account_ids)
    columns: dict[str, np.ndarray] = {}
    accounts: _AccountKeys | None = None
    for name, sql in _queries().items():
        col = {"accounts": "a.id", "history": "u.account_id"}.get(name, "account_id")
        part = _read(conn, sql.format(where=where.format(col=col)), params)
        if accounts is None:
            columns, accounts = part, _AccountKeys(part["account_id"])
        else:
            _align(columns, part, accounts)
    return facts_frame(columns, as_of, np.zeros(len(columns["account_id"]), dtype=bool))


def facts_frame(columns: dict[str, np.ndarray], as_of: date, reused: np.ndarray) -> pd.DataFrame:
    """The facts frame (one row per account) from the query columns."""
    facts = derive(columns, as_of)
    current = {f"current_{c}": columns[f"current_{c}"] for c in CURRENT_COLUMNS}
    frame = pd.DataFrame(
        as_objects(
            {"account_id": columns["account_id"], "rowid": columns["account_rowid"]}
            | facts
            | current
            | {"reused": reused}
        ),
        copy=False,  # the columns are fresh arrays: copying a million rows again costs ~0.5 s
    )
    return frame.set_index(pd.Index(columns["account_id"], name="id"), drop=False)


def as_objects(columns: dict[str, np.ndarray]) -> dict[str, Any]:
    """The columns for a DataFrame, text kept as the object arrays it is: left to itself,
    pandas checks every value of each to make it its `str` type (~10 ms per column of a
    million accounts, and None would read back as NaN)."""
    return {
        name: pd.Series(values, dtype=object, copy=False) if values.dtype == object else values
        for name, values in columns.items()
    }


def ids_filter(conn: sqlite3.Connection, ids) -> str:
    """Load `ids` into a temp table; return the WHERE template ("{col} IN …") selecting them.

    One statement over one JSON list, not a row per id: SQLite runs it without the GIL, so a
    full rescore's read-ahead thread cannot hold this loop up at every row (it did: 0.4-0.7 s
    for ~50k ids, against 0.08 s alone)."""
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS _score_ids (id TEXT PRIMARY KEY)")
    conn.execute("DELETE FROM _score_ids")
    values = list(ids)
    if all(type(v) is str for v in values):
        conn.execute(
            "INSERT OR IGNORE INTO _score_ids SELECT value FROM json_each(?)", (json.dumps(values),)
        )
    else:  # ids another program stored as numbers or blobs: bound as they are
        conn.executemany("INSERT OR IGNORE INTO _score_ids VALUES (?)", ((v,) for v in values))
    return "{col} IN (SELECT id FROM _score_ids)"


def key_order(ids: np.ndarray) -> np.ndarray | None:
    """The order that sorts `ids` (None if they already are): rows keyed by account id go into
    their B-tree far faster in key order than in the accounts' own order when ids are random,
    as a CRM's are (3x for a million history rows: bench/bench_key_order.py). Only speed
    depends on it, so an approximate order (fixed-width text) is fine."""
    ids = np.asarray(ids, dtype=object)
    try:
        if len(ids) < 2 or bool((ids[1:] >= ids[:-1]).all()):
            return None
    except TypeError:  # an id stored as a blob by another program: any order will do
        pass
    return np.argsort(ids.astype(str), kind="stable")


class _AccountKeys:
    """Finds account ids' rows in the accounts query: ids as fixed-width numpy strings, sorted
    once, then binary-searched in C (a pandas object index re-hashes every id of every part)."""

    def __init__(self, ids: np.ndarray) -> None:
        keys = ids.astype(str)
        self.size = len(keys)
        self.order = np.argsort(keys, kind="stable")
        self.sorted = keys[self.order]

    def rows_of(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(row of each found id in the accounts query, mask of the ids found)."""
        keys = ids.astype(str)
        if self.size == 0 or len(keys) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(len(keys), dtype=bool)
        pos = np.minimum(np.searchsorted(self.sorted, keys), self.size - 1)
        found = self.sorted[pos] == keys
        return self.order[pos[found]], found


def _align(
    columns: dict[str, np.ndarray], part: dict[str, np.ndarray], accounts: _AccountKeys
) -> None:
    """Add a query's columns to `columns` as a left join of the accounts on account id;
    accounts without a row get NaN, "" or None (see `_missing`)."""
    at, found = accounts.rows_of(part["account_id"])
    for name, values in part.items():
        if name == "account_id":
            continue
        out = np.full(
            accounts.size, _missing(name), dtype=object if name in TEXT_COLUMNS else float
        )
        out[at] = values[found]
        columns[name] = out


def tuple_cursor(conn: sqlite3.Connection) -> sqlite3.Cursor:
    """A cursor returning plain tuples: for bulk reads, `sqlite3.Row` objects cost about a
    third more to fetch and twice as much to copy into numpy."""
    cursor = conn.cursor()
    cursor.row_factory = None
    return cursor


def _missing(name: str) -> Any:
    """The value of a column for an account the query returned no row for."""
    if name in CURRENT_TEXT:
        return None
    return "" if name in TEXT_COLUMNS else np.nan


def _read(
    conn: sqlite3.Connection, sql: str, params: dict, raw: frozenset[str] | set[str] = frozenset()
) -> dict[str, np.ndarray]:
    """A query's rows as typed columns: text as objects ("" for NULL), `raw` ones as they came,
    the rest floats (NULL → NaN). One 2-D object array, then column slices: no per-column
    Python tuples."""
    cursor = tuple_cursor(conn)
    cursor.execute(sql, params)
    names = [d[0] for d in cursor.description]
    rows = cursor.fetchall()
    table = np.empty((len(rows), len(names)), dtype=object)
    if rows:
        table[:] = rows
    out = {}
    for i, name in enumerate(names):
        column = table[:, i]
        if name in CURRENT_TEXT or name in raw:
            out[name] = column.copy()
        elif name in TEXT_COLUMNS:
            column = column.copy()
            column[column == None] = ""  # noqa: E711 (element-wise comparison)
            out[name] = column
        else:
            out[name] = column.astype(float)
    return out


# -- shared derivation (numpy; a 1-element column for one account) -----------------------------
def derive(c: dict[str, np.ndarray], as_of: date) -> dict[str, np.ndarray]:
    """Every fact column from the query columns (the same code for both forms)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        usage_seats = np.where(c["usage_seats"] > 0, c["usage_seats"], c["account_seats"])
        account_seats = np.where(c["account_seats"] > 0, c["account_seats"], c["usage_seats"])
        support = 100.0 * np.nan_to_num(c["tickets_90d"]) / _positive(account_seats)
        out = {
            "seat_utilisation": 100.0 * c["active_users"] / _positive(usage_seats),
            "stickiness": 100.0 * c["dau"] / _positive(c["mau"]),
            "feature_adoption": 100.0 * c["features_used"] / _positive(c["features_total"]),
            "usage_trend": 100.0 * c["mau"] / _positive(c["mau_base"]) - 100.0,
            "support_load": support + SEV12_PENALTY * np.nan_to_num(c["open_sev12"]),
            "onboarding": c["onboarding"],
            "last_touch": days_since(c["last_touch_day"], as_of),
            "qbr": days_since(c["last_qbr_day"], as_of),
            "objectives": c["objectives"],
            "sponsor": c["sponsor"],
            "champion": np.where(
                np.nan_to_num(c["contacts"]) > 0, np.nan_to_num(c["champion"]), np.nan
            ),
            "nps": c["nps"],
            "csat": c["csat"],
            "escalations": c["escalations"],
            "mau": c["mau"],
            "mau_prev": c["mau_prev"],
            "tickets_recent": np.nan_to_num(c["tickets_recent"]),
            "tickets_trailing": np.nan_to_num(c["tickets_trailing_n"])
            / (SPIKE_TRAILING_DAYS / SPIKE_WINDOW_DAYS),
            "open_sev1": np.nan_to_num(c["open_sev1"]),
            "sponsor_present": ((c["sponsor"] == 1) | (c["sponsor_contact"] == 1)).astype(float),
        }
    for key in SIGNAL_KEYS:
        if key not in out:
            out[key] = c[key]
    return {key: out[key] for key in FACT_KEYS}


def _positive(values: np.ndarray) -> np.ndarray:
    """NaN where not > 0, so a ratio over it is missing rather than infinite."""
    return np.where(values > 0, values, np.nan)


def days_since(stamps: np.ndarray, as_of: date) -> np.ndarray:
    """Whole days from each ISO date ("" = none) to as_of; NaN where there is none."""
    days = np.asarray(stamps, dtype=object).astype("datetime64[D]")
    delta = (np.datetime64(as_of.isoformat(), "D") - days).astype(float)
    return np.where(np.isnat(days), np.nan, delta)
