"""What a full rescore reads from the book as it was when it began, read ahead in a thread.

- The whole book's health 7 and 30 days ago, for the deltas: at 1M accounts each day is
  ~80 MB of history blocks, read mostly from disk on the morning's first rescore (~1–2 s each).
- The alert pairs `alerts.book_changes` starts from (~800k live alerts at 1M).

`ReadAhead.start` reads them on a read-only connection of its own while the rescore scores
the book; sqlite releases the GIL while it reads, so the two overlap. The rescore starts it
once its frame is read (`book_frame.read_columns`): decoding the frame is Python work that
holds the GIL, and a read-ahead beside it slowed it by up to a second at 1M accounts; beside
the scoring, whose numpy work lets go of the GIL, it costs less (next day at 1M, 5 runs
interleaved: median 9.06 s against 9.23 s). It starts while the rescore holds the write lock,
so no other writer can commit in between, and the rescore's own uncommitted writes are not
visible to it: the reader sees the book exactly as the rescore began. The rescore itself
writes only today's history, never a past day's, and no alert before it has read these pairs.
"""

from __future__ import annotations

import sqlite3
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from csm_tui.scoring.alerts import RulePairs, book_pairs
from csm_tui.scoring.measures import as_objects
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
            return pd.DataFrame(
                as_objects({key: columns[key] for key in ("account_id", "score", "band")}),
                copy=False,
            )
    return pd.DataFrame(columns=["account_id", "score", "band"])


class ReadAhead:
    """The deltas' book snapshots and the alert pairs: read ahead in a thread when the book is
    a file and the rescore has its own transaction, else read on demand on its connection."""

    def __init__(self, as_of: date, future: Future | None = None) -> None:
        self.as_of = as_of
        self._future = future

    @classmethod
    def start(cls, path: Path | None, as_of: date, *, own_transaction: bool) -> ReadAhead:
        """Begin reading ahead (call it while the write lock is held). Inside a caller's
        transaction the book may hold uncommitted changes a reader would not see: no
        read-ahead."""
        if path is None or not own_transaction or not path.is_file():
            return cls(as_of)
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="csm-read-ahead")
        future = pool.submit(_read_ahead, path, as_of)
        pool.shutdown(wait=False)
        return cls(as_of, future)

    @property
    def reads_ahead(self) -> bool:
        """Whether the results come from the read-ahead thread."""
        return self._future is not None

    def snapshot(self, conn: sqlite3.Connection, days: int) -> pd.DataFrame:
        """The snapshot nearest to `days` before as_of (see `book_snapshot`)."""
        ahead = self._result()
        return ahead[days] if ahead else book_snapshot(conn, self.as_of, days)

    def alert_pairs(self, conn: sqlite3.Connection) -> dict[str, RulePairs]:
        """The alert pairs `alerts.book_changes` starts from (see `alerts.book_pairs`)."""
        ahead = self._result()
        return ahead["pairs"] if ahead else book_pairs(conn)

    def _result(self) -> dict[Any, Any] | None:
        """The read-ahead's results; None if there is none or it failed (a busy or unreadable
        file): everything is then read again on the rescore's connection."""
        if self._future is None:
            return None
        try:
            return self._future.result()
        except (sqlite3.Error, OSError):
            self._future = None
            return None


def _read_ahead(path: Path, as_of: date) -> dict[Any, Any]:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        conn.execute("BEGIN")  # everything from one snapshot
        out: dict[Any, Any] = {days: book_snapshot(conn, as_of, days) for days in DELTA_TOLERANCE}
        out["pairs"] = book_pairs(conn)
        return out
    finally:
        conn.close()
