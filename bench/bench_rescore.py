"""Benchmark the scoring engine: single-account edit + rescore, and the full rescore.

    python3 bench/bench_rescore.py [--sizes 1000,100000,1000000] [--single 50] [--full 3]

For each book size: the median (and 90th percentile) of `--single` edits, each a real UPDATE
plus `rescore_account` in ONE durable transaction (synchronous=FULL, as a user's edit), and
with `--cold` one full rescore with the cached history aggregates dropped (`score_facts`: the
first rescore of a book reads every history row), the median of `--full` full rescores
(`rescore_all`, skipped where `--full 0`) of the same day (only the edited accounts changed
since the last one, as after an import or `ctrl+r`), and the median of `--next-day` full
rescores of the following day, each on a fresh copy of the book flushed to disk (the daily
rescore: days-since measures, deltas and the history row of every account move), timed until
its transaction commits; the WAL checkpoint after it (`book.checkpoint()`, which the app runs
once the result is shown) is timed and printed on its own. Every book holds
real past snapshots (computed by the engine from its data as of then, `history_only`) 7 and
30 days before the next day, so its deltas read the book's history as in daily use.
Targets (issue 3): single edit ≤ 20 ms median at 1,000,000 accounts; full rescore of
1,000,000 accounts ≤ 10 s.

Books are cached under bench/out/ (git-ignored): the demo generator (engineer B's
`csm_tui.storage.demo`, 12 monthly usage snapshots) up to its maximum size, the synthetic
generator of tests/scoring/synth.py (4 monthly snapshots) above it. Each book is fully scored
once before timing, so deltas, history and alerts exist as in daily use.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
TODAY = "2026-11-23"
sys.path.insert(0, str(ROOT))


def book_path(size: int) -> Path:
    """Where the cached book of `size` accounts lives."""
    return OUT / f"bench_{size}.db"


def ensure_book(size: int):
    """Open the cached book of `size` accounts, building (and scoring) it first if needed."""
    from csm_tui.storage.db import open_book

    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / ".gitignore").write_text("*\n")
    path = book_path(size)
    if path.exists():
        book = open_book(path)
        _past_snapshots(book)
        return book, "cached"
    started = time.perf_counter()
    building = path.with_name(path.stem + ".building.db")  # a killed build leaves no "cache"
    for leftover in OUT.glob(building.name + "*"):
        leftover.unlink()
    book = open_book(building)
    source = _fill(book, size)
    from csm_tui.scoring.engine import rescore_all

    rescore_all(book)
    book.close()
    building.rename(path)
    book = open_book(path)
    _past_snapshots(book)
    print(
        f"  built {size:,} accounts ({source}) in {time.perf_counter() - started:.0f} s", flush=True
    )
    return book, source


def _past_snapshots(book) -> None:
    """Give the book a snapshot near 7 and 30 days before the next day (the deltas' windows)
    where it has none: the engine's own history backfill, from the data as of that day."""
    from datetime import timedelta

    from csm_tui.scoring.engine import rescore_all
    from csm_tui.storage.history import snapshot_days

    today = date.fromisoformat(TODAY)
    for back, tolerance in ((6, 3), (29, 7)):  # 7 and 30 days before today + 1
        day = today - timedelta(days=back)
        with book.read() as conn:
            near = snapshot_days(
                conn,
                (day - timedelta(tolerance)).isoformat(),
                (day + timedelta(tolerance)).isoformat(),
            )
        if not near:
            started = time.perf_counter()
            rescore_all(book, today=day, history_only=True)
            print(f"  backfilled {day} in {time.perf_counter() - started:.0f} s", flush=True)


def _fill(book, size: int) -> str:
    try:
        from csm_tui.storage import demo
    except ImportError:
        demo = None
    if demo is not None and size <= getattr(demo, "MAX_ACCOUNTS", 0):
        demo.generate_demo(book, accounts=size, today=date.fromisoformat(TODAY))
        return "demo book"
    from tests.scoring.synth import build

    build(book, size)
    return "synthetic book"


def bench_single(book, runs: int) -> dict[str, float]:
    """Median / p90 wall ms and median CPU ms of an UPDATE + rescore_account in one durable
    transaction (CPU time shows the work itself when other processes share the cores)."""
    from csm_tui.scoring.engine import rescore_account

    ids = [r[0] for r in book.query("SELECT id FROM accounts WHERE status = 'active'")]
    picks = random.Random(1).sample(ids, min(runs, len(ids)))
    with book.write() as conn:  # warm: imports, config and caches, as in a running app
        rescore_account(conn, picks[0])
    wall, cpu = [], []
    for n, account_id in enumerate(picks):
        started, started_cpu = time.perf_counter(), time.process_time()
        with book.write(durable=True) as conn:
            conn.execute(
                "UPDATE accounts SET onboarding_pct = ? WHERE id = ?", (n % 100, account_id)
            )
            rescore_account(conn, account_id)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    wall.sort()
    return {
        "median": statistics.median(wall),
        "p90": wall[int(0.9 * (len(wall) - 1))],
        "cpu": statistics.median(cpu),
    }


def bench_cold(book) -> tuple[float, float]:
    """Wall and CPU seconds of one full rescore with no cached history aggregates (the first
    rescore of a book, or after its cache was dropped): every history table is read."""
    from csm_tui.scoring.engine import rescore_all

    with book.write(durable=False) as conn:
        conn.execute("DELETE FROM score_facts")
        conn.execute("DELETE FROM meta WHERE key = 'full_rescore_stamp'")
    started, started_cpu = time.perf_counter(), time.process_time()
    rescore_all(book)
    elapsed = time.perf_counter() - started, time.process_time() - started_cpu
    book.checkpoint()
    return elapsed


def bench_full(book, runs: int) -> tuple[float, float]:
    """Median wall and CPU seconds of a full rescore the same day (cache warm)."""
    from csm_tui.scoring.engine import rescore_all

    wall, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        rescore_all(book)
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
        book.checkpoint()  # as the app does after it (not timed: see bench_next_day)
    return statistics.median(wall), statistics.median(cpu)


def settled_copy(source: Path, copy: Path) -> None:
    """Copy a bench book and flush the copy to disk before it is timed: a fresh copy is
    gigabytes of unwritten pages at 1M accounts, which the kernel would otherwise write out
    (and make the rescore's own writes wait for) during the timing. A user's book is a file
    that has long been on disk."""
    import shutil

    shutil.copyfile(source, copy)
    fd = os.open(copy, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def bench_next_day(size: int, runs: int) -> tuple[float, float, float, float, float]:
    """Median wall and CPU seconds of the next day's full rescore, each on a fresh copy, the
    fastest and slowest wall times (this shared machine's speed drifts between runs), and the
    median of the WAL checkpoint after it (`book.checkpoint()`: the app runs it once the
    rescore's result is shown, so it is not part of the rescore's time)."""
    from datetime import timedelta

    from csm_tui.scoring.engine import rescore_all
    from csm_tui.storage.db import open_book

    tomorrow = date.fromisoformat(TODAY) + timedelta(days=1)
    copy = OUT / f"next_day_{size}.db"
    wall, cpu, settle = [], [], []
    for _ in range(runs):
        for leftover in OUT.glob(copy.name + "*"):
            leftover.unlink()
        settled_copy(book_path(size), copy)
        book = open_book(copy)
        started, started_cpu = time.perf_counter(), time.process_time()
        rescore_all(book, today=tomorrow)
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
        started = time.perf_counter()
        book.checkpoint()
        settle.append(time.perf_counter() - started)
        book.close()
    for leftover in OUT.glob(copy.name + "*"):
        leftover.unlink()
    return (
        statistics.median(wall), statistics.median(cpu), min(wall), max(wall),
        statistics.median(settle),
    )  # fmt: skip


def main() -> int:
    """Run the benchmark and print one line per size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000,1000000")
    parser.add_argument("--single", type=int, default=50, help="edits timed per size (0: skip)")
    parser.add_argument(
        "--full", type=int, default=3, help="full rescores timed per size (0: skip)"
    )
    parser.add_argument(
        "--next-day", type=int, default=0, help="next-day full rescores timed per size"
    )
    parser.add_argument(
        "--cold", action="store_true", help="also time one full rescore with the cache dropped"
    )
    parser.add_argument("--full-min-size", type=int, default=1000, help="skip full below this size")
    args = parser.parse_args()
    os.environ.setdefault("CSM_TODAY", TODAY)
    os.environ.setdefault("CSM_CONFIG_DIR", str(OUT / "config"))  # shipped defaults
    print(f"csm scoring bench — {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}", flush=True)
    for size in (int(s) for s in args.sizes.split(",")):
        book, source = ensure_book(size)
        accounts = book.scalar("SELECT count(*) FROM accounts")
        line = f"{accounts:>9,} accounts ({source})"
        if args.single:
            single = bench_single(book, args.single)
            line += (
                f": edit + rescore_account median {single['median']:.1f} ms "
                f"(p90 {single['p90']:.1f}, CPU {single['cpu']:.1f} ms, n={args.single})"
            )
        if args.cold and size >= args.full_min_size:
            wall, cpu = bench_cold(book)
            line += f"; rescore_all cold {wall:.2f} s (CPU {cpu:.2f} s, n=1)"
        if args.full and size >= args.full_min_size:
            wall, cpu = bench_full(book, args.full)
            line += f"; same day median {wall:.2f} s (CPU {cpu:.2f} s, n={args.full})"
        book.close()
        if args.next_day and size >= args.full_min_size:
            wall, cpu, low, high, settle = bench_next_day(size, args.next_day)
            line += (
                f"; next day median {wall:.2f} s (CPU {cpu:.2f} s, n={args.next_day}, "
                f"range {low:.2f}-{high:.2f} s; then WAL checkpoint {settle:.2f} s)"
            )
        line += f"; load {os.getloadavg()[0]:.1f}"
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
