"""The whole book's scoring inputs kept as columns between full rescores (schema v4).

Even with each account's history aggregates cached (`facts_cache`), a full rescore of a
million accounts spent most of its time reading a million account rows joined with their
cached aggregates (~10 s). So the query columns the rescore starts from (account inputs,
history aggregates, the score columns last written, the cache's dates) are also stored as one
blob per column in `score_frame`, and the next full rescore reads those and re-queries only:

- the accounts listed in `score_dirty`: a trigger on `score_facts` adds an account whenever
  its cached aggregates are dropped (every data trigger of v3 does that, whoever writes), and
  one on the accounts' score columns adds it when anything but the full rescore itself writes
  them (the rescore lifts that trigger inside its own transaction while it writes them);
- accounts created since (a rowid above the frame's largest);
- accounts whose activation date arrives;
- accounts whose cached aggregates expire that day with no edit since: the frame still holds
  their values, so only the history queries whose date came run again (`refresh_expired`).

The result equals the columns `facts_cache.cached_columns` reads for the whole book, in the
same (rowid) order; where that cannot be shown cheaply (the account count differs, rows were
renumbered, the day went backwards, the format changed) the whole book is read again.
Columns are stored factorised (small integer codes + their distinct values) where that is
smaller, else as raw float64: a text column of a million ids is a million labels.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import date

import numpy as np
import pandas as pd

from csm_tui.scoring import facts_cache
from csm_tui.scoring import measures as m
from csm_tui.storage.schema import realign_account_health

#: Changes whenever the stored columns change (2: each account's per-query expiry,
#: `cache_groups`): a frame of another format is read again from the book.
FORMAT = "2"
STAMP_KEY = "score_frame_stamp"
#: Marks accounts whose score columns anything but the full rescore wrote (schema v4).
SCORES_TRIGGER = "accounts_scores_dirty"
#: The same for the health scores in `account_health` (schema v8).
HEALTH_TRIGGER = "account_health_dirty"
_SEP, _ESC = facts_cache.SEP, facts_cache.ESC
_CODE_TYPES = ((127, "<i1"), (32_767, "<i2"), (2_147_483_647, "<i4"))


class Unstorable(Exception):
    """A column holds a value the frame does not round-trip (text that is not a str)."""


def book_columns(conn: sqlite3.Connection, as_of: date) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Every account's query columns as of `as_of` and the mask of accounts whose history
    aggregates were reused (as `facts_cache.cached_columns`); stores the frame for next time.
    Call inside the write transaction."""
    columns, reused, touched = read_columns(conn, as_of)
    write_columns(conn, encode_columns(columns, touched))
    return columns, reused


def read_columns(
    conn: sqlite3.Connection, as_of: date
) -> tuple[dict[str, np.ndarray], np.ndarray, set[str]]:
    """`book_columns`, but the names of the columns that changed are returned rather than
    stored: the caller writes them (`encode_columns`, `write_columns`) before it commits."""
    loaded = _from_frame(conn, as_of)
    if loaded is None:
        # the whole book is read: first make sure each account's current scores are its own
        realign_account_health(conn)
        columns, reused = facts_cache.cached_columns(conn, as_of)
        columns, reused = _in_rowid_order(columns, reused)
        touched = set(columns)
    else:
        columns, reused, touched = loaded
        health_rows = conn.execute("SELECT count(*) FROM account_health").fetchone()[0]
        if health_rows != len(columns["account_id"]):  # e.g. a row replaced by another tool
            realign_account_health(conn)
    _mark_stored(conn, columns, as_of)
    return columns, reused, touched


def scores_written(columns: dict[str, np.ndarray], written: dict) -> set[str]:
    """After the full rescore wrote the score columns: keep what it wrote as the frame's
    `current_*` columns; the names of those that changed (to store)."""
    touched = set()
    for name, values in written.items():
        key = f"current_{name}"
        if not _same(columns[key], values):
            columns[key] = values
            touched.add(key)
    return touched


def _mark_stored(conn: sqlite3.Connection, columns: dict[str, np.ndarray], as_of: date) -> None:
    """The stamp of the frame `columns` make (their blobs are written before the commit); the
    dirty list is then empty."""
    rowids = columns["account_rowid"]
    stamp = {
        "version": _version(),
        "as_of": as_of.isoformat(),
        "rows": len(rowids),
        "max_rowid": int(rowids.max()) if len(rowids) else 0,
        "names": sorted(columns),
    }
    conn.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (STAMP_KEY, json.dumps(stamp))
    )
    conn.execute("DELETE FROM score_dirty")


def _version() -> str:
    # the frame keeps the accounts query's columns too (the facts cache does not)
    accounts = hashlib.sha256(m._queries()["accounts"].encode()).hexdigest()[:8]
    return f"{FORMAT}:{facts_cache.cache_version()}:{accounts}"


