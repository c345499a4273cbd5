"""Health history: one snapshot per account per day, read through one API.

Two stores make one history:

- `health_blocks` (schema v5): a full rescore's day for the whole book, column-wise. A day is
  cut into blocks of `BLOCK_SIZE` accounts in id order; each block keeps its ids (JSON), their
  band codes (uint8) and a float32 matrix of the values and per-measure points
  (`health_days.measures` names the points columns). Writing a million snapshots is then a few
  thousand inserts appended at the end of the table, not a million inserts into an index
  ordered by account: with a year of history those would each land on a different page.
- `health` rows: a single account's snapshot (an edit's rescore, an imported file, books from
  before v5). A row overrides the block snapshot of the same account and day.

An account deleted and created again starts a new history: `health_erased` masks its
snapshots in the blocks that existed when it was deleted (block ids only grow; its rows are
deleted with it).

Every reader goes through this module and gets rows shaped like the `health` table's
(`SNAPSHOT_COLUMNS`, explain as `{"points": {measure: points}}` JSON).
"""

from __future__ import annotations

import heapq
import json
import math
import operator
import sqlite3
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np

#: Accounts per block: small enough that reading one account's day costs ~10 KB.
BLOCK_SIZE = 256
BANDS = ("green", "yellow", "red", "insufficient")
#: The numeric columns every snapshot has, and the decimals they are kept to.
VALUE_COLUMNS = ("score", "usage", "engagement", "outcomes", "sentiment", "churn_prob")
_DIGITS = (1, 1, 1, 1, 1, 4)
POINT_DIGITS = 2
SNAPSHOT_COLUMNS = ("account_id", "date", "score", "band", *VALUE_COLUMNS[1:], "explain")
#: One snapshot as a `health` row (re-scoring the same day replaces it).
ROW_REPLACE = (
    f"INSERT OR REPLACE INTO health ({', '.join(SNAPSHOT_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(SNAPSHOT_COLUMNS))})"
)
_ROWS_SQL = (
    "SELECT account_id, date, score, band, usage, engagement, outcomes, sentiment, churn_prob, "
    "explain FROM health"
)
#: Per day in a range: the block that would hold the account (the last one starting at or
#: before its id); one indexed seek per day.
_BLOCKS_SQL = """
SELECT d.date, d.measures, b.id, b.ids, b.bands, b.data FROM health_days d
JOIN health_blocks b ON b.id = (
    SELECT id FROM health_blocks WHERE date = d.date AND first_id <= :id
    ORDER BY first_id DESC LIMIT 1)
WHERE d.date > :after AND d.date <= :until
ORDER BY d.date {order}
"""
_FIRST = ""
_LAST = "9999-12-31"
Snapshot = dict[str, Any]


# -- writing ---------------------------------------------------------------------------------------
@dataclass
class EncodedDay:
    """A whole book's day as `write_encoded_day` stores it: the block rows, and the `health`
    rows of ids that are not text (blobs written behind csm cannot go in a block)."""

    measures: list[str]
    blocks: list[tuple[str, str, bytes, bytes]] = field(default_factory=list)
    odd_rows: list[tuple] = field(default_factory=list)


def write_day(
    conn: sqlite3.Connection,
    day: str,
    ids: Sequence[str],
    bands: Sequence[str],
    values: np.ndarray,
    points: np.ndarray,
    measures: Sequence[str],
) -> None:
    """Replace the whole book's snapshots of `day`: `ids` sorted and unique, `values` one
    column per VALUE_COLUMNS, `points` one column per measure. Rows of that day go too (the
    full rescore supersedes them)."""
    write_encoded_day(conn, day, encode_day(ids, bands, values, points, measures))


def encode_day(
    ids: Sequence[str],
    bands: Sequence[str],
    values: np.ndarray,
    points: np.ndarray,
    measures: Sequence[str],
) -> EncodedDay:
    """`write_day`'s rows, worked out without the database (the full rescore does it while its
    other writes run). Refuses a band it could not read back."""
    encoded = EncodedDay(list(measures))
    ids, bands, values, points = _block_order(encoded, list(ids), bands, values, points)
    codes = band_codes(bands)
    data = np.empty((len(ids), values.shape[1] + points.shape[1]), dtype=np.float32)
    data[:, : values.shape[1]] = values
    data[:, values.shape[1] :] = points
    encoded.blocks = [
        (
            ids[start],
            json.dumps(ids[start : start + BLOCK_SIZE]),
            codes[start : start + BLOCK_SIZE].tobytes(),
            data[start : start + BLOCK_SIZE].tobytes(),
        )
        for start in range(0, len(ids), BLOCK_SIZE)
    ]
    return encoded


