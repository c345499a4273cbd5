"""Benchmark: a day's health snapshot rows inserted in the accounts' own order vs in id order.

    python3 bench/bench_key_order.py [--rows 1000000] [--days 3]

A CRM's account ids are random strings, so the accounts' rowid order is random in id order;
the `health` table is keyed by (account_id, date). Each day's rows go into a table that
already holds the previous days. Prints the median seconds per day of each order (sizes named):
the reason `engine._write_health` and the facts cache write in `measures.key_order`.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

HEALTH = """CREATE TABLE health (account_id TEXT NOT NULL, date TEXT NOT NULL, score REAL,
    band TEXT NOT NULL, usage REAL, engagement REAL, outcomes REAL, sentiment REAL,
    churn_prob REAL, explain TEXT, PRIMARY KEY (account_id, date)) WITHOUT ROWID"""
EXPLAIN = '{"points":{"seat_utilisation":9.12,"stickiness":null,"last_touch":4.5,"nps":7.25}}'


def _insert(conn: sqlite3.Connection, ids: list[str], day: str) -> float:
    rows = [(i, day, 61.5, "yellow", 70.1, 55.2, None, 48.0, None, EXPLAIN) for i in ids]
    started = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany("INSERT OR REPLACE INTO health VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.execute("COMMIT")
    return time.perf_counter() - started


def run(rows: int, days: int, folder: Path) -> dict[str, float]:
    """Median seconds per day for each order, on two books holding `days` days each."""
    rng = random.Random(7)
    ids = [f"{rng.getrandbits(64):016x}" for _ in range(rows)]  # random, like a CRM's
    out = {}
    for name, order in (("accounts' order", ids), ("id order", sorted(ids))):
        conn = sqlite3.connect(folder / f"{name[:2]}.db", isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA cache_size=-65536")  # as csm opens a book
        conn.execute(HEALTH)
        conn.execute("CREATE INDEX health_date ON health(date)")
        start = date(2026, 11, 1)
        times = [_insert(conn, order, (start + timedelta(d)).isoformat()) for d in range(days)]
        out[name] = statistics.median(times[1:] or times)  # day one fills an empty table
        conn.close()
    return out


def main() -> int:
    """Print one line per order."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        result = run(args.rows, args.days, Path(folder))
    for name, seconds in result.items():
        print(f"{args.rows:>9,} snapshot rows/day, {name:>15}: median {seconds:.2f} s per day "
              f"(days 2..{args.days})")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
