"""The whole book's health 7 and 30 days ago, for a full rescore's deltas.

At 1M accounts each of those days is ~80 MB of history blocks, read mostly from disk on the
morning's first rescore: ~1–2 s each. `PastDays.start` reads them on a read-only connection of
its own, in a thread, while the rescore loads its frame and scores the book; sqlite releases the
GIL while it reads, so the two overlap. It starts once the rescore holds the write lock, so no
other writer can commit in between: the reader sees the book exactly as the rescore began, and
the rescore itself only writes today's history, never a past day's.
"""

from __future__ import annotations

import sqlite3
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from csm_tui.storage import history

#: Deltas compare with the snapshot nearest to 7 / 30 days before, within this many days.
DELTA_TOLERANCE = {7: 3, 30: 7}


def book_snapshot(conn: sqlite3.Connection, as_of: date, days: int) -> pd.DataFrame:
    """Every account's health snapshot on the snapshot date nearest to `days` before as_of:
    columns account_id, score, band (empty when no day is near enough)."""
    target = as_of - timedelta(days=days)
    tol = DELTA_TOLERANCE[days]
    offsets = sorted(range(-tol, tol + 1), key=lambda d: (abs(d), d))
    for offset in offsets:
        day = (target + timedelta(days=offset)).isoformat()
        if day < as_of.isoformat() and history.has_day(conn, day):
            columns = history.book_day(conn, day)
            return pd.DataFrame({key: columns[key] for key in ("account_id", "score", "band")})
    return pd.DataFrame(columns=["account_id", "score", "band"])


class PastDays:
    """The deltas' book snapshots: read ahead in a thread when the book is a file and the rescore
    has its own transaction, else read on demand on the rescore's connection."""

    def __init__(self, as_of: date, future: Future | None = None) -> None:
        self.as_of = as_of
        self._future = future

    @classmethod
    def start(cls, path: Path | None, as_of: date, *, own_transaction: bool) -> PastDays:
        """Begin reading ahead (call it once the write lock is held). Inside a caller's
        transaction the past may hold uncommitted changes a reader would not see: no read-ahead."""
        if path is None or not own_transaction or not path.is_file():
            return cls(as_of)
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="csm-past-days")
        future = pool.submit(_read_ahead, path, as_of)
        pool.shutdown(wait=False)
        return cls(as_of, future)

    @property
    def reads_ahead(self) -> bool:
        """Whether the snapshots come from the read-ahead thread."""
        return self._future is not None

    def snapshot(self, conn: sqlite3.Connection, days: int) -> pd.DataFrame:
        """The snapshot nearest to `days` before as_of (see `book_snapshot`). A read-ahead that
        failed (a busy or unreadable file) is simply read again on the rescore's connection."""
        if self._future is not None:
            try:
                return self._future.result()[days]
            except (sqlite3.Error, OSError):
                self._future = None
        return book_snapshot(conn, self.as_of, days)


def _read_ahead(path: Path, as_of: date) -> dict[int, pd.DataFrame]:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        conn.execute("BEGIN")  # both days from one snapshot
        return {days: book_snapshot(conn, as_of, days) for days in DELTA_TOLERANCE}
    finally:
        conn.close()