def write_encoded_day(conn: sqlite3.Connection, day: str, encoded: EncodedDay) -> None:
    """Replace `day`'s snapshots with `encoded` (see `write_day`)."""
    conn.execute("DELETE FROM health_blocks WHERE date = ?", (day,))
    conn.execute("DELETE FROM health WHERE date = ?", (day,))
    conn.execute("DELETE FROM health_days WHERE date = ?", (day,))
    conn.executemany(ROW_REPLACE, [(row[0], day, *row[1:]) for row in encoded.odd_rows])
    if not encoded.blocks:
        return
    conn.execute(
        "INSERT INTO health_days (date, measures) VALUES (?, ?)",
        (day, json.dumps(encoded.measures)),
    )
    conn.executemany(
        "INSERT INTO health_blocks (date, first_id, ids, bands, data) VALUES (?, ?, ?, ?, ?)",
        ((day, *block) for block in encoded.blocks),
    )


def _block_order(encoded: EncodedDay, ids, bands, values, points) -> tuple:
    """The snapshots in the order blocks need (text ids, strictly increasing as SQLite compares
    them); an id that is not text (written as a blob behind csm) goes to `encoded.odd_rows`."""
    if _all_text(ids):
        text = np.ones(len(ids), dtype=bool)
    else:
        text = np.fromiter((isinstance(i, str) for i in ids), dtype=bool, count=len(ids))
    if not text.all():
        odd = np.flatnonzero(~text)
        explain = [_explain(encoded.measures, points[i].tolist()) for i in odd]
        encoded.odd_rows = [
            (ids[i], _none(values[i, 0]), bands[i], *map(_none, values[i, 1:]), e)
            for i, e in zip(odd.tolist(), explain, strict=True)
        ]
        ids, bands, values, points = (
            [ids[i] for i in np.flatnonzero(text)],
            *(np.asarray(a)[text] for a in (bands, values, points)),
        )
    if all(map(operator.lt, ids, ids[1:])):  # UTF-8 byte order is code point order
        return ids, bands, values, points
    order = sorted(range(len(ids)), key=ids.__getitem__)
    return [ids[i] for i in order], *(np.asarray(a)[order] for a in (bands, values, points))


def _all_text(ids: list) -> bool:
    """Whether every id is text, checked in C (a Python test of a million ids took ~0.25 s;
    only the full rescore writes whole days, and it has pandas loaded already)."""
    import pandas as pd

    return pd.api.types.infer_dtype(ids, skipna=False) in ("string", "empty")


