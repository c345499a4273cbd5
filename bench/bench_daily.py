"""Benchmark: a month of daily use, one full rescore per day, on a copy of a bench book.

    python3 bench/bench_daily.py [--size 1000000] [--days 30]

The book is the cached one of bench_rescore.py (scored on its day, with snapshots near 7 and
30 days before the next day). Each following day gets the one full rescore `csm` runs daily:
days-since measures move, tickets leave their windows, alerts open and clear, and the 7- and
30-day deltas come to compare with the snapshots of that month. Prints the median wall and CPU
seconds over all days and over the last 7 days (when deltas read daily history), sizes named,
and the median of each day's WAL checkpoint after it (`book.checkpoint()`, as the app runs it
once the rescore's result is shown: not part of the rescore's time).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_rescore import OUT, TODAY, book_path, ensure_book, settled_copy  # noqa: E402


def run(size: int, days: int) -> list[tuple[float, float, float]]:
    """(wall, CPU, checkpoint) seconds of each day's full rescore on a fresh copy of the bench
    book, and of the WAL checkpoint that follows it."""
    from csm_tui.scoring.engine import rescore_all
    from csm_tui.storage.db import open_book

    ensure_book(size)[0].close()
    copy = OUT / f"daily_{size}.db"
    for leftover in OUT.glob(copy.name + "*"):
        leftover.unlink()
    settled_copy(book_path(size), copy)
    book = open_book(copy)
    out = []
    try:
        for d in range(1, days + 1):
            started, started_cpu = time.perf_counter(), time.process_time()
            rescore_all(book, today=date.fromisoformat(TODAY) + timedelta(days=d))
            wall, cpu = time.perf_counter() - started, time.process_time() - started_cpu
            started = time.perf_counter()
            book.checkpoint()
            out.append((wall, cpu, time.perf_counter() - started))
            print(f"  day {d:2}: {wall:.2f} s (checkpoint {out[-1][2]:.2f} s)", flush=True)
    finally:
        book.close()
        for leftover in OUT.glob(copy.name + "*"):
            leftover.unlink()
    return out


def main() -> int:
    """Print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    os.environ.setdefault("CSM_TODAY", TODAY)
    os.environ.setdefault("CSM_CONFIG_DIR", str(OUT / "config"))  # shipped defaults
    times = run(args.size, args.days)
    walls, cpus = [t[0] for t in times], [t[1] for t in times]
    last = times[-7:]
    print(
        f"{args.size:,} accounts, {args.days} days of daily full rescores: median "
        f"{statistics.median(walls):.2f} s (CPU {statistics.median(cpus):.2f} s); last 7 days "
        f"median {statistics.median(t[0] for t in last):.2f} s "
        f"(CPU {statistics.median(t[1] for t in last):.2f} s); then WAL checkpoint median "
        f"{statistics.median(t[2] for t in times):.2f} s; load {os.getloadavg()[0]:.1f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
