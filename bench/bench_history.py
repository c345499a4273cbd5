"""Benchmark: a day of health history for the whole book, as rows (schema v4) vs blocks (v5).

    python3 bench/bench_history.py [--accounts 200000] [--days 30]

Each layout's book first holds `--days` days of history; every day is written as the full
rescore writes it (ids sorted, CRM-like random ids). Prints, per layout (sizes named): the
median seconds to write one more day (over the last 3 days), the file's size per day, the
median time to read one account's last 90 days (as the account screen and `_snapshot_near`
do), and to read a whole day of the book (as the next day's deltas do).
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from csm_tui.storage import history  # noqa: E402
from csm_tui.storage.schema import V5, _statements  # noqa: E402

ROWS = """CREATE TABLE health (account_id TEXT NOT NULL, date TEXT NOT NULL, score REAL,
    band TEXT NOT NULL, usage REAL, engagement REAL, outcomes REAL, sentiment REAL,
    churn_prob REAL, explain TEXT, PRIMARY KEY (account_id, date)) WITHOUT ROWID"""
MEASURES = [f"measure_{i}" for i in range(14)]
START = date(2026, 1, 1)


def _open(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA cache_size=-65536")  # as csm opens a book
    conn.execute(ROWS)
    conn.execute("CREATE INDEX health_date ON health(date)")
    for statement in _statements(V5):
        if statement.startswith("CREATE TABLE health"):  # the history tables alone
            conn.execute(statement)
    return conn


def _day_values(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    values = np.round(rng.uniform(0, 100, (n, len(history.VALUE_COLUMNS))), 1)
    values[:, -1] = np.round(rng.uniform(0, 1, n), 4)
    points = np.round(rng.uniform(0, 10, (n, len(MEASURES))), 2)
    bands = np.asarray(history.BANDS, dtype=object)[rng.integers(0, 3, n)]
    return values, points, bands


def _write_rows(conn, ids, day, values, points, bands) -> float:
    explain = [
        json.dumps({"points": dict(zip(MEASURES, row, strict=True))}, separators=(",", ":"))
        for row in points.tolist()
    ]
    rows = zip(ids, [day] * len(ids), values[:, 0].tolist(), bands.tolist(),
               *(values[:, i].tolist() for i in range(1, 6)), explain, strict=True)  # fmt: skip
    started = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany("INSERT OR REPLACE INTO health VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.execute("COMMIT")
    return time.perf_counter() - started


def _write_blocks(conn, ids, day, values, points, bands) -> float:
    started = time.perf_counter()
    conn.execute("BEGIN")
    history.write_day(conn, day, ids, bands, values, points, MEASURES)
    conn.execute("COMMIT")
    return time.perf_counter() - started


def _read_account_rows(conn, account, end) -> int:
    start = (end - timedelta(days=90)).isoformat()
    return len(
        conn.execute(
            "SELECT * FROM health WHERE account_id = ? AND date BETWEEN ? AND ?",
            (account, start, end.isoformat()),
        ).fetchall()
    )


def _read_account_blocks(conn, account, end) -> int:
    start = (end - timedelta(days=90)).isoformat()
    return len(history.account_snapshots(conn, account, start, end.isoformat()))


def _read_day_rows(conn, day) -> int:
    return len(
        conn.execute("SELECT account_id, score, band FROM health WHERE date = ?", (day,)).fetchall()
    )


def _read_day_blocks(conn, day) -> int:
    return len(history.book_day(conn, day)["account_id"])


LAYOUTS = {
    "rows (v4)": (_write_rows, _read_account_rows, _read_day_rows),
    "blocks (v5)": (_write_blocks, _read_account_blocks, _read_day_blocks),
}


def run(accounts: int, days: int, folder: Path) -> dict[str, dict[str, float]]:
    """Per layout: median write seconds per day, MB per day, account and day read seconds."""
    rng = random.Random(7)
    ids = sorted(f"{rng.getrandbits(64):016x}" for _ in range(accounts))  # random, like a CRM's
    out = {}
    for name, (write, read_account, read_day) in LAYOUTS.items():
        path = folder / f"{name.split()[0]}.db"
        conn = _open(path)
        values_rng = np.random.default_rng(3)
        times = []
        for d in range(days + 3):
            values, points, bands = _day_values(values_rng, accounts)
            times.append(
                write(conn, ids, (START + timedelta(d)).isoformat(), values, points, bands)
            )
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        last = START + timedelta(days + 2)
        picks = [ids[i] for i in random.Random(1).sample(range(accounts), 200)]
        account_reads = []
        for account in picks:
            started = time.perf_counter()
            assert read_account(conn, account, last) == min(91, days + 3)
            account_reads.append(time.perf_counter() - started)
        day_reads = []
        for _ in range(3):
            started = time.perf_counter()
            assert read_day(conn, last.isoformat()) == accounts
            day_reads.append(time.perf_counter() - started)
        out[name] = {
            "write": statistics.median(times[-3:]),
            "mb_per_day": path.stat().st_size / 1e6 / (days + 3),
            "account_90d_ms": statistics.median(account_reads) * 1000,
            "day_read": statistics.median(day_reads),
        }
        conn.close()
    return out


def main() -> int:
    """Print one line per layout."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=200_000)
    parser.add_argument("--days", type=int, default=30, help="days of history held before")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        results = run(args.accounts, args.days, Path(folder))
    print(f"health history, {args.accounts:,} accounts, {args.days} days held before:")
    for name, r in results.items():
        print(
            f"  {name:12} write a day {r['write']:.2f} s (median of 3); {r['mb_per_day']:.0f} MB "
            f"per day; one account's 90 days {r['account_90d_ms']:.1f} ms (median of 200); "
            f"the whole book's day {r['day_read']:.2f} s (median of 3)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