def _none(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def _explain(measures: Sequence[str], points: Sequence[float]) -> str:
    """`{"points": {measure: points}}` as a `health` row keeps it (null without data)."""
    rounded = {k: _rounded(p, POINT_DIGITS) for k, p in zip(measures, points, strict=True)}
    return json.dumps({"points": rounded}, separators=(",", ":"))


def band_codes(bands: Sequence[str]) -> np.ndarray:
    """Bands as uint8 codes into BANDS; anything else is refused (it could not be read back)."""
    bands = np.asarray(bands, dtype=object)
    codes = np.full(len(bands), 255, dtype=np.uint8)
    for code, band in enumerate(BANDS):
        codes[bands == band] = code
    if (codes == 255).any():
        raise ValueError(f"not a health band: {bands[codes == 255][0]!r}")
    return codes


# -- one account ------------------------------------------------------------------------------
def account_snapshots(
    conn: sqlite3.Connection, account_id: str, start: str | None = None, end: str | None = None
) -> list[Snapshot]:
    """The account's snapshots dated in [start, end] (all when omitted), oldest first."""
    before = _day_before(start) if start else _FIRST
    snaps = list(_descending(conn, account_id, before, end or _LAST))
    snaps.reverse()
    return snaps


def latest_snapshot(
    conn: sqlite3.Connection,
    account_id: str,
    *,
    until: str | None = None,
    since: str | None = None,
    scored: bool = False,
) -> Snapshot | None:
    """The account's latest snapshot on or before `until` (and on or after `since`); with
    `scored`, the latest one that has a score."""
    before = _day_before(since) if since else _FIRST
    for snap in _descending(conn, account_id, before, until or _LAST):
        if not scored or snap["score"] is not None:
            return snap
    return None


def _descending(
    conn: sqlite3.Connection, account_id: str, after: str, until: str
) -> Iterator[Snapshot]:
    """Snapshots dated in (after, until], newest first: rows and blocks merged, a row winning
    over the block snapshot of its day. Lazy: a caller that stops early reads no more blocks."""
    rows = [
        _as_snapshot(r)
        for r in conn.execute(
            f"{_ROWS_SQL} WHERE account_id = ? AND date > ? AND date <= ? ORDER BY date DESC",
            (account_id, after, until),
        )
    ]
    row_days = {r["date"] for r in rows}
    blocks = (
        snap
        for snap in _block_snapshots(conn, account_id, after, until)
        if snap["date"] not in row_days
    )
    yield from heapq.merge(rows, blocks, key=lambda s: s["date"], reverse=True)


def _block_snapshots(
    conn: sqlite3.Connection, account_id: str, after: str, until: str
) -> Iterator[Snapshot]:
    row = conn.execute(
        "SELECT through_block FROM health_erased WHERE account_id = ?", (account_id,)
    ).fetchone()
    erased = row[0] if row else 0
    cursor = conn.execute(
        _BLOCKS_SQL.format(order="DESC"), {"id": account_id, "after": after, "until": until}
    )
    for day, measures, block, ids_json, bands, data in cursor:
        if block <= erased:
            continue  # a block from before the account's deletion (ids grow, dates need not)
        ids = json.loads(ids_json)
        at = bisect_left(ids, account_id)
        if at < len(ids) and ids[at] == account_id:
            matrix = np.frombuffer(data, dtype=np.float32).reshape(len(ids), -1)
            yield _block_snapshot(account_id, day, json.loads(measures), bands[at], matrix[at])


def _block_snapshot(
    account_id: str, day: str, measures: list[str], code: int, vector: np.ndarray
) -> Snapshot:
    width = len(VALUE_COLUMNS)
    values = [_rounded(x, d) for x, d in zip(vector[:width].tolist(), _DIGITS, strict=True)]
    snap = dict(zip(VALUE_COLUMNS, values, strict=True))
    snap |= {"account_id": account_id, "date": day, "band": BANDS[code]}
    snap["explain"] = _explain(measures, vector[width:].tolist())
    return {column: snap[column] for column in SNAPSHOT_COLUMNS}


def _rounded(value: float, digits: int) -> float | None:
    return None if math.isnan(value) else round(value, digits)


def _erased(conn: sqlite3.Connection) -> dict[str, int]:
    """Deleted accounts → the last block id that holds their (older) snapshots."""
    return dict(conn.execute("SELECT account_id, through_block FROM health_erased").fetchall())


def _as_snapshot(row: Sequence[Any]) -> Snapshot:
    return dict(zip(SNAPSHOT_COLUMNS, tuple(row), strict=True))


def _day_before(day: str) -> str:
    return (date.fromisoformat(day) - timedelta(days=1)).isoformat()


# -- the whole book ---------------------------------------------------------------------------
def has_day(conn: sqlite3.Connection, day: str) -> bool:
    """Whether any snapshot is dated `day`."""
    return bool(
        conn.execute(
            "SELECT EXISTS (SELECT 1 FROM health_days WHERE date = ?1) "
            "OR EXISTS (SELECT 1 FROM health WHERE date = ?1)",
            (day,),
        ).fetchone()[0]
    )


def snapshot_days(conn: sqlite3.Connection, start: str = _FIRST, end: str = _LAST) -> list[str]:
    """Every date in [start, end] that has a snapshot, oldest first."""
    rows = conn.execute(
        "SELECT date FROM health_days WHERE date BETWEEN ?1 AND ?2 "
        "UNION SELECT DISTINCT date FROM health WHERE date BETWEEN ?1 AND ?2 ORDER BY 1",
        (start, end),
    )
    return [r[0] for r in rows]


def book_day(conn: sqlite3.Connection, day: str) -> dict[str, np.ndarray]:
    """Every account's snapshot of `day` as columns: account_id and band (object arrays) and
    each VALUE_COLUMNS (float, NaN = none). No explain: this is the whole-book read."""
    ids: list[str] = []
    width = len(VALUE_COLUMNS)
    blocks, codes, matrices = [], [], []
    for block, ids_json, bands, data in conn.execute(
        "SELECT id, ids, bands, data FROM health_blocks WHERE date = ? ORDER BY first_id", (day,)
    ):
        chunk = json.loads(ids_json)
        ids.extend(chunk)
        blocks.append(np.full(len(chunk), block, dtype=np.int64))
        codes.append(np.frombuffer(bands, dtype=np.uint8))
        matrices.append(np.frombuffer(data, dtype=np.float32).reshape(len(chunk), -1)[:, :width])
    values = np.vstack(matrices).astype(float) if matrices else np.empty((0, width))
    for i, digits in enumerate(_DIGITS):  # as written: float32 holds 72.3 as 72.300003
        values[:, i] = np.round(values[:, i], digits)
    band = np.asarray(BANDS, dtype=object)[np.concatenate(codes)] if codes else np.empty(0, object)
    account = np.asarray(ids, dtype=object)
    keep = _not_erased(conn, account, np.concatenate(blocks) if blocks else np.empty(0, np.int64))
    account, band, values = account[keep], band[keep], values[keep]
    rows = conn.execute(f"{_ROWS_SQL} WHERE date = ?", (day,)).fetchall()
    if rows:
        account, band, values = _with_rows(account, band, values, rows)
    out = {"account_id": account, "band": band}
    out |= {col: values[:, i] for i, col in enumerate(VALUE_COLUMNS)}
    return out


def _not_erased(conn: sqlite3.Connection, account: np.ndarray, blocks: np.ndarray) -> np.ndarray:
    """False where a snapshot sits in a block from before its account was deleted."""
    erased = _erased(conn)
    keep = np.ones(len(account), dtype=bool)
    if erased:  # a set lookup per id: np.isin on text compares every pair when one side is small
        hit = np.fromiter((a in erased for a in account.tolist()), dtype=bool, count=len(account))
        for at in np.flatnonzero(hit).tolist():
            keep[at] = blocks[at] > erased[account[at]]
    return keep


def _with_rows(account, band, values, rows) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The block columns with the day's rows laid over them (a row wins over its block)."""
    row_ids = np.asarray([r[0] for r in rows], dtype=object)
    overridden = set(row_ids.tolist())
    keep = np.fromiter((a not in overridden for a in account.tolist()), bool, len(account))
    row_values = np.array(
        [[math.nan if v is None else float(v) for v in (r[2], *tuple(r)[4:9])] for r in rows],
        dtype=float,
    )
    return (
        np.concatenate([account[keep], row_ids]),
        np.concatenate([band[keep], np.asarray([r[3] for r in rows], dtype=object)]),
        np.vstack([values[keep], row_values]),
    )


def latest_in_window(
    conn: sqlite3.Connection, wanted: Iterable[str], start: str, end: str
) -> dict[str, tuple[str, float | None]]:
    """For each wanted account, (band, score) of its latest snapshot dated in [start, end]."""
    missing = set(wanted)
    found: dict[str, tuple[str, float | None]] = {}
    for day in reversed(snapshot_days(conn, start, end)):
        if not missing:
            break
        columns = book_day(conn, day)
        for account, band, score in zip(
            columns["account_id"].tolist(),
            columns["band"].tolist(),
            columns["score"].tolist(),
            strict=True,
        ):
            if account in missing:
                found[account] = (band, None if math.isnan(score) else score)
                missing.discard(account)
    return found


def band_counts(conn: sqlite3.Connection, day: str) -> Counter:
    """How many snapshots of `day` are in each band: the day's band codes counted, unless a
    row or a deleted account's mask concerns the day (then its snapshots are read)."""
    first, codes = None, []
    for block, bands in conn.execute(
        "SELECT id, bands FROM health_blocks WHERE date = ? ORDER BY id", (day,)
    ):
        first = block if first is None else first
        codes.append(bands)
    masked = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM health WHERE date = ?) "
        "OR EXISTS (SELECT 1 FROM health_erased WHERE through_block >= ?)",
        (day, first if first is not None else 0),
    ).fetchone()[0]
    if masked:
        return Counter(book_day(conn, day)["band"].tolist())
    counts = np.bincount(np.frombuffer(b"".join(codes), dtype=np.uint8), minlength=len(BANDS))
    return Counter({band: int(n) for band, n in zip(BANDS, counts.tolist(), strict=True) if n})


def all_snapshots(conn: sqlite3.Connection) -> list[Snapshot]:
    """Every snapshot of the book's current accounts, by account then date (for export)."""
    current = {r[0] for r in conn.execute("SELECT id FROM accounts")}
    out = [_as_snapshot(r) for r in conn.execute(_ROWS_SQL)]
    row_keys = {(s["account_id"], s["date"]) for s in out}
    erased = _erased(conn)
    for day, measures, block, ids_json, bands, data in conn.execute(
        "SELECT d.date, d.measures, b.id, b.ids, b.bands, b.data FROM health_blocks b "
        "JOIN health_days d ON d.date = b.date"
    ):
        ids = json.loads(ids_json)
        matrix = np.frombuffer(data, dtype=np.float32).reshape(len(ids), -1)
        keys = json.loads(measures)
        for at, account in enumerate(ids):
            if (
                account in current
                and (account, day) not in row_keys
                and block > erased.get(account, 0)
            ):
                out.append(_block_snapshot(account, day, keys, bands[at], matrix[at]))
    out.sort(key=lambda s: (s["account_id"], s["date"]))
    return out