def _stamp(conn: sqlite3.Connection) -> dict | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (STAMP_KEY,)).fetchone()
    try:
        stamp = json.loads(row[0]) if row else None
    except ValueError:
        return None
    return stamp if isinstance(stamp, dict) and stamp.get("version") == _version() else None


def _forget(conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM meta WHERE key = ?", (STAMP_KEY,))
    conn.execute("DELETE FROM score_frame")


# -- reading ------------------------------------------------------------------------------------
def _from_frame(conn: sqlite3.Connection, as_of: date):
    """(columns, reused, touched) from the stored frame, or None when it cannot be used."""
    stamp = _stamp(conn)
    if facts_cache.check_version(conn) or stamp is None or as_of.isoformat() < stamp["as_of"]:
        return None
    columns = _load(conn, stamp)
    if columns is None or not _same_rows(conn, columns, stamp):
        return None
    n = len(columns["account_id"])
    ids, expired = _refresh_ids(conn, columns, stamp, as_of)
    if len(ids) > facts_cache.WHOLE_BOOK_SHARE * n:
        return None  # most of the book changed (an import): one pass over it is cheaper
    reused = np.ones(n, dtype=bool)
    touched: set[str] = set()
    if expired.size:
        touched = _refresh_expired(conn, columns, expired, as_of, n)
        reused[expired] = False
    if not ids:
        return _checked(conn, columns, reused, touched)
    fresh, fresh_reused = facts_cache.cached_columns(conn, as_of, sorted(ids), book_size=n)
    merged = _merge_in_place(columns, reused, fresh, fresh_reused, ids)
    if merged is None:
        merged = _merge_rebuild(columns, reused, fresh, fresh_reused, ids)
    return _checked(conn, merged[0], merged[1], merged[2] | touched)


def _refresh_expired(conn, columns, rows: np.ndarray, as_of: date, n: int) -> set[str]:
    """Refresh in place the rows whose cached values only expired (see
    `facts_cache.refresh_expired`); the names of the columns that changed."""
    before = {name: values[rows].copy() for name, values in columns.items()}
    facts_cache.refresh_expired(conn, columns, rows, as_of, n)
    return {name for name, old in before.items() if not _same(old, columns[name][rows])}


def _checked(conn: sqlite3.Connection, columns, reused, touched):
    """The merged frame if it has exactly the book's accounts, else None (read it all)."""
    count = conn.execute("SELECT count(*) FROM accounts").fetchone()[0]
    return (columns, reused, touched) if count == len(columns["account_id"]) else None


def _same_rows(conn: sqlite3.Connection, columns, stamp: dict) -> bool:
    """False if rowids were renumbered with no trigger (VACUUM compacts them when rows were
    deleted: the largest goes down) or the frame's last account no longer holds its rowid."""
    top = conn.execute("SELECT max(rowid) FROM accounts").fetchone()[0] or 0
    if top < stamp["max_rowid"]:
        return False
    if not stamp["rows"]:
        return True
    last = conn.execute(
        "SELECT id FROM accounts WHERE rowid = ?", (int(columns["account_rowid"][-1]),)
    ).fetchone()
    return last is not None and last[0] == columns["account_id"][-1]


def _load(conn: sqlite3.Connection, stamp: dict) -> dict[str, np.ndarray] | None:
    rows = conn.execute("SELECT name, kind, data, labels FROM score_frame").fetchall()
    columns = {name: _decode(kind, data, labels) for name, kind, data, labels in rows}
    if sorted(columns) != stamp["names"] or "cache_groups" not in columns:
        return None
    if any(len(values) != stamp["rows"] for values in columns.values()):
        return None
    return columns


def _refresh_ids(
    conn: sqlite3.Connection, columns, stamp: dict, as_of: date
) -> tuple[set[str], np.ndarray]:
    """(accounts to read again: changed (dirty), new, or whose activation date arrives; rows
    whose cached values only expire today, refreshed in place: nothing wrote to them, so the
    frame's values are still theirs)."""
    day, next_day = as_of.isoformat(), m.Window(as_of).next
    ids = {r[0] for r in conn.execute("SELECT account_id FROM score_dirty")}
    ids.update(
        r[0] for r in conn.execute("SELECT id FROM accounts WHERE rowid > ?", (stamp["max_rowid"],))
    )
    computed, until = columns["cache_as_of"], columns["cache_until"]
    activates = columns["activates_on"]
    activating = (activates != "") & (activates < next_day)
    cached = (computed != "") & (computed <= day)
    ids.update(columns["account_id"][activating | ~cached].tolist())
    expired = cached & (until <= day) & ~activating
    if ids and expired.any():
        expired &= ~pd.Index(columns["account_id"]).isin(list(ids))
    return ids, np.flatnonzero(expired)


def _merge_in_place(columns, reused, fresh, fresh_reused, ids: set[str]):
    """Overwrite the refreshed accounts' rows where they are (same rowid, same id, none
    deleted); None when the rows themselves changed."""
    n = len(columns["account_id"])
    if len(fresh["account_id"]) != len(ids) or n == 0:
        return None  # an account went (or a dirty id was never in the book): rebuild
    rowids = columns["account_rowid"]
    at = np.minimum(np.searchsorted(rowids, fresh["account_rowid"]), n - 1)
    if not (
        (rowids[at] == fresh["account_rowid"]).all()
        and (columns["account_id"][at] == fresh["account_id"]).all()
    ):
        return None
    touched = set()
    for name, values in fresh.items():
        if not _same(columns[name][at], values):
            columns[name][at] = values
            touched.add(name)
    reused = reused.copy()
    reused[at] = fresh_reused
    return columns, reused, touched


def _merge_rebuild(columns, reused, fresh, fresh_reused, ids: set[str]):
    """Drop the refreshed (and deleted) accounts' rows, add the fresh ones, order by rowid."""
    keep = ~pd.Index(columns["account_id"]).isin(list(ids))
    merged = {name: np.concatenate([columns[name][keep], fresh[name]]) for name in columns}
    reused = np.concatenate([reused[keep], fresh_reused])
    merged, reused = _in_rowid_order(merged, reused)
    return merged, reused, set(merged)


def _in_rowid_order(
    columns: dict[str, np.ndarray], reused: np.ndarray
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The columns (and mask) in rowid order: the order a full scan of the accounts returns."""
    rowids = columns["account_rowid"]
    if len(rowids) < 2 or (np.diff(rowids) > 0).all():
        return columns, reused
    order = np.argsort(rowids, kind="stable")
    return {name: values[order] for name, values in columns.items()}, reused[order]


def _same(old: np.ndarray, new: np.ndarray) -> bool:
    if len(old) != len(new):
        return False
    if old.dtype == object or new.dtype == object:
        return bool((np.asarray(old, dtype=object) == np.asarray(new, dtype=object)).all())
    return bool(np.array_equal(old, new, equal_nan=True))


# -- encoding -----------------------------------------------------------------------------------
def encode_columns(
    columns: dict[str, np.ndarray], names: set[str]
) -> list[tuple[str, str, bytes, bytes | None]] | None:
    """The `score_frame` rows of the `names` columns, worked out without the database (the
    full rescore does it while its other writes run); None if one cannot round-trip."""
    try:
        return [(name, *_encode(columns[name])) for name in sorted(names)]
    except Unstorable:
        return None


def write_columns(
    conn: sqlite3.Connection, encoded: list[tuple[str, str, bytes, bytes | None]] | None
) -> None:
    """Store encoded columns; None (a column that cannot round-trip): no frame at all."""
    if encoded is None:
        _forget(conn)
        return
    conn.executemany(
        "INSERT OR REPLACE INTO score_frame (name, kind, data, labels) VALUES (?, ?, ?, ?)",
        encoded,
    )


def _encode(values: np.ndarray) -> tuple[str, bytes, bytes | None]:
    """(kind, data, labels): codes into the distinct values where they are few (or text),
    else raw float64."""
    text = values.dtype == object
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if not text and len(uniques) > _CODE_TYPES[1][0]:
        return "f8", np.ascontiguousarray(values, dtype="<f8").tobytes(), None
    code_type = next(t for limit, t in _CODE_TYPES if len(uniques) < limit)
    data = codes.astype(code_type).tobytes()
    if not text:
        return f"f8/{code_type}", data, np.asarray(uniques, dtype="<f8").tobytes()
    labels = uniques.tolist()
    if not all(type(label) is str for label in labels):
        raise Unstorable
    escaped = [facts_cache.escape_text(v) if _SEP in v or _ESC in v else v for v in labels]
    return (
        f"text/{code_type}/{len(labels)}",
        data,
        _SEP.join(escaped).encode("utf-8", "surrogatepass"),
    )


def _decode(kind: str, data: bytes, labels: bytes | None) -> np.ndarray:
    """The inverse of `_encode` (a fresh, writable array)."""
    if kind == "f8":
        return np.frombuffer(data, dtype="<f8").copy()
    parts = kind.split("/")
    codes = np.frombuffer(data, dtype=parts[1])
    if parts[0] == "f8":
        table = np.append(np.frombuffer(labels or b"", dtype="<f8"), np.nan)  # -1 → NaN
        return table[codes]
    count = int(parts[2])
    text = (labels or b"").decode("utf-8", "surrogatepass")
    fields = text.split(_SEP) if count else []
    if _ESC in text:
        fields = [facts_cache.unescape_text(f) if _ESC in f else f for f in fields]
    table = np.empty(count + 1, dtype=object)
    table[:count] = fields
    table[count] = None  # code -1: no value
    return table[codes]
