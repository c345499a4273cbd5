"""Import/export speed: median seconds over a few runs, sizes named (not run by the test suite).

    python3 bench/bench_import.py [--sizes 10000 50000] [--runs 3]

Each run imports a generated HubSpot-style accounts CSV (with custom columns) into a fresh book,
then a usage CSV of 3 snapshots per account, runs the full rescore `csm import` runs after an
import (first rescore of the book: nothing cached), then exports the accounts as CSV; the
import + full rescore total is printed per size.
"""

from __future__ import annotations

import argparse
import csv
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from csm_tui.storage.db import open_book  # noqa: E402
from csm_tui.storage.exporter import collect, export_text  # noqa: E402
from csm_tui.storage.importer import import_file  # noqa: E402


def accounts_csv(path: Path, n: int) -> None:
    """A HubSpot-like company export with `n` rows."""
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(
            [
                "Record ID",
                "Company name",
                "Company owner",
                "Lifecycle Stage",
                "Industry",
                "Annual Revenue",
                "City",
                "ARR",
                "Renewal Date",
            ]
        )
        for i in range(n):
            writer.writerow(
                [
                    f"{5_000_000_000 + i}",
                    f"Company {i:06d}, Inc.",
                    f"CSM {i % 40}",
                    "Customer",
                    "Software",
                    f"${(i % 900 + 1) * 100_000:,}",
                    f"City {i % 300}",
                    f"${(i % 500 + 5) * 1_000:,.2f}",
                    f"2027-{i % 12 + 1:02d}-{i % 28 + 1:02d}",
                ]
            )


def usage_csv(path: Path, n: int) -> None:
    """Three monthly usage snapshots per account, referring to accounts by id."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["date", "account", "active users", "DAU", "MAU", "licensed seats"])
    for i in range(n):
        for month in (9, 10, 11):
            writer.writerow(
                [
                    f"2026-{month:02d}-01",
                    f"{5_000_000_000 + i}",
                    40 + i % 60,
                    10 + i % 20,
                    40 + i % 60,
                    120,
                ]
            )
    path.write_text(buffer.getvalue(), encoding="utf-8")


def _timed(fn) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) for one call: CPU time is the steadier
    figure on a machine shared with other work."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def one_run(workdir: Path, n: int) -> list[tuple[float, float]]:
    """[(wall, cpu)] for: accounts import, usage import, the full rescore `csm import` runs
    after them, accounts export — on a fresh book."""
    from csm_tui.scoring.engine import rescore_all

    book_path = workdir / f"bench-{n}-{time.monotonic_ns()}.db"
    book = open_book(book_path)
    try:
        return [
            _timed(lambda: import_file(book, workdir / f"accounts-{n}.csv")),
            _timed(lambda: import_file(book, workdir / f"usage-{n}.csv", "usage")),
            _timed(lambda: rescore_all(book)),
            _timed(lambda: export_text(collect(book, "accounts"), "csv")),
        ]
    finally:
        book.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{book_path}{suffix}").unlink(missing_ok=True)


def main() -> None:
    """Print medians per size."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for n in args.sizes:
            accounts_csv(workdir / f"accounts-{n}.csv", n)
            usage_csv(workdir / f"usage-{n}.csv", n)
            runs = [one_run(workdir, n) for _ in range(args.runs)]
            steps = (
                ("import accounts", n),
                ("import usage", 3 * n),
                ("full rescore", n),
                ("export accounts", n),
            )
            for index, (step, rows) in enumerate(steps):
                wall = statistics.median(run[index][0] for run in runs)
                cpu = statistics.median(run[index][1] for run in runs)
                print(
                    f"accounts={n:,} {step} ({rows:,} rows): median {wall:.2f} s wall, "
                    f"{cpu:.2f} s CPU ({rows / cpu:,.0f} rows/CPU-s) [{args.runs} runs]"
                )
            total = statistics.median(sum(step[0] for step in run[:3]) for run in runs)
            print(f"accounts={n:,} import + full rescore: median {total:.2f} s wall")


if __name__ == "__main__":
    main()
